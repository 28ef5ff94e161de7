"""The figures page (issue 15): ``/staff/figures`` for this term (the default) and for a
whole school year, its CSV, and a trust lead's view, at a given number of reports made by
``portal.seed``.

Measured as bench/pages.py measures the staff pages: in-process through Flask's test
client (the whole request: session check, the figures' queries, tables, charts, template),
signed in as the DSL (and, for the trust view, as the lead of a trust holding the bench
school), sequentially, after warm-up, the pages interleaved; rate limits off. The SQL
statements each page sends are counted: the budget is a fixed number whatever the period
or the number of reports. The seed's rollup rebuild (``portal.figures.rollup.rebuild``,
what ``portal figures-rebuild`` and migration 0021 cost) is timed on its own.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, insert, select, update

from portal import create_app
from portal.auth.passwords import hash_password
from portal.config import Settings
from portal.figures import rollup
from portal.figures.model import term_of
from portal.models import FigureCount, Role, School, Trust, User, utcnow
from portal.overdue import LOCAL
from portal.seed import seed_reports

from . import data
from .client import median, percentile
from .pages import CSRF

TRUST_LEAD_EMAIL = "lead@bench-trust.org"


def school_year(today: date) -> tuple[date, date]:
    """The last whole school year (1 September to 31 August) before ``today``: inside the
    two school years ``portal.seed`` spreads its reports over."""
    end_year = today.year if today.month >= 9 else today.year - 1
    return date(end_year - 1, 9, 1), date(end_year, 8, 31)


def figure_urls(today: date) -> dict[str, str]:
    first, last = school_year(today)
    return {
        "figures: this term (default)": "/staff/figures",
        f"figures: school year {first.year}–{last.year % 100:02d}":
            f"/staff/figures?from={first.isoformat()}&to={last.isoformat()}",
        "figures CSV: this term": "/staff/figures.csv",
    }


TRUST_PAGE = "trust lead: figures, this term"


@contextmanager
def _timed_rebuild(seconds: list[float]) -> Iterator[None]:
    """Time each ``rollup.rebuild`` the seed makes (it is called through the module)."""
    original = rollup.rebuild

    def timed(*args: Any, **kwargs: Any) -> int:
        began = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            seconds.append(time.perf_counter() - began)

    rollup.rebuild = timed  # type: ignore[assignment]
    try:
        yield
    finally:
        rollup.rebuild = original  # type: ignore[assignment]


def _add_trust(engine: Any) -> None:
    """A trust holding the bench school, and its lead (same password and authenticator)."""
    second_factor = {"totp_secret": data.TOTP_SECRET} if "totp_secret" in User.__table__.c \
        else {}
    with engine.begin() as conn:
        trust_id = conn.execute(insert(Trust).values(
            name="Benchmark Trust", created_at=utcnow()).returning(Trust.id)).scalar_one()
        conn.execute(update(School).where(School.slug == data.SLUG).values(trust_id=trust_id))
        conn.execute(insert(User).values(
            email=TRUST_LEAD_EMAIL, display_name="Bench Trust Lead",
            password_hash=hash_password(data.PASSWORD), role=Role.TRUST_LEAD, school_id=None,
            trust_id=trust_id, is_active=True, created_at=utcnow(), **second_factor))


def _login(client: Any, email: str) -> None:
    page = client.get("/staff/login").get_data(as_text=True)
    token = CSRF.search(page)
    assert token, "no CSRF token on the login page"
    reply = client.post("/staff/login", data={"csrf_token": token.group(1), "email": email,
                                              "password": data.PASSWORD})
    assert reply.status_code == 302, f"login failed: {reply.status_code}"
    if "/staff/login/code" in reply.headers.get("Location", ""):
        import pyotp  # the second factor, when the portal asks for it

        page = client.get("/staff/login/code").get_data(as_text=True)
        token = CSRF.search(page)
        assert token, "no CSRF token on the code page"
        reply = client.post("/staff/login/code", data={
            "csrf_token": token.group(1), "otp": pyotp.TOTP(data.TOTP_SECRET).now()})
        assert reply.status_code == 302, f"second factor failed: {reply.status_code}"
    assert client.get("/staff/figures").status_code == 200, f"{email} not signed in"


def _reports_in(engine: Any, first: date, last: date) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.coalesce(func.sum(FigureCount.count), 0)).where(
            FigureCount.figure == rollup.TOTAL, FigureCount.day.between(first, last))) or 0)


def _csv_total(body: str) -> int | None:
    for row in csv.reader(io.StringIO(body)):
        if row[1:4] == ["total", "Reports", "this period"]:
            return int(row[6])
    return None


def bench_app(url: str, workdir: Path) -> Any:
    settings = Settings(instance_dir=workdir / "instance", database_url=url,
                        secret_key="bench" * 13, ratelimit_enabled=False)
    if "data_key" in Settings.__dataclass_fields__:
        settings = dataclasses.replace(settings, data_key=data.DATA_KEY)  # type: ignore[call-arg]
    return create_app(settings)


def measure(url: str, size: int, workdir: Path, *, samples: int, log: Any) -> dict[str, Any]:
    """Seed ``size`` reports into the fresh database ``url`` and time the figures pages."""
    data.prepare(url)
    app = bench_app(url, workdir)
    engine = app.extensions["portal.engine"]
    rebuilds: list[float] = []
    started = time.perf_counter()
    with _timed_rebuild(rebuilds), engine.begin() as conn:
        seeded = seed_reports(conn, data.SLUG, size, seed=size)
    seed_seconds = time.perf_counter() - started
    rebuild_seconds = sum(rebuilds)
    with engine.connect() as conn:
        rows = {"figure_counts": int(conn.scalar(
            select(func.count()).select_from(FigureCount)) or 0)}
    log(f"  seeded {size:,} reports in {seed_seconds:.1f} s, of which the rollup rebuild "
        f"{rebuild_seconds:.1f} s ({rows['figure_counts']:,} day-count rows; "
        f"{seeded.links:,} pupil links)")
    if engine.dialect.name == "postgresql":
        # What autovacuum would have done by the time a real school had this history.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    _add_trust(engine)
    return {"reports": size, "seed_seconds": round(seed_seconds, 1),
            "rebuild_seconds": round(rebuild_seconds, 1),
            "figure_count_rows": rows["figure_counts"], "pupil_links": seeded.links,
            **time_pages(app, samples=samples)}


def time_pages(app: Any, *, samples: int) -> dict[str, Any]:
    """Time the figures pages of a seeded database (with the trust and its lead)."""
    engine = app.extensions["portal.engine"]
    today = datetime.now(UTC).astimezone(LOCAL).date()
    urls = figure_urls(today)
    term = term_of(today)
    year = school_year(today)
    periods = {name: (term.start, term.end) for name in urls} | {TRUST_PAGE: (term.start,
                                                                                term.end)}
    periods[next(n for n in urls if "school year" in n)] = year
    dsl, lead = app.test_client(), app.test_client()
    _login(dsl, data.DSL_EMAIL)
    _login(lead, TRUST_LEAD_EMAIL)
    pages = {name: (dsl, path) for name, path in urls.items()} | {TRUST_PAGE: (lead,
                                                                               "/staff/figures")}
    statements: list[str] = []

    def count(*_args: Any) -> None:
        statements.append("")

    timings: dict[str, list[float]] = {name: [] for name in pages}
    queries: dict[str, int] = {}
    for _ in range(3):  # warm-up: caches, compiled statements, templates
        for client, path in pages.values():
            assert client.get(path).status_code == 200, path
    csv_total = None
    event.listen(engine, "before_cursor_execute", count)
    try:
        for name, (client, path) in pages.items():
            statements.clear()
            reply = client.get(path)
            queries[name] = len(statements)
            if path.endswith(".csv"):
                csv_total = _csv_total(reply.get_data(as_text=True))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    for _ in range(samples):
        for name, (client, path) in pages.items():
            began = time.perf_counter()
            reply = client.get(path)
            timings[name].append(time.perf_counter() - began)
            assert reply.status_code == 200, (path, reply.status_code)
    in_period = {name: _reports_in(engine, *span) for name, span in periods.items()}
    if csv_total is not None:
        assert csv_total == in_period["figures CSV: this term"], (csv_total, in_period)
    engine.dispose()
    return {
        "samples": samples,
        "term": [term.start.isoformat(), term.end.isoformat()],
        "school_year": [year[0].isoformat(), year[1].isoformat()],
        "pages": {name: {"median_ms": round(median(t) * 1000, 1),
                         "p95_ms": round(percentile(t, 95) * 1000, 1),
                         "queries": queries[name], "reports_in_period": in_period[name]}
                  for name, t in timings.items()},
    }
