"""The ``portal`` command: Flask's CLI with the portal's app preset, plus its own commands.

    portal db upgrade [REVISION]          migrate the configured database (default: head)
    portal db downgrade REVISION          migrate it back (``base``: no tables)
    portal create-school SLUG NAME        add a school
    portal create-user EMAIL --school SLUG --role ROLE [--password-stdin]
    portal demo [--host] [--port] [--no-serve]
    portal seed SLUG --reports N [--pupils P] [--seed S]   synthetic reports (demos, benchmarks)
    portal figures-rebuild [SLUG]          count the figures' day counts again
    portal run [--host] [--port]          serve, never logging client addresses
    portal checklists-sync                open cases gain steps added to the checklists

Errors are printed as one line (``Error: ...``) with exit code 1, never a traceback; set
``PORTAL_TRACEBACK=1`` to see the traceback of an unexpected error.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, ScriptInfo, pass_script_info
from sqlalchemy import Connection, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from . import accounts, create_app, exits, migrate, priority
from .config import Settings
from .db import refresh_statistics, session_scope
from .models import Report, Role, User

SLUG = re.compile(r"[a-z0-9][a-z0-9-]{1,58}")
EMAIL = accounts.EMAIL_ADDRESS

DEMO_SLUG = "demo"
DEMO_NAME = "Oakfield Primary School"
DEMO_DSL_EMAIL = "dsl@demo.school"
DEMO_TRUST_EMAIL = "trust@demo.school"
DEMO_ADULTS = (
    ("Mrs Patel", "Class 4 teacher"),
    ("Mr Okafor", "Learning mentor"),
    ("Ms Reid", "Head teacher"),
)
DEMO_TRUST = "Demo Learning Trust"
DEMO_ELM = accounts.DemoSchool("demo-elm", "Elm Park Primary", (
    ("Mr Dunn", "Class 5 teacher"), ("Mrs Achebe", "Head teacher")))
DEMO_SCHOOLS = (accounts.DemoSchool(DEMO_SLUG, DEMO_NAME, DEMO_ADULTS), DEMO_ELM)
# Every demo login, printed in this order (the DSL's first). One line per account.
DEMO_ACCOUNTS = (
    accounts.DemoAccount(DEMO_DSL_EMAIL, Role.DSL, "Demo DSL", DEMO_SLUG),
    accounts.DemoAccount(DEMO_TRUST_EMAIL, Role.TRUST_LEAD, "Demo trust lead", DEMO_SLUG),
    accounts.DemoAccount("head@demo.school", Role.HEAD, "Ms Reid (head teacher)", DEMO_SLUG),
    accounts.DemoAccount("dsl@elm.demo.school", Role.DSL, "Elm Park DSL", DEMO_ELM.slug),
)


def _one_line(exc: BaseException) -> str:
    """A single readable line for an unexpected error."""
    original = getattr(exc, "orig", None) if isinstance(exc, SQLAlchemyError) else None
    text = str(original if original is not None else exc).strip()
    line = text.splitlines()[0].strip() if text else type(exc).__name__
    lowered = line.lower()
    if "no such table" in lowered or ("relation" in lowered and "does not exist" in lowered):
        return f"{line} (the database has no tables yet: run `portal db upgrade` first)"
    if "unable to open database file" in lowered:
        return f"{line} (run `portal db upgrade` to create the database)"
    if isinstance(exc, SQLAlchemyError) and not isinstance(exc, IntegrityError):
        return f"database error: {line}"
    return line


class PortalGroup(FlaskGroup):
    """Flask's group, turning any unexpected exception into a one-line error."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            if os.environ.get("PORTAL_TRACEBACK"):
                raise
            raise click.ClickException(_one_line(exc)) from exc


def _create_app() -> Flask:
    return create_app()


cli = PortalGroup(
    name="portal",
    create_app=_create_app,
    load_dotenv=False,
    help="Tell Us: a reporting portal for schools.",
)
# Flask's own `run` logs every client address; ours (below) never does.
cli.commands.pop("run", None)


def _settings() -> Settings:
    settings: Settings = current_app.config["PORTAL_SETTINGS"]
    return settings


def _safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


# --- portal db ---------------------------------------------------------------------------


@cli.group("db")
def db_group() -> None:
    """Database migrations (Alembic)."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the configured database up to REVISION (default: head)."""
    url = _settings().database_url
    migrate.upgrade(url, revision)
    click.echo(f"Database {_safe_url(url)} is at revision {migrate.current(url) or 'base'}.")


