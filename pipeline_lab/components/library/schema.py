"""The schema component: cast to a declared schema, strictly or leniently; type advice."""

from __future__ import annotations
