"""Short human summaries of node runs and runs, shared by the notebook and the CLI."""

from __future__ import annotations

from pipeline_lab.engine.result import NodeRun, RunResult
from pipeline_lab.events import NodeStatus

MARK = {
    NodeStatus.SUCCEEDED: "✓",
    NodeStatus.CACHED: "✓",
    NodeStatus.FAILED: "✗",
    NodeStatus.SKIPPED: "–",
    NodeStatus.PENDING: "·",
    NodeStatus.RUNNING: "…",
    NodeStatus.RETRYING: "↻",
    NodeStatus.STALE: "~",
}
COLOR = {
    NodeStatus.SUCCEEDED: "#1a7f37",
    NodeStatus.FAILED: "#cf222e",
    NodeStatus.SKIPPED: "#6e7781",
}


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.2f} s" if seconds < 60 else f"{seconds // 60:.0f} min {seconds % 60:.0f} s"


def plural(count: int, word: str) -> str:
    """``1 row``, ``2,000 rows``."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def format_shape(run: NodeRun) -> str:
    if run.rows is None:
        return ""
    return f"{plural(run.rows, 'row')} × {plural(run.columns or 0, 'column')}"


def format_output(run: NodeRun) -> str:
    """What a node produced: its shape, else its type; a plan or nothing is said plainly."""
    shape = format_shape(run)
    if shape:
        return shape
    if run.output is None:
        return "no output (assign the node's name or end the cell with an expression)"
    kind = type(run.output).__name__
    return "a lazy plan (fused into the nodes that read it)" if kind == "LazyFrame" else kind


def node_summary(run: NodeRun) -> str:
    """One line per node: ``✓ orders: 2,000 rows × 5 columns in 31 ms · 1 check passed``."""
    parts = [f"{MARK[run.status]} {run.name}: {run.status.value}"]
    if run.status.ok:
        parts = [f"{MARK[run.status]} {run.name}:"]
        parts.append(format_output(run))
        parts.append(f"in {format_duration(run.duration_s)}")
        if run.checks:
            checked = " (on 0 rows)" if all(c.total_rows == 0 for c in run.checks) else ""
            parts.append(f"· {plural(len(run.checks), 'check')} passed{checked}")
    elif run.status is NodeStatus.FAILED and run.duration_s is not None:
        parts.append(f"after {format_duration(run.duration_s)}")
    if run.attempts > 1:
        parts.append(f"({run.attempts} attempts)")
    if run.status is NodeStatus.SKIPPED and run.error:
        parts.append(f"({run.error.removeprefix('skipped: ')})")
    return " ".join(parts)


def run_summary(result: RunResult) -> str:
    lines = [str(result)]
    if result.setup_error:
        lines.append(f"setup failed: {result.setup_error.splitlines()[0]}")
    for name in result.failed:
        error = result.node_runs[name].error or ""
        lines.append(f"  {name}: {error.splitlines()[0] if error else 'failed'}")
    for index, error in result.report_errors.items():
        lines.append(f"  report cell {index}: {error.splitlines()[-1] if error else 'failed'}")
    for error in result.hook_errors:
        lines.append(f"  hook: {error}")
    return "\n".join(lines)
