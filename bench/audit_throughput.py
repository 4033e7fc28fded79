"""Audited writes per second on PostgreSQL: the trail chained on write (before) against queue + sequencer (after).

Each writer runs what every audited request runs: one transaction that creates an organization through
its service (a uniqueness check, the insert, the audit event) and commits. Writers are threads spread over
several processes, as several API processes would be. "before" is the code at ``--before`` (default: the
last commit where each audited write locked the chain's head row until commit), exported with
``git archive``; "after" is this checkout, with the ``audit.seal`` job running every second beside the
writers, as a worker would. Every run gets a fresh database; at the end the trail is sealed and verified.

A second table (``--mode sql``) runs each protocol's statements alone from the same writers, so that Python's
CPU time per request (large on a small, busy machine) does not hide what the database allows: before, lock
the head row, insert the chained event, update the head, commit; after, insert the event and its queue
entry, commit (the sealing is the real job, as above).

    .venv/bin/python -m bench.audit_throughput [--writers 8 16 50] [--seconds 10] [--before e9d26c8]
                                               [--mode service sql]

The writers run in a child process per tree (``bench/audit_writers.py``), with that tree's ``opscenter`` imported.
"""

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.harness import ROOT, arguments, databases, ratio, require_tools

# The last commit whose audited writes locked audit_chain_head until commit.
BEFORE = "e9d26c8"


@contextmanager
def exported(ref: str) -> Iterator[Path]:
    """The tree at ``ref``, outside this checkout."""
    with tempfile.TemporaryDirectory(prefix="opscenter-before-") as directory:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", directory], input=archive.stdout, check=True)
        yield Path(directory)


def measure(tree: Path, url: str, writers: int, seconds: float, mode: str) -> dict[str, Any]:
    """Run the writers against ``tree``'s code in a child process (so its ``opscenter`` is the one imported)."""
    env = {**os.environ, "PYTHONPATH": str(tree), "OPSCENTER_LOG_LEVEL": "WARNING"}
    args = [sys.executable, str(ROOT / "bench" / "audit_writers.py"), "--tree", str(tree), "--url", url]
    args += ["--writers", str(writers), "--seconds", str(seconds), "--mode", mode]
    result = subprocess.run(args, env=env, cwd=tree, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"the run against {tree} failed:\n{result.stderr}")
    figures: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return figures


def main() -> None:
    parser = arguments(__doc__, pin=False)
    parser.add_argument("--writers", type=int, nargs="+", default=[8, 16, 50])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--before", default=BEFORE, help="git ref of the chained-on-write code")
    parser.add_argument("--mode", nargs="+", choices=["service", "sql"], default=["service", "sql"])
    args = parser.parse_args()
    require_tools("git", "tar")

    print(f"audited writes on PostgreSQL, {args.seconds:.0f} s per run, fresh database each run, {os.cpu_count()} CPUs")
    print(f"before: {args.before} (head row locked per write); after: this checkout (queue + audit.seal every 1 s)")
    with exported(args.before) as before_tree:
        for mode in args.mode:
            print(f"\n{TITLES[mode]}")
            header = (
                f"{'writers':>7}  {'code':<6} {'writes/s':>9} {'p50 ms':>7} {'p99 ms':>7}  {'seal lag max':>12}  verify"
            )
            print(header)
            print("-" * len(header))
            for writers in args.writers:
                rows = {}
                for label, tree in (("before", before_tree), ("after", ROOT)):
                    with databases(["postgresql"], migrate=False) as urls:  # each tree migrates its own
                        figures = rows[label] = measure(tree, urls["postgresql"], writers, args.seconds, mode)
                    lag = f"{figures['max_lag_s']:.2f} s" if label == "after" else "-"
                    verdict = (
                        "-" if mode == "sql" and label == "before" else "intact" if figures["intact"] else "BROKEN"
                    )
                    print(
                        f"{writers:>7}  {label:<6} {figures['per_second']:>9.0f} {figures['p50_ms']:>7.1f} "
                        f"{figures['p99_ms']:>7.1f}  {lag:>12}  {verdict} ({figures['verified']} sealed)",
                        flush=True,
                    )
                print(
                    f"{'':>7}  after/before: {ratio(rows['after']['per_second'], rows['before']['per_second'])}",
                    flush=True,
                )


TITLES = {
    "service": "the real code: organizations.create_organization in one transaction per write",
    "sql": "the protocols' statements alone (psycopg, no ORM): what the database allows",
}

if __name__ == "__main__":
    main()
