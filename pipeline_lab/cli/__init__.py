"""``pipeline-lab``: run notebooks headless, inspect runs, validate pipelines."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence

from pipeline_lab.cli._commands import COMMANDS, build_parser
from pipeline_lab.cli._render import visible
from pipeline_lab.cli._run import EXIT_CRASH
from pipeline_lab.errors import PipelineLabError, Terminated

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return COMMANDS[args.handler](args)
    except PipelineLabError as exc:
        print(f"error: {visible(str(exc))}", file=sys.stderr)
        return 2
    except Terminated:
        print("terminated", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`... | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception:
        # A bug of ours: the run (if one started) is recorded as crashed; say so, with the
        # traceback a bug report needs.
        traceback.print_exc()
        print(
            "error: Pipeline Lab failed unexpectedly (a bug; a run that had started is "
            "recorded as crashed). Please report it with the traceback above.",
            file=sys.stderr,
        )
        return EXIT_CRASH
