"""The visual builder: a palette of components, forms, connect, delete, rename, undo, run.

Every action edits the kernel's :class:`~pipeline_lab.engine.InteractiveSession` (the same
pipeline the magics see), and the graph redraws from the session's events. Until the
JupyterLab extension writes cells into the notebook, each node the builder makes comes with
its ``%%pipeline`` cell to copy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from pipeline_lab.graph import Node
from pipeline_lab.widgets._form import ComponentForm, explained

if TYPE_CHECKING:
    from pipeline_lab.engine import InteractiveSession
    from pipeline_lab.widgets._graph import PipelineGraph

UNDO_DEPTH = 50

COPY_BUTTON = (
    "<button class='jupyter-button' title='copy the cell to the clipboard' "
    "onclick=\"navigator.clipboard.writeText(this.closest('.pipeline-lab-cell-code')"
    ".querySelector('textarea').value)\">Copy</button>"
)
"""Copies the code from the textarea beside it: the code is never inside the markup."""


class Palette(widgets.VBox):
    """The component library by category, with a search box; a click picks a component."""

    def __init__(self, pick: Callable[[str], Any]) -> None:
        from pipeline_lab.components import components_by_category

        self._pick = pick
        self.search = widgets.Text(
            placeholder="search components", layout=widgets.Layout(width="95%")
        )
        self._buttons: list[tuple[widgets.Button, str]] = []
        sections = []
        titles = []
        for category, classes in sorted(components_by_category().items()):
            buttons = []
            for cls in sorted(classes, key=lambda c: c.name):
                button = widgets.Button(
                    description=cls.name,
                    tooltip=cls.description,  # a title attribute: text, never markup
                    layout=widgets.Layout(width="auto"),
                )
                button.on_click(lambda _, kind=cls.name: self._pick(kind))
                buttons.append(button)
                self._buttons.append((button, f"{cls.name} {category} {cls.description}".lower()))
            sections.append(widgets.Box(buttons, layout=widgets.Layout(flex_flow="row wrap")))
            titles.append(category)
        self.sections = widgets.Accordion(children=sections, titles=tuple(titles))
        self.sections.selected_index = None
        self.results = widgets.Box(layout=widgets.Layout(flex_flow="row wrap", display="none"))
        self.search.observe(lambda _: self._filter(), "value")
        super().__init__(
            [self.search, self.results, self.sections], layout=widgets.Layout(width="100%")
        )
        self.add_class("pipeline-lab-palette")

    def _filter(self) -> None:
        """While searching, the matches in one flat row (a category holding one would be
        folded away in the accordion); without a search, the categories."""
        words = self.search.value.lower().split()
        matches = [b for b, text in self._buttons if words and all(w in text for w in words)]
        self.results.children = matches
        self.results.layout.display = "flex" if words else "none"
        self.sections.layout.display = "none" if words else ""

    def visible(self) -> list[str]:
        """The components the search shows (every one without a search)."""
        if self.search.value.split():
            return [b.description for b in self.results.children]
        return [b.description for b, _ in self._buttons]


class Builder:
    """Builder controls for a graph of the kernel's pipeline."""

    def __init__(self, session: InteractiveSession, graph: PipelineGraph) -> None:
        self.session = session
        self.graph = graph
        self.undo_stack: list[tuple[Callable[[], Any], Callable[[], Any]]] = []
        """(undo, redo) of each step, the newest last."""
        self.redo_stack: list[tuple[Callable[[], Any], Callable[[], Any]]] = []
        self._acting = False
        self.connect_from: str | None = None
        self.message = widgets.HTML()
        self.message.add_class("pipeline-lab-message")
        self.panel = widgets.VBox(layout=widgets.Layout(width="100%"))
        self.buttons: dict[str, widgets.Widget] = {}
        for key, label, tip in [
            ("add", "Add", "add a component from the library"),
            ("edit", "Edit", "change the selected component node's parameters"),
            ("connect", "Connect", "click a node, then the node that reads it"),
            ("rename", "Rename", "rename the selected node"),
            ("delete", "Delete", "delete the selected node"),
            ("undo", "Undo", "undo the last builder change"),
            ("redo", "Redo", "redo what was undone"),
            ("run_node", "Run node", "run the selected node (upstream values reused)"),
            ("run_down", "Run downstream", "run the selected node and everything after it"),
            ("run_all", "Run all", "run the whole pipeline"),
        ]:
            if key == "connect":
                button: widgets.Widget = widgets.ToggleButton(description=label, tooltip=tip)
                button.observe(lambda change: self._connect_mode(change.new), "value")
            else:
                button = widgets.Button(description=label, tooltip=tip)
                button.on_click(lambda _, key=key: self.act(key))
            button.layout = widgets.Layout(width="auto")
            self.buttons[key] = button
        self.toolbar = widgets.HBox(
            list(self.buttons.values()), layout=widgets.Layout(flex_flow="row wrap")
        )
        self.toolbar.add_class("pipeline-lab-toolbar")
        graph.click_handlers.append(self._clicked)
        graph.cytoscape.on("node", "mouseup", self._moved)
        self._stop = session.observe(self._on_session)
        self._refresh_buttons()

    # -- the user's actions ------------------------------------------------------------------
    def act(self, key: str) -> None:
        {
            "add": self.show_palette,
            "edit": self.edit_selected,
            "rename": self.ask_rename,
            "delete": self.ask_delete,
            "undo": self.undo,
            "redo": self.redo,
            "run_node": lambda: self.run("node"),
            "run_down": lambda: self.run("downstream"),
            "run_all": lambda: self.run("all"),
        }[key]()

    @property
    def selected(self) -> str | None:
        name = self.graph.inspector.selected
        return name if name in self.session.pipeline.nodes else None

    def show_palette(self) -> None:
        self.panel.children = [Palette(self.open_form)]

    def open_form(self, kind: str, editing: Node | None = None) -> ComponentForm:
        taken = set(self.session.pipeline.nodes)
        suggested = next(f"{kind}_{i}" for i in range(1, 10_000) if f"{kind}_{i}" not in taken)
        form = ComponentForm(
            kind,
            nodes=self.graph.state.order(),
            columns=self._columns,
            check=self._problems,
            submit=self._save,
            cancel=self.close_panel,
            editing=editing,
            suggested_name=suggested,
        )
        self.panel.children = [form]
        return form

    def edit_selected(self) -> ComponentForm | None:
        name = self.selected
        node = self.session.pipeline.nodes.get(name or "")
        if node is None or node.component is None:
            self.say("select a component node to edit (a code node is edited in its cell)")
            return None
        return self.open_form(node.component, editing=node)

    def close_panel(self) -> None:
        self.panel.children = []

    def ask_rename(self) -> None:
        name = self.selected
        if name is None:
            self.say("select a node to rename")
            return
        field = widgets.Text(value=name, description="new name")
        ok = widgets.Button(description="Rename", button_style="primary")
        cancel = widgets.Button(description="Cancel")
        ok.on_click(lambda _: self.rename(name, field.value.strip()))
        cancel.on_click(lambda _: self.close_panel())
        self.panel.children = [widgets.HBox([field, ok, cancel])]

    def ask_delete(self) -> None:
        name = self.selected
        if name is None:
            self.say("select a node to delete")
            return
        readers = self.session.pipeline.dependents(name)
        also = (
            f"; {', '.join(readers)} read{'s' if len(readers) == 1 else ''} it" if readers else ""
        )
        question = widgets.HTML(f"delete node <b>{escape(name)}</b>{escape(also)}?")
        ok = widgets.Button(description="Delete", button_style="danger")
        cancel = widgets.Button(description="Cancel")
        ok.on_click(lambda _: self.delete(name))
        cancel.on_click(lambda _: self.close_panel())
        self.panel.children = [widgets.HBox([question, ok, cancel])]

    # -- edits (each undoable) ---------------------------------------------------------------
    def _edit(
        self,
        change: Callable[[], Any],
        done: str,
        undo: Callable[[], Any] | None = None,
        redo: Callable[[], Any] | None = None,
    ) -> Any:
        """Make ``change`` an undoable step: by default undone by restoring the pipeline as it
        was before and redone by restoring it as it is after; a rename moves values, so it
        brings its own ``undo`` and ``redo``."""
        before = self.session.pipeline.copy()
        self._acting = True
        try:
            result = change()
        except Exception as exc:  # refused: the pipeline is as it was; say why
            self.say(explained(exc), error=True)
            return None
        finally:
            self._acting = False
        after = self.session.pipeline.copy()
        step = (
            undo or (lambda: self.session.restore(before)),
            redo or (lambda: self.session.restore(after)),
        )
        self.undo_stack = [*self.undo_stack[-(UNDO_DEPTH - 1) :], step]
        self.redo_stack = []
        self.say(done)
        self._refresh_buttons()
        return result

    def _save(self, node: Node) -> None:
        editing = self._form_editing()
        if editing is not None and editing.name != node.name:
            old, new, states = editing.name, node.name, {}

            def rename_and_change() -> Node:
                self.session.rename(old, new)
                states["renamed"] = self.session.pipeline.copy()
                added = self.session.add(node)
                states["after"] = self.session.pipeline.copy()
                return added

            def undo() -> None:
                self.session.restore(states["renamed"])
                self.session.rename(new, old)

            def redo() -> None:
                self.session.rename(old, new)
                self.session.restore(states["after"])

            added = self._edit(
                rename_and_change, f"changed node {old} and renamed it {new}", undo, redo
            )
        else:
            verb = "changed" if node.name in self.session.pipeline.nodes else "added"
            added = self._edit(lambda: self.session.add(node), f"{verb} node {node.name}")
        if added is not None:
            self.show_cell(added)
            self.graph.inspector.show_node(added.name)

    def _form_editing(self) -> Node | None:
        form = next((c for c in self.panel.children if isinstance(c, ComponentForm)), None)
        return form.editing if form is not None else None

    def connect(self, source: str, target: str, parameter: str | None = None) -> None:
        node = self._edit(
            lambda: self.session.connect(source, target, parameter),
            f"{target} now reads {source}",
        )
        if node is not None:
            self.show_cell(node)

    def rename(self, old: str, new: str) -> None:
        node = self._edit(
            lambda: self.session.rename(old, new),
            f"renamed {old} to {new}",
            undo=lambda: self.session.rename(new, old),  # the value and last run move back too
            redo=lambda: self.session.rename(old, new),
        )
        if node is not None:
            self.close_panel()
            self.graph.inspector.show_node(new)

    def delete(self, name: str) -> None:
        if self._edit(lambda: self.session.remove(name), f"deleted node {name}") is not None:
            self.close_panel()
            self.graph.inspector.hide()

    def undo(self) -> None:
        if not self.undo_stack:
            self.say("nothing to undo")
            return
        step = self.undo_stack.pop()
        if self._replay(step[0], "undone"):
            self.redo_stack.append(step)
        else:
            self.undo_stack.append(step)

    def redo(self) -> None:
        if not self.redo_stack:
            self.say("nothing to redo")
            return
        step = self.redo_stack.pop()
        if self._replay(step[1], "redone"):
            self.undo_stack.append(step)
        else:
            self.redo_stack.append(step)

    def _replay(self, action: Callable[[], Any], done: str) -> bool:
        self._acting = True
        try:
            action()
        except Exception as exc:  # the kernel changed since (a variable took the name, ...)
            self.say(explained(exc), error=True)
            return False
        finally:
            self._acting = False
        self.say(done)
        self._refresh_buttons()
        return True

    # -- running -----------------------------------------------------------------------------
    def run(self, scope: str) -> None:
        from pipeline_lab.engine import run_summary

        name = self.selected
        if scope != "all" and name is None:
            self.say("select a node first")
            return
        try:
            if scope == "node":
                result = self.session.run(only=[name] if name else None, reuse=True)
            elif scope == "downstream":
                result = self.session.run(from_=name)
            else:
                result = self.session.run()
        except Exception as exc:  # an invalid pipeline: the graph shows where, this says what
            self.say(explained(exc), error=True)
            return
        self.say(run_summary(result), error=not result.ok)

    # -- the graph's events ------------------------------------------------------------------
    def _clicked(self, name: str) -> bool:
        """A node click; ``True`` when the builder used it (connect mode)."""
        if not self.buttons["connect"].value:
            return False
        if self.connect_from is None:
            self.connect_from = name
            self.say(f"connect {name} to: click the node that reads it")
            return True
        source, self.connect_from = self.connect_from, None
        self.buttons["connect"].value = False
        if source == name:
            self.say("connect: cancelled (a node cannot read itself)")
        else:
            self.connect(source, name)
        return True

    def _connect_mode(self, on: bool) -> None:
        self.connect_from = None
        if on:
            self.say("connect: click the node to read from, then the node that reads it")

    def _moved(self, element: dict[str, Any]) -> None:
        """A node was dropped: keep where the user put it (ipycytoscape syncs no positions)."""
        name = element.get("data", {}).get("id")
        position = element.get("position") or {}
        x, y = position.get("x"), position.get("y")
        if (
            name in self.session.pipeline.nodes
            and isinstance(x, (int, float))
            and isinstance(y, (int, float))
        ):
            self.session.move(name, (float(x), float(y)))

    def _on_session(self, event: Any) -> None:
        from pipeline_lab.engine import NodeDefined, NodeRemoved, PipelineReset

        if self._acting:
            return
        if isinstance(event, (NodeDefined, NodeRemoved, PipelineReset)):
            # A cell changed the pipeline: an undo would now also undo the cell.
            self.undo_stack, self.redo_stack = [], []
            self._refresh_buttons()

    def close(self) -> None:
        self._stop()

    # -- helpers -----------------------------------------------------------------------------
    def _columns(self, name: str) -> Sequence[str]:
        from pipeline_lab.frames import columns

        value = self.session.namespace.get(name) if name in self.session.pipeline.nodes else None
        try:
            return columns(value) or [] if value is not None else []
        except Exception:
            return []

    def _problems(self, node: Node, editing: Node | None) -> list[str]:
        """What the YAML cell would say about ``node`` (``editing``: the node it changes),
        and what it breaks in the pipeline."""
        if not node.name.isidentifier():
            return [f"'{node.name}' is not a valid node name (letters, digits, underscores)"]
        candidate = self.session.pipeline.copy()
        new_name = editing is None or editing.name != node.name
        if new_name and node.name in candidate.nodes:
            return [f"a node '{node.name}' exists: pick another name"]
        taken = self.session.variable_problem(node.name) if new_name else None
        if taken:
            return [taken]
        if editing is not None and editing.name in candidate.nodes and editing.name != node.name:
            candidate.remove(editing.name)
        candidate.add(node)
        return [
            str(issue.message) + (f" (hint: {issue.hint})" if issue.hint else "")
            for issue in candidate.validate(known=self.session.namespace.keys())
            if issue.severity == "error" and issue.node == node.name
        ]

    def show_cell(self, node: Node) -> None:
        """The ``%%pipeline`` cell of ``node``, to paste into the notebook."""
        from pipeline_lab.graph import cell_source

        code = widgets.Textarea(
            value=cell_source(node), layout=widgets.Layout(width="95%", height="110px")
        )
        copy = widgets.HTML(COPY_BUTTON)
        note = widgets.HTML(
            "<span style='color:#57606a'>paste this cell into the notebook to keep the node "
            "(or save the whole pipeline with %pipeline export PATH.ipynb)</span>"
        )
        box = widgets.VBox([note, code, copy])
        box.add_class("pipeline-lab-cell-code")
        self.panel.children = [box]

    def say(self, text: str, *, error: bool = False) -> None:
        color = "#cf222e" if error else "#57606a"
        self.message.value = f"<div style='color:{color};white-space:pre-wrap'>{escape(text)}</div>"

    def _refresh_buttons(self) -> None:
        self.buttons["undo"].disabled = not self.undo_stack
        self.buttons["redo"].disabled = not self.redo_stack
