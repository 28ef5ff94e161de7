"""Synthetic reports for demos and benchmarks: ``portal seed SLUG --reports N``.

Realistic in shape, invented in content: reports from pupils, parents and staff across
every kind, spread over about two school years (school days, school hours for pupils,
evenings for parents); older ones mostly decided and closed, recent ones new or in review;
some urgent; roster pupils linked as targets and alleged perpetrators, a few of them in many
reports (the "repeated over time" the queue flags).

Rows go in bulk, never one ORM object at a time: executemany in batches of 5,000 on SQLite,
COPY on PostgreSQL, each value prepared by its column's own SQLAlchemy type. 100,000 reports
(with their kinds, pupil links, checklists and about 500,000 chronology events) take about
25 seconds on two cores. Ids come from the sequence (PostgreSQL) or follow the largest id
(SQLite), so child rows can name their report. Follow-up code hashes are random 64-hex
strings: nobody can follow a synthetic report up. No Flask here.
"""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Connection, Table, func, select, text, update

from . import checklists, linking, priority, search
from .db import refresh_statistics
from .events import Action
from .figures import rollup
from .models import (
    DSL_TEAM,
    CaseChecklist,
    ChecklistItem,
    Event,
    ItemState,
    LinkRole,
    Pupil,
    Report,
    ReportKind,
    ReportPupil,
    Role,
    School,
    SearchTerm,
    SenStatus,
    TrustedAdult,
    User,
    upn_index,
)
from .vocabulary import KINDS, ONLINE, PLACES, Category, Source, Status

BATCH = 5_000
SCHOOL_YEARS = 2
DEFAULT_PUPILS = 1_000
MAX_DEFAULT_PUPILS = 2_000

FIRST = ("Aisha Ben Chloe Daniel Ella Finn Grace Harry Isla Jack Kai Lily Mason Nia Oscar "  # noqa: SIM905 - a word list wraps
         "Priya Quinn Ruby Sam Tara Umar Violet Will Yusuf Zara Leo Maya Noah Amelia Theo "
         "Ava Ezra Freya Hassan Ivy Jamal Layla Milo Nadia Omar Poppy Reuben Sofia Tomasz "
         "Uma Wiktor Yara Zain Alfie Bella Callum Daisy Elijah Fatima George Hana").split()
LAST = ("Khan Taylor Smith Jones Brown Patel Wilson Evans Thomas Roberts Walker Wright "  # noqa: SIM905
        "Hughes Green Hall Lewis Clarke Ahmed Turner Hill Cooper Ward Morris King Baker "
        "Harris Young Allen Scott Begum Nowak Okafor Murphy Kaur Singh Ali Davies Mensah "
        "Rossi Silva Kowalski Osei Hussain Campbell Stewart Reid").split()
YEARS = ("Year 3", "Year 4", "Year 5", "Year 6", "Year 7", "Year 8", "Year 9", "Year 10")

# (kinds, what a pupil wrote, who was involved): words children use, a few of them urgent.
PUPIL_TEXTS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("verbal",), "They keep calling me names at break and everyone laughs."),
    (("verbal", "emotional"), "Some girls say I smell and tell the others not to sit with me."),
    (("emotional",), "My friends said I can't play with them any more and they whisper about me."),
    (("physical",), "A boy pushed me against the wall by the toilets and kicked my leg."),
    (("physical", "property"), "They took my bag and threw it in the bin and pushed me over."),
    (("property",), "Someone keeps taking my pencil case and breaking my pens."),
    (("online",), "People in the class group chat keep sending me mean messages at night."),
    (("online", "verbal"), "Someone made a fake account with my photo and says horrible things."),
    (("online",), "They said they will get me after school and beat me up, I am scared."),
    (("verbal",), "He says he will hurt me if I tell anyone."),
    (("other",), "An older pupil asked me to send pictures of myself and I don't want to."),
    (("emotional",), "Nobody lets me join in at lunch and they laugh when I walk past."),
    (("physical",), "I saw a Year 6 boy punch a little boy in the playground and take his snack."),
    (("verbal",), "They call me names about my family and where I come from."),
    (("other",), ""),
)
PARENT_TEXTS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("behaviour_change", (), "Since half term my child has been tearful in the mornings and "
     "says other children won't let them join in."),
    ("school_refusal", (), "My child is refusing to come to school and says some pupils are "
     "making their life hard."),
    ("online", ("online",), "My child showed me messages on a gaming app where children from "
     "the class share a photo with unkind comments. I have kept screenshots."),
    ("bullying", ("physical",), "My child came home with a bruise and says a group of older "
     "pupils push him on the way home."),
    ("bullying", ("verbal",), "My daughter is being called names every day and she has "
     "stopped eating her lunch."),
    ("other", (), "I am worried about my son; he has gone very quiet and won't say why."),
)
STAFF_TEXTS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("verbal",), "A pupil told me at lunch duty that two classmates keep mocking her accent."),
    (("physical",), "Saw pushing in the corridor between lessons; the younger pupil was upset."),
    (("online",), "A pupil showed me a group chat where others post unkind edited photos."),
)
WHO = ("Two children from my class", "a boy in Year 6", "the girls on my table", "I don't know "
       "their names", "people in the group chat", "")
