"""Data quality: ``--check`` conditions today; rules, profiles and anomalies build on them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline_lab.graph import Issue
from pipeline_lab.quality._checks import ChecksGate, check_issues, evaluate_check, judge_check

if TYPE_CHECKING:
    from pipeline_lab.graph import Node, Pipeline


def lint(node: Node, pipeline: Pipeline) -> list[Issue]:
    """``--check`` conditions that do not parse, for ``Pipeline.validate()`` (a
    ``pipeline_lab.node_linters`` entry point)."""
    return check_issues(node)


__all__ = ["ChecksGate", "check_issues", "evaluate_check", "judge_check"]
