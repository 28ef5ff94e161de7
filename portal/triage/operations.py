"""Triage rules: the queue, viewing, status, decisions and notes. No Flask here."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    exists,
    func,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session, selectinload

from .. import checklists, followup, linking, notifications, overdue, priority, search

# Re-exported: the views, the demo and older callers know them as ops.acknowledge etc.
from ..casework.acknowledge import ALLOWED as ALLOWED
from ..casework.acknowledge import InvalidTransition as InvalidTransition
from ..casework.acknowledge import acknowledge as acknowledge
from ..events import Action
from ..models import (
    DSL_TEAM,
    NOT_BETTER,
    ActionKind,
    CaseAction,
    CheckBack,
    ChecklistItem,
    Event,
    Evidence,
    Finding,
    ItemState,
    Message,
    Pupil,
    Report,
    ReportKind,
    ReportPupil,
    School,
    Sender,
    User,
    utcnow,
)
from ..priority import URGENT
from ..vocabulary import (
    CONCERN_LABELS,
    KIND_LABELS,
    PLACE_LABELS,
    Category,
    Source,
    Status,
    concern_codes,
)

PAGE_SIZE = 25
REASON_MIN = 5


class StepsOpen(InvalidTransition):
    """Closing while a required checklist step is still open, without saying why."""


class ReasonRequired(ValueError):
    """A change without a written reason (KCSIE: decisions and reasons in writing)."""


@dataclass(frozen=True)
class QueueFilters:
    status: str = "open"  # open | new | in_review | closed | all
    kind: str = ""
    source: str = ""
    page: int = 1
    assigned_to: int | None = None  # "my cases"
    # issue 14: "Queue filters by decision, year group, date range, overdue, and 'a child
    # said it is not better'"
    decision: str = ""  # a Category code
    year: str = ""  # a year group ("Year 5") of a linked roster pupil
    arrived_from: date | None = None  # arrival, local days, inclusive
    arrived_to: date | None = None
    overdue: bool = False  # not acknowledged past its due time (portal.overdue)
    not_better: bool = False  # the latest check-back answer is "not better"


@dataclass(frozen=True)
class QueuePage:
    reports: list[Report]
    total: int
    page: int
    pages: int
    # the page's cases whose latest check-back answer is "not better" (shown first)
    not_better: frozenset[int] = frozenset()


def _visible(user: User) -> list[ColumnElement[bool]]:
    """Who may see what: their school's reports for DSL roles, their own concerns for staff."""
    conditions: list[ColumnElement[bool]] = [Report.school_id == user.school_id]
    if user.role not in DSL_TEAM:
        conditions.append(Report.created_by_id == user.id)
    return conditions


def visible_reports(user: User) -> Select[Report]:
    """Reports ``user`` may see: their school's for DSL roles, their own concerns for staff."""
    return select(Report).where(*_visible(user))


def _conditions(user: User, filters: QueueFilters, *,
                counting: bool = False) -> list[ColumnElement[bool]]:
    """The WHERE terms of the queue. A kind is asked as "id IN (that kind's reports)" when
    counting (one pass over the kind's index), and as "EXISTS" when reading a page (the
    page is read in queue order and stops after 25 rows, probing each report's kinds)."""
    conditions = _visible(user)
    if filters.status == "open":
        # A reply on a closed case brings it back into view until a DSL reads it
        # (Report.in_queue, which the database works out and indexes).
        conditions.append(Report.in_queue == true())
    elif filters.status in {s.value for s in Status}:
        conditions.append(Report.status == Status(filters.status))
    if filters.source in {s.value for s in Source}:
        conditions.append(Report.source == Source(filters.source))
    if filters.assigned_to is not None:
        conditions.append(Report.assigned_to_id == filters.assigned_to)
    if filters.kind and counting:
        conditions.append(
            Report.id.in_(select(ReportKind.report_id).where(ReportKind.kind == filters.kind))
        )
    elif filters.kind:
        conditions.append(exists().where(ReportKind.report_id == Report.id,
                                         ReportKind.kind == filters.kind))
    if filters.decision in {c.value for c in Category}:
        conditions.append(Report.category == Category(filters.decision))
    if filters.arrived_from is not None:
        conditions.append(Report.created_at >= _local_midnight(filters.arrived_from))
    if filters.arrived_to is not None:
        conditions.append(Report.created_at
                          < _local_midnight(filters.arrived_to + timedelta(days=1)))
    if filters.not_better:
        conditions.append(said_not_better())
    return conditions


