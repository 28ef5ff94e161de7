"""The `portal` command: schools, accounts, migrations, the demo, and serving."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner, Result
from flask import Flask
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from portal import create_app, migrate
from portal.auth.passwords import verify
from portal.cli import cli
from portal.config import PROJECT_DIR, Settings
from portal.logging import AnonymousRequestHandler
from portal.models import Base, Event, Pupil, Report, Role, School, Trust, TrustedAdult, User

STRONG = "correct horse battery staple"
PASSWORD_LINE = re.compile(r"password:\s+(\S+)")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # Flask's CLI sets FLASK_RUN_FROM_CLI; keep it (and portal settings) out of other tests.
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)
    monkeypatch.delenv("PORTAL_DATABASE_URL", raising=False)
    monkeypatch.delenv("PORTAL_TRACEBACK", raising=False)


def _settings(tmp_path: Path) -> Settings:
    return Settings(
        instance_dir=tmp_path / "instance",
        database_url=f"sqlite:///{tmp_path / 'cli.sqlite'}",
        secret_key="s" * 64,
        ratelimit_enabled=False,
    )


@pytest.fixture
def cli_app(tmp_path: Path) -> Iterator[Flask]:
    """The portal on an SQLite file migrated to head (migrations are what production runs)."""
    settings = _settings(tmp_path)
    migrate.upgrade(settings.database_url)
    application = create_app(settings)
    yield application
    application.extensions["portal.engine"].dispose()


@pytest.fixture
def run(cli_app: Flask) -> Any:
    runner = cli_app.test_cli_runner()

    def invoke(*args: str, input: str | None = None) -> Result:  # noqa: A002 - click's name
        return runner.invoke(cli, list(args), input=input)

    return invoke


@pytest.fixture
def db(cli_app: Flask) -> Iterator[Session]:
    session: Session = cli_app.extensions["portal.sessionmaker"]()
    yield session
    session.close()


def assert_clean_failure(result: Result, code: int = 1) -> str:
    """Failed with ``code``, a message, and no traceback."""
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.output


def test_create_school_then_user_from_stdin(run: Any, db: Session) -> None:
    result = run("create-school", "oakfield", "Oakfield Primary",
                 "--exit-url", "https://www.bbc.co.uk/bitesize")
    assert result.exit_code == 0, result.output
    assert "/s/oakfield/pupil" in result.output

    result = run("create-user", "DSL@Oakfield.Example", "--school", "oakfield", "--role", "dsl",
                 "--name", "Ms Jones", "--password-stdin", input=STRONG + "\n")
    assert result.exit_code == 0, result.output
    assert STRONG not in result.output

    user = db.scalar(select(User).where(User.email == "dsl@oakfield.example"))
    assert user is not None
    assert user.role is Role.DSL
    assert user.display_name == "Ms Jones"
    assert user.school is not None
    assert user.school.slug == "oakfield"
    assert user.school.exit_url == "https://www.bbc.co.uk/bitesize"
    assert user.trust_id is None
    assert verify(user.password_hash, STRONG)
    assert db.scalar(select(Event).where(Event.action == "user.created")) is not None


def test_create_user_with_prompted_password(run: Any, db: Session) -> None:
    run("create-school", "oakfield", "Oakfield Primary")
    result = run("create-user", "head@oakfield.example", "--school", "oakfield",
                 "--role", "admin", input=f"{STRONG}\n{STRONG}\n")
    assert result.exit_code == 0, result.output
    user = db.scalar(select(User).where(User.email == "head@oakfield.example"))
    assert user is not None
    assert user.role is Role.ADMIN
    assert verify(user.password_hash, STRONG)


def test_trust_lead_gets_a_trust_named_after_the_school(run: Any, db: Session) -> None:
    run("create-school", "oakfield", "Oakfield Primary")
    result = run("create-user", "lead@trust.example", "--school", "oakfield",
                 "--role", "trust_lead", "--password-stdin", input=STRONG + "\n")
    assert result.exit_code == 0, result.output
    user = db.scalar(select(User).where(User.email == "lead@trust.example"))
    school = db.scalar(select(School).where(School.slug == "oakfield"))
    assert user is not None
    assert school is not None
    assert user.trust_id is not None
    assert user.trust_id == school.trust_id
    trust = db.get(Trust, user.trust_id)
    assert trust is not None
    assert trust.name == "Oakfield Primary"

    # A second trust lead joins the same trust rather than making another.
    run("create-user", "lead2@trust.example", "--school", "oakfield", "--role", "trust_lead",
        "--password-stdin", input=STRONG + "\n")
    assert db.scalar(select(func.count()).select_from(Trust)) == 1


def test_create_user_makes_a_head_of_one_school(run: Any, db: Session) -> None:
    """A head teacher / SLT account belongs to its school, like a DSL, and to no trust."""
    run("create-school", "oakfield", "Oakfield Primary")
    result = run("create-user", "principal@oakfield.example", "--school", "oakfield",
                 "--role", "head", "--password-stdin", input=STRONG + "\n")
    assert result.exit_code == 0, result.output
    assert "(Head teacher / SLT) at Oakfield Primary" in result.output
    user = db.scalar(select(User).where(User.email == "principal@oakfield.example"))
    assert user is not None
    assert user.role is Role.HEAD
    assert user.school is not None
    assert user.school.slug == "oakfield"
    assert user.trust_id is None
    assert not user.reads_reports


@pytest.mark.parametrize(("password", "message"), [
    ("short pw", "at least 12 characters"),
    ("password1234", "too common"),
])
def test_weak_password_is_refused(run: Any, db: Session, password: str, message: str) -> None:
    run("create-school", "oakfield", "Oakfield Primary")
    result = run("create-user", "dsl@oakfield.example", "--school", "oakfield", "--role", "dsl",
                 "--password-stdin", input=password + "\n")
    output = assert_clean_failure(result)
    assert message in output
    assert db.scalar(select(func.count()).select_from(User)) == 0


def test_duplicate_email_is_refused(run: Any, db: Session) -> None:
    run("create-school", "oakfield", "Oakfield Primary")
    first = run("create-user", "dsl@oakfield.example", "--school", "oakfield", "--role", "dsl",
                "--password-stdin", input=STRONG + "\n")
    assert first.exit_code == 0, first.output
    again = run("create-user", "DSL@oakfield.example", "--school", "oakfield", "--role", "staff",
                "--password-stdin", input=STRONG + "\n")
    assert "already exists" in assert_clean_failure(again)
    assert db.scalar(select(func.count()).select_from(User)) == 1


def test_duplicate_school_is_refused_cleanly(run: Any, db: Session) -> None:
    assert run("create-school", "oakfield", "Oakfield Primary").exit_code == 0
    result = run("create-school", "oakfield", "Another Oakfield")
    assert "already exists" in assert_clean_failure(result)
    names = db.scalars(select(School.name)).all()
    assert names == ["Oakfield Primary"]


@pytest.mark.parametrize("slug", ["Oakfield", "-oak", "o", "oak field", "oak_field", "a" * 60])
def test_bad_slug_is_refused(run: Any, db: Session, slug: str) -> None:
    result = run("create-school", slug, "Oakfield Primary")
    assert_clean_failure(result, code=2)
    assert "SLUG" in result.output
    assert db.scalar(select(func.count()).select_from(School)) == 0


def test_unknown_school_and_bad_role_are_refused(run: Any) -> None:
    result = run("create-user", "x@school.example", "--school", "nowhere", "--role", "dsl",
                 "--password-stdin", input=STRONG + "\n")
    assert "no school with slug 'nowhere'" in assert_clean_failure(result)
    run("create-school", "oakfield", "Oakfield Primary")
    result = run("create-user", "x@school.example", "--school", "oakfield", "--role", "pupil",
                 "--password-stdin", input=STRONG + "\n")
    assert_clean_failure(result, code=2)


def test_db_upgrade_and_downgrade(tmp_path: Path) -> None:
    settings = Settings(instance_dir=tmp_path / "instance",
                        database_url=f"sqlite:///{tmp_path / 'fresh' / 'new.sqlite'}",
                        secret_key="s" * 64)
    application = create_app(settings)
    runner = application.test_cli_runner()
    engine = application.extensions["portal.engine"]
    try:
        # Before the database exists, or before it has tables: a hint, not a traceback.
        result = runner.invoke(cli, ["create-school", "oakfield", "Oakfield Primary"])
        assert "portal db upgrade" in assert_clean_failure(result)

        result = runner.invoke(cli, ["db", "upgrade"])
        assert result.exit_code == 0, result.output
        head = ScriptDirectory.from_config(migrate.alembic_config("sqlite://")).get_current_head()
        assert head in result.output
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
        assert runner.invoke(cli, ["db", "current"]).output.strip() == head

        result = runner.invoke(cli, ["db", "downgrade", "base"])
        assert result.exit_code == 0, result.output
        assert inspect(engine).get_table_names() == ["alembic_version"]

        result = runner.invoke(cli, ["create-school", "oakfield", "Oakfield Primary"])
        assert "no tables yet" in assert_clean_failure(result)
    finally:
        engine.dispose()


def _demo(runner: CliRunner, *args: str) -> tuple[Result, str]:
    result = runner.invoke(cli, ["demo", "--no-serve", *args])
    assert result.exit_code == 0, result.output
    assert "dsl@demo.school" in result.output
    match = PASSWORD_LINE.search(result.output)
    assert match, result.output
    return result, match.group(1)


def test_demo_runs_twice_and_always_prints_a_working_login(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = tmp_path / "instance"
    monkeypatch.setenv("PORTAL_INSTANCE_DIR", str(instance))
    runner = CliRunner()

    first, first_password = _demo(runner)
    assert "http://127.0.0.1:5000/" in first.output
    second, second_password = _demo(runner, "--port", "5123")
    assert "http://127.0.0.1:5123/staff/login" in second.output
    assert first_password != second_password

    database = instance / "portal.sqlite"
    assert database.exists()
    application = create_app(Settings.from_env())
    try:
        with application.app_context():
            session: Session = application.extensions["portal.sessionmaker"]()
            school = session.scalar(select(School).where(School.slug == "demo"))
            assert school is not None
            assert school.name == "Oakfield Primary School"
            adults = session.scalars(
                select(TrustedAdult).where(TrustedAdult.school_id == school.id)
            ).all()
            assert [a.name for a in adults] == ["Mrs Patel", "Mr Okafor", "Ms Reid"]
            assert "Head of Year" not in {a.description for a in adults}
            assert school.phase == "primary"
            user = session.scalar(select(User).where(User.email == "dsl@demo.school"))
            assert user is not None
            assert user.role is Role.DSL
            assert user.school_id == school.id
            assert verify(user.password_hash, second_password)
            assert not verify(user.password_hash, first_password)
            reports = session.scalars(select(Report).where(Report.school_id == school.id)).all()
            # Made once, not again on the second run: the queue's seven and a history for
            # the figures (portal.demo_history), from pupils, parents and staff.
            assert 7 + 180 <= len(reports) <= 7 + 220
            assert {r.source.value for r in reports} == {"pupil", "parent", "staff"}
            assert any(r.urgency >= 100 for r in reports)
            # Issue 3: a roster, a child in several reports, a decided case and an unread one.
            from portal.linking import pupils_in_several_reports
            from portal.vocabulary import Category, Status
            assert session.scalar(select(func.count()).select_from(Pupil)
                                  .where(Pupil.school_id == school.id)) == 30 + 180
            several = pupils_in_several_reports(session, school.id,
                                                min(r.created_at for r in reports))
            assert several
            assert several[0].reports >= 3
            assert any(r.category is Category.BULLYING_INCIDENT for r in reports)
            assert any(r.status is Status.CLOSED for r in reports)
            assert any(r.acknowledged_at is None for r in reports)
            session.close()
    finally:
        application.extensions["portal.engine"].dispose()


@pytest.fixture
def small_history(monkeypatch: pytest.MonkeyPatch) -> None:
    """A short demo history (portal.demo_history), for tests that are not about it: the
    full one takes the portal's rules half a minute (tests/app/test_demo.py checks it)."""
    from portal import demo_history
    monkeypatch.setattr(demo_history, "OAKFIELD", demo_history.Targets(8, 8, {}))
    monkeypatch.setattr(demo_history, "ELM", demo_history.Targets(4, 4, {}))


