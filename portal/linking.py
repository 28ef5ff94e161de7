"""Pupils linked to reports: suggestions, links with roles, recurring concerns, chronology.

Anti-bullying policy: bullying is "behaviour by an individual or a group, repeated over
time"; staff "collate all reoccurring concerns regarding individual pupils".
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session, selectinload

from . import checklists, priority, search
from .casework.acknowledge import acknowledge
from .config import PACKAGE_DIR
from .events import Action
from .models import Event, LinkRole, Pupil, Report, ReportPupil, School, User, utcnow


class LinkError(ValueError):
    """A link the rules refuse (another school's pupil, already linked in that role)."""


@dataclass(frozen=True)
class Suggestion:
    pupil: Pupil
    score: float
    because: str  # the words in the report that look like this pupil's name


def _word_file(name: str) -> frozenset[str]:
    path = PACKAGE_DIR / "data" / name
    lines = (line.split("#")[0] for line in path.read_text(encoding="utf-8").splitlines())
    return frozenset(word for line in lines for word in line.lower().split())


# Common English words never suggest a pupil ("been" ~ Ben); words that are also names
# ("grace", "will", "may") only when written with a capital letter (issue 12, item 13).
COMMON_WORDS = _word_file("common-words.txt")
NAME_WORDS = _word_file("name-words.txt")
FULL_NAME_MATCH = 0.8  # "aisha kahn" ~ "aisha khan"
FIRST_NAME_MATCH = 0.85  # a first name alone, spelt nearly right
FUZZY_FROM = 5  # a first name shorter than this must be spelt exactly ("ben" is not "been")


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z][a-z'-]+", text.lower())


def _name_like(text: str) -> list[str]:
    """The words of ``text`` (lower case) that could be a first name on their own: not a
    common word, and a word that is also a name only where it is written capitalised."""
    found = []
    for word in re.findall(r"[A-Za-z][A-Za-z'-]+", text):
        low = word.lower()
        if len(low) < 3 or low in COMMON_WORDS:
            continue
        if low in NAME_WORDS and not word[0].isupper():
            continue
        found.append(low)
    return found


def _matchers(texts: Iterable[str]) -> list[tuple[str, SequenceMatcher[str]]]:
    """One matcher per distinct text, holding it as the second sequence: difflib caches
    what it learns about that one, so each roster name then costs only the comparison."""
    made = []
    for value in sorted(set(texts)):
        matcher: SequenceMatcher[str] = SequenceMatcher(None)
        matcher.set_seq2(value)
        made.append((value, matcher))
    return made


def _ratio(matcher: SequenceMatcher[str], name: str, least: float) -> float:
    """``SequenceMatcher(None, name, text).ratio()``, or 0 when its cheap upper bounds
    already show it is below ``least`` (the same answer, without the costly part)."""
    matcher.set_seq1(name)
    if matcher.real_quick_ratio() < least or matcher.quick_ratio() < least:
        return 0.0
    return matcher.ratio()


def suggest(session: Session, report: Report, parties: Iterable[ReportPupil] | None = None,
            *, limit: int = 6) -> list[Suggestion]:
    """Roster pupils whose names resemble names the reporter typed (never linked by itself);
    ``parties``: the report's current parties, when the caller has them loaded."""
    text = " ".join([report.people_involved, report.body, report.reporter_name,
                     report.child_name])
    words = _words(text)
    if not words:
        return []
    pairs = _matchers(f"{a} {b}" for a, b in zip(words, words[1:], strict=False)
                      if not (a in COMMON_WORDS or b in COMMON_WORDS))
    # A first name alone ranks below any full name, and only from a word that looks like
    # a name.
    singles = _matchers(_name_like(text))
    linked = {link.pupil_id for link in (report.pupil_links if parties is None else parties)
              if link.pupil_id is not None and link.unlinked_at is None}
    best: dict[int, Suggestion] = {}
    pupils = session.scalars(select(Pupil).where(Pupil.school_id == report.school_id,
                                                 Pupil.on_roll.is_(True)))
    for pupil in pupils:
        if pupil.id in linked:
            continue
        full = f"{pupil.first_name} {pupil.last_name}".lower()
        first = pupil.first_name.lower()
        candidates = [(ratio, pair) for pair, matcher in pairs
                      if abs(len(pair) - len(full)) < 4
                      and (ratio := _ratio(matcher, full, FULL_NAME_MATCH)) >= FULL_NAME_MATCH]
        if len(first) < FUZZY_FROM:
            candidates += [(0.7, w) for w, _matcher in singles if w == first]
        else:
            candidates += [(0.7 * ratio, w) for w, matcher in singles
                           if abs(len(w) - len(first)) < 2
                           and (ratio := _ratio(matcher, first, FIRST_NAME_MATCH))
                           >= FIRST_NAME_MATCH]
        if candidates:
            score, because = max(candidates)
            best[pupil.id] = Suggestion(pupil, round(score, 2), because)
    return sorted(best.values(), key=lambda s: (-s.score, s.pupil.last_name))[:limit]


def _recurring_ids(dates_by_pupil: dict[int, list[datetime]], count: int, days: int) -> set[int]:
    """Pupils with ``count`` reports inside any window of ``days`` days."""
    window = timedelta(days=days)
    found = set()
    for pupil_id, dates in dates_by_pupil.items():
        ordered = sorted(dates)
        for i in range(len(ordered) - count + 1):
            if ordered[i + count - 1] - ordered[i] <= window:
                found.add(pupil_id)
                break
    return found


@dataclass(frozen=True)
class PupilFlags:
    """What the queue and case page show about the pupils linked to each report."""

    recurring: frozenset[int]  # report ids with a recurring pupil
    send: frozenset[int]  # report ids with a SEND pupil
    pupils: dict[int, list[tuple[Pupil, LinkRole, bool]]]  # report id -> (pupil, role, recurring)


def recurring_ids(db: Session | Connection, school_id: int, count: int, days: int,
                  pupil_ids: Iterable[int] | None = None) -> set[int]:
    """The school's pupils (or those of ``pupil_ids``) linked to ``count`` reports within
    ``days`` days at some point in their history."""
    query = (
        select(ReportPupil.pupil_id, Report.created_at)
        .join(Report, Report.id == ReportPupil.report_id)
        .where(Report.school_id == school_id, ReportPupil.unlinked_at.is_(None),
               ReportPupil.pupil_id.is_not(None)).distinct())
    if pupil_ids is not None:
        query = query.where(ReportPupil.pupil_id.in_(sorted(set(pupil_ids))))
    dates: dict[int, list[datetime]] = defaultdict(list)
    for pupil_id, created in db.execute(query):
        if pupil_id is not None:
            dates[pupil_id].append(created)
    return _recurring_ids(dates, count, days)


def store_recurring(session: Session, school: School,
                    pupil_ids: Iterable[int] | None = None) -> set[int]:
    """Store on each pupil (all the school's, or ``pupil_ids``) whether the school's rule
    makes them recurring; called whenever a link, a report or the rule changes. Returns the
    ids of the pupils whose flag changed."""
    chosen = None if pupil_ids is None else sorted(set(pupil_ids))
    if chosen == []:
        return set()
    found = recurring_ids(session, school.id, school.recurring_count, school.recurring_days,
                          chosen)
    pupils = select(Pupil).where(Pupil.school_id == school.id)
    if chosen is not None:
        pupils = pupils.where(Pupil.id.in_(chosen))
    changed = set()
    for pupil in session.scalars(pupils):
        if pupil.recurring != (pupil.id in found):
            pupil.recurring = pupil.id in found
            changed.add(pupil.id)
    session.flush()
    return changed


def refresh_pupils(session: Session, school: School, pupil_ids: Iterable[int] | None = None,
                   word_dirs: tuple[Path, ...] = ()) -> None:
    """The school's recurring rule or a child's reports changed: each pupil's flag (all the
    school's, or ``pupil_ids``) is worked out again, and the reports of the children whose
    flag changed are scored again."""
    for pupil_id in sorted(store_recurring(session, school, pupil_ids)):
        for report in _pupil_reports(session, pupil_id):
            rescore(session, report, school, word_dirs)
    session.flush()


def flags_for(session: Session, report_ids: Iterable[int]) -> PupilFlags:
    """Recurring and SEND flags for a set of reports, in one query whatever their number
    (the recurring flag is stored on each pupil, so no history is read here)."""
    ids = list(report_ids)
    if not ids:
        return PupilFlags(frozenset(), frozenset(), {})
    links = session.execute(
        select(ReportPupil, Pupil).join(Pupil, Pupil.id == ReportPupil.pupil_id)
        .where(ReportPupil.report_id.in_(ids), ReportPupil.unlinked_at.is_(None))
        .order_by(ReportPupil.linked_at, ReportPupil.id)
    ).all()
    return _flags(links)


def flags_of(parties: Iterable[ReportPupil]) -> PupilFlags:
    """``flags_for`` one report from its current parties already loaded with their pupils
    (the case page), without a query."""
    return _flags([(p, p.pupil) for p in parties
                   if p.pupil is not None and p.unlinked_at is None])


def _flags(links: Iterable[Any]) -> PupilFlags:
    per_report: dict[int, list[tuple[Pupil, LinkRole, bool]]] = defaultdict(list)
    recurring, send = set(), set()
    for link, pupil in links:
        per_report[link.report_id].append((pupil, link.role, pupil.recurring))
        if pupil.recurring:
            recurring.add(link.report_id)
        if pupil.has_send:
            send.add(link.report_id)
    return PupilFlags(frozenset(recurring), frozenset(send), dict(per_report))


def rescore(session: Session, report: Report, school: School,
            word_dirs: tuple[Path, ...] = ()) -> None:
    """Recompute a report's urgency now that its linked pupils may be SEND or recurring."""
    flags = flags_for(session, [report.id])
    urgency = priority.assess(
        feels_safe=report.feels_safe, kinds=report.kind_values,
        happened_before=report.happened_before, places=list(report.places or []),
        text=f"{report.body}\n{report.people_involved}", send=report.id in flags.send,
        recurring=report.id in flags.recurring, concern=report.concern,
        since=report.since_when, extra_dirs=word_dirs,
    )
    report.urgency = urgency.score
    reasons = urgency.stored()
    if reasons != report.urgency_reasons:
        report.urgency_reasons = reasons
        # New reasons may be facts a checklist needs (a threat: cyber policy 5).
        checklists.sync(session, report)


def _pupil_reports(session: Session, pupil_id: int) -> list[Report]:
    return list(session.scalars(
        select(Report).join(ReportPupil, ReportPupil.report_id == Report.id)
        .where(ReportPupil.pupil_id == pupil_id, ReportPupil.unlinked_at.is_(None))
        .options(selectinload(Report.kinds))
    ).unique())


def _acknowledge(session: Session, report: Report, actor: User) -> None:
    """The first action of any kind on a case acknowledges it (triage.operations, which
    imports this module: hence the import here)."""
    acknowledge(session, report, actor=actor)


def link(session: Session, report: Report, pupil: Pupil, role: LinkRole, *, actor: User,
         school: School, word_dirs: tuple[Path, ...] = ()) -> ReportPupil:
    """Link a roster pupil to a report with a role; every report of that pupil is rescored."""
    if pupil.school_id != report.school_id:
        raise LinkError("That pupil is not on this school's roster.")
    if any(lk.pupil_id == pupil.id and lk.role == role for lk in report.pupil_links):
        raise LinkError(f"{pupil.name} is already linked to this report in that role.")
    row = ReportPupil(report_id=report.id, pupil_id=pupil.id, role=role, linked_by_id=actor.id)
    session.add(row)
    session.add(Event.by(actor, Action.PUPIL_LINKED, {"pupil_id": pupil.id, "role": role.value},
                         school_id=report.school_id, report_id=report.id))
    session.flush()
    search.index_text(session, report, pupil.name)  # the school's search finds them by name
    session.expire(report, ["pupil_links"])
    store_recurring(session, school, [pupil.id])
    for other in _pupil_reports(session, pupil.id):
        rescore(session, other, school, word_dirs)
    _acknowledge(session, report, actor)
    return row


def unlink(session: Session, row: ReportPupil, *, actor: User, school: School, reason: str,
           word_dirs: tuple[Path, ...] = ()) -> None:
    """Undo a link made in error; the link stays in the record with when it was removed."""
    if len(reason.strip()) < 5:
        raise LinkError("Write why this pupil is being unlinked.")
    row.unlinked_at = utcnow()
    if row.pupil_id is None:
        # Someone not on the roster (portal.casework.parties): no recurring flag or
        # urgency hangs on them, only the record that they were removed and why.
        session.add(Event.by(actor, Action.PARTY_REMOVED,
                             {"party_id": row.id, "kind": row.party_kind.value,
                              "role": row.role.value, "reason": reason.strip()},
                             school_id=school.id, report_id=row.report_id))
        removed_from = session.get(Report, row.report_id)
        if removed_from is not None:
            session.expire(removed_from, ["pupil_links"])
            _acknowledge(session, removed_from, actor)
        session.flush()
        return
    session.add(Event.by(actor, Action.PUPIL_UNLINKED,
                         {"pupil_id": row.pupil_id, "role": row.role.value,
                          "reason": reason.strip()},
                         school_id=school.id, report_id=row.report_id))
    session.flush()
    store_recurring(session, school, [row.pupil_id])
    report = session.get(Report, row.report_id)
    if report is not None:
        session.expire(report, ["pupil_links"])
        rescore(session, report, school, word_dirs)
    for other in _pupil_reports(session, row.pupil_id):
        rescore(session, other, school, word_dirs)
    if report is not None:
        _acknowledge(session, report, actor)
    session.flush()


@dataclass(frozen=True)
class ChronologyEntry:
    report: Report
    role: LinkRole
    linked_at: datetime
    # the role in words: "Perpetrator (found responsible)" once a finding says so (10.1)
    role_words: str = ""


def chronology(session: Session, pupil: Pupil) -> list[ChronologyEntry]:
    """Every concern involving this child, from every source, oldest first, with roles."""
    rows = session.execute(
        select(ReportPupil, Report).join(Report, Report.id == ReportPupil.report_id)
        .where(ReportPupil.pupil_id == pupil.id, ReportPupil.unlinked_at.is_(None))
        .options(selectinload(Report.kinds))
        .order_by(Report.created_at, Report.id)
    ).all()
    return [ChronologyEntry(report, link.role, link.linked_at, link.role_words)
            for link, report in rows]


def term_start(today: date) -> date:
    """The first day of the current school term (autumn from September, spring from
    January, summer from April): close enough for "this term" on a DSL's screen."""
    if today.month >= 9:
        return date(today.year, 9, 1)
    if today.month >= 4:
        return date(today.year, 4, 1)
    return date(today.year, 1, 1)


@dataclass(frozen=True)
class PupilCount:
    pupil: Pupil
    reports: int
    last: datetime


def pupils_in_several_reports(session: Session, school_id: int, since: datetime,
                              minimum: int = 2) -> list[PupilCount]:
    """Children linked to at least ``minimum`` reports since ``since``, most reports first
    (then by surname, sorted here: names are encrypted, the database can't order them)."""
    rows = session.execute(
        select(Pupil, func.count(func.distinct(Report.id)), func.max(Report.created_at))
        .join(ReportPupil, ReportPupil.pupil_id == Pupil.id)
        .join(Report, Report.id == ReportPupil.report_id)
        .where(Pupil.school_id == school_id, ReportPupil.unlinked_at.is_(None),
               Report.created_at >= since)
        .group_by(Pupil.id)
        .having(func.count(func.distinct(Report.id)) >= minimum)
    ).all()
    counts = [PupilCount(pupil, count, last) for pupil, count, last in rows]
    return sorted(counts, key=lambda c: (-c.reports, _name_key(c.pupil)))


def _name_key(pupil: Pupil) -> tuple[str, str, int]:
    return (pupil.last_name.casefold(), pupil.first_name.casefold(), pupil.id)


def search_pupils(session: Session, school_id: int, query: str, limit: int = 50) -> list[Pupil]:
    """Roster pupils whose name or UPN contains ``query`` (the first ``limit`` when empty),
    by surname. Names and UPNs are encrypted, so the school's roster (a few thousand
    pupils at most) is read and matched here, not in SQL."""
    pupils = session.scalars(select(Pupil).where(Pupil.school_id == school_id)).all()
    wanted = query.strip().casefold()
    if wanted:
        pupils = [p for p in pupils
                  if wanted in f"{p.first_name} {p.last_name}".casefold()
                  or wanted in p.upn.casefold()]
    return sorted(pupils, key=_name_key)[:limit]
