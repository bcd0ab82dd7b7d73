"""What a cell's code reads and binds, found with ``ast`` (never by running it)."""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass
from types import CodeType

from pipeline_lab.errors import PipelineDefinitionError

BUILTIN_NAMES = frozenset(dir(builtins))
PARAMS_NAME = "params"
PARAMETERS_TAG = "parameters"
"""The cell tag (papermill's) that makes a notebook cell the pipeline's parameters cell."""


@dataclass(frozen=True)
class CellAnalysis:
    """Names a cell reads before binding them, names it binds, and its shape."""

    reads: frozenset[str]
    assigns: frozenset[str]
    param_attributes: frozenset[str]
    last_is_expression: bool
    star_import: bool = False
    transforms: frozenset[str] = frozenset()
    """Components the cell registers with ``@transform`` / ``@pipeline_lab.transform``."""


@dataclass(frozen=True)
class CompiledCell:
    """A cell compiled once: the body to ``exec`` and, if any, the last expression to ``eval``."""

    body: CodeType
    last: CodeType | None


def parse_cell(
    code: str, *, where: str, node: str | None = None, first_line: int = 1
) -> ast.Module:
    """Parse ``code``; line numbers count from ``first_line`` (2 under a ``%%pipeline`` line)."""
    try:
        tree = ast.parse(code, filename=where)
    except SyntaxError as exc:
        line = (exc.text or "").rstrip()
        hint = "fix the syntax error in the cell"
        if line.lstrip().startswith(("%", "!")):
            hint = "IPython magics and shell escapes are not allowed in %%pipeline cells; move them to an ordinary cell"
        lineno = (exc.lineno or 1) + first_line - 1
        raise PipelineDefinitionError(
            f"syntax error in {where}, line {lineno}: {exc.msg}"
            + (f"\n    {line}" if line else ""),
            node=node,
            hint=hint,
        ) from None
    if first_line != 1:
        ast.increment_lineno(tree, first_line - 1)
    return tree


def analyze_cell(
    code: str, *, where: str = "<cell>", node: str | None = None, first_line: int = 1
) -> CellAnalysis:
    """Analyze ``code``: free names read, names bound at top level, ``params.X`` uses."""
    tree = parse_cell(code, where=where, node=node, first_line=first_line)
    visitor = _FreeNames(set())
    for stmt in tree.body:
        visitor.visit(stmt)
    visitor.finish()
    return CellAnalysis(
        reads=frozenset(visitor.reads),
        assigns=frozenset(visitor.bound),
        param_attributes=frozenset(visitor.param_attributes),
        last_is_expression=bool(tree.body) and isinstance(tree.body[-1], ast.Expr),
        star_import=visitor.star_import,
        transforms=frozenset(_registered_transforms(tree)),
    )


def _registered_transforms(tree: ast.Module) -> list[str]:
    """Names of top-level functions decorated with ``transform`` (or ``transform(name=...)``)."""
    names = []
    for stmt in tree.body:
        if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for decorator in stmt.decorator_list:
            call = decorator if isinstance(decorator, ast.Call) else None
            target = call.func if call is not None else decorator
            is_transform = (isinstance(target, ast.Name) and target.id == "transform") or (
                isinstance(target, ast.Attribute) and target.attr == "transform"
            )
            if not is_transform:
                continue
            name = stmt.name
            for keyword in call.keywords if call is not None else []:
                if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                    name = str(keyword.value.value)
            names.append(name)
    return names


def compile_cell(
    code: str, *, filename: str, node: str | None = None, first_line: int = 1
) -> CompiledCell:
    """Compile ``code`` so that running it returns the value of its last expression."""
    tree = parse_cell(code, where=filename, node=node, first_line=first_line)
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        expression = tree.body.pop()
        assert isinstance(expression, ast.Expr)
        last = compile(ast.Expression(expression.value), filename, "eval")
    return CompiledCell(body=compile(tree, filename, "exec"), last=last)


