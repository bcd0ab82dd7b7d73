"""Window functions: rank, row_number, lag, lead, rolling sums and means."""

from __future__ import annotations
