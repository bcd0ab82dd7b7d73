"""``RunOptions``: everything a caller may say about one run, in one value."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RunOptions:
    """How to run a pipeline (see :meth:`Pipeline.run`).

    ``values`` are outputs already computed (the kernel's): selected nodes read them instead
    of re-running their upstream. ``namespace`` is a live namespace (the kernel's globals)
    used instead of running the parameters and setup cells. ``streaming`` forces polars'
    streaming engine on (or off) for component plans; by default it is used for large inputs.
    ``materialize`` collects every component output (else chains stay one lazy plan).
    """

    params: Mapping[str, Any] = field(default_factory=dict)
    executor: str = "threads"
    only: tuple[str, ...] | None = None
    from_: str | None = None
    hooks: tuple[Any, ...] | None = None
    """``None``: the default hooks (checks, and the store unless ``PIPELINE_LAB_STORE=off``)."""
    values: Mapping[str, Any] = field(default_factory=dict)
    namespace: Mapping[str, Any] | None = None
    source: str = "api"
    run_reports: bool | None = None
    """Run report cells (default: headless runs do, kernel runs do not)."""
    max_workers: int | None = None
    rng: random.Random | None = field(default=None, compare=False)
    """Where retry delays draw their jitter (tests pass a seeded one)."""
    streaming: bool | None = None
    materialize: bool = False

    @classmethod
    def of(
        cls,
        *,
        only: Iterable[str] | str | None = None,
        hooks: Iterable[Any] | None = None,
        params: Mapping[str, Any] | None = None,
        values: Mapping[str, Any] | None = None,
        globals_: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> RunOptions:
        """Options from ``Pipeline.run``'s keyword arguments."""
        return cls(
            params=dict(params or {}),
            only=(only,) if isinstance(only, str) else (tuple(only) if only else None),
            hooks=None if hooks is None else tuple(hooks),
            values=dict(values or {}),
            namespace=globals_ if globals_ is not None else options.pop("namespace", None),
            **options,
        )
