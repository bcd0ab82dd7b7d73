"""A form for a component's parameters, generated from its pydantic model.

Each parameter gets the widget its type asks for: a node picker for an input, a dropdown for
a choice, a column picker (the input's columns) for a column, a number, a checkbox, or YAML
text for anything richer. The form's errors are the ones the YAML cell would give: the node
is built and validated the same way.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping, Sequence
from html import escape
from typing import Any, Literal

import ipywidgets as widgets

from pipeline_lab.graph import Node

Columns = Callable[[str], Sequence[str]]
"""``node -> its output's columns`` (empty when the node has no value yet)."""


def _args(annotation: Any) -> tuple[Any, ...]:
    return typing.get_args(annotation)


def _without_none(annotation: Any) -> tuple[Any, bool]:
    """``X | None`` -> ``(X, True)``; anything else -> ``(annotation, False)``."""
    args = _args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1 and len(rest) < len(args):
            return rest[0], True
    return annotation, False


def _plain(annotation: Any) -> Any:
    """``Annotated[list[str], ...]`` -> ``list[str]``."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = _args(annotation)[0]
    return annotation


def _is_column(name: str, description: str) -> bool:
    """Whether a text parameter names columns of the input (then its columns are offered;
    typing another name stays possible)."""
    text = description.lower()
    named = "column" in text or "key" in text
    return named and "sql" not in text and "->" not in text and name not in ("source_column",)


class ParameterField:
    """One parameter: its widget, and how to read a value back from it."""

    def __init__(
        self,
        name: str,
        info: Any,
        *,
        nodes: Sequence[str],
        is_input: bool,
        value: Any = None,
    ) -> None:
        self.name = name
        self.info = info
        self.required = info.is_required()
        self.default = None if self.required else info.get_default(call_default_factory=True)
        self.kind, self.optional = self._kind(info.annotation, is_input)
        if value is not None and not self._fits(value):
            self.kind = "yaml"  # as written (':top_n', 'false' as text): shown and kept as is
        description = info.description or ""
        self.column = self.kind in ("text", "list") and _is_column(name, description)
        shown = value if value is not None else self.default
        self.widget = self._make(shown, nodes)
        label = name + ("" if self.required else " (optional)")
        self.row = widgets.VBox(
            [
                widgets.HTML(
                    f"<b>{escape(label)}</b> <span style='color:#57606a'>{escape(description)}</span>"
                ),
                self.widget,
            ]
        )

    def _kind(self, annotation: Any, is_input: bool) -> tuple[str, bool]:
        inner, optional = _without_none(_plain(annotation))
        inner = _plain(inner)
        origin = typing.get_origin(inner)
        if is_input:
            return ("inputs" if origin is list else "input"), optional
        if origin is Literal:
            return "choice", optional
        if inner is bool:
            return "flag", optional
        if inner in (int, float) and not optional and not self.required:
            return ("int" if inner is int else "float"), optional
        if inner in (int, float):  # required, or optional without a value: blank until typed
            return ("whole" if inner is int else "number"), optional
        if inner is str:
            return "text", optional
        if origin is list and _plain(_args(inner)[0]) is str:
            return "list", optional
        return "yaml", optional

    def _fits(self, value: Any) -> bool:
        """Whether the widget of this parameter can show ``value`` without changing it."""
        if self.kind == "input":
            return isinstance(value, str)
        if self.kind in ("inputs", "list"):
            return isinstance(value, (str, list)) and all(
                isinstance(v, str) for v in ([value] if isinstance(value, str) else value)
            )
        if self.kind == "flag":
            return isinstance(value, bool)
        if self.kind in ("int", "whole"):
            return isinstance(value, int) and not isinstance(value, bool)
        if self.kind in ("float", "number"):
            return isinstance(value, (int, float)) and not isinstance(value, bool)
        if self.kind in ("text", "choice"):
            return isinstance(value, str) or self.kind == "choice"
        return True

    def _make(self, value: Any, nodes: Sequence[str]) -> widgets.Widget:
        layout = widgets.Layout(width="95%")
        if self.kind == "input":
            # A node a --no-run cell names before it exists stays chosen.
            options = ["", *nodes, *([value] if value and value not in nodes else [])]
            return widgets.Dropdown(options=options, value=value or "", layout=layout)
        if self.kind == "inputs":
            chosen = [value] if isinstance(value, str) else list(value or [])
            allowed = [*nodes, *(v for v in chosen if v not in nodes)]
            tags = widgets.TagsInput(allowed_tags=allowed, allow_duplicates=False)
            tags.value = chosen  # after allowed_tags, which the value is checked against
            return tags
        if self.kind == "choice":
            choices = list(_args(_without_none(_plain(self.info.annotation))[0]))
            options = ([""] if self.optional else []) + [str(c) for c in choices]
            shown = "" if value is None else str(value)
            return widgets.Dropdown(
                options=options, value=shown if shown in options else options[0], layout=layout
            )
        if self.kind == "flag":
            return widgets.Checkbox(value=bool(value), indent=False)
        if self.kind == "int":
            return widgets.IntText(value=int(value or 0), layout=layout)
        if self.kind == "float":
            return widgets.FloatText(value=float(value or 0.0), layout=layout)
        if self.kind in ("whole", "number"):
            what = "a whole number" if self.kind == "whole" else "a number"
            shown = "" if value is None else str(value)
            return widgets.Text(value=shown, placeholder=what, layout=layout)
        if self.kind == "text":
            if self.column:
                return widgets.Combobox(
                    value=value or "", options=[], ensure_option=False, layout=layout
                )
            return widgets.Text(value=value or "", layout=layout)
        if self.kind == "list":
            tags = [value] if isinstance(value, str) else list(value or [])
            return widgets.TagsInput(value=tags, allowed_tags=[], allow_duplicates=False)
        import yaml

        text = "" if value is None else yaml.safe_dump(value, sort_keys=False).strip()
        text = "" if text in ("null", "{}", "[]") and not self.required else text
        return widgets.Textarea(value=text, layout=widgets.Layout(width="95%", height="70px"))

    def offer_columns(self, columns: Sequence[str]) -> None:
        """Suggest ``columns`` (the input's) for a column parameter."""
        if not self.column:
            return
        if isinstance(self.widget, widgets.Combobox):
            self.widget.options = list(columns)
        elif isinstance(self.widget, widgets.TagsInput):
            self.widget.allowed_tags = list(columns)

    def value(self) -> tuple[bool, Any]:
        """``(given, value)``: whether the user set the parameter, and its value."""
        raw = self.widget.value
        if self.kind in ("input", "choice", "text", "whole", "number") and raw.strip() == "":
            return False, None
        if self.kind in ("whole", "number"):
            try:
                raw = int(raw) if self.kind == "whole" else float(raw)
            except ValueError:
                what = "a whole number" if self.kind == "whole" else "a number"
                raise ValueError(f"{self.name}: '{raw}' is not {what}") from None
        if self.kind in ("inputs", "list"):
            values = list(raw)
            return bool(values), values
        if self.kind == "yaml":
            if not raw.strip():
                return False, None
            import yaml

            try:
                return True, yaml.safe_load(raw)
            except yaml.YAMLError as exc:
                raise ValueError(f"{self.name}: not valid YAML ({exc})") from None
        if self.kind == "choice":
            choices = _args(_without_none(_plain(self.info.annotation))[0])
            raw = next((c for c in choices if str(c) == raw), raw)
        if not self.required and raw == self.default:
            return False, None
        return True, raw


class ComponentForm(widgets.VBox):
    """The parameters of a component node: name, one field per parameter, errors inline."""

    def __init__(
        self,
        kind: str,
        *,
        nodes: Sequence[str],
        columns: Columns,
        check: Callable[[Node, Node | None], list[str]],
        submit: Callable[[Node], None],
        cancel: Callable[[], None],
        editing: Node | None = None,
        suggested_name: str = "",
    ) -> None:
        from pipeline_lab.components import get_component, input_fields

        self.kind = kind
        self.component = get_component(kind)
        self._columns = columns
        self._check = check
        self._submit = submit
        self.editing = editing
        inputs = input_fields(kind)
        params: Mapping[str, Any] = editing.params if editing else {}
        self.name = widgets.Text(
            value=editing.name if editing else suggested_name,
            description="name",
            layout=widgets.Layout(width="95%"),
        )
        self.fields = [
            ParameterField(
                key,
                info,
                nodes=[n for n in nodes if editing is None or n != editing.name],
                is_input=key in inputs,
                value=params.get(key),
            )
            for key, info in self.component.Params.model_fields.items()
        ]
        self.errors = widgets.HTML()
        self.errors.add_class("pipeline-lab-form-errors")
        self.ok = widgets.Button(
            description="Save" if editing else "Add node", button_style="primary"
        )
        self.ok.on_click(lambda _: self.submit())
        close = widgets.Button(description="Cancel")
        close.on_click(lambda _: cancel())
        title = widgets.HTML(
            f"<b>{escape(kind)}</b> <span style='color:#57606a'>"
            f"{escape(self.component.description)}</span>"
        )
        super().__init__(
            [
                title,
                self.name,
                *(f.row for f in self.fields),
                self.errors,
                widgets.HBox([self.ok, close]),
            ],
            layout=widgets.Layout(border="1px solid #d0d7de", padding="6px", width="100%"),
        )
        self.add_class("pipeline-lab-form")
        for field in self.fields:
            if field.kind in ("input", "inputs"):
                field.widget.observe(lambda _: self._offer_columns(), "value")
            field.widget.observe(lambda _: self.validate(), "value")
        self.name.observe(lambda _: self.validate(), "value")
        self._offer_columns()
        self.validate()

    def _offer_columns(self) -> None:
        columns: list[str] = []
        for field in self.fields:
            if field.kind == "input" and field.widget.value:
                columns += self._columns(field.widget.value)
            elif field.kind == "inputs":
                for name in field.widget.value:
                    columns += self._columns(name)
        for field in self.fields:
            field.offer_columns(list(dict.fromkeys(columns)))

    def node(self) -> Node:
        """The node the form describes (raises ``ValueError`` for unreadable YAML)."""
        params = {}
        for field in self.fields:
            given, value = field.value()
            if given:
                params[field.name] = value
        base = self.editing
        name = self.name.value.strip()
        if base is not None:
            from dataclasses import replace

            return replace(base, name=name, params=params)
        return Node(name, component=self.kind, params=params)

    def validate(self) -> list[str]:
        """The problems of the node as it stands, shown under the form."""
        try:
            problems = self._check(self.node(), self.editing)
        except ValueError as exc:
            problems = [str(exc)]
        except Exception as exc:  # a name that is no name, ...: say it, do not break
            problems = [explained(exc)]
        self.errors.value = "".join(
            f"<div style='color:#cf222e'>{escape(p)}</div>" for p in problems
        )
        return problems

    def submit(self) -> None:
        if self.validate():
            return
        try:
            self._submit(self.node())
        except Exception as exc:  # refused by the session: the form says why, stays open
            self.errors.value = (
                f"<div style='color:#cf222e;white-space:pre-wrap'>{escape(explained(exc))}</div>"
            )


def explained(exc: BaseException) -> str:
    """An error as the user reads it: what happened, then the fix."""
    message = getattr(exc, "message", None) or str(exc)
    hint = getattr(exc, "hint", None)
    return f"{message}\nhint: {hint}" if hint else message