PLACE_VALUES = tuple(p.value for p in PLACES)
KIND_VALUES = tuple(k.value for k in KINDS)
DECIDED = (Category.BULLYING_INCIDENT, Category.NOT_BULLYING, Category.SAFEGUARDING)
REASONS = {
    Category.BULLYING_INCIDENT: "Repeated unkind behaviour by the same pupils over several weeks.",
    Category.NOT_BULLYING: "A one-off falling-out; resolved with a restorative conversation.",
    Category.SAFEGUARDING: "Risk of harm: DSL informed, early help considered.",
}


class SeedError(ValueError):
    """Seeding refused (no such school, nonsense numbers)."""


@dataclass(frozen=True)
class SeedResult:
    school_id: int
    reports: int
    pupils_created: int
    links: int
    events: int
    first_report_id: int
    last_report_id: int


@lru_cache(maxsize=4096)
def _urgency(feels_safe: str | None, kinds: tuple[str, ...], happened_before: str | None,
             places: tuple[str, ...], text: str) -> tuple[int, tuple[priority.Found, ...]]:
    result = priority.assess(feels_safe=feels_safe, kinds=list(kinds),
                             happened_before=happened_before, places=list(places), text=text)
    return result.score, result.reasons


def _school_moment(rng: random.Random, now: datetime, days: int, evening: bool) -> datetime:
    """A moment in the last ``days`` days on a school day (no weekends, no August)."""
    for _ in range(20):
        day = now - timedelta(days=rng.random() * days)
        if day.weekday() < 5 and day.month != 8:
            break
    hour = rng.randint(18, 21) if evening else rng.randint(8, 15)
    moment = day.replace(hour=hour, minute=rng.randint(0, 59), second=rng.randint(0, 59),
                         microsecond=rng.randint(0, 999_999))
    return min(moment, now - timedelta(minutes=1))


