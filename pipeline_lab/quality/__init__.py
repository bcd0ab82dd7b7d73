"""Data quality: ``--check`` conditions today; rules, profiles and anomalies build on them."""

from __future__ import annotations

from pipeline_lab.quality._checks import ChecksHook, check_issues, evaluate_check

__all__ = ["ChecksHook", "check_issues", "evaluate_check"]
