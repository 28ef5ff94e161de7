"""The search page at 1,000,000 reports (issue 14: "under 100 ms median at 1,000,000 reports").

    python -m bench.search                      # SQLite, 1,000,000 reports
    python -m bench.search --postgres           # PostgreSQL (BENCH_PG_URL), database bench_search
    python -m bench.search --reports 100000 --samples 10

Seeding a million reports the way ``portal seed`` does (every value through SQLAlchemy,
each encrypted on its own) takes far longer than the ten minutes this should take, so the
rows go in directly: the reports table through the driver's executemany with a small pool
of texts encrypted once each (fine for a benchmark: each value still decrypts), and the
index rows (portal.search's real terms for those texts, under the run's data key) in the
primary key's order, which is how a B-tree fills fastest. One school holds them all: the
worst case, as every search reads one school's terms.

The texts: 2,000 report bodies of 8 to 20 words drawn from a 5,000-word vocabulary with
Zipf-like frequencies, plus a first and a last name from portal.seed's lists (so a name
such as "Harry" is in about one report in thirty), and a name in "who was involved".
About 16 distinct indexed words a report: about 16 million index rows.

Each query is asked through the page (the test client, signed in as the DSL, rendering
the page with 25 results decrypted) ``--samples`` times after a warm-up; the figure is
the median. Writes bench/work/search.json and prints a table.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import select
from sqlalchemy.engine import make_url

from portal import create_app, search
from portal.config import Settings
from portal.crypto import encrypt_text
from portal.models import Report, School
from portal.seed import FIRST, LAST

from . import data, machine
from .client import median, percentile
from .pages import _login

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"
BODIES = 2_000
VOCABULARY = 5_000
BATCH = 20_000

QUERIES = {
    "a name (harry)": "harry",
    "a first and a last name": "harry {last}",
    "a common word": "{common}",
    "a rare word": "{rare}",
    "two common words": "{common} {common2}",
    "three words, one rare": "{common} {common2} {rare}",
    "no report has it": "zzyzzyva",
}


def _words(rng: random.Random) -> list[str]:
    """A vocabulary of pronounceable made-up words (none a stop word)."""
    sounds = ["ba", "ko", "ri", "tu", "me", "sa", "lo", "ni", "de", "fa", "gu", "pe", "zo", "ha",
              "vi", "ju", "ne", "wo", "xa", "ly"]
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < VOCABULARY:
        word = "".join(rng.choice(sounds) for _ in range(rng.randint(2, 4)))
        if word not in seen and word not in search.STOP_WORDS:
            seen.add(word)
            out.append(word)
    return out


@dataclasses.dataclass
class Corpus:
    bodies: list[str]
    vocabulary: list[str]
    first: list[str]
    last: list[str]


def corpus(rng: random.Random) -> Corpus:
    vocabulary = _words(rng)
    # Zipf-like, flattened at the top as stop words are left out: the commonest word is in
    # about one report in ten.
    weights = [1.0 / (rank + 20) for rank in range(VOCABULARY)]
    bodies = [" ".join(rng.choices(vocabulary, weights, k=rng.randint(8, 20)))
              for _ in range(BODIES)]
    first = FIRST.split() if isinstance(FIRST, str) else list(FIRST)
    last = LAST.split() if isinstance(LAST, str) else list(LAST)
    return Corpus(bodies, vocabulary, first, last)


def _report_row(template: dict[str, Any], rid: int, created: Any, body: str, who: str,
                name: str) -> dict[str, Any]:
    return {**template, "id": rid, "created_at": created, "updated_at": created,
            "followup_code_hash": f"{rid:064x}", "body": body, "people_involved": who,
            "reporter_name": name}


def seed(url: str, reports: int, rng: random.Random, log: Any) -> dict[str, Any]:
    """Insert ``reports`` reports and their index rows directly (see the module docstring)."""
    data.use_data_key()
    settings = Settings(instance_dir=WORK / "search-instance", database_url=url,
                        secret_key="bench" * 13, ratelimit_enabled=False,
                        data_key=data.DATA_KEY)  # type: ignore[call-arg]
    app = create_app(settings)
    engine = app.extensions["portal.engine"]
    with engine.connect() as conn:
        school_id = int(conn.scalar(select(School.id).where(School.slug == data.SLUG)) or 0)
    words = corpus(rng)
    sealed_bodies = [encrypt_text(b) for b in words.bodies]
    names = [f"{f} {s}" for f in words.first for s in words.last]
    sealed_names = {n: encrypt_text(n) for n in names}
    empty = encrypt_text("")
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=365 * 10)
    step = (now - start) / reports
    dialect = engine.dialect
    when = Report.__table__.c.created_at.type.dialect_impl(dialect).bind_processor(dialect)

    # The columns every report row needs, with values a plain pupil report has.
    template = {"school_id": school_id, "source": "pupil", "status": "closed",
                "category": "allegation", "acknowledged_at": None, "closed_at": None,
                "urgency": 0, "urgency_reasons": encrypt_text("[]"), "submission_hash": None,
                "sealed_code": None, "about": "me", "when": "before",
                "happened_before": "no", "places": "[]", "feels_safe": "yes",
                "anonymous": False, "reporter_class": empty, "preferred_adult": empty,
                "child_name": empty, "child_year": "", "concern": None, "since_when": empty,
                "told_before": None, "parent_name": empty, "contact_email": empty,
                "contact_phone": empty, "contact_preference": None, "created_by_id": None,
                "assigned_to_id": None, "legal_hold": False, "legal_hold_reason": empty,
                "close_override": empty, "has_unread_reply": False, "notify_updates": False,
                "team_notified_at": None}
    columns = [c.name for c in Report.__table__.c if c.computed is None]
    missing = set(columns) - set(template) - {"id", "created_at", "updated_at",
                                              "followup_code_hash", "body",
                                              "people_involved", "reporter_name"}
    if missing:
        raise RuntimeError(f"bench.search: give the new report columns a value: {missing}")
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    quote = dialect.identifier_preparer.quote
    sql = (f"INSERT INTO reports ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
           f"VALUES ({', '.join([marker] * len(columns))})")

    began = time.perf_counter()
    postings: dict[int, list[int]] = {}
    moments: list[str | datetime] = []
    body_terms = [search.terms([b], school_id) for b in words.bodies]
    name_terms = {n: search.terms([n], school_id) for n in names}
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if dialect.name == "sqlite":
            # A bulk load into a fresh file: no journal (a crash loses only the bench), a
            # large cache, and each batch committed.
            raw.commit()
            cursor.execute("PRAGMA journal_mode=OFF")
            cursor.execute("PRAGMA cache_size=-1048576")
            cursor.execute("PRAGMA synchronous=OFF")
        # The index of a report's rows is built once the rows are in (faster than keeping
        # it up to date row by row); the primary key fills in its own order.
        cursor.execute("DROP INDEX ix_search_terms_report")
        batch: list[tuple[Any, ...]] = []
        for n in range(reports):
            rid = n + 1
            created = start + step * n
            moment = when(created) if when else created
            moments.append(moment)
            body = rng.randrange(BODIES)
            name = rng.choice(names)
            who = rng.choice(names)
            found = body_terms[body] | name_terms[name] | name_terms[who]
            for t in found:
                postings.setdefault(t, []).append(rid)
            row = _report_row(template, rid, moment, sealed_bodies[body], sealed_names[who],
                              sealed_names[name])
            batch.append(tuple(row[c] for c in columns))
            if len(batch) >= BATCH:
                cursor.executemany(sql, batch)
                raw.commit()
                batch.clear()
                if rid % 200_000 == 0:
                    log(f"    {rid:,} reports ({time.perf_counter() - began:.0f} s)")
        if batch:
            cursor.executemany(sql, batch)
        raw.commit()
        reports_seconds = time.perf_counter() - began
        log(f"  {reports:,} reports in {reports_seconds:.0f} s")
        rows = 0
        began_terms = time.perf_counter()
        if dialect.name == "sqlite":
            insert_terms = ("INSERT INTO search_terms (school_id, term, created_at, report_id) "
                            "VALUES (?, ?, ?, ?)")
            batch = []
            for t in sorted(postings):
                for rid in postings[t]:
                    batch.append((school_id, t, moments[rid - 1], rid))
                if len(batch) >= BATCH * 5:
                    cursor.executemany(insert_terms, batch)
                    raw.commit()
                    rows += len(batch)
                    batch.clear()
                    if rows % 2_000_000 < BATCH * 5:
                        log(f"    {rows:,} index rows ({time.perf_counter() - began_terms:.0f} s)")
            if batch:
                cursor.executemany(insert_terms, batch)
                rows += len(batch)
        else:
            # The rows' references are right by construction: checking 2 foreign keys on
            # each of 18 million rows at the end of the COPY takes longer than the load.
            cursor.execute("SET session_replication_role = replica")
            with cursor.copy("COPY search_terms (school_id, term, created_at, report_id) "
                             "FROM STDIN") as copy:
                stamps = [m.isoformat() for m in moments]  # type: ignore[union-attr]
                lines: list[str] = []
                for t in sorted(postings):
                    lines.extend(f"{school_id}\t{t}\t{stamps[rid - 1]}\t{rid}\n"
                                 for rid in postings[t])
                    if len(lines) >= 100_000:
                        copy.write("".join(lines))
                        rows += len(lines)
                        lines.clear()
                copy.write("".join(lines))
                rows += len(lines)
            cursor.execute("SET session_replication_role = DEFAULT")
            cursor.execute("SELECT setval(pg_get_serial_sequence('reports', 'id'), %s)",
                           (reports,))
        cursor.execute("CREATE INDEX ix_search_terms_report ON search_terms (report_id)")
        raw.commit()
        if dialect.name == "sqlite":
            cursor.execute("PRAGMA journal_mode=WAL")
        terms_seconds = time.perf_counter() - began_terms
        log(f"  {rows:,} index rows in {terms_seconds:.0f} s")
    finally:
        raw.close()
    if dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    frequency = sorted(postings, key=lambda t: len(postings[t]), reverse=True)
    by_term = {search.term(w, school_id): w for w in words.vocabulary}
    common = [by_term[t] for t in frequency if t in by_term][:2]
    rare = next(by_term[t] for t in reversed(frequency) if t in by_term and len(postings[t]) > 3)
    return {"app": app, "school_id": school_id, "rows": rows,
            "reports_seconds": round(reports_seconds, 1),
            "terms_seconds": round(terms_seconds, 1),
            "words": {"common": common[0], "common2": common[1], "rare": rare,
                      "last": words.last[0].lower()},
            "matches": {w: len(postings.get(search.term(w, school_id), []))
                        for w in [*common, rare, "harry"]}}


def measure(url: str, reports: int, samples: int, log: Any) -> dict[str, Any]:
    data.prepare(url)
    seeded = seed(url, reports, random.Random(reports), log)
    app = seeded.pop("app")
    client = app.test_client()
    _login(client)
    timings: dict[str, list[float]] = {}
    found: dict[str, str] = {}
    for name, pattern in QUERIES.items():
        q = pattern.format(**seeded["words"])
        for _ in range(2):  # warm-up
            assert client.get("/staff/search", query_string={"q": q}).status_code == 200
        timings[name] = []
        for _ in range(samples):
            began = time.perf_counter()
            reply = client.get("/staff/search", query_string={"q": q})
            timings[name].append(time.perf_counter() - began)
            assert reply.status_code == 200, reply.status_code
        page = reply.get_data(as_text=True)
        found[name] = f"{q!r}: {page.count('data-result=')} shown"
    app.extensions["portal.engine"].dispose()
    every = [t for ts in timings.values() for t in ts]
    return {**seeded, "reports": reports, "samples": samples,
            "median_ms": round(median(every) * 1000, 1),
            "queries": {name: {"median_ms": round(median(t) * 1000, 1),
                               "p95_ms": round(percentile(t, 95) * 1000, 1),
                               "asked": found[name]} for name, t in timings.items()}}


def _postgres(name: str) -> str:
    if not name.startswith(("bench", "test_")):
        raise ValueError("benchmark databases are named bench* or test_*")
    admin = make_url(data.PG_ADMIN_URL).set(drivername="postgresql").render_as_string(
        hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(data.PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--database", default="bench_search",
                        help="PostgreSQL database to (re)create (bench* or test_*)")
    args = parser.parse_args()
    WORK.mkdir(exist_ok=True)
    began = time.perf_counter()
    load_before = machine.load()
    url = _postgres(args.database) if args.postgres else data.sqlite_url(WORK / "search.db")
    result = measure(url, args.reports, args.samples, lambda m: print(m, flush=True))
    result.update(database="postgresql" if args.postgres else "sqlite",
                  seconds=round(time.perf_counter() - began), machine=machine.info(),
                  load=[load_before, machine.load()])
    out = WORK / f"search-{result['database']}.json"
    out.write_text(json.dumps(result, indent=2, default=str))
    print(f"\n{result['database']}: {args.reports:,} reports, {result['rows']:,} index rows, "
          f"{result['seconds']} s in all; load {load_before} -> {machine.load()}")
    print(f"{'query':32} {'median ms':>10} {'p95 ms':>8}  asked")
    for name, figures in result["queries"].items():
        print(f"{name:32} {figures['median_ms']:>10} {figures['p95_ms']:>8}  {figures['asked']}")
    print(f"{'all queries':32} {result['median_ms']:>10}")
    if args.postgres and args.database.startswith("bench"):
        data.drop_postgres(args.database)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
