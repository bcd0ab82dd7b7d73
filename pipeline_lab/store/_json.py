"""Values as JSON the store can keep: strictly for definitions, leniently for run records."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

from pipeline_lab.errors import PipelineDefinitionError


def to_json(value: Any) -> Any:
    """``value`` made JSON-ready, turning what JSON cannot hold into text (never raises)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        # PostgreSQL's json type refuses NaN and Infinity.
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Mapping):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_json(item) for item in value]
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return str(value)


def strict_json(value: Any, *, what: str) -> Any:
    """``value`` through a JSON round trip, or a clear error naming the value JSON cannot hold."""
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise PipelineDefinitionError(
            f"{what} cannot be saved: {exc}",
            hint="parameters and component settings must be JSON values "
            "(strings, finite numbers, booleans, lists, dicts, null)",
        ) from None
