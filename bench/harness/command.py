"""The command line every benchmark shares, and how each of its loads runs."""

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SERVER_CPU = os.environ.get("BENCH_SERVER_CPU", "0")
WRK_CPU = os.environ.get("BENCH_WRK_CPU", "1")
BIN = Path(sys.executable).parent
# The venv's ``opscenter`` script imports the package it was installed from (an editable install of one checkout):
# run from a git worktree sharing that venv, every server and command a benchmark starts would run the other
# checkout's code. Put this checkout first for them all (they inherit the environment).
os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
BOTH = ("sqlite", "postgresql")


# ---- the command line -----------------------------------------------------------------------------------------


def arguments(
    doc: str | None,
    *,
    databases: Sequence[str] = BOTH,
    load: bool = False,
    seconds: float = 10,
    connections: int = 50,
    pin: bool = True,
) -> argparse.ArgumentParser:
    """The options every benchmark shares: ``--db`` (when it runs on more than one database) and, for those that
    load a server with wrk, ``--seconds``, ``--connections``, ``--requests``, ``--pin`` and ``--profile``."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    if len(databases) > 1:
        parser.add_argument("--db", choices=[*databases, "both"], default="both")
    if load:
        parser.add_argument("--seconds", type=int, default=seconds, help="wrk's duration for each load")
        parser.add_argument("--connections", type=int, default=connections)
        parser.add_argument(
            "--requests",
            type=int,
            default=0,
            help="instead of wrk, send N requests per load and fail on any error: a quick check, not a measurement",
        )
        parser.add_argument("--profile", type=Path, default=None, help="sample the server with py-spy into DIR")
    if pin:
        parser.add_argument("--pin", action="store_true", help="server on CPU $BENCH_SERVER_CPU, wrk on $BENCH_WRK_CPU")
    return parser


def chosen(args: argparse.Namespace, databases: Sequence[str] = BOTH) -> list[str]:
    """The databases ``--db`` names, in order."""
    which = getattr(args, "db", databases[0])
    return list(databases) if which == "both" else [which]


@dataclass(frozen=True)
class Options:
    """How each wrk load runs."""

    seconds: int = 10
    connections: int = 50
    requests: int = 0  # > 0: stop after this many answers
    pin: bool = False


def each(run: Options) -> str:
    """How long each load ran, for a table's title."""
    return f"{run.requests} requests each (a check, not a measurement)" if run.requests else f"{run.seconds} s each"


def options(args: argparse.Namespace, **overrides: Any) -> Options:
    values = {
        "seconds": args.seconds,
        "connections": args.connections,
        "requests": args.requests,
        "pin": getattr(args, "pin", False),
        **overrides,
    }
    return Options(**values)
