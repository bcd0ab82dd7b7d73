"""``params``: the read-only view of pipeline parameters that node code sees."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from pipeline_lab.errors import PipelineDefinitionError
from pipeline_lab.graph import Pipeline
from pipeline_lab.suggest import did_you_mean


class Params(Mapping[str, Any]):
    """Parameters by attribute (``params.orders_csv``) or key (``params["orders_csv"]``)."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_values", dict(values))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            if name.startswith("__"):
                raise AttributeError(name) from None
            hint = (
                did_you_mean(name, self._values)
                or f"parameters: {', '.join(self._values) or 'none'}"
            )
            raise AttributeError(f"the pipeline has no parameter '{name}' ({hint})") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("pipeline parameters are read-only inside a run")

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Params({self._values!r})"


def parse_param_values(pipeline: Pipeline, raw: Mapping[str, str]) -> dict[str, Any]:
    """Type command-line values (``-p NAME=VALUE``) after each parameter's default.

    A string default takes VALUE as it is; a number, boolean, list or dict default needs a
    VALUE of that type (read as JSON; booleans also from true/false, yes/no, 1/0); a default
    computed by the parameters cell takes JSON when VALUE parses, else the string. VALUE is
    never run as code.
    """
    check_param_names(pipeline, raw)
    return {name: _typed(name, value, pipeline.params[name]) for name, value in raw.items()}


def check_param_names(pipeline: Pipeline, values: Mapping[str, Any]) -> Mapping[str, Any]:
    """``values`` if every name is a parameter of ``pipeline``; else an error naming them."""
    unknown = [name for name in values if name not in pipeline.params]
    if unknown:
        known = ", ".join(pipeline.params) or "none"
        raise PipelineDefinitionError(
            f"unknown parameter(s) {', '.join(map(repr, unknown))} for pipeline "
            f"'{pipeline.name}' (parameters: {known})",
            hint=did_you_mean(unknown[0], pipeline.params)
            or (
                "declare it in the notebook's parameters cell"
                if pipeline.param_code is not None
                else "the notebook has no cell tagged 'parameters': tag the cell that assigns "
                f"{unknown[0]} (JupyterLab: Property Inspector, Cell Tags, add 'parameters')"
            ),
        )
    return values


_BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def _typed(name: str, raw: str, default: Any) -> Any:
    if isinstance(default, str):
        return raw
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    if default is None:
        return value
    if isinstance(default, bool):
        if raw.strip().lower() in _BOOLEANS:
            return _BOOLEANS[raw.strip().lower()]
    elif isinstance(default, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(default, float):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif isinstance(value, type(default)):
        return value
    raise PipelineDefinitionError(
        f"parameter '{name}' expects {type(default).__name__} (its default is {default!r}), "
        f"got {raw!r}",
        hint=f"e.g. -p {name}={json.dumps(default)}",
    )