def said_not_better() -> ColumnElement[bool]:
    """A case whose latest check-back answer is "not better" (ix_check_backs_latest)."""
    return Report.id.in_(select(CheckBack.report_id).where(CheckBack.latest.is_(True),
                                                           CheckBack.answer == NOT_BETTER))


def _local_midnight(day: date) -> datetime:
    """The start of ``day`` at the school (UK time), in UTC, as arrival times are kept."""
    return datetime.combine(day, time(0), tzinfo=overdue.LOCAL).astimezone(UTC)


def _overdue(school: School | None, now: datetime) -> ColumnElement[bool]:
    """Not acknowledged, not closed, and past its due time: the queue's Overdue tag, asked in
    SQL through the arrival cut-offs (portal.overdue.arrived_before) for urgent reports
    and the rest (ix_reports_unacknowledged)."""
    settings = {} if school is None else {
        "urgent_days": school.urgent_due_days, "normal_days": school.normal_due_days,
        "day_ends_hour": school.day_ends_hour}
    urgent = overdue.arrived_before(now, urgent=True, **settings)
    normal = overdue.arrived_before(now, urgent=False, **settings)
    return and_(Report.acknowledged_at.is_(None), Report.status != Status.CLOSED,
                Report.created_at < max(urgent, normal),
                or_(and_(Report.urgency >= URGENT, Report.created_at < urgent),
                    and_(Report.urgency < URGENT, Report.created_at < normal)))


def pupils_in_year(session: Session, school_id: int | None, year: str) -> list[int]:
    """The ids of the school's roster pupils in ``year``. Year groups are encrypted, so the
    roster is read and matched here, as ``linking.search_pupils`` does."""
    wanted = year.strip().casefold()
    return [p.id for p in session.scalars(select(Pupil).where(Pupil.school_id == school_id))
            if (p.year_group or "").strip().casefold() == wanted]


def _linked_to(pupil_ids: list[int]) -> ColumnElement[bool]:
    """Reports one of these pupils is linked to now (ix_report_pupils_pupil_report)."""
    return Report.id.in_(select(ReportPupil.report_id).where(
        ReportPupil.pupil_id.in_(pupil_ids), ReportPupil.unlinked_at.is_(None)))


def queue_key(report: Report, not_better: frozenset[int] = frozenset()) -> tuple[Any, ...]:
    """The queue's order: first a case where a child, asked "Is it better now?", said it is
    not ("A child who says no is seen first", issue 14); then urgent reports, the highest
    score first; among urgent reports of one score the newest first (what just arrived may
    be a child in danger now), among the others the oldest first (nothing waits forever)."""
    moment = report.created_at.timestamp()
    if report.id in not_better:
        return (0, -report.urgency, -moment, -report.id)
    if report.urgency >= URGENT:
        return (1, -report.urgency, -moment, -report.id)
    return (2, -report.urgency, moment, report.id)


def queue(session: Session, user: User, filters: QueueFilters, *,
          now: datetime | None = None) -> QueuePage:
    """One page of the queue, in ``queue_key`` order.

    Two queries whatever the page size or the number of reports, plus one each for the
    page's kinds and assignees (and, with a year group, one for the school's roster): the
    counts (all, "not better", urgent), then the page. Each band (a child said "not
    better", urgent, the rest) is read in index order (ix_reports_rank, ix_reports_status,
    ix_reports_open: school, urgency descending, time), so no query sorts every match.
    """
    extra: list[ColumnElement[bool]] = []
    if filters.year:
        extra.append(_linked_to(pupils_in_year(session, user.school_id, filters.year)))
    if filters.overdue:
        extra.append(_overdue(session.get(School, user.school_id), now or utcnow()))
    conditions = [*_conditions(user, filters), *extra]
    nb = said_not_better()
    is_urgent = Report.urgency >= URGENT
    total, nb_total, urgent_total = session.execute(
        select(func.count(), func.count(case((nb, 1))),
               func.count(case((and_(is_urgent, ~nb), 1))))
        .where(*_conditions(user, filters, counting=True), *extra)
    ).one()
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, filters.page), pages)
    start = (page - 1) * PAGE_SIZE
    newest = (Report.urgency.desc(), Report.created_at.desc(), Report.id.desc())
    oldest = (Report.urgency.desc(), Report.created_at, Report.id)
    bands = [(nb, nb_total, newest), (and_(is_urgent, ~nb), urgent_total, newest),
             (and_(Report.urgency < URGENT, ~nb), total - nb_total - urgent_total, oldest)]
    selects = []
    before = 0  # rows in the bands above this one
    for where, size, order in bands:
        offset = max(0, start - before)
        take = max(0, min(size - offset, start + PAGE_SIZE - before - offset, PAGE_SIZE))
        before += size
        ids = (select(Report.id).where(*conditions, where).order_by(*order)
               .offset(min(offset, size)).limit(take))
        selects.append(select(ids.subquery().c.id))
    rows = session.execute(
        select(Report, nb.label("not_better")).where(Report.id.in_(union_all(*selects)))
        .options(selectinload(Report.kinds), selectinload(Report.assigned_to))
    ).all()
    flagged = frozenset(r.id for r, said_no in rows if said_no)
    ordered = sorted((r for r, _ in rows), key=lambda r: queue_key(r, flagged))
    return QueuePage(ordered, total, page, pages, flagged)


