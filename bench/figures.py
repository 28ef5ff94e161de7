"""The figures page (issue 15): ``/staff/figures`` for this term so far (the default) and for a
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
from .pages import _login as login

TRUST_LEAD_EMAIL = "lead@bench-trust.org"
# One school's roll at every size: the page's cost follows the roster by design (one index
# look-up per child, part and period for "named in two or more reports"), so the sizes
# compared differ in their history only. ``portal seed``'s own default roster grows with
# the reports (1,000 pupils at 10,000 reports, 2,000 from 20,000), which doubles the
# look-ups between the sizes as well; the README gives both.
PUPILS = 2_000


def school_year(today: date) -> tuple[date, date]:
    """The last whole school year (1 September to 31 August) before ``today``: inside the
    two school years ``portal.seed`` spreads its reports over."""
    end_year = today.year if today.month >= 9 else today.year - 1
    return date(end_year - 1, 9, 1), date(end_year, 8, 31)


def figure_urls(today: date) -> dict[str, str]:
    first, last = school_year(today)
    return {
        "figures: this term so far (default)": "/staff/figures",
        f"figures: school year {first.year}–{last.year % 100:02d}":
            f"/staff/figures?from={first.isoformat()}&to={last.isoformat()}",
        "figures CSV: this term so far": "/staff/figures.csv",
    }


# A trust lead sees whole terms; a term under way shows its totals only (model.py, rule 5).
TRUST_PAGE = "trust lead: figures, this term so far (totals)"


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


def measure(url: str, size: int, workdir: Path, *, samples: int, log: Any,
            pupils: int | None = PUPILS) -> dict[str, Any]:
    """Seed ``size`` reports into the fresh database ``url`` and time the figures pages."""
    data.prepare(url)
    app = bench_app(url, workdir)
    engine = app.extensions["portal.engine"]
    rebuilds: list[float] = []
    started = time.perf_counter()
    with _timed_rebuild(rebuilds), engine.begin() as conn:
        seeded = seed_reports(conn, data.SLUG, size, seed=size, pupils=pupils)
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


def time_pages(app: Any, *, samples: int, check_csv: bool = True) -> dict[str, Any]:
    """Time the figures pages of a seeded database (with the trust and its lead)."""
    engine = app.extensions["portal.engine"]
    today = datetime.now(UTC).astimezone(LOCAL).date()
    urls = figure_urls(today)
    term = term_of(today)
    year = school_year(today)
    periods = {name: (term.start, today) for name in urls} | {TRUST_PAGE: (term.start, today)}
    periods[next(n for n in urls if "school year" in n)] = year
    dsl, lead = app.test_client(), app.test_client()
    login(dsl, data.DSL_EMAIL, home="/staff/figures")
    login(lead, TRUST_LEAD_EMAIL, home="/staff/figures")
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
    if csv_total is not None and check_csv:
        assert csv_total == in_period["figures CSV: this term so far"], (csv_total, in_period)
    engine.dispose()
    return {
        "samples": samples,
        "term_so_far": [term.start.isoformat(), today.isoformat()],
        "school_year": [year[0].isoformat(), year[1].isoformat()],
        "pages": {name: {"median_ms": round(median(t) * 1000, 1),
                         "p95_ms": round(percentile(t, 95) * 1000, 1),
                         "queries": queries[name], "reports_in_period": in_period[name]}
                  for name, t in timings.items()},
    }


# --- the day counts of a million reports, made directly -----------------------------------
#
# Seeding 1,000,000 reports through portal.seed takes about 40 minutes on two cores; the
# figures page reads nothing of the reports themselves, only the day counts and the roster.
# ``day_counts`` writes the day counts such a seed leaves (its density: reports per school
# day, links per report, pupils picked by the same falling weights) straight into the
# tables, so the page can be timed at that size in a minute. ``python -m bench.figures``.

PLACES = ("classroom", "playground", "lunch_hall", "corridor", "toilets", "journey",
          "online", "elsewhere")
KINDS = ("physical", "verbal", "emotional", "property", "online", "other", "sexual",
         "prejudice:race", "prejudice:appearance")


def day_counts(url: str, reports: int, workdir: Path, *, seed: int = 1,
               pupils: int | None = PUPILS) -> dict[str, int]:
    """The bench school, a roster as ``portal.seed`` makes it (``pupils`` of them, or the
    seed's default for ``reports``), and the day counts of ``reports`` reports spread over
    two school years before today."""
    import random
    from datetime import timedelta

    from portal.models import FigurePupilDay, FigureSealedDay
    from portal.seed import SCHOOL_YEARS, make_roster

    data.prepare(url)
    rng = random.Random(seed)  # noqa: S311 - benchmark data
    app = bench_app(url, workdir)
    engine = app.extensions["portal.engine"]
    today = datetime.now(UTC).astimezone(LOCAL).date()
    days = [today - timedelta(days=n) for n in range(365 * SCHOOL_YEARS)]
    per_day = reports / len(days)
    with engine.begin() as conn:
        school_id = int(conn.scalar(select(School.id).where(School.slug == data.SLUG)) or 0)
        roster = pupils or min(2000, max(1000, reports // 10))
        pupil_ids = make_roster(conn, school_id, roster, rng)
        spread = max(1.0, len(pupil_ids) / 10)
        weights = [1.0 / (rank + spread) for rank in range(len(pupil_ids))]
        counts: list[dict[str, Any]] = []
        pupil_days: list[dict[str, Any]] = []
        sealed: list[dict[str, Any]] = []
        for day in days:
            n = max(0, round(rng.gauss(per_day, per_day ** 0.5)))
            if n == 0:
                continue
            row = {"total": {"all": n}, "source": {}, "kind": {}, "place": {}, "hour": {},
                   "outcome": {}, "ack": {}, "close": {}, "unsafe": {}, "better": {}}
            for figure, values in (("source", ("pupil_anonymous", "pupil_named", "witness",
                                               "parent", "staff")),
                                   ("kind", KINDS), ("place", PLACES),
                                   ("hour", [f"{h:02d}" for h in range(7, 20)]),
                                   ("outcome", ("undecided", "bullying_incident",
                                                "not_bullying", "safeguarding")),
                                   ("ack", ("on_time", "late", "waiting")),
                                   ("close", ("week", "four_weeks", "longer", "open")),
                                   ("unsafe", ("yes", "no", "not_sure", "not_asked")),
                                   ("better", ("better", "a_little_better", "not_better"))):
                for value in values:
                    row[figure][value] = rng.randint(0, n)
            counts += [{"school_id": school_id, "day": day, "figure": f, "value": v, "count": c}
                       for f, vs in row.items() for v, c in vs.items() if c]
            # about one pupil link per report, as the seed makes (804,061 pupil-days at 1M)
            linked = int(n * 1.05)
            picked = rng.choices(pupil_ids, weights=weights, k=linked)
            roles: dict[tuple[int, str], int] = {}
            for i, pupil in enumerate(picked):
                role = "target" if i % 3 else "alleged_perpetrator"
                roles[(pupil, role)] = roles.get((pupil, role), 0) + 1
            pupil_days += [{"school_id": school_id, "day": day, "pupil_id": p, "role": r,
                            "count": c} for (p, r), c in roles.items()]
            sealed.append({"school_id": school_id, "day": day, "counts": {
                "year": {f"Year {y}": rng.randint(0, n // 4) for y in range(3, 12)},
                "send": {"yes": rng.randint(0, n // 8), "no": rng.randint(0, n // 2)}}})
        for model, rows in ((FigureCount, counts), (FigurePupilDay, pupil_days),
                            (FigureSealedDay, sealed)):
            for start in range(0, len(rows), 20_000):
                conn.execute(insert(model), rows[start:start + 20_000])
        rollup.rebuild_years(conn)  # the children's years, from the day rows just written
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    _add_trust(bench_app(url, workdir).extensions["portal.engine"])
    return {"figure_counts": len(counts), "figure_pupil_days": len(pupil_days),
            "days": len(sealed)}


def main() -> None:
    """Time the figures pages on the day counts of 10,000 and 1,000,000 reports, SQLite and
    PostgreSQL (when it is up), and print the table the README quotes."""
    import sys
    import tempfile

    samples = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        # (database, reports, roster): the budget's two sizes at one school's roll, and
        # 10,000 reports with the seed's default roster (half as many children) beside them.
        sizes = [(10_000, PUPILS), (1_000_000, PUPILS), (10_000, None)]
        databases = ["SQLite", *(["PostgreSQL"] if data.postgres_available() else [])]
        for name in databases:
            for size, roster in sizes:
                label = f"{size}-{roster or 'default'}"
                pg_name = f"bench_figcounts_{label.replace('-', '_')}"
                url = (data.sqlite_url(work / f"figures-{label}.sqlite") if name == "SQLite"
                       else data.postgres_url(pg_name))
                made = day_counts(url, size, work, pupils=roster)
                result = time_pages(bench_app(url, work), samples=samples, check_csv=False)
                print(f"{name} {size:,} reports' day counts, "
                      f"{roster or 'the seed default'} pupils: {made}")
                for page, numbers in result["pages"].items():
                    print(f"  {page}: median {numbers['median_ms']} ms, p95 "
                          f"{numbers['p95_ms']} ms, {numbers['queries']} queries")
                if name == "PostgreSQL":
                    data.drop_postgres(pg_name)

if __name__ == "__main__":
    main()
