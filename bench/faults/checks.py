"""What must hold after the faults, read straight from the database and from ``opscenter audit``."""

import subprocess
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import psycopg
from psycopg import sql

from bench.faults.load import Write


@dataclass(frozen=True)
class Held:
    what: str
    held: bool
    evidence: str


def _ids(writes: Iterable[Write], kind: str) -> list[uuid.UUID]:
    return [uuid.UUID(write.made) for write in writes if write.kind == kind and write.answered_2xx and write.made]


def writes_held(url: str, writes: list[Write]) -> list[Held]:
    """Every write answered 2xx is stored, once; no retried Idempotency-Key made a second object."""
    held = []
    with psycopg.connect(url) as db:
        for kind, table in (("rating", "rating"), ("ticket", "ticket"), ("purchase request", "purchase_request")):
            answered = _ids(writes, kind)
            by_id = sql.SQL("SELECT count(*) FROM {} WHERE id = ANY(%s)").format(sql.Identifier(table))
            found = db.execute(by_id, (answered,)).fetchone()
            stored = int(found[0]) if found else 0
            sent = [write for write in writes if write.kind == kind]
            retried = sum(1 for write in sent if write.attempts > 1)
            lost = sum(write.broken for write in sent)
            unknown = [write.key for write in sent if write.status is None]
            if kind == "rating":
                doubles = db.execute(
                    "SELECT count(*) FROM (SELECT 1 FROM rating GROUP BY service_instance_id, period "
                    "HAVING count(*) > 1) AS doubled"
                ).fetchone()
            else:  # the key is in the title: one object per key, however often it was sent
                doubles = db.execute(
                    sql.SQL(
                        "SELECT count(*) FROM (SELECT 1 FROM {} WHERE title LIKE '故障演练 %' GROUP BY title "
                        "HAVING count(*) > 1) AS doubled"
                    ).format(sql.Identifier(table))
                ).fetchone()
            doubled = int(doubles[0]) if doubles else 0
            statuses = Counter("none" if write.status is None else str(write.status) for write in sent)
            answers = ", ".join(f"{count}x {status}" for status, count in sorted(statuses.items()))
            landed = 0
            if unknown and kind != "rating":
                titles = [f"故障演练 {key}" for key in unknown]
                by_title = sql.SQL("SELECT count(*) FROM {} WHERE title = ANY(%s)").format(sql.Identifier(table))
                row = db.execute(by_title, (titles,)).fetchone()
                landed = int(row[0]) if row else 0
            held.append(
                Held(
                    f"{kind}s: every 2xx stored once",
                    stored == len(answered) and doubled == 0,
                    f"{len(sent)} sent, {len(answered)} answered 2xx, {stored} of them stored, {doubled} doubled; "
                    f"{retried} sent more than once, {lost} connections lost mid-request; {len(unknown)} never answered"
                    + (f" ({landed} of those stored)" if unknown and kind != "rating" else "")
                    + f"; final answers {answers}",
                )
            )
        acknowledged = _ids(writes, "acknowledge")
        row = db.execute(
            "SELECT count(*) FROM ticket WHERE id = ANY(%s) AND status <> 'new'", (acknowledged,)
        ).fetchone()
        still = len(acknowledged) - (int(row[0]) if row else 0)
        held.append(
            Held(
                "acknowledgements: every 2xx stored",
                still == 0,
                f"{len(acknowledged)} answered 2xx, {still} still new",
            )
        )
    return held


def job_runs(url: str) -> dict[str, str]:
    """Who last ran each job (host:pid), by job id."""
    with psycopg.connect(url) as db:
        return {str(job_id): str(run_by) for job_id, run_by in db.execute("SELECT job_id, run_by FROM job_run")}


def jobs_caught_up(url: str, expected: list[str]) -> tuple[Held, dict[str, str]]:
    ran = job_runs(url)
    missing = sorted(set(expected) - set(ran))
    evidence = f"{len(set(expected) & set(ran))} of {len(expected)} jobs have a job_run row" + (
        f"; missing: {', '.join(missing)}" if missing else ""
    )
    return Held("every job caught up (job_run)", not missing, evidence), ran


def audit_verified(opscenter: str, env: dict[str, str], url: str) -> Held:
    """Seal what is committed and sign the head now (what the audit.seal and audit.checkpoint jobs do; here, in
    this process, to spare two command start-ups), then ``opscenter audit verify`` against that checkpoint."""
    from opscenter.audit import checkpoints
    from opscenter.audit.sequencer import seal_backlog
    from opscenter.db import Database
    from opscenter.settings import Settings

    settings = Settings(database_url=url, audit_signing_key_file=env["OPSCENTER_AUDIT_SIGNING_KEY_FILE"])
    database = Database(settings)
    try:
        seal_backlog(database)
        key = checkpoints.signing_key(settings)
        assert key is not None
        checkpoints.sign_head(database, key)
    finally:
        database.dispose()
    done = subprocess.run(
        [opscenter, "audit", "verify"], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    said = (done.stdout.strip() or done.stderr.strip()).splitlines()
    return Held(
        "audit chain verifies against its signed checkpoint",
        done.returncode == 0 and "signed checkpoint" in done.stdout,
        said[-1] if said else f"exit {done.returncode}",
    )