def hint(report: Report) -> str:
    """What a report is about in a few words, from what the reporter chose (kinds, places,
    the parent's concern), never from what they wrote: safe for every role that sees the
    queue row."""
    words = [KIND_LABELS.get(k, k).split(" (")[0] for k in report.kind_values]
    if report.concern and not words:  # several concerns are kept joined with commas
        words.extend(CONCERN_LABELS[code] for code in concern_codes(report.concern))
    places = [label for p in (report.places or [])
              if (label := PLACE_LABELS.get(p, p)).split(" (")[0] not in words]
    about = ", ".join(w for w in words if w)
    where = ", ".join(places)
    return " · ".join(x for x in (about, where) if x)


def get_report(session: Session, user: User, report_id: int) -> Report | None:
    """The report if ``user`` may see it; None for another school's id (answered as 404)."""
    return session.scalar(visible_reports(user).where(Report.id == report_id))


VIEW_AGAIN_AFTER = timedelta(minutes=10)


def record_view(session: Session, report: Report, *, actor: User,
                events: list[Event] | None = None) -> Event | None:
    """Viewing a case is an audit event, once per visit: not again by the same person within
    ``VIEW_AGAIN_AFTER`` of their last view unless something happened to the case since.

    Looking is not acting: a view writes nothing else (no acknowledgement, no read receipt,
    no checklist); ``acknowledge`` does that. Returns the view event, or None.
    ``events`` is the case's chronology when the caller already has it.

    What counts as "something happened" is what somebody else did (a colleague, the
    reporter): the page a DSL sees after their own change shows nothing they did not know,
    and their change is already in the trail with who and when, so the usual path of a
    dozen changes in a few minutes stays one visit (issue 12 item 8)."""
    now = utcnow()
    history = chronology(session, report) if events is None else events
    mine = [e for e in history if e.action == Action.CASE_VIEWED and e.actor_id == actor.id]
    if mine:
        last = mine[-1]
        changed = any(e.id > last.id and e.action != Action.CASE_VIEWED
                      and e.actor_id != actor.id for e in history)
        if not changed and now - last.created_at < VIEW_AGAIN_AFTER:
            return None
    view = Event.by(actor, Action.CASE_VIEWED, school_id=report.school_id,
                    report_id=report.id, created_at=now)
    session.add(view)
    session.flush()
    return view


def viewed_not_acknowledged(session: Session, report_ids: list[int]) -> set[int]:
    """Of ``report_ids``, those a DSL has opened (a view event by a DSL role)."""
    if not report_ids:
        return set()
    return set(session.scalars(
        select(Event.report_id).join(User, User.id == Event.actor_id)
        .where(Event.report_id.in_(report_ids), Event.action == Action.CASE_VIEWED.value,
               User.role.in_(DSL_TEAM)).distinct()
    ))


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if len(text) < REASON_MIN:
        raise ReasonRequired("Write the reason for this change (a sentence is enough).")
    return text


def _tell_parent(session: Session, report: Report, base_url: str) -> None:
    """A parent who asked is emailed that there is an update (never what it is)."""
    school = session.get(School, report.school_id)
    if school is not None:
        notifications.parent_update(session, report, school, base_url)


