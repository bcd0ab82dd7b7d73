"""Type advice: which string columns look numeric, boolean or temporal, and how to convert them.

Each candidate type is tried with the schema component's own conversion on a sample of the
column, so a suggestion converts in the schema component exactly as measured here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline_lab.frames import to_lazy

# Tried in this order; on equal confidence the earlier (more specific) one wins.
CANDIDATES: tuple[tuple[str | dict[str, Any], str], ...] = (
    ("int64", ""),
    ({"type": "int64", "thousands": ","}, "thousands separated by ','"),
    ("float64", ""),
    ({"type": "float64", "decimal": ","}, "decimal comma"),
    ({"type": "float64", "decimal": ",", "thousands": "."}, "decimal comma, thousands '.'"),
    ({"type": "float64", "thousands": ","}, "thousands separated by ','"),
    ("bool", ""),
    ("date", "ISO dates"),
    ({"type": "date", "format": "%d/%m/%Y"}, "day-first dates"),
    ({"type": "date", "format": "%m/%d/%Y"}, "month-first dates"),
    ({"type": "date", "format": "%d.%m.%Y"}, "day-first dates"),
    ({"type": "date", "format": "%d-%m-%Y"}, "day-first dates"),
    ({"type": "date", "format": "%Y/%m/%d"}, ""),
    ("datetime", "ISO datetimes"),
    ({"type": "datetime", "time_zone": "UTC"}, "datetimes with UTC offsets, converted to UTC"),
    ({"type": "datetime", "format": "%d/%m/%Y %H:%M"}, "day-first datetimes"),
    ({"type": "datetime", "format": "%m/%d/%Y %H:%M"}, "month-first datetimes"),
    ({"type": "datetime", "format": "%d/%m/%Y %H:%M:%S"}, "day-first datetimes"),
    ({"type": "datetime", "format": "%m/%d/%Y %H:%M:%S"}, "month-first datetimes"),
    ("time", ""),
)


@dataclass(frozen=True)
class TypeAdvice:
    """A string column that converts to ``suggested`` (a schema component type spec)."""

    column: str
    current: str
    suggested: str | dict[str, Any]
    confidence: float  # share of the sampled non-empty values that convert
    examples: tuple[str, ...] = ()  # values that do not convert (up to 5)
    note: str = ""

    def __str__(self) -> str:
        text = f"{self.column}: {self.current} -> {self.suggested} ({self.confidence:.0%} convert"
        text += f"; {self.note})" if self.note else ")"
        return text + (f", e.g. not {', '.join(map(repr, self.examples))}" if self.examples else "")


def infer_types(frame: Any, sample: int = 10_000, min_confidence: float = 0.5) -> list[TypeAdvice]:
    """Advice for the string columns of ``frame`` whose first ``sample`` values look typed.

    Parameters
    ----------
    frame
        A polars (lazy or eager) or pandas frame; only its first ``sample`` rows are read.
    min_confidence
        Leave out columns where the best type converts less than this share of values.

    Examples
    --------
    >>> infer_types(pl.DataFrame({"amount": ["1,5", "2,25"]}))
    [TypeAdvice(column='amount', current='String', suggested={'type': 'float64', 'decimal': ','}, ...)]
    """
    import polars as pl

    from pipeline_lab.components._conversion import column_type, conversion

    lazy = to_lazy(frame)
    texts = [c for c, t in lazy.collect_schema().items() if t == pl.String]
    if not texts:
        return []
    data = lazy.select(texts).head(sample).collect()
    convs = {
        (c, i): conversion(c, pl.String(), column_type(spec))
        for c in texts
        for i, (spec, _) in enumerate(CANDIDATES)
    }
    # Aliases by position: column names may be anything.
    exprs = [pl.col(c).str.strip_chars().ne("").sum().alias(f"p{j}") for j, c in enumerate(texts)]
    exprs += [
        convs[c, i].failed.expr.sum().alias(f"f{j}_{i}")
        for j, c in enumerate(texts)
        for i in range(len(CANDIDATES))
    ]
    counts = data.select(exprs).row(0, named=True)
    advice = []
    for j, column in enumerate(texts):
        present = counts[f"p{j}"] or 0
        if not present:
            continue
        scores = [1 - (counts[f"f{j}_{i}"] or 0) / present for i in range(len(CANDIDATES))]
        best = max(range(len(CANDIDATES)), key=lambda i: (scores[i], -i))
        if scores[best] < min_confidence or scores[best] == 0:
            continue
        failed = data.select(pl.col(column).filter(convs[column, best].failed.expr))
        examples = failed.get_column(column).unique(maintain_order=True).head(5).to_list()
        spec, note = CANDIDATES[best]
        ties = [
            CANDIDATES[i][1] for i in range(best + 1, len(CANDIDATES)) if scores[i] == scores[best]
        ]
        if note and any(t and t != note and "first" in t for t in ties):
            note += f" (the values also read as {ties[0]})"
        advice.append(
            TypeAdvice(column, "String", spec, round(scores[best], 4), tuple(examples), note)
        )
    return advice


def schema_suggestion(
    frame: Any, sample: int = 10_000, min_confidence: float = 1.0
) -> dict[str, Any]:
    """A ``columns:`` mapping for the schema component: each column the sample fully converts.

    Examples
    --------
    >>> schema_suggestion(pl.DataFrame({"day": ["2024-01-05"], "n": ["3"]}))
    {'day': 'date', 'n': 'int64'}
    """
    advice = infer_types(frame, sample=sample, min_confidence=min_confidence)
    return {a.column: a.suggested for a in advice}