@pytest.mark.usefixtures("small_history")
def test_demo_school_is_a_primary_school_on_its_forms(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 12 item 16: the demo primary listed Years 7–13 and a "Head of Year"."""
    monkeypatch.setenv("PORTAL_INSTANCE_DIR", str(tmp_path / "instance"))
    _demo(CliRunner())
    application = create_app(Settings.from_env())
    try:
        client = application.test_client()
        parent = client.get("/s/demo/parent").get_data(as_text=True)
        select_list = re.search(r'<select[^>]*name="child_year".*?</select>', parent, re.S)
        assert select_list
        offered = set(re.findall(r'value="([^"]+)"', select_list.group(0)))
        assert {"Reception", "Year 1", "Year 6"} <= offered
        assert not offered & {f"Year {n}" for n in range(7, 14)}
        pupil = client.get("/s/demo/pupil").get_data(as_text=True)
        assert "Mrs Patel" in pupil
        assert "Head of Year" not in pupil
        primary = {"Reception", *(f"Year {n}" for n in range(1, 7))}
        with application.app_context():
            session: Session = application.extensions["portal.sessionmaker"]()
            years = {p.year_group for p in session.scalars(select(Pupil))}
            children = {r.child_year for r in session.scalars(select(Report)) if r.child_year}
            session.close()
        assert years
        assert years <= primary
        assert children
        assert children <= primary
    finally:
        application.extensions["portal.engine"].dispose()


@pytest.mark.usefixtures("small_history")
def test_demo_serves_without_logging_addresses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTAL_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.delenv("PORTAL_BASE_URL", raising=False)
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr("werkzeug.serving.run_simple",
                        lambda *args, **kwargs: calls.append((args, kwargs)))
    result = CliRunner().invoke(cli, ["demo", "--host", "127.0.0.1", "--port", "5999"])
    assert result.exit_code == 0, result.output
    (args, kwargs), = calls
    assert args[:2] == ("127.0.0.1", 5999)
    assert isinstance(args[2], Flask)
    # emails (invitations, alerts) link to where the demo serves, not to port 5000
    assert args[2].config["PORTAL_BASE_URL"] == "http://127.0.0.1:5999"
    assert kwargs["request_handler"] is AnonymousRequestHandler
    assert kwargs["threaded"] is True


def test_run_replaces_flasks_run(cli_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PORTAL_BASE_URL", raising=False)
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr("werkzeug.serving.run_simple",
                        lambda *args, **kwargs: calls.append((args, kwargs)))
    result = cli_app.test_cli_runner().invoke(cli, ["run", "--port", "5055"])
    assert result.exit_code == 0, result.output
    (args, kwargs), = calls
    assert args[:3] == ("127.0.0.1", 5055, cli_app)
    assert cli_app.config["PORTAL_BASE_URL"] == "http://127.0.0.1:5055"
    assert kwargs["request_handler"] is AnonymousRequestHandler
    assert kwargs["threaded"] is True


def _portal(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The real console entry point, in a child process (warnings are errors there too)."""
    return subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-W", "error", "-c", "from portal.cli import main; main()", *args],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120, check=False,
    )


