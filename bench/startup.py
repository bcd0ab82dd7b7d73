"""Whole-process wall time of ``pipeline-lab run`` vs ``papermill`` on the same 3-node notebook.

Target: ``pipeline-lab run`` < 1.0 s (papermill needs about 2.3 s here, mostly kernel start).
Both run with the default store (SQLite under a fresh PIPELINE_LAB_HOME).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPEAT = 5
BIN = Path(sys.executable).parent


def notebook(path: Path) -> Path:
    def cell(source: str, tags: list[str] | None = None) -> dict[str, object]:
        return {
            "cell_type": "code",
            "execution_count": None,
            "id": f"c{abs(hash(source)) % 10**8}",
            "metadata": {"tags": tags or []},
            "outputs": [],
            "source": source,
        }

    nb = {
        "cells": [
            cell("n = 10", ["parameters"]),
            cell("%load_ext pipeline_lab"),
            cell("%%pipeline numbers\nlist(range(n))"),
            cell("%%pipeline total\nsum(numbers)"),
            cell("%%pipeline doubled\ntotal * 2"),
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(nb))
    return path


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="pl-startup-"))
    nb = notebook(work / "trivial.ipynb")
    env = {**os.environ, "PIPELINE_LAB_HOME": str(work / "home")}
    ours_cmd = [str(BIN / "pipeline-lab"), "run", str(nb), "--json"]
    papermill_cmd = [
        str(BIN / "papermill"),
        "--log-level",
        "ERROR",
        str(nb),
        str(work / "out.ipynb"),
    ]
    timed(ours_cmd, env)  # first run creates and migrates the store; later runs are the common case
    ours = [timed(ours_cmd, env) for _ in range(REPEAT)]
    theirs = [timed(papermill_cmd, env) for _ in range(REPEAT)]
    a, b = statistics.median(ours), statistics.median(theirs)
    print(f"bench/startup.py: 3-node notebook, median of {REPEAT} whole-process runs")
    print(
        f"  pipeline-lab run : {a:.3f} s   (target < 1.0 s)  runs: {', '.join(f'{t:.2f}' for t in ours)}"
    )
    print(f"  papermill        : {b:.3f} s   runs: {', '.join(f'{t:.2f}' for t in theirs)}")
    print(
        f"  ratio papermill / pipeline-lab = {b / a:.1f}x  -> {'target met' if a < 1.0 else 'TARGET MISSED'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