@db_group.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate the configured database down to REVISION (`base` removes every table)."""
    url = _settings().database_url
    migrate.downgrade(url, revision)
    click.echo(f"Database {_safe_url(url)} is at revision {migrate.current(url) or 'base'}.")


@db_group.command("current")
def db_current() -> None:
    """Print the revision the configured database is at."""
    click.echo(migrate.current(_settings().database_url) or "base")


# --- schools and accounts ------------------------------------------------------------------


def _check_slug(slug: str) -> str:
    if not SLUG.fullmatch(slug):
        raise click.BadParameter(
            "use 2 to 59 lower-case letters, digits and hyphens, starting with a letter or digit",
            param_hint="SLUG",
        )
    return slug


def _check_exit_url(url: str) -> str:
    """Only the fixed neutral destinations (portal.exits): none can log a reporter."""
    if exits.destination(url) != url:
        raise click.BadParameter("choose one of: " + ", ".join(exits.choices()),
                                 param_hint="--exit-url")
    return url


def _fails(error: accounts.AccountError) -> click.ClickException:
    """A named error of a rule, as the command's one-line ``Error: ...``."""
    return click.ClickException(str(error))


@cli.command("create-school")
@click.argument("slug")
@click.argument("name")
@click.option("--exit-url", help="Where the quick-exit button goes: one of portal.exits "
              "(default: BBC Weather).")
def create_school_command(slug: str, name: str, exit_url: str | None) -> None:
    """Add a school. SLUG appears in its form addresses: /s/SLUG/pupil."""
    _check_slug(slug)
    name = name.strip()
    if not name or len(name) > 200:
        raise click.BadParameter("give the school's name (at most 200 characters)",
                                 param_hint="NAME")
    if exit_url is not None:
        _check_exit_url(exit_url)
    try:
        with session_scope(current_app) as session:
            school = accounts.add_school(session, slug, name, exit_url)
    except accounts.AccountError as error:
        raise _fails(error) from error
    click.echo(f"Added {school.name} ({school.slug}): pupils report at /s/{school.slug}/pupil")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise click.ClickException("No password on standard input.")
        return line
    password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@cli.command("create-user")
@click.argument("email")
@click.option("--school", "slug", required=True, help="The school's slug.")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]),
              help="dsl and deputy_dsl read reports; head sees the school's figures and "
              "the notices to the Principal; trust_lead sees trust-wide figures.")
@click.option("--name", default="", help="The name colleagues know them by.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user_command(email: str, slug: str, role: str, name: str,
                        password_stdin: bool) -> None:
    """Add a staff account. The password is asked for (twice) unless --password-stdin."""
    email = email.strip().lower()
    if not EMAIL.fullmatch(email) or len(email) > 254:
        raise click.BadParameter("give an email address such as name@school.example",
                                 param_hint="EMAIL")
    name = name.strip()
    if len(name) > 120:
        raise click.BadParameter("at most 120 characters", param_hint="--name")
    try:
        with session_scope(current_app) as session:  # refuse before asking for a password
            accounts.find_school(session, slug)
            accounts.check_new_email(session, email)
    except accounts.AccountError as error:
        raise _fails(error) from error
    password = _read_password(password_stdin)
    try:
        with session_scope(current_app) as session:
            school = accounts.find_school(session, slug)
            user = accounts.add_user(session, email=email, school=school, role=Role(role),
                                     password=password, name=name)
            label = user.role.label
    except accounts.AccountError as error:
        raise _fails(error) from error
    except IntegrityError as exc:
        raise click.ClickException(f"An account for {email} already exists; nothing changed.") \
            from exc
    click.echo(f"Added {email} ({label}) at {school.name}.")


@cli.command("reset-2fa")
@click.argument("email")
def reset_2fa_command(email: str) -> None:
    """Forget an account's authenticator (lost phone): they set it up again at sign-in."""
    try:
        with session_scope(current_app) as session:
            user = accounts.find_user(session, email)
            ended = accounts.reset_two_factor(session, user)
    except accounts.AccountError as error:
        raise _fails(error) from error
    click.echo(f"Two-step sign-in reset for {user.email}; {ended} session(s) ended. They will "
               "set up their authenticator at their next sign-in.")


@cli.command("unlock-user")
@click.argument("email")
def unlock_user_command(email: str) -> None:
    """Lift the sign-in throttle on an account (after too many wrong passwords)."""
    try:
        with session_scope(current_app) as session:
            user = accounts.find_user(session, email)
            accounts.unlock(session, user)
    except accounts.AccountError as error:
        raise _fails(error) from error
    click.echo(f"{user.email} can sign in again now.")


