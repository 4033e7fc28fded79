"""The ``opscenter`` command: serve, worker, database, bootstrap and audit commands."""

import getpass
import os
import signal
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click
import uvicorn
from sqlmodel import Session

from migrations import MIGRATIONS
from opscenter.audit import checkpoints, offline
from opscenter.audit import service as audit
from opscenter.audit.models import AuditCheckpointPublic
from opscenter.audit.sequencer import seal_backlog
from opscenter.auth import passwords
from opscenter.auth import service as auth
from opscenter.auth.models import ApiKeyCreate
from opscenter.db import Database
from opscenter.errors import DomainError
from opscenter.heap import freeze_startup_heap
from opscenter.identity.actor import Actor
from opscenter.identity.models import OrganizationCreate, OrgKind, Role, UserCreate
from opscenter.logs import configure_logging
from opscenter.organizations import service as organizations
from opscenter.plugin import CLI_COMMANDS
from opscenter.settings import Settings, get_settings
from opscenter.timekeeping import utcnow

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

# `audit verify` warns when an event has waited longer than this: the sequencer runs every second.
STALE_BACKLOG_SECONDS = 300


def cli_actor() -> Actor:
    return Actor.system(f"cli:{getpass.getuser()}", f"cli-{uuid.uuid4().hex}")


def _settings() -> Settings:
    settings = get_settings()
    configure_logging(settings)
    return settings


def _migrated_settings() -> Settings:
    """The settings, once the database they name is known to be at the migrations' head.

    Otherwise one line says what is wrong and how to fix it, instead of a traceback; and a SQLite file
    that does not exist is not created by asking.
    """
    settings = _settings()
    if (problem := MIGRATIONS.schema_problem(settings)) is not None:
        raise click.ClickException(problem)
    return settings


@contextmanager
def _transaction() -> Iterator[Session]:
    """One write transaction for a CLI command; a domain refusal becomes a clean CLI error, nothing written."""
    database = Database(_migrated_settings())
    try:
        with database.transaction(write=True) as session:
            yield session
    except DomainError as exc:
        raise click.ClickException(exc.detail) from exc
    finally:
        database.dispose()


# Every command gets the migrations as its context object: a domain's command checks the schema with them
# (opscenter.migrate.pass_migrations), as the commands here do.
@click.group(context_settings={"help_option_names": ["-h", "--help"], "obj": MIGRATIONS})
@click.option(
    "-v", "--verbose", is_flag=True, help="Log at DEBUG, and the libraries (httpx, Alembic, APScheduler) at INFO."
)
def main(verbose: bool) -> None:
    """OpsCenter: the back office of a government operations center.

    Settings come from OPSCENTER_* environment variables (OPSCENTER_DATABASE_URL, …); OPSCENTER_LOG_FORMAT=json
    logs one JSON object a line.
    """
    if verbose:
        # Through the environment: the settings read it, and so do the processes `serve --workers N` starts.
        os.environ["OPSCENTER_LOG_LEVEL"] = "DEBUG"
        os.environ["OPSCENTER_LOG_LIBRARIES"] = "INFO"
        get_settings.cache_clear()


@main.command()
@click.option("--host", default=None, help="Address to bind (default OPSCENTER_HOST, 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port to bind (default OPSCENTER_PORT, 8000).")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="API processes sharing the port; /metrics on any of them sums them all.",
)
@click.option("--no-scheduler", is_flag=True, help="Serve the API only; leave scheduled jobs to `opscenter worker`.")
def serve(host: str | None, port: int | None, workers: int, no_scheduler: bool) -> None:
    """Serve the HTTP API, and take part in running the scheduled jobs unless --no-scheduler.

    However many processes serve (and work), one at a time runs the jobs: they elect a leader through
    the database (README, "Production topology").
    """
    settings = _migrated_settings()
    bind = {
        "host": host or settings.host,
        "port": port or settings.port,
        "log_level": settings.log_level.value.lower(),
        "access_log": settings.access_log,
        # X-Forwarded-For is read by the app itself, from OPSCENTER_TRUSTED_PROXIES only (opscenter/middleware.py):
        # uvicorn's own reading would believe it from 127.0.0.1 and rewrite the peer address before we see it.
        "proxy_headers": False,
    }
    if workers == 1:
        from opscenter.app import create_app, frozen

        uvicorn.run(frozen(create_app(settings, run_scheduler=not no_scheduler)), **bind)  # type: ignore[arg-type]
        return
    from monitoring.multiprocess import shared_metrics_directory
    from opscenter.app import NO_SCHEDULER_VARIABLE

    os.environ[NO_SCHEDULER_VARIABLE] = "1" if no_scheduler else "0"
    with shared_metrics_directory():
        uvicorn.run(
            "opscenter.app:serve_app",
            factory=True,
            workers=workers,
            # uvicorn replaces a process that does not answer its supervisor within this time; 5 s (its default)
            # is shorter than a cold start on a busy host, which would then be killed and restarted forever.
            timeout_worker_healthcheck=30,
            **bind,  # type: ignore[arg-type]
        )


