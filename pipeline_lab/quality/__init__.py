"""Data quality: ``--check`` conditions today; rules, profiles and anomalies build on them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline_lab.graph import NODE_LINTERS, Issue
from pipeline_lab.quality._checks import ChecksGate, check_issues, evaluate_check, judge_check

if TYPE_CHECKING:
    from pipeline_lab.graph import Node, Pipeline


def _lint(node: Node, pipeline: Pipeline) -> list[Issue]:
    """``--check`` conditions that do not parse, for ``Pipeline.validate()``."""
    return check_issues(node)


NODE_LINTERS.register("quality", _lint)

__all__ = ["ChecksGate", "check_issues", "evaluate_check", "judge_check"]
