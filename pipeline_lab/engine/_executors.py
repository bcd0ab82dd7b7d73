"""Executors run node tasks; the driver decides what runs when.

An executor receives :class:`NodeTask` s (``submit``), runs them with
:func:`execute_task` wherever it likes, and hands back their :class:`NodeOutcome` s
(``wait``). It owns no run state: dependencies, retries, skips, gates and events are the
driver's, so every executor gives the same results. ``capacity`` is how many tasks it takes
at once, running or queued (the driver never hands it more). Executors are a registry: other packages add
theirs under the ``pipeline_lab.executors`` entry-point group, as a factory taking
:class:`ExecutorOptions`.
"""

from __future__ import annotations

import os
import queue
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from pipeline_lab.engine._task import NodeTask, execute_task
from pipeline_lab.errors import PipelineLabError
from pipeline_lab.events import NodeOutcome, NodeStatus
from pipeline_lab.registry import Registry


class Executor(Protocol):
    """Runs tasks; see the module docstring."""

    @property
    def capacity(self) -> int:
        """How many tasks it takes at once, running or waiting for a worker."""
        ...

    def submit(self, task: NodeTask) -> None:
        """Start ``task`` (or queue it to start as soon as possible); never blocks on it."""

    def wait(self, timeout: float | None) -> list[NodeOutcome]:
        """The outcomes of tasks that finished (at least one), or ``[]`` after ``timeout`` s."""
        ...

    def close(self) -> list[str]:
        """Release the executor's resources; tasks still running are abandoned. Returns the
        names of the tasks it was given but never started (a stopped run skips them)."""
        ...


@dataclass(frozen=True)
class ExecutorOptions:
    """What a run asks of its executor."""

    max_workers: int | None = None
    """At most this many nodes at once (default: the executor's own)."""


ExecutorFactory = Callable[[ExecutorOptions], Executor]
EXECUTORS: Registry[ExecutorFactory] = Registry(
    "executor", entry_point_group="pipeline_lab.executors"
)


def open_executor(name: str, options: ExecutorOptions) -> Executor:
    """The executor registered as ``name`` (its error lists the known ones)."""
    factory = EXECUTORS.get(name)
    return factory(options)


class SequentialExecutor:
    """One node at a time, on the caller's thread (what a debugger or a profiler wants)."""

    capacity = 1

    def __init__(self, options: ExecutorOptions | None = None) -> None:
        self._tasks: deque[NodeTask] = deque()

    def submit(self, task: NodeTask) -> None:
        self._tasks.append(task)

    def wait(self, timeout: float | None) -> list[NodeOutcome]:
        __tracebackhide__ = True
        if not self._tasks:
            return []
        return [execute_task(self._tasks.popleft())]

    def close(self) -> list[str]:
        unstarted = [task.name for task in self._tasks]
        self._tasks.clear()
        return unstarted


class ThreadExecutor:
    """Independent nodes in parallel threads of this process.

    Its worker threads are daemon threads: Ctrl-C stops the run at once (a Python thread
    cannot be killed, so a node that is running finishes in the background, its result
    discarded, and a process that exits does not wait for it).
    """

    def __init__(self, options: ExecutorOptions | None = None) -> None:
        wanted = options.max_workers if options is not None else None
        if wanted is not None and wanted < 1:
            raise PipelineLabError(
                f"max_workers must be at least 1, got {wanted}", hint="e.g. max_workers=4"
            )
        self.workers = wanted or min(32, (os.cpu_count() or 1) + 4)
        # Tasks wait in the queue while the driver is busy with outcomes, so a worker that
        # finishes picks up the next at once instead of waiting for the driver's thread.
        self.capacity = self.workers * 16
        self._tasks: queue.SimpleQueue[NodeTask | None] = queue.SimpleQueue()
        self._done: queue.SimpleQueue[NodeOutcome] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._unfinished = 0
        self._lock = threading.Lock()

    def submit(self, task: NodeTask) -> None:
        with self._lock:
            self._unfinished += 1
            if len(self._threads) < min(self.workers, self._unfinished):
                thread = threading.Thread(
                    target=self._work, name=f"pipeline-lab-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
        self._tasks.put(task)

    def wait(self, timeout: float | None) -> list[NodeOutcome]:
        try:
            # A bounded wait keeps the caller's thread responsive to Ctrl-C on every platform.
            first = self._done.get(timeout=0.25 if timeout is None else min(timeout, 0.25))
        except queue.Empty:
            return []
        done = [first]
        while True:
            try:
                done.append(self._done.get_nowait())
            except queue.Empty:
                return done

    def close(self) -> list[str]:
        unstarted: list[str] = []
        while True:  # what no worker took yet will never run
            try:
                task = self._tasks.get_nowait()
            except queue.Empty:
                break
            if task is not None:
                unstarted.append(task.name)
        for _ in self._threads:
            self._tasks.put(None)
        return unstarted

    def _work(self) -> None:
        while True:
            task = self._tasks.get()
            if task is None:
                return
            try:
                outcome = execute_task(task)
            except BaseException as exc:  # KeyboardInterrupt raised by the node itself
                outcome = NodeOutcome(
                    task.name, NodeStatus.FAILED, task.attempt, error=repr(exc), exception=exc
                )
            with self._lock:
                self._unfinished -= 1  # before the outcome is seen: the next submit counts right
            self._done.put(outcome)


EXECUTORS.register("sequential", SequentialExecutor)
EXECUTORS.register("threads", ThreadExecutor)