def _insert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` with the driver's executemany, in batches.

    Values go through each column's own SQLAlchemy bind processor (UTC timestamps, JSON,
    enums, encryption), exactly as a Core ``insert()`` would send them, but in a tight
    loop rather than through Core's per-row parameter machinery, which costs several times
    more than the insert itself at this volume. Columns the rows leave out get their
    Python-side default (a column added later keeps working) or the server's.
    """
    if not rows:
        return
    dialect = conn.dialect
    given = list(rows[0])
    defaults: dict[str, Any] = {}
    for column in table.columns:
        if column.name in given or column.primary_key or column.default is None:
            continue
        default: Any = column.default
        if default.is_scalar:
            defaults[column.name] = default.arg
        elif default.is_callable:
            defaults[column.name] = default.arg(None)
    names = given + list(defaults)
    processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
                  for name in names]
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    quote = dialect.identifier_preparer.quote
    # Identifiers quoted by the dialect, from the table's own columns; values are bound.
    sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "  # noqa: S608
           f"VALUES ({', '.join([marker] * len(names))})")
    extra = tuple(defaults.values())
    # Synthetic text repeats (a few dozen sentences), so each distinct value is prepared
    # once per column: for encrypted columns that means one AES-GCM ciphertext per distinct
    # sentence, shared by the rows that say it. Fine for invented data, and most of the
    # seeding time otherwise.
    prepared: list[dict[str, Any]] = [{} for _ in names]
    # Only the columns with a bind processor need work; the others go as they are.
    active = [(index, proc, prepared[index]) for index, proc in enumerate(processors)
              if proc is not None]

    def ready(row: dict[str, Any]) -> tuple[Any, ...]:
        values = [row[name] for name in given]
        values.extend(extra)
        for index, proc, memo in active:
            value = values[index]
            if value is None:
                continue
            if isinstance(value, str | dict):
                key = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
                done = memo.get(key)
                if done is None:
                    done = memo[key] = proc(value)
                values[index] = done
            else:
                values[index] = proc(value)
        return tuple(values)

    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        # PostgreSQL takes bulk rows fastest through COPY, in the same transaction.
        driver: Any = conn.connection.driver_connection
        copy_sql = f"COPY {quote(table.name)} ({', '.join(quote(n) for n in names)}) FROM STDIN"
        with driver.cursor() as cursor, cursor.copy(copy_sql) as copy:
            for row in rows:
                copy.write_row(ready(row))
        return
    for start in range(0, len(rows), BATCH):
        conn.exec_driver_sql(sql, [ready(row) for row in rows[start:start + BATCH]])


def _new_ids(conn: Connection, table: Table, count: int) -> list[int]:
    """``count`` fresh primary keys for ``table``, so child rows can name their parents
    without one RETURNING round trip per row: from the sequence on PostgreSQL (safe beside
    a running portal); after the largest id on SQLite, where a concurrent writer would make
    the seeding transaction fail and roll back whole, never mix rows."""
    if conn.dialect.name == "postgresql":
        rows = conn.execute(
            text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                 "FROM generate_series(1, :count)"), {"table": table.name, "count": count})
        return sorted(int(row[0]) for row in rows)
    start = int(conn.scalar(select(func.max(table.c.id))) or 0)
    return list(range(start + 1, start + count + 1))


def make_roster(conn: Connection, school_id: int, count: int, rng: random.Random) -> list[int]:
    """``count`` invented pupils (about one in eight with SEN support, a few with EHC plans)."""
    now = datetime.now(UTC)
    rows = []
    for i in range(count):
        year = YEARS[i % len(YEARS)]
        roll = rng.random()
        sen = SenStatus.EHC_PLAN if roll < 0.02 else SenStatus.SEN_SUPPORT if roll < 0.14 \
            else SenStatus.NONE
        age = 7 + YEARS.index(year)
        upn = f"S{i + 1:07d}"
        rows.append({
            "school_id": school_id, "upn": upn, "upn_hash": upn_index(upn),
            "first_name": rng.choice(FIRST), "last_name": rng.choice(LAST),
            "date_of_birth": date(now.year - age, rng.randint(1, 12), rng.randint(1, 28)),
            "year_group": year, "form": f"{year.split()[-1]}{rng.choice('ABC')}",
            "sen_status": sen.value, "on_roll": True, "created_at": now, "updated_at": now,
        })
    ids = _new_ids(conn, Pupil.__table__, count)  # type: ignore[arg-type]
    for pupil_id, row in zip(ids, rows, strict=True):
        row["id"] = pupil_id
    _insert(conn, Pupil.__table__, rows)  # type: ignore[arg-type]
    return ids


def _random_hex(rng: random.Random) -> str:
    return f"{rng.getrandbits(256):064x}"


def seed_reports(conn: Connection, slug: str, reports: int, *, pupils: int | None = None,
                 seed: int | None = None, now: datetime | None = None) -> SeedResult:
    """Add ``reports`` synthetic reports to the school ``slug`` (which must exist).

    A roster of ``pupils`` (default 1,000, or one per ten reports up to 2,000) is made first
    when the school has none. Runs in the caller's transaction; commit it to keep the rows.
    """
    if reports < 1:
        raise SeedError("give a number of reports of at least 1")
    if pupils is not None and pupils < 1:
        raise SeedError("give a number of pupils of at least 1")
    school = conn.execute(select(School.id).where(School.slug == slug)).first()
    if school is None:
        raise SeedError(f"There is no school with slug '{slug}'. Add it with: "
                        f"portal create-school {slug} NAME")
    school_id = int(school[0])
    if conn.dialect.name == "sqlite":
        # A bulk load touches every index all over: give it a large page cache while it runs.
        cache = conn.exec_driver_sql("PRAGMA cache_size").scalar()
        conn.exec_driver_sql("PRAGMA cache_size=-262144")
        try:
            return _seed(conn, school_id, reports, pupils, seed, now)
        finally:
            conn.exec_driver_sql(f"PRAGMA cache_size={int(cache or -2000)}")
    return _seed(conn, school_id, reports, pupils, seed, now)


def _seed(conn: Connection, school_id: int, reports: int, pupils: int | None,
          seed: int | None, now: datetime | None) -> SeedResult:
    # Different rows every run unless a seed is given (follow-up hashes are unique).
    rng = random.Random(seed if seed is not None else secrets.randbits(64))  # noqa: S311 - demo data
    now = now or datetime.now(UTC)

    pupil_ids = list(conn.scalars(select(Pupil.id).where(Pupil.school_id == school_id,
                                                         Pupil.on_roll.is_(True))))
    created = 0
    if not pupil_ids:
        # A school's roster: 1,000 pupils, up to 2,000 (a large secondary) for long histories.
        created = pupils or min(MAX_DEFAULT_PUPILS, max(DEFAULT_PUPILS, reports // 10))
        pupil_ids = make_roster(conn, school_id, created, rng)
    # A few pupils are in several times as many reports as most: weights falling with rank.
    spread = max(1.0, len(pupil_ids) / 10)
    weights = [1.0 / (rank + spread) for rank in range(len(pupil_ids))]
    cumulative = []
    total = 0.0
    for w in weights:
        total += w
        cumulative.append(total)

    dsl_ids = list(conn.scalars(select(User.id).where(
        User.school_id == school_id, User.role.in_(DSL_TEAM),
        User.is_active.is_(True))))
    staff_ids = list(conn.scalars(select(User.id).where(
        User.school_id == school_id, User.role == Role.STAFF))) or dsl_ids
    adults = [name for (name,) in conn.execute(select(TrustedAdult.name).where(
        TrustedAdult.school_id == school_id))] or ["Any adult"]

    days = 365 * SCHOOL_YEARS
    report_rows: list[dict[str, Any]] = []
    kinds_of: list[tuple[str, ...]] = []
    meta: list[tuple[Status, Category, datetime]] = []
    for _ in range(reports):
        roll = rng.random()
        source = Source.PUPIL if roll < 0.7 else Source.PARENT if roll < 0.92 else Source.STAFF
        created_at = _school_moment(rng, now, days, evening=source == Source.PARENT)
        age = (now - created_at).days
        # Older reports have mostly been decided and closed; recent ones are still open.
        s = rng.random()
        if age > 60:
            status = Status.CLOSED if s < 0.95 else Status.IN_REVIEW
        elif age > 14:
            status = Status.CLOSED if s < 0.5 else Status.IN_REVIEW if s < 0.9 else Status.NEW
        else:
            status = Status.NEW if s < 0.5 else Status.IN_REVIEW if s < 0.9 else Status.CLOSED
        category = Category.ALLEGATION if status == Status.NEW or rng.random() < 0.15 \
            else rng.choice(DECIDED)
        row: dict[str, Any] = {
            "school_id": school_id, "source": source.value, "status": status.value,
            "category": category.value, "created_at": created_at,
            "updated_at": created_at,
            "acknowledged_at": None if status == Status.NEW
            else created_at + timedelta(hours=rng.randint(1, 30)),
            "closed_at": created_at + timedelta(days=rng.randint(3, 40))
            if status == Status.CLOSED else None,
            "followup_code_hash": _random_hex(rng), "submission_hash": None,
            "sealed_code": None, "places": [], "people_involved": "", "feels_safe": None,
            "about": None, "when": None, "happened_before": None, "anonymous": True,
            "reporter_name": "", "reporter_class": "", "preferred_adult": "",
            "child_name": "", "child_year": "", "concern": None, "since_when": "",
            "told_before": None, "parent_name": "", "contact_email": "", "contact_phone": "",
            "contact_preference": None, "created_by_id": None, "close_override": "",
            "assigned_to_id": rng.choice(dsl_ids) if dsl_ids and status != Status.NEW
            and rng.random() < 0.6 else None,
        }
        if "team_notified_at" in Report.__table__.c:
            # Already in an old digest: the outbox must not mail the DSL about invented reports.
            row["team_notified_at"] = created_at
        if source == Source.PUPIL:
            kinds, body = rng.choice(PUPIL_TEXTS)
            if not body:
                kinds = (rng.choice(KIND_VALUES),)
            places = tuple(sorted(set(rng.choices(PLACE_VALUES, k=rng.randint(1, 2)))))
            feels_safe = rng.choices(("yes", "no", "not_sure"), (0.8, 0.07, 0.13))[0]
            happened = rng.choice(("yes", "no", "not_sure"))
            anonymous = rng.random() < 0.6
            row.update(
                body=body, about=rng.choice(("me", "me", "someone_else")),
                when=rng.choice(("today", "yesterday", "this_week", "before")),
                happened_before=happened, places=list(places), people_involved=rng.choice(WHO),
                feels_safe=feels_safe, anonymous=anonymous,
                reporter_name="" if anonymous else f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                reporter_class="" if anonymous else f"{rng.randint(3, 10)}{rng.choice('ABC')}",
                preferred_adult=rng.choice(adults),
            )
            text = f"{body}\n{row['people_involved']}"
        elif source == Source.PARENT:
            concern, kinds, body = rng.choice(PARENT_TEXTS)
            places, feels_safe, happened = (), None, None
            row.update(
                body=body, anonymous=False, concern=concern,
                child_name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                child_year=rng.choice(YEARS), since_when=rng.choice(("A few weeks", "Since "
                                                                     "half term", "")),
                told_before=rng.choice(("yes", "no")), parent_name=f"{rng.choice(LAST)} family",
                contact_preference=rng.choice(("email", "phone", "meeting")),
                contact_email="parent@example.org", contact_phone="01632 960000",
            )
            text = body
        else:
            kinds, body = rng.choice(STAFF_TEXTS)
            places, happened = (), None
            feels_safe = rng.choice(("yes", "not_sure", None))
            row.update(body=body, anonymous=False, feels_safe=feels_safe,
                       reporter_name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                       created_by_id=rng.choice(staff_ids) if staff_ids else None)
            text = body
        # Only these parts of the answers move the score, so the cache stays small.
        score, reasons = _urgency(feels_safe, tuple(kinds), "yes" if happened == "yes" else None,
                                  tuple(p for p in places if p in (ONLINE, "journey")), text)
        row["urgency"] = score
        row["urgency_reasons"] = [reason.stored() for reason in reasons]
        if status != Status.NEW:
            row["updated_at"] = row["closed_at"] or row["acknowledged_at"]
        report_rows.append(row)
        kinds_of.append(tuple(kinds))
        meta.append((status, category, created_at))

    # Oldest first, so ids follow time as they would in real life.
    order = sorted(range(reports), key=lambda i: report_rows[i]["created_at"])
    report_rows = [report_rows[i] for i in order]
    kinds_of = [kinds_of[i] for i in order]
    meta = [meta[i] for i in order]
    report_ids = _new_ids(conn, Report.__table__, reports)  # type: ignore[arg-type]
    for report_id, row in zip(report_ids, report_rows, strict=True):
        row["id"] = report_id
    _insert(conn, Report.__table__, report_rows)  # type: ignore[arg-type]
    # The search index of what they say (portal.search), in the same transaction.
    _insert(conn, SearchTerm.__table__, search.bulk_rows(school_id, report_rows))  # type: ignore[arg-type]

    kind_rows = [{"report_id": rid, "kind": kind}
                 for rid, kinds in zip(report_ids, kinds_of, strict=True)
                 for kind in dict.fromkeys(kinds)]
    _insert(conn, ReportKind.__table__, kind_rows)  # type: ignore[arg-type]

    event_rows: list[dict[str, Any]] = []
    link_rows: list[dict[str, Any]] = []
    step_rows: list[dict[str, Any]] = []
    attached_rows: list[dict[str, Any]] = []
    responding = checklists.CHECKLISTS[checklists.RESPONDING]
    for rid, row, (status, category, created_at) in zip(report_ids, report_rows, meta,
                                                        strict=True):
        event_rows.append({"school_id": school_id, "report_id": rid, "actor_id": None,
                           "action": Action.REPORT_RECEIVED.value,
                           "payload": {"source": row["source"]}, "staff_address": None,
                           "created_at": created_at})
        if status == Status.NEW:
            continue
        actor = rng.choice(dsl_ids) if dsl_ids else None
        seen = row["acknowledged_at"]
        event_rows.append({"school_id": school_id, "report_id": rid, "actor_id": actor,
                           "action": Action.CASE_VIEWED.value, "payload": {},
                           "staff_address": None, "created_at": seen})
        # Two out of three reviewed reports have pupils linked: a target and often others.
        if rng.random() < 0.67:
            picked = set(rng.choices(pupil_ids, cum_weights=cumulative, k=rng.randint(1, 3)))
            for n, pupil_id in enumerate(sorted(picked)):
                role = LinkRole.TARGET if n == 0 else LinkRole.ALLEGED_PERPETRATOR
                link_rows.append({"report_id": rid, "pupil_id": pupil_id, "role": role.value,
                                  "linked_by_id": actor, "linked_at": seen,
                                  "unlinked_at": None})
                event_rows.append({"school_id": school_id, "report_id": rid,
                                   "actor_id": actor, "action": Action.PUPIL_LINKED.value,
                                   "payload": {"pupil_id": pupil_id, "role": role.value},
                                   "staff_address": None, "created_at": seen})
        if category != Category.ALLEGATION:
            event_rows.append({"school_id": school_id, "report_id": rid, "actor_id": actor,
                               "action": Action.CATEGORY_CHANGED.value,
                               "payload": {"from": Category.ALLEGATION.value,
                                           "to": category.value,
                                           "reason": REASONS[category]},
                               "staff_address": None,
                               "created_at": seen + timedelta(hours=2)})
        if status == Status.CLOSED:
            attached_rows.append({"report_id": rid, "checklist": responding.code,
                                  "version": responding.version, "attached_at": seen,
                                  "synced_at": seen})
            for position, step in enumerate(responding.steps):
                step_rows.append({
                    "report_id": rid, "checklist": responding.code, "key": step.code,
                    "position": position, "required": step.required,
                    "state": (ItemState.DONE if step.required else ItemState.NOT_NEEDED).value,
                    "note": "" if step.required else "Not needed for this case.",
                    "done_by_id": actor, "done_at": row["closed_at"]})
            event_rows.append({"school_id": school_id, "report_id": rid, "actor_id": actor,
                               "action": Action.STATUS_CHANGED.value,
                               "payload": {"from": Status.IN_REVIEW.value,
                                           "to": Status.CLOSED.value,
                                           "reason": "Actions complete; no further concerns."},
                               "staff_address": None, "created_at": row["closed_at"]})
    _insert(conn, ReportPupil.__table__, link_rows)  # type: ignore[arg-type]
    _insert(conn, ChecklistItem.__table__, step_rows)  # type: ignore[arg-type]
    _insert(conn, CaseChecklist.__table__, attached_rows)  # type: ignore[arg-type]
    _insert(conn, Event.__table__, event_rows)  # type: ignore[arg-type]
    _store_recurring(conn, school_id)
    # Core inserts pass the session by: the figures' day counts are made here, all at once.
    rollup.rebuild(conn, school_id)
    refresh_statistics(conn)  # a bulk load: the planners need to see the new shape
    return SeedResult(school_id=school_id, reports=reports, pupils_created=created,
                      links=len(link_rows), events=len(event_rows),
                      first_report_id=min(report_ids), last_report_id=max(report_ids))


def _store_recurring(conn: Connection, school_id: int) -> None:
    """The recurring flag of every pupil of the school, under the school's rule, as
    portal.linking keeps it when the DSL links pupils one by one."""
    count, days = conn.execute(select(School.recurring_count, School.recurring_days)
                               .where(School.id == school_id)).one()
    flagged = sorted(linking.recurring_ids(conn, school_id, count, days))
    table = cast(Table, Pupil.__table__)
    conn.execute(update(table).where(table.c.school_id == school_id).values(recurring=False))
    for start in range(0, len(flagged), 500):
        conn.execute(update(table).where(table.c.id.in_(flagged[start:start + 500]))
                     .values(recurring=True))


def count_reports(conn: Connection, school_id: int) -> int:
    return int(conn.scalar(select(func.count()).select_from(Report.__table__)
                           .where(Report.school_id == school_id)) or 0)


__all__ = ["SeedError", "SeedResult", "count_reports", "make_roster", "seed_reports"]
