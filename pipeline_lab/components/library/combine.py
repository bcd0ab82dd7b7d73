"""Transforms over several inputs: join, union, aggregate."""

from __future__ import annotations
