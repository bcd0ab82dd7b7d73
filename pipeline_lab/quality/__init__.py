"""Data quality: ``--check`` conditions today; rules, profiles and anomalies build on them."""

from __future__ import annotations

from pipeline_lab.quality._checks import ChecksGate, check_issues, evaluate_check, judge_check

__all__ = ["ChecksGate", "check_issues", "evaluate_check", "judge_check"]