@main.command()
@click.option("--metrics-port", type=int, default=None, help="Expose the worker's /metrics on this port.")
def worker(metrics_port: int | None) -> None:
    """Run the scheduled jobs alone (no API). Run two: they elect a leader through the database, the other
    stands by and takes over within a minute if the leader dies (README, "Production topology")."""
    from prometheus_client import start_http_server

    from monitoring.figures import PROCESS_FIGURES
    from opscenter.plugin import PROCESS_FIGURE_SOURCES, leader_scheduler

    settings = _migrated_settings()
    if metrics_port:
        start_http_server(metrics_port, addr=settings.host)
    db = Database(settings)
    scheduler = leader_scheduler(db, settings)
    freeze_startup_heap()
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, lambda *_: scheduler.stop())
    jobs = ", ".join(job.id for job in scheduler.jobs)
    click.echo(f"worker {os.getpid()}: {len(scheduler.jobs)} jobs ({jobs}); waiting to lead", err=True)
    try:
        PROCESS_FIGURES.use(PROCESS_FIGURE_SOURCES)
        with PROCESS_FIGURES.watching(db):
            scheduler.run()
    finally:
        db.dispose()


@main.group()
def db() -> None:
    """The database schema (Alembic migrations)."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database to REVISION (default: the latest)."""
    settings = _settings()
    MIGRATIONS.upgrade(settings, revision)
    click.echo(f"database at {revision}", err=True)


@db.command("backup")
@click.argument("file", type=click.Path(dir_okay=False))
def db_backup(file: str) -> None:
    """Copy the SQLite database to FILE while it serves (SQLite's online backup). On PostgreSQL, use pg_dump."""
    from opscenter.backup import NotSQLite, backup_sqlite

    settings = _settings()
    try:
        pages = backup_sqlite(settings.database_url, Path(file))
    except NotSQLite as exc:
        raise click.ClickException(
            "the database is PostgreSQL: back it up with its own tools, e.g. "
            '`pg_dump --format=custom --file=opscenter.dump "$DATABASE"` and restore with '
            "`pg_restore --dbname=… opscenter.dump` (README, Backup and restore)"
        ) from exc
    except FileExistsError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"backed up {pages} pages to {file}", err=True)


@db.command("revision")
@click.option("-m", "--message", required=True, help="What the migration does.")
def db_revision(message: str) -> None:
    """For developers: write a new migration from the difference between the models and the database."""
    written = MIGRATIONS.revision(_settings(), message)
    click.echo(f"wrote {written}", err=True)


@main.group()
def users() -> None:
    """People and their organizations."""


@users.command("create")
@click.option("--org", "org_name", required=True, help="Organization name; created when missing.")
@click.option("--org-kind", type=click.Choice([k.value for k in OrgKind]), required=True)
@click.option("--name", "user_name", required=True, help="Login name, e.g. zhang.wei")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--display-name", default="", help="Name shown to people, e.g. 张伟")
def users_create(org_name: str, org_kind: str, user_name: str, role: str, display_name: str) -> None:
    """Create a user (and its organization when missing). Running it again changes nothing."""
    actor = cli_actor()
    with _transaction() as session:
        organization = organizations.find_organization(session, org_name)
        if organization is None:
            organization = organizations.create_organization(
                session, OrganizationCreate(name=org_name, kind=OrgKind(org_kind)), actor=actor
            )
        elif organization.kind != org_kind:
            raise click.ClickException(f"organization {org_name!r} exists and is a {organization.kind.value}")
        existing = organizations.find_user(session, user_name)
        if existing is not None:
            if existing.organization_id != organization.id or existing.role != role:
                raise click.ClickException(f"user {user_name!r} exists with another organization or role")
            click.echo(f"user {user_name} already exists ({existing.id})", err=True)
            return
        data = UserCreate(name=user_name, display_name=display_name, role=Role(role), organization_id=organization.id)
        user = organizations.create_user(session, data, actor=actor)
        click.echo(f"created user {user.name} ({user.id}) in {organization.name}", err=True)


