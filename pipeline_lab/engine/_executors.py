"""Executors decide *when* each node runs; :class:`NodeRunner` decides *how*.

An executor gets the selected nodes with their dependencies and a runner; it must run
each node after its dependencies, and skip it when one of them did not succeed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Protocol

from pipeline_lab.engine._node_runner import NodeRunner
from pipeline_lab.registry import Registry


class Executor(Protocol):
    def __call__(
        self,
        deps: Mapping[str, tuple[str, ...]],
        runner: NodeRunner,
        max_workers: int | None = None,
    ) -> None: ...


EXECUTORS: Registry[Executor] = Registry("executor", entry_point_group="pipeline_lab.executors")


def _failed_dependency(
    name: str, deps: Mapping[str, tuple[str, ...]], runner: NodeRunner
) -> str | None:
    for dep in deps[name]:
        if dep in runner.run.node_runs and not runner.run.node_runs[dep].status.ok:
            return dep
    return None


@EXECUTORS.register("sequential")
def run_sequential(
    deps: Mapping[str, tuple[str, ...]], runner: NodeRunner, max_workers: int | None = None
) -> None:
    """One node at a time, in topological order (``deps`` is given in that order)."""
    __tracebackhide__ = True
    for name in deps:
        blocker = _failed_dependency(name, deps, runner)
        if blocker is not None:
            runner.skip(name, blocker)
        else:
            runner.execute(name)


@EXECUTORS.register("threads")
def run_threads(
    deps: Mapping[str, tuple[str, ...]], runner: NodeRunner, max_workers: int | None = None
) -> None:
    """Independent nodes in parallel threads, each as soon as its inputs are ready."""
    __tracebackhide__ = True
    selected = set(deps)
    waiting = {name: {d for d in ds if d in selected} for name, ds in deps.items()}
    children: dict[str, list[str]] = {name: [] for name in deps}
    for name, ds in waiting.items():
        for dep in ds:
            children[dep].append(name)
    workers = max_workers or min(32, (os.cpu_count() or 1) + 4)
    running: dict[Future[object], str] = {}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pipeline-lab") as pool:

        def release(name: str) -> None:
            """``name`` finished: start or skip the children whose inputs are now all done."""
            for child in children[name]:
                waiting[child].discard(name)
                if waiting[child]:
                    continue
                blocker = _failed_dependency(child, deps, runner)
                if blocker is not None:
                    runner.skip(child, blocker)
                    release(child)
                else:
                    running[pool.submit(runner.execute, child)] = child

        for name, ds in waiting.items():
            if not ds:
                blocker = _failed_dependency(name, deps, runner)
                if blocker is not None:
                    runner.skip(name, blocker)
                    release(name)
                else:
                    running[pool.submit(runner.execute, name)] = name
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                name = running.pop(future)
                future.result()  # a crash of the runner itself (not of the node) must surface
                release(name)
