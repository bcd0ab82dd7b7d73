"""The ``%%pipeline NAME [options]`` line: parsed the same way by the magic and the notebook reader."""

from __future__ import annotations

import argparse
import shlex
from dataclasses import dataclass

from pipeline_lab.errors import PipelineDefinitionError
from pipeline_lab.graph._node import Node, RetryPolicy, policy_problems
from pipeline_lab.graph._yaml import dump_yaml, load_yaml
from pipeline_lab.suggest import did_you_mean

CELL_MAGIC = "%%pipeline"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        usage = self.format_usage().strip()
        # "unrecognized arguments: --retry 2": name the option that was meant first.
        if message.startswith("unrecognized arguments:"):
            # Compared without the dashes every option shares, or anything looks close.
            options = [o[2:] for action in self._actions for o in action.option_strings]
            for word in message.split(":", 1)[1].split():
                if word.startswith("--"):
                    given = word.split("=", 1)[0]
                    meant = did_you_mean(given[2:], options)
                    if meant:
                        meant = meant.replace("'", "'--", 1).replace(" or '", " or '--")
                        raise PipelineDefinitionError(
                            f"unknown option {given}; {meant}", hint=usage
                        )
        raise PipelineDefinitionError(message, hint=usage)


def _build_parser() -> _Parser:
    parser = _Parser(
        prog=CELL_MAGIC,
        add_help=False,
        allow_abbrev=False,
        usage="%(prog)s NAME [--inputs NODE ...] [--check EXPR]... [--retries N] [--retry-delay S]\n"
        "                  [--retry-backoff F] [--retry-max-delay S] [--timeout S] [--cache]\n"
        "                  [--no-run] [--tags TAG ...] [--component KIND]",
    )
    parser.add_argument(
        "name", help="node name (a Python identifier); the cell's output is bound to it"
    )
    # ``--inputs`` with no names: the node takes no inputs, whatever names the cell reads.
    parser.add_argument(
        "--inputs", nargs="*", metavar="NODE", help="inputs, instead of the names the cell reads"
    )
    parser.add_argument(
        "--check",
        action="append",
        default=[],
        metavar="EXPR",
        help="SQL condition every output row must satisfy",
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=RetryPolicy.retries,
        metavar="N",
        help="retry a failing node N times",
    )
    parser.add_argument(
        "--retry-delay",
        type=float,
        default=RetryPolicy.delay,
        metavar="S",
        help="base delay of the exponential backoff",
    )
    parser.add_argument(
        "--retry-backoff",
        type=float,
        default=RetryPolicy.factor,
        metavar="F",
        help="each retry may wait F times longer than the one before",
    )
    parser.add_argument(
        "--retry-max-delay",
        type=float,
        default=RetryPolicy.cap,
        metavar="S",
        help="no retry waits longer than S seconds",
    )
    parser.add_argument(
        "--timeout", type=float, default=None, metavar="S", help="fail the node after S seconds"
    )
    parser.add_argument(
        "--cache",
        action="store_true",
        help="the output may be reused while the node and its inputs stay the same",
    )
    parser.add_argument(
        "--no-run", action="store_true", help="register the node without running it"
    )
    parser.add_argument("--tags", nargs="+", default=[], metavar="TAG")
    parser.add_argument(
        "--component",
        default=None,
        metavar="KIND",
        help="a library component; the body is its YAML parameters",
    )
    return parser


_PARSER = _build_parser()
USAGE = _PARSER.format_usage().strip()


@dataclass(frozen=True)
class CellHeader:
    node: Node
    run: bool


def parse_header(line: str, body: str) -> CellHeader:
    """Build the node a ``%%pipeline`` cell defines from its header ``line`` and ``body``."""
    try:
        argv = shlex.split(line)
    except ValueError as exc:
        raise PipelineDefinitionError(
            f"cannot parse '{CELL_MAGIC} {line}': {exc}", hint=USAGE
        ) from None
    if not argv:
        raise PipelineDefinitionError(f"{CELL_MAGIC} needs a node name", hint=USAGE)
    args = _PARSER.parse_args(_numbers_as_values(argv))
    retry = RetryPolicy(
        retries=args.retries,
        delay=args.retry_delay,
        factor=args.retry_backoff,
        cap=args.retry_max_delay,
    )
    problems = policy_problems(retry, args.timeout)
    if problems:
        message, hint = problems[0]
        raise PipelineDefinitionError(message, node=args.name, hint=hint)
    params: dict[str, object] = {}
    code: str | None = body
    if args.component:
        params = _component_params(body, args.name)
        code = None
    node = Node(
        name=args.name,
        code=code,
        component=args.component,
        params=params,
        inputs=tuple(args.inputs) if args.inputs is not None else None,
        checks=tuple(args.check),
        retry=retry,
        timeout=args.timeout,
        cache=args.cache,
        tags=tuple(args.tags),
    )
    return CellHeader(node=node, run=not args.no_run)