@users.command("set-password")
@click.option("--name", "user_name", required=True, help="Login name of the person.")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="The new password (asked for when not given; prefer the prompt: a command line is visible to others).",
)
@click.option(
    "--keep/--must-change",
    default=False,
    help="Whether the person may keep it (default: they must choose their own at the next login).",
)
def users_set_password(user_name: str, password: str, keep: bool) -> None:
    """Set a person's console password (12+ characters, three of four kinds, not the login name)."""
    actor = cli_actor()
    with _transaction() as session:
        user = organizations.find_user(session, user_name)
        if user is None:
            raise click.ClickException(f"no user named {user_name!r}")
        passwords.set_password(session, user, password, actor=actor, must_change=not keep)
    when = "" if keep else "; they choose their own at the next login"
    click.echo(f"password set for {user_name}{when}", err=True)


@main.group()
def keys() -> None:
    """API keys."""


@keys.command("create")
@click.option("--user", "user_name", required=True, help="Login name of the key's owner.")
@click.option("--name", "key_name", default="created on the command line", help="What the key is for.")
@click.option("--expires-in-days", type=click.IntRange(min=1), default=None)
def keys_create(user_name: str, key_name: str, expires_in_days: int | None) -> None:
    """Issue an API key and print it, once, on its own line. It cannot be shown again."""
    actor = cli_actor()
    with _transaction() as session:
        user = organizations.find_user(session, user_name)
        if user is None:
            raise click.ClickException(f"no user named {user_name!r}")
        expires_at = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
        data = ApiKeyCreate(name=key_name, user_id=user.id, expires_at=expires_at)
        api_key, plaintext = auth.create_api_key(session, data, actor=actor)
    click.echo(f"key {api_key.prefix}… for {user_name}; store it now, it is not shown again:", err=True)
    click.echo(plaintext)


@main.group("audit")
def audit_group() -> None:
    """The audit trail."""


@audit_group.command("verify")
@click.option(
    "--export",
    "export_file",
    type=click.Path(exists=True, dir_okay=False),
    help="An audit export (JSON lines): check it offline, with no database.",
)
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(exists=True, dir_okay=False),
    help="A checkpoint as the API serves it (JSON).",
)
@click.option(
    "--public-key",
    "public_key_file",
    type=click.Path(exists=True, dir_okay=False),
    help="The Ed25519 public key (PEM) the checkpoints are signed with.",
)
def audit_verify(export_file: str | None, checkpoint_file: str | None, public_key_file: str | None) -> None:
    """Check the sealed hash chain, and it against its newest signed checkpoint; report the unsealed backlog; exit 1
    naming every edited or deleted event.

    With --export, --checkpoint and --public-key: check an export offline instead, needing no database.
    """
    if export_file is not None:
        if checkpoint_file is None or public_key_file is None:
            raise click.UsageError("--export needs --checkpoint and --public-key")
        _verify_export(Path(export_file), Path(checkpoint_file), Path(public_key_file))
        return
    settings = _migrated_settings()
    database = Database(settings)
    try:
        report = audit.verify_chain(database)
        public_key = _public_key(settings, public_key_file)
        against = None if public_key is None else checkpoints.check_against_newest(database, public_key)
    finally:
        database.dispose()
    backlog = f"{report.unsealed} waiting to be sealed"
    if report.oldest_unsealed_at is not None:
        waited = (utcnow() - report.oldest_unsealed_at).total_seconds()
        backlog += f" (oldest {waited:.0f} s ago)"
        if waited > STALE_BACKLOG_SECONDS:
            click.echo(
                f"warning: the oldest unsealed event has waited {waited:.0f} s; is audit.seal running?", err=True
            )
    problems = list(report.problems)
    if against is None:
        click.echo(
            "warning: no signing or public key configured: the chain is not checked against a checkpoint", err=True
        )
    else:
        problems += against.problems
    if not problems:
        signed = (
            ""
            if against is None or against.checkpoint is None
            else f"; signed checkpoint at event {against.checkpoint.seq} holds"
        )
        click.echo(f"audit trail intact: {report.checked} events verified{signed}; {backlog}")
        return
    for problem in problems:
        click.echo(f"TAMPERED: {problem}", err=True)
    click.echo(f"audit trail broken: {len(problems)} problem(s) in {report.checked} events; {backlog}", err=True)
    sys.exit(1)