def test_entry_point_in_a_fresh_process(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PORTAL_", "FLASK_"))}
    env["PORTAL_INSTANCE_DIR"] = str(tmp_path / "instance")

    not_yet = _portal("create-school", "oakfield", "Oakfield Primary", env=env)
    assert not_yet.returncode == 1
    assert "Traceback" not in not_yet.stderr
    assert len(not_yet.stderr.strip().splitlines()) == 1, not_yet.stderr

    for _ in range(2):
        demo = _portal("demo", "--no-serve", env=env)
        assert demo.returncode == 0, demo.stderr
        assert "dsl@demo.school" in demo.stdout
        assert PASSWORD_LINE.search(demo.stdout)

    dup = _portal("create-school", "demo", "Oakfield again", env=env)
    assert dup.returncode == 1
    assert dup.stderr.strip() == "Error: A school with slug 'demo' already exists; nothing changed."


def test_import_pupils_reports_bad_rows_imports_nothing_then_imports_a_good_file(
        tmp_path: Path) -> None:
    """`portal import-pupils`: per-row errors and no half-import; a re-run changes nothing."""
    settings = Settings(instance_dir=tmp_path / "instance",
                        database_url=f"sqlite:///{tmp_path / 'roster.sqlite'}",
                        secret_key="s" * 64)
    migrate.upgrade(settings.database_url)
    application = create_app(settings)
    runner = application.test_cli_runner()
    try:
        assert runner.invoke(cli, ["create-school", "oakfield", "Oakfield"]).exit_code == 0
        good = tmp_path / "good.csv"
        good.write_text("UPN,Surname,Forename,DOB,Year,Form,SEN\n"
                        "A1,Khan,Aisha,14/03/2015,Year 5,5B,N\n"
                        "B2,Lee,Sam,02/11/2014,Year 6,6R,E\n")
        bad = tmp_path / "bad.csv"
        bad.write_text(good.read_text() + "C3,,NoSurname,01/01/2015,Year 5,5B,N\n")
        result = runner.invoke(cli, ["import-pupils", "oakfield", str(bad)])
        assert result.exit_code == 1
        assert "line 4:" in result.output
        assert "nothing was imported" in result.output
        engine = application.extensions["portal.engine"]
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(Pupil)) == 0
        result = runner.invoke(cli, ["import-pupils", "oakfield", str(good)])
        assert result.exit_code == 0, result.output
        assert "2 added, 0 updated, 0 unchanged" in result.output
        result = runner.invoke(cli, ["import-pupils", "oakfield", str(good)])
        assert "0 added, 0 updated, 2 unchanged" in result.output
    finally:
        application.extensions["portal.engine"].dispose()
