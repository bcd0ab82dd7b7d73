"""Reshaping: pivot, unpivot."""

from __future__ import annotations
