"""The runner: hooks, node execution with retries and timeouts, executors, results."""

from __future__ import annotations

from pipeline_lab._backoff import next_delay
from pipeline_lab.engine._executors import EXECUTORS
from pipeline_lab.engine._node_runner import user_frames, user_traceback
from pipeline_lab.engine._params import Params, parse_param_values
from pipeline_lab.engine._run import default_hooks, plan, run_pipeline
from pipeline_lab.engine._session import InteractiveSession
from pipeline_lab.engine._summary import format_duration, node_summary, plural, run_summary
from pipeline_lab.engine._transform import TransformationEngine
from pipeline_lab.engine._transform import explain as explain_plan
from pipeline_lab.engine.hooks import HookManager, RunHooks
from pipeline_lab.engine.result import NodeRun, NodeStatus, Run, RunResult

__all__ = [
    "EXECUTORS",
    "HookManager",
    "InteractiveSession",
    "NodeRun",
    "NodeStatus",
    "Params",
    "Run",
    "RunHooks",
    "RunResult",
    "TransformationEngine",
    "default_hooks",
    "explain_plan",
    "format_duration",
    "next_delay",
    "node_summary",
    "parse_param_values",
    "plan",
    "plural",
    "run_pipeline",
    "run_summary",
    "user_frames",
    "user_traceback",
]
