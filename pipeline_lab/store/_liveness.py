"""Is the process that runs a run still alive? Heartbeats for our runs; checks for others'.

A run records its host and pid and renews ``heartbeat_at`` every ``PIPELINE_LAB_HEARTBEAT_S``
seconds (default 10) while it runs. A ``running`` run is abandoned when its process is gone:
on this host its pid is dead (or was reused by a process started after the run), on another
host its heartbeat is older than three intervals.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline_lab.store._engine import Store

MISSED_BEATS = 3
"""Heartbeats a run may miss before it counts as abandoned."""


class Heartbeat:
    """Renews ``heartbeat_at`` of the runs this process has in flight (one thread a store)."""

    def __init__(self, store: Store, interval: float) -> None:
        self._store = store
        self.interval = interval
        self._runs: set[str] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def add(self, run_id: str) -> None:
        with self._lock:
            self._runs.add(run_id)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._beat, name="pipeline-lab-heartbeat", daemon=True
                )
                self._thread.start()

    def discard(self, run_id: str) -> None:
        with self._lock:
            self._runs.discard(run_id)

    def abandon(self) -> None:
        """Forget the thread (in a forked child, where it does not exist)."""
        self._lock = threading.Lock()
        self._thread = None
        self._runs = set()

    def _beat(self) -> None:
        from pipeline_lab.store._writer import Record

        while True:
            time.sleep(self.interval)
            with self._lock:
                runs = sorted(self._runs)
                if not runs:
                    self._thread = None
                    return
            try:
                at = datetime.now(timezone.utc)
                self._store.writer.submit(Record("heartbeat", runs[0], {"run_ids": runs, "at": at}))
            except Exception:  # a closed store: the runs end with it
                with self._lock:
                    self._thread = None
                return


def dead(
    host: str | None,
    pid: int | None,
    started_at: datetime,
    heartbeat_at: datetime | None,
    *,
    this_host: str,
    interval: float,
    now: datetime,
) -> str | None:
    """Why a ``running`` run's process is gone (``pid_dead``, ``heartbeat_lost``), or ``None``.

    On this host the process table is the truth: a live pid is a live run, however late its
    heartbeat (a node in C code that holds the GIL for minutes keeps the heartbeat thread
    from running). Elsewhere, three missed beats mean the process (or its machine) is gone.
    """
    if host == this_host and pid is not None:
        return None if _alive(pid, started_at) else "pid_dead"
    last = heartbeat_at or started_at
    if now - last > timedelta(seconds=MISSED_BEATS * interval):
        return "heartbeat_lost"
    return None


def _alive(pid: int, started_at: datetime) -> bool:
    """Whether ``pid`` is a live process that was already running at ``started_at``."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: it exists
    stat = _proc_stat(pid)
    if stat is None:
        return True  # no /proc (macOS): the pid exists, believe it
    state, start_ticks = stat
    if state in ("Z", "X"):
        return False  # killed, waiting for its parent to reap it
    boot = _boot_time()
    if boot is not None:
        started = boot + start_ticks / os.sysconf("SC_CLK_TCK")
        if started > started_at.timestamp() + 2:
            return False  # the pid was reused by a process started after the run
    return True


def _proc_stat(pid: int) -> tuple[str, int] | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    fields = text[text.rfind(")") + 2 :].split()
    try:
        return fields[0], int(fields[19])
    except (IndexError, ValueError):
        return None


def _boot_time() -> float | None:
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("btime "):
                    return float(line.split()[1])
    except OSError:
        return None
    return None