@cli.command("purge")
@click.option("--apply", "apply_", is_flag=True, help="Delete. Without it, only list.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Judge retention as on this day (to check what a future run will do).")
def purge_command(apply_: bool, as_of: Any) -> None:
    """Delete records past their retention date (dry run unless --apply); held ones stay."""
    from .retention import purge, review, today_utc

    today = as_of.date() if as_of else today_utc()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with session_scope(app) as session:
        due = review(session, today)
        for item in due:
            click.echo(f"report {item.report_id} ({item.retention_class}): keep until "
                       f"{item.keep_until}")
        if not apply_:
            click.echo(f"{len(due)} report(s) are past their retention date. Nothing deleted "
                       "(dry run); run with --apply to delete them.")
            return
        removed = purge(session, due, app.config["PORTAL_EVIDENCE_DIR"],
                        priority.word_dirs(app.instance_path))
    with app.extensions["portal.engine"].begin() as conn:
        refresh_statistics(conn)  # the nightly job keeps SQLite's planner statistics fresh
    click.echo(f"{removed} report(s) deleted; a stub of each is kept in the audit trail.")


@cli.command("checklists-sync")
def checklists_sync_command() -> None:
    """Bring every open case's checklists up to the current policy (after a step was added
    to portal/checklists.py): open cases gain the new steps; closed cases are left alone."""
    from .checklists import sync_open

    with session_scope(current_app) as session:
        changed = sync_open(session)
    click.echo(f"{changed} open case(s) brought up to the current checklists.")


@cli.command("rotate-key")
def rotate_key_command() -> None:
    """Re-encrypt everything (text and evidence files) under a new data key."""
    from .rotation import RotationError, rotate

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    settings: Settings = app.config["PORTAL_SETTINGS"]
    try:
        rows, files = rotate(app, settings.instance_dir, env_key=settings.data_key)
    except RotationError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Re-encrypted {rows} value(s) and {files} evidence file(s) under a new key.")


# --- backups (portal.backup) -------------------------------------------------------------


@cli.command("backup-key", with_appcontext=False)
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup_key_command(path: Path) -> None:
    """Make a new backup key in PATH: keep it away from the backups and the server."""
    from .backup import BackupError, new_key

    try:
        new_key(path)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Backup key written to {path}. Keep a copy somewhere safe and apart from "
               "the backups: without it no backup can be restored, and with it anyone "
               "holding a backup can read every report.")


@cli.command("backup")
@click.argument("destination", type=click.Path(file_okay=False, path_type=Path))
@click.option("--key-file", "key_file", required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="The backup key (from `portal backup-key`).")
def backup_command(destination: Path, key_file: Path) -> None:
    """Write one encrypted archive of the database, the evidence files and the keys into
    the folder DESTINATION, while the portal keeps running."""
    from .backup import BackupError, backup

    settings = _settings()
    try:
        made = backup(settings.database_url, settings.instance_dir, destination, key_file)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    counts = ", ".join(f"{n} {name}" for name, n in made.counts.items())
    click.echo(f"Backup written: {made.path} ({counts}; {made.files} evidence file(s)).")


@cli.command("restore", with_appcontext=False)
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key-file", "key_file", required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="The backup key the archive was made with.")
def restore_command(archive: Path, key_file: Path) -> None:
    """Bring ARCHIVE back into an empty instance (PORTAL_INSTANCE_DIR, PORTAL_DATABASE_URL):
    every file is checked against the archive's manifest before anything is put in place."""
    from .backup import BackupError, restore
    from .config import PROJECT_DIR

    # Not Settings.from_env(): it would make a new secret and data key in the instance,
    # which must stay empty for the keys in the archive.
    instance_dir = Path(os.environ.get("PORTAL_INSTANCE_DIR") or PROJECT_DIR / "instance") \
        .resolve()
    database_url = (os.environ.get("PORTAL_DATABASE_URL")
                    or f"sqlite:///{instance_dir / 'portal.sqlite'}")
    try:
        done = restore(archive, key_file, database_url, instance_dir)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    counts = ", ".join(f"{n} {name}" for name, n in done.counts.items())
    click.echo(f"Restored the backup taken {done.taken_at} into {instance_dir} ({counts}; "
               f"{done.files} evidence file(s)). Run `portal db upgrade` if this version is "
               "newer than the backup's.")