def change_status(session: Session, report: Report, *, actor: User, status: Status,
                  reason: str | None, override: str = "", base_url: str) -> None:
    """Move a report on (new → in review → closed, or reopen) with a written reason; a
    parent who asked for updates is emailed that there is one (``base_url``: the portal's
    address for the link).

    A case can't be closed while a step the policy requires is open, unless the DSL writes
    why (``override``), which is kept with the case.
    """
    text = _reason(reason)
    if status not in ALLOWED[report.status]:
        raise InvalidTransition(
            f"A report that is {report.status.value.replace('_', ' ')} can't be moved to "
            f"{status.value.replace('_', ' ')}."
        )
    if status == Status.CLOSED:
        blocking = checklists.open_required(report)
        if blocking and len(override.strip()) < REASON_MIN:
            names = "; ".join(checklists.step_words(i.key) for i in blocking)
            raise StepsOpen(f"{len(blocking)} required step(s) are still open: {names}. Mark "
                            "them done or not needed, or write why the case closes anyway.")
        if blocking:
            report.close_override = override.strip()
            text = f"{text}\nClosed with {len(blocking)} required step(s) open, because: " \
                   f"{override.strip()}"
    old = report.status
    report.status = status
    report.closed_at = utcnow() if status == Status.CLOSED else None
    session.add(Event.by(actor, Action.STATUS_CHANGED,
                         {"from": old.value, "to": status.value, "reason": text},
                         school_id=report.school_id, report_id=report.id))
    _tell_parent(session, report, base_url)
    acknowledge(session, report, actor=actor)  # the first action acknowledges


def record_decision(session: Session, report: Report, *, actor: User, category: Category,
                    reason: str | None) -> None:
    """Decide what the report is ("Allegation of Bullying" → Bullying Incident / ...)."""
    text = _reason(reason)
    if category == report.category:
        raise InvalidTransition("The report is already in that category.")
    if report.category == Category.BULLYING_INCIDENT:
        # "Found responsible" needs the decision Bullying Incident (portal.casework.parties,
        # cyber-bullying policy 10.1): it can't stand under another decision.
        responsible = [p for p in report.pupil_links if p.finding == Finding.RESPONSIBLE]
        if responsible:
            names = ", ".join(p.label for p in responsible)
            raise InvalidTransition(
                f"{names} {'is' if len(responsible) == 1 else 'are'} recorded as found "
                "responsible, which needs the decision “Bullying Incident”: record another "
                "finding first.")
    old = report.category
    report.category = category
    session.add(Event.by(actor, Action.CATEGORY_CHANGED,
                         {"from": old.value, "to": category.value, "reason": text},
                         school_id=report.school_id, report_id=report.id))
    if report.status == Status.NEW:
        # A decided report is being dealt with; the chronology says so, as for any status.
        report.status = Status.IN_REVIEW
        session.add(Event.by(actor, Action.STATUS_CHANGED,
                             {"from": Status.NEW.value, "to": Status.IN_REVIEW.value,
                              "reason": text},
                             school_id=report.school_id, report_id=report.id))
    acknowledge(session, report, actor=actor)  # the first action acknowledges


def decide_and_close(session: Session, report: Report, *, actor: User, category: Category,
                     reason: str | None, override: str = "", base_url: str) -> None:
    """The decision card's "decide and close": record the decision when it is a new one
    (keeping the one already made is no refusal here), then close with the same reason.
    Either rule refusing raises before the caller commits, so neither is kept."""
    if category != report.category:
        record_decision(session, report, actor=actor, category=category, reason=reason)
    change_status(session, report, actor=actor, status=Status.CLOSED, reason=reason,
                  override=override, base_url=base_url)


def add_note(session: Session, report: Report, *, actor: User, note: str) -> None:
    """A staff-only note in the chronology; never shown to the reporter."""
    text = note.strip()
    if not text:
        raise ReasonRequired("Write the note first.")
    session.add(Event.by(actor, Action.NOTE_ADDED, {"note": text},
                         school_id=report.school_id, report_id=report.id))
    search.index_text(session, report, text)
    acknowledge(session, report, actor=actor)  # the first action acknowledges


def chronology(session: Session, report: Report) -> list[Event]:
    """Every event of a report, oldest first, with who did it."""
    return list(session.scalars(
        select(Event).where(Event.report_id == report.id)
        .options(selectinload(Event.actor)).order_by(Event.created_at, Event.id)
    ))


