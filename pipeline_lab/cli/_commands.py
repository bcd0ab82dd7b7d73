"""Argument parsing and the command table; each command calls one library function."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from pipeline_lab.engine import plural
from pipeline_lab.errors import PipelineDefinitionError, PipelineLabError, describe
from pipeline_lab.graph import InvalidPipeline, Issue

Command = Callable[[argparse.Namespace], int]
COMMANDS: dict[str, Command] = {}


def command(name: str) -> Callable[[Command], Command]:
    def register(func: Command) -> Command:
        COMMANDS[name] = func
        return func

    return register


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pipeline-lab", description="Run notebook pipelines headless and inspect their runs."
    )
    from pipeline_lab import __version__

    parser.add_argument("--version", action="version", version=f"pipeline-lab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run a notebook's pipeline (no kernel needed)")
    run.add_argument("notebook", type=Path)
    run.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a parameter; VALUE takes the type of the parameter's default "
        "(a string default keeps VALUE as it is)",
    )
    run.add_argument(
        "--executor",
        choices=_executors(),
        default="threads",
        help="where nodes run: %(choices)s (default: %(default)s)",
    )
    subset = run.add_mutually_exclusive_group()
    subset.add_argument(
        "--only",
        action="extend",
        type=_names,
        metavar="NODE[,NODE...]",
        help="run only these nodes (repeat or separate with commas), plus the upstream nodes "
        "they need: a headless run starts with no values",
    )
    subset.add_argument(
        "--from",
        dest="from_",
        metavar="NODE",
        help="run NODE and everything downstream of it, plus the upstream nodes they need",
    )
    run.add_argument(
        "--streaming",
        action="store_true",
        default=None,
        help="run component plans on polars' streaming engine (default: only for inputs "
        "larger than PIPELINE_LAB_STREAMING_FRACTION of memory)",
    )
    run.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    run.set_defaults(handler="run")

    runs = sub.add_parser("runs", help="list recorded runs, or show one")
    runs.add_argument("action", nargs="?", choices=["show"], help="show one run")
    runs.add_argument("run_id", nargs="?", help="run id (or a unique prefix) for 'show'")
    runs.add_argument("--pipeline", help="only runs of this pipeline")
    runs.add_argument("--limit", type=_positive, default=20, help="at most N runs (default 20)")
    runs.add_argument(
        "--all",
        action="store_true",
        help="also the runs of single %%%%pipeline cells in a kernel (hidden by default)",
    )
    runs.add_argument("--json", action="store_true")
    runs.set_defaults(handler="runs")

    validate = sub.add_parser("validate", help="check a notebook's pipeline without running it")
    validate.add_argument("notebook", type=Path)
    validate.add_argument("--json", action="store_true")
    validate.set_defaults(handler="validate")

    _add_sources_parser(sub)

    demo = sub.add_parser("demo", help="run the example sales pipeline and show where to look next")
    demo.set_defaults(handler="demo")
    return parser


def _add_sources_parser(sub: Any) -> None:
    sources = sub.add_parser(
        "sources",
        help="managed data sources: add, list, test, inspect, remove",
        description="Named data sources for pipeline_lab.read('NAME'). URLs hold no password: "
        "secrets are references (env:NAME, keyring:SERVICE/USER) resolved when connecting.",
    )
    sources.set_defaults(handler="sources", action="list", json=False)
    actions = sources.add_subparsers(dest="action", metavar="ACTION")

    add = actions.add_parser("add", help="add a data source (no password in the URL)")
    add.add_argument("name", help="the name to read it by: letters, digits, '_' and '-'")
    add.add_argument(
        "url", help="a SQLAlchemy URL, a file path, glob or fsspec URL, an http(s) URL"
    )
    add.add_argument("--kind", help="the connector (default: from the URL)")
    add.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a connector option (repeat); VALUE is read as JSON when it parses "
        "(numbers, true/false, lists), else as text",
    )
    add.add_argument(
        "--secret",
        action="append",
        default=[],
        metavar="KEY=REF",
        help="a secret reference (repeat), e.g. password=env:PG_PASSWORD or "
        "token=keyring:github/me; never the secret itself",
    )
    add.add_argument("--test", action="store_true", help="connect first; add only if it works")
    add.add_argument("--replace", action="store_true", help="replace a source of the same name")

    listing = actions.add_parser("list", help="list the data sources")
    listing.add_argument("--json", action="store_true")
    test = actions.add_parser("test", help="connect to a data source (exit code 1 if it fails)")
    test.add_argument("name")
    test.add_argument("--json", action="store_true")
    inspect = actions.add_parser("inspect", help="tables, columns, types and row estimates")
    inspect.add_argument("name")
    inspect.add_argument("--json", action="store_true")
    remove = actions.add_parser("remove", help="forget a data source (its data is untouched)")
    remove.add_argument("name")


def _executors() -> list[str]:
    """The registered executors (built-ins and the ``pipeline_lab.executors`` entry points)."""
    from pipeline_lab.engine import EXECUTORS

    return EXECUTORS.names()


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def parse_params(pairs: list[str]) -> dict[str, str]:
    """``NAME=VALUE`` pairs as raw strings (typed later against the parameters' defaults)."""
    params: dict[str, str] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise PipelineDefinitionError(
                f"bad parameter {pair!r}: expected NAME=VALUE with NAME a Python identifier",
                hint="e.g. -p orders_csv=data/orders.csv -p min_amount=10",
            )
        if name in params:
            raise PipelineDefinitionError(
                f"parameter '{name}' is given twice (-p {name}={params[name]} and -p {name}={raw})",
                hint="give each parameter once",
            )
        params[name] = raw
    return params


@command("run")
def run_command(args: argparse.Namespace) -> int:
    from pipeline_lab.cli._run import run_notebook

    with _json_on_failure(args, _run_failure):
        return run_notebook(
            args.notebook,
            parse_params(args.param),
            executor=args.executor,
            only=args.only,
            from_=args.from_,
            as_json=args.json,
            streaming=args.streaming,
        )


@command("runs")
def runs_command(args: argparse.Namespace) -> int:
    from pipeline_lab.cli._runs import list_runs, show_run

    if args.action == "show":
        if not args.run_id:
            raise PipelineDefinitionError("runs show needs a RUN_ID", hint="see pipeline-lab runs")
        return show_run(args.run_id, as_json=args.json)
    return list_runs(
        pipeline=args.pipeline, limit=args.limit, as_json=args.json, everything=args.all
    )


def parse_pairs(pairs: list[str], *, what: str, example: str) -> dict[str, str]:
    """``KEY=VALUE`` pairs (the last of a repeated key wins)."""
    parsed: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            # Never echo the pair: it may be a secret typed where a reference belongs.
            raise PipelineDefinitionError(f"bad {what}: expected KEY=VALUE", hint=f"e.g. {example}")
        parsed[key.strip()] = value
    return parsed


def _option_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


@command("sources")
def sources_command(args: argparse.Namespace) -> int:
    from pipeline_lab.cli import _sources

    if args.action == "add":
        options = parse_pairs(args.option, what="--option", example="--option delimiter=';'")
        return _sources.add_source(
            args.name,
            args.url,
            kind=args.kind,
            options={key: _option_value(value) for key, value in options.items()},
            secrets=parse_pairs(
                args.secret, what="--secret", example="--secret password=env:PG_PASSWORD"
            ),
            test=args.test,
            replace=args.replace,
        )
    if args.action == "test":
        return _sources.probe_source(args.name, as_json=args.json)
    if args.action == "inspect":
        return _sources.inspect_source(args.name, as_json=args.json)
    if args.action == "remove":
        return _sources.remove_source(args.name)
    return _sources.list_sources(as_json=args.json)


@command("validate")
def validate_command(args: argparse.Namespace) -> int:
    from pipeline_lab.cli._notebooks import read_pipeline
    from pipeline_lab.cli._render import visible

    with _json_on_failure(args, _validate_failure):
        pipeline, notices = read_pipeline(args.notebook)
        issues = _in_notebook_order(pipeline.validate())
    errors = [i for i in issues if i.severity == "error"]
    warnings = [i for i in issues if i.severity == "warning"]
    if args.json:
        print(
            json.dumps(
                {
                    "pipeline": pipeline.name,
                    "valid": not errors,
                    "nodes": pipeline.order() if not errors else list(pipeline.nodes),
                    "issues": [vars(i) for i in issues],
                    "notices": notices,
                },
                indent=2,
            )
        )
        return 1 if errors else 0
    for notice in notices:
        print(f"note: {visible(notice)}", file=sys.stderr)
    if not errors:
        print(
            f"pipeline '{pipeline.name}' is valid: {plural(len(pipeline.nodes), 'node')}, "
            f"{plural(len(pipeline.params), 'parameter')}, "
            f"{plural(len(pipeline.setup), 'setup cell')}, "
            f"{plural(len(pipeline.reports), 'report cell')}"
        )
        print("order: " + " -> ".join(pipeline.order()))
        if warnings:
            print(f"{plural(len(warnings), 'warning')}:")
    else:
        also = f" and {plural(len(warnings), 'warning')}" if warnings else ""
        print(f"pipeline '{pipeline.name}' has {plural(len(errors), 'error')}{also}:")
    for issue in issues:
        print(f"  - {visible(str(issue))}")
    return 1 if errors else 0


@contextlib.contextmanager
def _json_on_failure(
    args: argparse.Namespace, shape: Callable[[Path, Exception], dict[str, Any]]
) -> Iterator[None]:
    """With ``--json``, a failure still prints one JSON object on stdout (then it propagates:
    ``main`` says it on stderr and exits as it always did)."""
    try:
        yield
    except Exception as exc:
        if args.json:
            print(json.dumps(shape(args.notebook, exc), indent=2, default=str))
        raise


def _in_notebook_order(issues: Iterable[Issue]) -> list[Issue]:
    """The cells a user walks through first, then what concerns the pipeline as a whole."""
    return sorted(issues, key=lambda i: (i.cell is None, i.cell or 0))


def _failure(exc: Exception) -> dict[str, Any]:
    """What went wrong, as the JSON of a command that could not do its work."""
    return {
        "error": exc.message if isinstance(exc, PipelineLabError) else describe(exc),
        "error_type": type(exc).__name__,
        "node": exc.node if isinstance(exc, PipelineLabError) else None,
        "hint": exc.hint if isinstance(exc, PipelineLabError) else None,
        "issues": [vars(i) for i in _in_notebook_order(exc.issues)]
        if isinstance(exc, InvalidPipeline)
        else [],
    }


def _validate_failure(notebook: Path, exc: Exception) -> dict[str, Any]:
    return {"pipeline": notebook.stem, "valid": False, "nodes": [], "notices": [], **_failure(exc)}


def _run_failure(notebook: Path, exc: Exception) -> dict[str, Any]:
    """A run that never started (or crashed): ``invalid`` for a pipeline that cannot run."""
    if isinstance(exc, PipelineDefinitionError):
        status = "invalid"
    else:
        status = "error" if isinstance(exc, PipelineLabError) else "crashed"
    return {
        "run_id": None,
        "pipeline": notebook.stem,
        "status": status,
        "nodes": {},
        "recorded": False,
        **_failure(exc),
    }


@command("demo")
def demo_command(args: argparse.Namespace) -> int:
    from pipeline_lab.cli._run import run_demo

    return run_demo(_example_dir())


def _example_dir() -> Path:
    for base in (Path.cwd(), Path(__file__).resolve().parents[2]):
        candidate = base / "example_notebooks"
        if (candidate / "sales_pipeline.ipynb").exists():
            return candidate
    raise PipelineDefinitionError(
        "cannot find example_notebooks/sales_pipeline.ipynb",
        hint="run 'pipeline-lab demo' from the root of a Pipeline Lab checkout",
    )
