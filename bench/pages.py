"""Staff page latency: the queue's first page (unfiltered and filtered), a case page and a
pupil's chronology, at a given number of reports made by ``portal.seed``.

Measured in-process through Flask's test client (the whole request: session check, queries,
template), signed in as the DSL, sequentially, after warm-up; requests to the pages are
interleaved so a noisy moment hits them all alike. Rate limits are off here: they are not
what is measured. The SQL statements each page sends are counted too.
"""

from __future__ import annotations

import dataclasses
import random
import re
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, insert, select

from portal import create_app
from portal.config import Settings
from portal.models import (
    Event,
    LinkRole,
    Pupil,
    Report,
    ReportPupil,
    SenStatus,
    upn_index,
    utcnow,
)
from portal.seed import seed_reports

from . import data
from .client import median, percentile

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PUPIL_REPORTS = 200


def queue_urls() -> dict[str, str]:
    return {
        "queue: everything": "/staff/?status=all",
        "queue: open (default view)": "/staff/",
        "queue: kind = online": "/staff/?status=all&kind=online",
        "queue: status = in review": "/staff/?status=in_review",
    }


def _pupil_in_reports(engine: Any, count: int, rng: random.Random) -> tuple[int, int]:
    """A new pupil linked (as target) to ``count`` reports spread over the history; returns
    the pupil's id and the newest of those reports (whose case page is measured)."""
    with engine.begin() as conn:
        school_id = conn.scalar(select(Report.school_id).limit(1))
        pupil_id = conn.execute(insert(Pupil).values(
            school_id=school_id, upn="BENCH200", upn_hash=upn_index("BENCH200"),
            first_name="Bench", last_name="Pupil",
            year_group="Year 6", form="6A", sen_status=SenStatus.SEN_SUPPORT, on_roll=True,
            created_at=utcnow(), updated_at=utcnow()).returning(Pupil.id)).scalar_one()
        top = int(conn.scalar(select(func.max(Report.id))) or 0)
        low = int(conn.scalar(select(func.min(Report.id))) or 0)
        ids = sorted(rng.sample(range(low, top + 1), min(count, top - low + 1)))
        conn.execute(insert(ReportPupil), [
            {"report_id": rid, "pupil_id": pupil_id, "role": LinkRole.TARGET,
             "linked_at": utcnow()} for rid in ids])
        # each link is in its report's chronology, as linking from the case page records it
        conn.execute(insert(Event), [
            {"school_id": school_id, "report_id": rid, "action": "pupil.linked",
             "payload": {"pupil_id": pupil_id, "role": LinkRole.TARGET.value},
             "created_at": utcnow()}
            for rid in ids])
    return pupil_id, ids[-1]


def _login(client: Any, email: str = data.DSL_EMAIL, home: str = "/staff/") -> None:
    """Sign ``client`` in as ``email`` (the shared bench password and authenticator), and
    check ``home`` then opens."""
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
    assert client.get(home).status_code == 200, f"{email} not signed in"


def measure(url: str, size: int, workdir: Path, *, samples: int, log: Any) -> dict[str, Any]:
    """Seed ``size`` reports into the fresh database ``url`` and time the staff pages."""
    data.prepare(url)
    settings = Settings(instance_dir=workdir / "instance", database_url=url,
                        secret_key="bench" * 13, ratelimit_enabled=False)
    if "data_key" in Settings.__dataclass_fields__:
        settings = dataclasses.replace(settings, data_key=data.DATA_KEY)  # type: ignore[call-arg]
    app = create_app(settings)
    engine = app.extensions["portal.engine"]
    started = time.perf_counter()
    with engine.begin() as conn:
        seeded = seed_reports(conn, data.SLUG, size, seed=size)
    seed_seconds = time.perf_counter() - started
    log(f"  seeded {size:,} reports in {seed_seconds:.1f} s "
        f"({seeded.links:,} pupil links, {seeded.events:,} events)")
    if engine.dialect.name == "postgresql":
        # What autovacuum would have done by the time a real school had this history.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    pupil_id, case_id = _pupil_in_reports(engine, PUPIL_REPORTS, random.Random(size))
    pages = {**queue_urls(),
             f"case page (a pupil in {PUPIL_REPORTS} reports)": f"/staff/cases/{case_id}",
             f"pupil chronology ({PUPIL_REPORTS} reports)": f"/staff/pupils/{pupil_id}"}
    client = app.test_client()
    _login(client)
    statements: list[str] = []

    def count(*_args: Any) -> None:
        statements.append("")

    timings: dict[str, list[float]] = {name: [] for name in pages}
    queries: dict[str, int] = {}
    totals: dict[str, int] = {}
    for _ in range(3):  # warm-up: caches, compiled statements, the first case view
        for path in pages.values():
            assert client.get(path).status_code == 200, path
    event.listen(engine, "before_cursor_execute", count)
    try:
        for name, path in pages.items():
            statements.clear()
            reply = client.get(path)
            queries[name] = len(statements)
            found = re.search(r'data-total="(\d+)"', reply.get_data(as_text=True))
            if found:
                totals[name] = int(found.group(1))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    for _ in range(samples):
        for name, path in pages.items():
            began = time.perf_counter()
            reply = client.get(path)
            timings[name].append(time.perf_counter() - began)
            assert reply.status_code == 200, (path, reply.status_code)
    engine.dispose()
    return {
        "reports": size, "seed_seconds": round(seed_seconds, 1),
        "pupil_links": seeded.links, "events": seeded.events, "samples": samples,
        "pages": {name: {"median_ms": round(median(t) * 1000, 1),
                         "p95_ms": round(percentile(t, 95) * 1000, 1),
                         "queries": queries[name], "matching": totals.get(name)}
                  for name, t in timings.items()},
    }