_NUMBER_OPTIONS = frozenset(
    ("--retries", "--retry-delay", "--retry-backoff", "--retry-max-delay", "--timeout")
)


def _numbers_as_values(argv: list[str]) -> list[str]:
    """``--timeout -1e3`` as ``--timeout=-1e3``: argparse takes only plain negative numbers
    (``-1``, ``-.5``) for values, and would say a value is missing instead of what is wrong."""
    joined: list[str] = []
    tokens = iter(argv)
    for token in tokens:
        if token in _NUMBER_OPTIONS:
            value = next(tokens, None)
            if value is not None and value.startswith("-") and _is_number(value):
                joined.append(f"{token}={value}")
                continue
            joined.append(token)
            if value is not None:
                joined.append(value)
            continue
        joined.append(token)
    return joined


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def format_header(node: Node, *, run: bool = True) -> str:
    """The ``%%pipeline`` line that :func:`parse_header` reads back as ``node``.

    Every option that differs from its default is written. ``position`` and ``cell_id`` are
    not header options: they live in the cell (its metadata and its id).
    """
    default = RetryPolicy()
    parts = [CELL_MAGIC, _quote(node.name)]
    if node.component:
        parts += ["--component", node.component]
    if node.inputs is not None:
        parts += ["--inputs", *node.inputs]
    for check in node.checks:
        # "--check=-x" : a value that starts with "-" would read as an option.
        parts += (
            [f"--check={_quote(check)}"] if check.startswith("-") else ["--check", _quote(check)]
        )
    if node.retry.retries != default.retries:
        parts += ["--retries", str(node.retry.retries)]
    if node.retry.delay != default.delay:
        parts += ["--retry-delay", _number(node.retry.delay)]
    if node.retry.factor != default.factor:
        parts += ["--retry-backoff", _number(node.retry.factor)]
    if node.retry.cap != default.cap:
        parts += ["--retry-max-delay", _number(node.retry.cap)]
    if node.timeout is not None:
        parts += ["--timeout", _number(node.timeout)]
    if node.cache:
        parts.append("--cache")
    if not run:
        parts.append("--no-run")
    if node.tags:
        parts += ["--tags", *map(_quote, node.tags)]
    return " ".join(parts)


def _number(value: float) -> str:
    """``value`` short (``30``, not ``30.0``) but exact, so the header reads back the same."""
    short = f"{value:g}"
    return short if float(short) == value else repr(float(value))


def cell_source(node: Node, *, run: bool = True) -> str:
    """The whole ``%%pipeline`` cell that defines ``node``: header, then code or YAML."""
    body = dump_yaml(dict(node.params)).rstrip() if node.component else node.code or ""
    return f"{format_header(node, run=run)}\n{body}"


def _quote(text: str) -> str:
    if text and not any(c in text for c in '"\\$`') and text != shlex.quote(text):
        return f'"{text}"'
    return shlex.quote(text)


def _component_params(body: str, name: str) -> dict[str, object]:
    import yaml

    try:
        data = load_yaml(body) or {}
    except yaml.YAMLError as exc:
        raise PipelineDefinitionError(
            f"the component parameters are not valid YAML{_yaml_where(exc)}: {_yaml_problem(exc)}",
            node=name,
            hint="write one 'name: value' per line, and quote a value that holds ': ', "
            "' #', or starts with [, {, *, & or !",
        ) from None
    if not isinstance(data, dict):
        raise PipelineDefinitionError(
            "the body of a --component cell must be a YAML mapping of parameters, not a "
            f"{'list' if isinstance(data, list) else type(data).__name__}",
            node=name,
            hint="one 'name: value' per line, e.g. 'input: orders' (see %pipeline components)",
        )
    return data


def _yaml_where(exc: Exception) -> str:
    """`` (line 3, column 5)``: where in the cell (its header is line 1) the YAML breaks."""
    mark = getattr(exc, "problem_mark", None)
    if mark is None:
        return ""
    return f" (line {mark.line + 2}, column {mark.column + 1})"


def _yaml_problem(exc: Exception) -> str:
    """PyYAML's words for the problem, without its own ``in "<unicode string>"`` marks."""
    parts = [getattr(exc, "context", None), getattr(exc, "problem", None)]
    text = ", ".join(p for p in parts if p)
    return text or str(exc).splitlines()[0]