def set_kinds(session: Session, report: Report, *, actor: User, kinds: list[str],
              reason: str | None, school: School,
              word_dirs: tuple[Path, ...] = ()) -> list[str]:
    """Record what kind of bullying this is after review (prejudice-based ones included)
    and score the report again (kinds weigh in its urgency; ``word_dirs``: the school's
    extra word lists); returns the checklists this added."""
    text = _reason(reason)
    old = report.kind_values
    new = list(dict.fromkeys(kinds))
    if sorted(old) == sorted(new):
        raise InvalidTransition("Those are already the kinds recorded.")
    report.kinds = [ReportKind(kind=k) for k in new]
    session.flush()
    # The whole lists: the old ReportKind rows are gone, so this event is their record.
    session.add(Event.by(actor, Action.KINDS_CHANGED,
                         {"from": old, "to": new, "reason": text, "complete": True},
                         school_id=report.school_id, report_id=report.id))
    added = checklists.sync(session, report)
    linking.rescore(session, report, school, word_dirs)  # re-syncs if the reasons change
    acknowledge(session, report, actor=actor)  # the first action acknowledges
    return added


def add_checklist(session: Session, report: Report, *, actor: User, name: str) -> None:
    """Attach a policy checklist by hand (e.g. malicious posts 5.1–5.8)."""
    if name not in checklists.CHECKLISTS:
        raise InvalidTransition("There is no such checklist.")
    if not checklists.attach(session, report, [name]):
        raise InvalidTransition("The case already has that checklist.")
    session.add(Event.by(actor, Action.CHECKLIST_ADDED, {"checklist": name},
                         school_id=report.school_id, report_id=report.id))
    acknowledge(session, report, actor=actor)  # the first action acknowledges


def update_step(session: Session, item: ChecklistItem, *, actor: User, state: ItemState,
                note: str) -> None:
    """Mark a required step done or not needed (by whom, when, with a note)."""
    if state == ItemState.NOT_NEEDED and len(note.strip()) < REASON_MIN:
        raise ReasonRequired("Write why this step is not needed.")
    old = item.state
    item.state = state
    item.note = note.strip()
    item.done_by_id = actor.id if state != ItemState.OPEN else None
    item.done_at = utcnow() if state != ItemState.OPEN else None
    session.add(Event.by(actor, Action.STEP_UPDATED,
                         {"checklist": item.checklist, "step": item.key, "from": old.value,
                          "to": state.value, "note": note.strip() or None},
                         school_id=actor.school_id, report_id=item.report_id))
    report = session.get(Report, item.report_id)
    if report is not None:
        acknowledge(session, report, actor=actor)  # the first action acknowledges


def record_action(session: Session, report: Report, *, actor: User, kind: ActionKind,
                  happened_on: date, who: str = "", how: str = "", agency: str = "",
                  note: str = "") -> CaseAction:
    """Record parents informed (who, how, when), support, sanctions or an agency involved."""
    if kind == ActionKind.PARENTS_INFORMED and (not who.strip() or not how):
        raise ReasonRequired("Say who was informed and how.")
    if kind == ActionKind.AGENCY and not agency:
        raise ReasonRequired("Choose which agency.")
    if kind in (ActionKind.SUPPORT_TARGET, ActionKind.SUPPORT_PERPETRATOR,
                ActionKind.SANCTION) and len(note.strip()) < REASON_MIN:
        raise ReasonRequired("Describe the support or sanction.")
    if happened_on > date.today():
        raise InvalidTransition("The date can't be in the future.")
    action = CaseAction(report_id=report.id, kind=kind, who=who.strip(), how=how,
                        agency=agency, happened_on=happened_on, note=note.strip(),
                        recorded_by_id=actor.id)
    session.add(action)
    session.flush()
    session.add(Event.by(actor, Action.ACTION_RECORDED,
                         {"action": kind.value, "note": note.strip() or None},
                         school_id=report.school_id, report_id=report.id))
    acknowledge(session, report, actor=actor)  # the first action acknowledges
    return action


def dsl_team(session: Session, school_id: int) -> list[User]:
    """Who a case can be assigned to: the school's DSL and deputies."""
    return list(session.scalars(
        select(User).where(User.school_id == school_id, User.is_active.is_(True),
                           User.role.in_(DSL_TEAM))
        .order_by(User.display_name, User.email)
    ))