class _FreeNames(ast.NodeVisitor):
    """Collect names read before they are bound, in one scope and the scopes nested in it."""

    def __init__(self, bound: set[str]) -> None:
        self.bound = set(bound)
        self.reads: set[str] = set()
        self.param_attributes: set[str] = set()
        self.star_import = False
        # Function bodies run later, when every top-level name of the cell is bound.
        self._deferred: list[tuple[list[ast.stmt], set[str]]] = []

    def finish(self) -> None:
        for body, local in self._deferred:
            inner = _FreeNames(local | _stored_names(body))
            for stmt in body:
                inner.visit(stmt)
            inner.finish()
            self.reads |= inner.reads - self.bound
            self.param_attributes |= inner.param_attributes
            self.star_import |= inner.star_import

    def _read(self, name: str) -> None:
        if name not in self.bound:
            self.reads.add(name)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self._read(node.id)
        else:
            self.bound.add(node.id)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.value, ast.Name) and node.value.id == PARAMS_NAME:
            self.param_attributes.add(node.attr)
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for target in node.targets:
            self.visit(target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
        self.visit(node.annotation)
        self.visit(node.target)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        if isinstance(node.target, ast.Name):
            self._read(node.target.id)
            self.bound.add(node.target.id)
        else:
            self.visit(node.target)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        self.bound.add(node.target.id)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.bound.add(alias.asname or alias.name.split(".")[0])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name == "*":
                self.star_import = True
            else:
                self.bound.add(alias.asname or alias.name)

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)
        self.visit(node.target)
        for stmt in [*node.body, *node.orelse]:
            self.visit(stmt)

    visit_AsyncFor = visit_For

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.type is not None:
            self.visit(node.type)
        if node.name:
            self.bound.add(node.name)
        for stmt in node.body:
            self.visit(stmt)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        args = node.args
        for default in [*args.defaults, *args.kw_defaults]:
            if default is not None:
                self.visit(default)
        params = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}
        params |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
        if isinstance(node, ast.Lambda):
            body: list[ast.stmt] = [ast.Expr(node.body)]
        else:
            for decorator in node.decorator_list:
                self.visit(decorator)
            self.bound.add(node.name)
            body = node.body
        self._deferred.append((body, params))

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for expr in [*node.decorator_list, *node.bases, *(k.value for k in node.keywords)]:
            self.visit(expr)
        self.bound.add(node.name)
        self._deferred.append((node.body, set()))

    def _comprehension(
        self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp
    ) -> None:
        first, *rest = node.generators
        self.visit(first.iter)
        inner = _FreeNames(self.bound)
        inner.visit(first.target)
        for cond in first.ifs:
            inner.visit(cond)
        for gen in rest:
            inner.visit(gen.iter)
            inner.visit(gen.target)
            for cond in gen.ifs:
                inner.visit(cond)
        elements = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
        for element in elements:
            inner.visit(element)
        inner.finish()
        self.reads |= inner.reads
        self.param_attributes |= inner.param_attributes

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _comprehension

    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        self.generic_visit(node)
        if node.name:
            self.bound.add(node.name)

    def visit_MatchStar(self, node: ast.MatchStar) -> None:
        if node.name:
            self.bound.add(node.name)

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        self.generic_visit(node)
        if node.rest:
            self.bound.add(node.rest)


def _stored_names(body: list[ast.stmt]) -> set[str]:
    """Names a function body binds locally (Python decides locality for the whole body)."""
    names: set[str] = set()
    global_names: set[str] = set()
    for stmt in body:
        for sub in ast.walk(stmt):
            if isinstance(sub, ast.Name) and not isinstance(sub.ctx, ast.Load):
                names.add(sub.id)
            elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(sub.name)
            elif isinstance(sub, (ast.Import, ast.ImportFrom)):
                names |= {a.asname or a.name.split(".")[0] for a in sub.names if a.name != "*"}
            elif isinstance(sub, (ast.Global, ast.Nonlocal)):
                global_names |= set(sub.names)
    return names - global_names
