"""The sql component: a SQL query over input nodes by name (polars' SQL context)."""

from __future__ import annotations
