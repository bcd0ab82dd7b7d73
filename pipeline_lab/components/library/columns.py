"""Column transforms: select, drop, rename, cast, derive."""

from __future__ import annotations