@contextlib.contextmanager
def _one_school_or_all(slug: str | None) -> Iterator[tuple[Connection, int | None]]:
    """A transaction for rebuilding what is derived from the reports, and the school SLUG
    names (None: every school); an unknown slug is a one-line error."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    school_id = None
    if slug is not None:
        with session_scope(current_app) as session:
            try:
                school_id = accounts.find_school(session, slug).id
            except accounts.AccountError as error:
                raise _fails(error) from error
    with app.extensions["portal.engine"].begin() as connection:
        yield connection, school_id


@cli.command("search-reindex")
@click.argument("slug", required=False)
def search_reindex_command(slug: str | None) -> None:
    """Build the search index again for one school (SLUG) or for all (portal.search)."""
    from . import search

    with _one_school_or_all(slug) as (connection, school_id):
        indexed = search.rebuild(connection, school_id)
    click.echo(f"Indexed the words of {indexed} report(s).")


@cli.command("figures-rebuild")
@click.argument("slug", required=False)
def figures_rebuild_command(slug: str | None) -> None:
    """Count the figures' day counts again from the reports, for one school (SLUG) or all
    (portal.figures.rollup: the portal keeps them in step by itself; this is for after a
    restore or a bulk change made outside the portal)."""
    from .figures import rollup

    with _one_school_or_all(slug) as (connection, school_id):
        days = rollup.rebuild(connection, school_id)
    click.echo(f"Counted {days} school day(s) of reports.")


@cli.command("import-pupils")
@click.argument("slug")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_pupils_command(slug: str, csv_file: Path) -> None:
    """Import or update the roster from a school MIS export (CSV). All rows or none."""
    if csv_file.stat().st_size > 20 * 1024 * 1024:
        raise click.ClickException("The file is larger than 20 MB; is it the right export?")
    try:
        with session_scope(current_app) as session:
            school = accounts.find_school(session, slug)
            result = accounts.import_pupils(session, school, csv_file.read_bytes())
    except accounts.RosterRefused as error:
        for row in error.result.errors if error.result else []:
            click.echo(f"line {row.line}: {row.message}", err=True)
        raise _fails(error) from error
    except accounts.AccountError as error:
        raise _fails(error) from error
    contacts = "" if result.contacts is None else \
        f" {result.contacts} parent or carer contact(s) stored."
    click.echo(f"{school.name}: {result.added} added, {result.updated} updated, "
               f"{result.unchanged} unchanged.{contacts}")


@cli.group("outbox")
def outbox_group() -> None:
    """Outgoing email: `portal outbox send` delivers what is due (cron, or --watch)."""


@outbox_group.command("send")
@click.option("--watch", is_flag=True, help="Keep going: check again every --interval seconds.")
@click.option("--interval", default=30, show_default=True, type=click.IntRange(1, 3600))
@click.option("--rounds", default=0, hidden=True, type=click.IntRange(0),
              help="Stop after this many rounds (tests); 0 means until stopped.")
def outbox_send_command(watch: bool, interval: int, rounds: int) -> None:
    """Queue due digests, then deliver due email with retries and back-off."""
    import time

    from .notifications import deliver, due_digests

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    smtp = app.config.get("PORTAL_SMTP")
    if smtp is None:
        raise click.ClickException("PORTAL_SMTP_URL is not set, so no email can be sent.")
    done = 0
    while True:
        with session_scope(app) as session:
            digests = due_digests(session, app.config["PORTAL_BASE_URL"])
        session = app.extensions["portal.sessionmaker"]()
        try:
            sent, failed = deliver(session, smtp)
        finally:
            session.close()
        if sent or failed or digests or not watch:
            click.echo(f"{digests} digest(s) queued; {sent} sent, {failed} to retry later.")
        done += 1
        if not watch or (rounds and done >= rounds):
            return
        try:
            time.sleep(interval)
        except KeyboardInterrupt:
            return


@cli.command("seed")
@click.argument("slug")
@click.option("--reports", "count", required=True, type=click.IntRange(1, 10_000_000),
              help="How many synthetic reports to add.")
@click.option("--pupils", type=click.IntRange(1, 100_000), default=None,
              help="Roster size to invent when the school has no pupils (default: 1,000, "
                   "or one per ten reports up to 2,000).")
@click.option("--seed", "random_seed", type=int, default=None,
              help="Repeatable randomness (the rows differ between runs without it).")
def seed_command(slug: str, count: int, pupils: int | None, random_seed: int | None) -> None:
    """Add N realistic synthetic reports to the school SLUG (for demos and benchmarks).

    Bulk inserts in one transaction: 100,000 reports take well under a minute. Nothing is
    added unless all of it is.
    """
    import time

    from .seed import SeedError, seed_reports

    started = time.perf_counter()
    engine = current_app.extensions["portal.engine"]
    try:
        with engine.begin() as conn:
            result = seed_reports(conn, slug, count, pupils=pupils, seed=random_seed)
    except SeedError as exc:
        raise click.ClickException(str(exc)) from exc
    roster = f", {result.pupils_created} pupils on a new roster" if result.pupils_created else ""
    click.echo(f"Added {result.reports} reports to {slug} ({result.links} pupil links, "
               f"{result.events} chronology events{roster}) in "
               f"{time.perf_counter() - started:.1f} s.")


# --- serving -----------------------------------------------------------------------------


def _display_host(host: str) -> str:
    if host in {"", "0.0.0.0", "::"}:  # noqa: S104 - only choosing what to print
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def serve(app: Flask, host: str, port: int) -> None:
    """Serve ``app`` with Werkzeug, logging requests without the client's address."""
    from werkzeug.serving import run_simple

    from .logging import AnonymousRequestHandler

    run_simple(host, port, app, request_handler=AnonymousRequestHandler, threaded=True)