def _public_key(settings: Settings, public_key_file: str | None) -> "Ed25519PublicKey | None":
    if public_key_file is not None:
        return checkpoints.load_public_key(Path(public_key_file).read_bytes())
    try:
        key = checkpoints.signing_key(settings)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    return None if key is None else key.public_key()


def _verify_export(export_file: Path, checkpoint_file: Path, public_key_file: Path) -> None:
    try:
        with export_file.open(encoding="utf-8") as lines:
            checked, problems = offline.verify_export(
                lines, checkpoint_file.read_text(encoding="utf-8"), public_key_file.read_bytes()
            )
    except (ValueError, KeyError) as exc:
        raise click.ClickException(f"cannot read the export, checkpoint or key: {exc}") from exc
    if not problems:
        click.echo(f"audit export intact: {checked} events verified against the signed checkpoint")
        return
    for problem in problems:
        click.echo(f"TAMPERED: {problem}", err=True)
    click.echo(f"audit export broken: {len(problems)} problem(s) in {checked} events", err=True)
    sys.exit(1)


@audit_group.command("keygen")
@click.option(
    "--private",
    "private_file",
    type=click.Path(dir_okay=False),
    required=True,
    help="Where the signing key goes (kept off the database's hosts' backups; mode 0600).",
)
@click.option(
    "--public",
    "public_file",
    type=click.Path(dir_okay=False),
    required=True,
    help="Where the public key goes (give it to auditors).",
)
def audit_keygen(private_file: str, public_file: str) -> None:
    """Make an Ed25519 key pair for the audit checkpoints; point OPSCENTER_AUDIT_SIGNING_KEY_FILE at the private one."""
    private_pem, public_pem = checkpoints.generate_key_pair()
    private_path = Path(private_file)
    if private_path.exists():
        raise click.ClickException(f"{private_file} exists; not overwritten")
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(private_pem)
    Path(public_file).write_bytes(public_pem)
    click.echo(f"wrote {private_file} (private, 0600) and {public_file} (public)", err=True)


@audit_group.command("export")
@click.argument("file", type=click.Path(dir_okay=False))
def audit_export(file: str) -> None:
    """Write every sealed audit event to FILE as JSON lines, in chain order, for `audit verify --export`."""
    database = Database(_migrated_settings())
    try:
        with Path(file).open("w", encoding="utf-8") as out:
            written = offline.export(database, out)
    finally:
        database.dispose()
    click.echo(f"exported {written} sealed audit events to {file}", err=True)


@audit_group.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign the audit chain's head now (the audit.checkpoint job does it hourly) and print the checkpoint as JSON."""
    settings = _migrated_settings()
    try:
        key = checkpoints.signing_key(settings)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    if key is None:
        raise click.ClickException("no signing key: set OPSCENTER_AUDIT_SIGNING_KEY_FILE (opscenter audit keygen)")
    database = Database(settings)
    try:
        signed = checkpoints.sign_head(database, key)
    finally:
        database.dispose()
    if signed is None:
        raise click.ClickException("nothing is sealed yet: no checkpoint to sign")
    click.echo(AuditCheckpointPublic.model_validate(signed).model_dump_json())


@audit_group.command("seal")
def audit_seal() -> None:
    """Seal every committed audit event now (the audit.seal job does it every second). Safe beside the job."""
    database = Database(_settings())
    try:
        sealed = seal_backlog(database)
    finally:
        database.dispose()
    click.echo(f"sealed {sealed} audit events")


for command in CLI_COMMANDS:
    main.add_command(command)


if __name__ == "__main__":
    main()
