"""JSON records into a polars frame whose schema does not depend on page boundaries.

Records from every page are gathered first and the frame is built once, so the schema is
the union of the keys of all records (in first-seen order) and each column's type is
decided over all of its values:

* nested objects are flattened into ``parent.child`` columns (``flatten=True``, the
  default) or kept as structs whose fields are the union over all records;
* lists stay lists (``list[...]``), their element type decided over all records;
* integers and floats make a float column, a column of one JSON type keeps it;
* any other mix (``1`` on page 1, ``"1a"`` on page 2; a number here and an object there) makes a
  string column holding each value's JSON text, so no value is lost or silently nulled.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from pipeline_lab.errors import ConnectorError

if TYPE_CHECKING:
    import polars as pl

_STEP = re.compile(r"([^.\[\]]+)|\[(\*|-?\d+)\]")
_MISSING = object()


def parse_path(path: str) -> list[str | int | None]:
    """``data.items[*]`` -> ``['data', 'items', None]`` (``None`` is every element of a list)."""
    text = path.strip()
    if text.startswith("$"):
        text = text[1:].lstrip(".")
    steps: list[str | int | None] = []
    position = 0
    for match in _STEP.finditer(text):
        between = text[position : match.start()]
        if between not in ("", "."):
            raise ValueError(f"cannot read JSON path {path!r} near {between!r}")
        key, index = match.groups()
        steps.append(key if key is not None else (None if index == "*" else int(index)))
        position = match.end()
    if text[position:] not in ("", "."):
        raise ValueError(f"cannot read JSON path {path!r} near {text[position:]!r}")
    return steps


def lookup(body: Any, path: str | None, *, required: bool = True, what: str = "path") -> Any:
    """The value at ``path`` in ``body`` (``[*]`` maps over a list); ``None`` if absent and not
    ``required``; a :class:`ConnectorError` naming the keys that exist otherwise."""
    if not path:
        return body
    try:
        steps = parse_path(path)
    except ValueError as exc:
        raise ConnectorError(str(exc), hint="use a dotted path such as data.items") from None
    value = _walk(body, steps)
    if value is _MISSING:
        if not required:
            return None
        raise ConnectorError(
            f"{what} {path!r} is not in the response ({_shape(body, steps)})",
            hint=f"set {what}= to the path of the records in the JSON response",
        )
    return value


def _walk(value: Any, steps: list[str | int | None]) -> Any:
    for position, step in enumerate(steps):
        if step is None:
            if not isinstance(value, list):
                return _MISSING
            rest = steps[position + 1 :]
            found = [_walk(item, rest) for item in value]
            flat: list[Any] = []
            for item in found:
                if item is _MISSING:
                    continue
                flat.extend(item if isinstance(item, list) and rest else [item])
            return flat
        if isinstance(step, int):
            if not isinstance(value, list) or not -len(value) <= step < len(value):
                return _MISSING
            value = value[step]
        elif isinstance(value, dict) and step in value:
            value = value[step]
        else:
            return _MISSING
    return value


def _shape(body: Any, steps: list[str | int | None]) -> str:
    """Where the path stops matching, and what is there instead."""
    value, seen = body, list[str]()
    for step in steps:
        if not (isinstance(step, str) and isinstance(value, dict) and step in value):
            break
        value = value[step]
        seen.append(step)
    at = ".".join(seen) or "the top level"
    if isinstance(value, dict):
        return f"keys at {at}: {', '.join(list(map(str, value))[:20]) or 'none'}"
    return f"{at} holds a {type(value).__name__}"


def guess_records_path(body: Any) -> str:
    """Where the records of a response without ``records_path`` are: ``""`` is the body itself
    (a list, or one record), else the one top-level key that holds a list of objects."""
    if not isinstance(body, dict):
        return ""
    # Lists of objects (or empty lists: the last page); a list of scalars is a field.
    lists = [
        k for k, v in body.items() if isinstance(v, list) and all(isinstance(i, dict) for i in v)
    ]
    if len(lists) > 1:
        lists = [k for k in lists if body[k]] or lists
    if len(lists) > 1:
        raise ConnectorError(
            f"the response holds several lists ({', '.join(lists)})",
            hint=f"choose the records with records_path=, e.g. records_path={lists[0]!r}",
        )
    return lists[0] if lists else ""


def find_records(body: Any, path: str) -> list[Any]:
    """The records of one response at ``path`` (``""``: the body); an object is one record."""
    value = lookup(body, path, what="records_path")
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _flat(record: Mapping[str, Any], prefix: str, into: dict[str, Any]) -> None:
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            _flat(value, f"{name}.", into)
        else:
            into[name] = value


def records_frame(records: Iterable[Any], *, flatten: bool = True) -> pl.DataFrame:
    """One frame from all ``records`` (objects; a scalar record becomes column ``value``)."""
    import polars as pl

    rows: list[dict[str, Any]] = []
    for record in records:
        row = record if isinstance(record, dict) else {"value": record}
        if flatten:
            flat: dict[str, Any] = {}
            _flat(row, "", flat)
            row = flat
        rows.append(row)
    names = list(dict.fromkeys(key for row in rows for key in row))
    columns = []
    for name in names:
        values = [row.get(name) for row in rows]
        kinds = {type(v) for v in values}  # JSON values: exact types, bool is not int here
        kinds.discard(type(None))
        if kinds == {int, float}:
            columns.append(pl.Series(name, values, dtype=pl.Float64, strict=False))
        elif len(kinds) > 1:
            text = [v if isinstance(v, str) or v is None else json.dumps(v) for v in values]
            columns.append(pl.Series(name, text, dtype=pl.String))
        else:
            columns.append(pl.Series(name, values, strict=False))
    return pl.DataFrame(columns)
