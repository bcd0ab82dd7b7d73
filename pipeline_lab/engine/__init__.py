"""The runner: a driver that plans and owns a run, executors that run portable node tasks,
run events for observers and gates, and the interactive session the magics use."""

from __future__ import annotations

from pipeline_lab._backoff import next_delay
from pipeline_lab.engine import stop
from pipeline_lab.engine._executors import (
    EXECUTORS,
    Executor,
    ExecutorFactory,
    ExecutorOptions,
    SequentialExecutor,
    ThreadExecutor,
)
from pipeline_lab.engine._namespace import Namespace
from pipeline_lab.engine._options import RunOptions
from pipeline_lab.engine._params import Params, parse_param_values
from pipeline_lab.engine._run import default_hooks, plan, run_pipeline
from pipeline_lab.engine._session import InteractiveSession
from pipeline_lab.engine._session_events import (
    NodeDefined,
    NodeRemoved,
    OutputsBound,
    PipelineEdited,
    PipelineReset,
    SessionEvent,
)
from pipeline_lab.engine._summary import (
    COLOR,
    MARK,
    format_duration,
    node_summary,
    plural,
    run_summary,
)
from pipeline_lab.engine._task import NodeTask, execute_task, user_frames, user_traceback
from pipeline_lab.engine._transform import TransformationEngine
from pipeline_lab.engine._transform import explain as explain_plan
from pipeline_lab.engine.result import NodeRun, RunResult
from pipeline_lab.events import NodeOutcome, NodeStatus, RunStatus

__all__ = [
    "COLOR",
    "EXECUTORS",
    "MARK",
    "Executor",
    "ExecutorFactory",
    "ExecutorOptions",
    "InteractiveSession",
    "Namespace",
    "NodeDefined",
    "NodeOutcome",
    "NodeRemoved",
    "NodeRun",
    "NodeStatus",
    "NodeTask",
    "OutputsBound",
    "Params",
    "PipelineEdited",
    "PipelineReset",
    "RunOptions",
    "RunResult",
    "RunStatus",
    "SequentialExecutor",
    "SessionEvent",
    "ThreadExecutor",
    "TransformationEngine",
    "default_hooks",
    "execute_task",
    "explain_plan",
    "format_duration",
    "next_delay",
    "node_summary",
    "parse_param_values",
    "plan",
    "plural",
    "run_pipeline",
    "run_summary",
    "stop",
    "user_frames",
    "user_traceback",
]