def dsl_team_of(staff: Iterable[User]) -> list[User]:
    """``dsl_team`` from a school's accounts already loaded, in the same order."""
    return sorted((u for u in staff if u.is_active and u.role in DSL_TEAM),
                  key=lambda u: (u.display_name, u.email))


def assign(session: Session, report: Report, *, actor: User, assignee: User | None) -> None:
    """Give the case to a member of the DSL team (or take it off everyone)."""
    if assignee is not None and (assignee.school_id != report.school_id
                                 or assignee.role not in DSL_TEAM):
        raise InvalidTransition("Cases can only be assigned to the school's DSL team.")
    if (assignee.id if assignee else None) == report.assigned_to_id:
        raise InvalidTransition("The case is already assigned that way.")
    old = report.assigned_to_id
    report.assigned_to_id = assignee.id if assignee else None
    session.add(Event.by(actor, Action.CASE_ASSIGNED,
                         {"from": old, "to": assignee.id if assignee else None},
                         school_id=report.school_id, report_id=report.id))
    acknowledge(session, report, actor=actor)  # the first action acknowledges


def record_concern(session: Session, *, actor: User, told_by: str, told_by_class: str,
                   what_happened: str, kinds: list[str], places: list[str], when: str | None,
                   feels_safe: str | None, people_involved: str,
                   word_dirs: tuple[Path, ...] = ()) -> Report:
    """A member of staff logs what a pupil told them ("dealt with immediately by the member
    of staff who has been approached ... logged ... as 'Allegation of Bullying'").

    Staff concerns have no follow-up code; an unguessable random value fills the column."""
    urgency = priority.assess(feels_safe=feels_safe, kinds=kinds, happened_before=None,
                              places=places, text=f"{what_happened}\n{people_involved}",
                              extra_dirs=word_dirs)
    report = Report(
        school_id=actor.school_id, source=Source.STAFF, created_by_id=actor.id,
        followup_code_hash=followup.code_hash(secrets.token_hex(16)),
        body=what_happened, kinds=[ReportKind(kind=k) for k in dict.fromkeys(kinds)],
        places=list(places), when=when, feels_safe=feels_safe,
        people_involved=people_involved, anonymous=False, reporter_name=told_by,
        reporter_class=told_by_class, urgency=urgency.score,
        urgency_reasons=urgency.stored(),
    )
    session.add(report)
    session.flush()
    search.index_report(session, report)
    session.add(Event.by(actor, Action.REPORT_RECEIVED, {"source": Source.STAFF.value},
                         school_id=report.school_id, report_id=report.id))
    checklists.sync(session, report)
    session.flush()
    return report


MESSAGE_LIMIT = 5000


def message_reporter(session: Session, report: Report, *, actor: User, body: str,
                     base_url: str) -> Message:
    """Write to the reporter through their follow-up code ("reassurance that it was right to
    report the incident and that something will be done about it", cyber policy 8.1); a
    parent who asked for updates is emailed that there is one.

    The audit event records that a message went, not what it said."""
    text = body.strip()
    if not text:
        raise ReasonRequired("Write the message first.")
    if len(text) > MESSAGE_LIMIT:
        raise ReasonRequired(f"Keep the message to {MESSAGE_LIMIT} characters.")
    message = Message(report_id=report.id, sender=Sender.STAFF, author_id=actor.id, body=text)
    session.add(message)
    session.add(Event.by(actor, Action.MESSAGE_TO_REPORTER, school_id=report.school_id,
                         report_id=report.id))
    _tell_parent(session, report, base_url)
    acknowledge(session, report, actor=actor)  # the first action acknowledges
    return message


def record_download(session: Session, report: Report, item: Evidence, *,
                    actor: User) -> None:
    """Every download of an evidence file is an audit event (which file, by whom)."""
    session.add(Event.by(actor, Action.EVIDENCE_DOWNLOADED, {"evidence_id": item.id},
                         school_id=report.school_id, report_id=report.id))
    session.flush()


def record_pupil_view(session: Session, pupil: Pupil, *, actor: User) -> None:
    """Opening a child's page (every concern about them) is an audit event."""
    session.add(Event.by(actor, Action.PUPIL_VIEWED, {"pupil_id": pupil.id},
                         school_id=pupil.school_id))
    session.flush()