@cli.command("run", with_appcontext=False)
@click.option("--host", "-h", default="127.0.0.1", show_default=True)
@click.option("--port", "-p", default=5000, show_default=True, type=click.IntRange(0, 65535))
@pass_script_info
def run_command(info: ScriptInfo, host: str, port: int) -> None:
    """Serve the portal (development server; use gunicorn in production)."""
    app = info.load_app()
    if not os.environ.get("PORTAL_BASE_URL"):  # emails link to where it serves
        app.config["PORTAL_BASE_URL"] = f"http://{_display_host(host)}:{port}"
    serve(app, host, port)


# --- demo --------------------------------------------------------------------------------


def demo_settings() -> Settings:
    """The environment's settings, but always the SQLite file in the instance directory."""
    settings = Settings.from_env()
    url = f"sqlite:///{settings.instance_dir / 'portal.sqlite'}"
    return dataclasses.replace(settings, database_url=url)


def new_password() -> str:
    """A strong password that is easy to copy: five groups of four letters and digits."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(5))


def prepare_demo(app: Flask) -> dict[str, str]:
    """Create (or refresh) the demo trust, its two schools and the demo accounts; return
    each account's email and fresh password, the DSL's first."""
    base_url = app.config["PORTAL_BASE_URL"]
    with session_scope(app) as session:
        schools = [accounts.prepare_demo_school(session, demo) for demo in DEMO_SCHOOLS]
        accounts.prepare_demo_trust(session, DEMO_TRUST, schools)
        passwords = accounts.prepare_demo_accounts(session, DEMO_ACCOUNTS, new_password)
        from .demo import seed, seed_elm

        for school, fill in zip(schools, (seed, seed_elm), strict=True):
            if session.scalar(select(Report.id).where(Report.school_id == school.id)
                              .limit(1)) is None:
                dsl = session.scalars(select(User).where(User.school_id == school.id,
                                                         User.role == Role.DSL)).one()
                fill(session, school, dsl, base_url=base_url)
    return passwords


@cli.command("demo", with_appcontext=False)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--no-serve", is_flag=True, help="Set everything up, print the login, and stop.")
def demo_command(host: str, port: int, no_serve: bool) -> None:
    """Try the portal: SQLite in instance/, a demo trust of two schools and its logins, then
    serve."""
    settings = demo_settings()
    base = f"http://{_display_host(host)}:{port}"
    if not os.environ.get("PORTAL_BASE_URL"):  # emails link to where this demo serves
        settings = dataclasses.replace(settings, base_url=base)
    migrate.upgrade(settings.database_url)
    app = create_app(settings)
    passwords = prepare_demo(app)
    click.echo("")
    click.echo(f"Tell Us demo: {DEMO_NAME} and {DEMO_ELM.name}, in {DEMO_TRUST} "
               f"({settings.instance_dir / 'portal.sqlite'})")
    click.echo(f"  Pupils and parents:  {base}/")
    click.echo(f"  Staff sign-in:       {base}/staff/login")
    for account in DEMO_ACCOUNTS:
        click.echo(f"    {account.role.label} ({account.name}):")
        click.echo(f"      email:     {account.email}")
        click.echo(f"      password:  {passwords[account.email]}")
    click.echo("  (a new password is made each time `portal demo` runs; "
               "at first sign-in you set up")
    click.echo("   an authenticator app, e.g. on your phone: two-step sign-in is required)")
    click.echo("")
    if not no_serve:
        serve(app, host, port)


def main() -> None:
    """The ``portal`` console script."""
    cli.main(prog_name="portal")


if __name__ == "__main__":
    main()
