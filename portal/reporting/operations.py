"""Storing reports and finding them again by follow-up code. No Flask here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import checklists, evidence, followup, notifications, priority, search
from .. import vocabulary as words
from ..events import Action
from ..forms import as_id
from ..models import (
    Event,
    Evidence,
    Message,
    Report,
    ReportAdult,
    ReportKind,
    School,
    Sender,
    TrustedAdult,
    User,
    utcnow,
)
from ..vocabulary import ADULT_ANYONE, ADULT_NOBODY, ONLINE, Source, Status, concern_codes


@dataclass
class PupilSubmission:
    """What a pupil sent, already validated."""

    about: str
    kinds: list[str]
    what_happened: str
    places: list[str] = field(default_factory=list)
    when: str | None = None
    happened_before: str | None = None
    who_involved: str = ""
    feels_safe: str = "not_sure"
    anonymous: bool = True
    reporter_name: str = ""
    reporter_class: str = ""
    adult: str = ADULT_ANYONE


@dataclass
class ParentSubmission:
    """What a parent or carer sent, already validated."""

    child_name: str
    child_year: str
    concern: Sequence[str] | str  # one code or several (the form's checkboxes)
    details: str
    parent_name: str
    contact_preference: str
    kinds: list[str] = field(default_factory=list)
    since_when: str = ""
    told_before: str | None = None
    contact_email: str = ""
    contact_phone: str = ""
    email_updates: bool = False


@dataclass(frozen=True)
class Stored:
    """A stored report and the follow-up code to show (only ever shown, never kept)."""

    report: Report
    code: str
    repeated: bool = False
    files: tuple[Path, ...] = ()  # evidence written to disk, removed if the commit fails


@dataclass(frozen=True)
class Extras:
    """What comes with a submission besides its words: files, and where mail links point."""

    files: tuple[evidence.CleanFile, ...] = ()
    evidence_dir: Path | None = None
    base_url: str = "http://127.0.0.1:5000"
    word_dirs: tuple[Path, ...] = ()


def _keep_evidence(session: Session, report: Report, extras: Extras) -> tuple[Path, ...]:
    """Write the cleaned files under server-made names and record their hashes."""
    if not extras.files or extras.evidence_dir is None:
        return ()
    return keep_files(session, report, extras.files, extras.evidence_dir)


def keep_files(session: Session, report: Report, files: Sequence[evidence.CleanFile],
               evidence_dir: Path, *, added_by: User | None = None) -> tuple[Path, ...]:
    """Write cleaned files under server-made names, encrypted, and record their hashes on
    ``report`` (``added_by``: the member of staff who added them; None for the reporter).
    A failure removes every file written, so nothing is left without its row."""
    written = []
    try:
        for item in files:
            name = evidence.new_name(item.content_type)
            written.append(evidence.write(evidence_dir / str(report.school_id), name,
                                          item.data))
            report.evidence.append(Evidence(
                stored_name=name, content_type=item.content_type,
                size_received=item.size_received, size_kept=len(item.data),
                sha256_received=item.sha256_received, sha256_kept=item.sha256_kept,
                treatment=item.treatment, added_by_id=added_by.id if added_by else None))
        session.flush()
    except BaseException:
        evidence.remove(written)
        raise
    return tuple(written)


def adult_label(session: Session, school: School, choice: str) -> str:
    """What the pupil chose, in words the DSL reads."""
    if choice == ADULT_NOBODY:
        return "Nobody yet"
    adult_id = as_id(choice)
    if choice == ADULT_ANYONE or adult_id is None:
        return "Any adult"
    adult = session.get(TrustedAdult, adult_id)
    if adult is None or adult.school_id != school.id:
        return "Any adult"
    return adult.name


def chosen_adult_id(session: Session, school: School, choice: str) -> int | None:
    """The id of the trusted adult the pupil chose, if they chose one of the school's."""
    adult_id = as_id(choice)
    if adult_id is None:
        return None
    adult = session.get(TrustedAdult, adult_id)
    return adult.id if adult is not None and adult.school_id == school.id else None


def _arrive(session: Session, school: School, stored: Stored, extras: Extras) -> Stored:
    """Store a new report with its arrival event, the DSL team's email, and its files."""
    report = stored.report
    session.add(report)
    session.flush()
    search.index_report(session, report)  # its words, in the same transaction
    session.add(Event.new(Action.REPORT_RECEIVED, {"source": report.source.value},
                          school_id=school.id, report_id=report.id))
    # The policy's checklists start with the facts that require them (its kinds, places
    # and reasons), not when a DSL first looks (portal.checklists).
    checklists.sync(session, report)
    notifications.report_arrived(session, report, school, extras.base_url)
    files = _keep_evidence(session, report, extras)
    session.flush()
    return Stored(report, stored.code, files=files)


# How long after a report its form counts as "the same form sent again" (a double click,
# a second tap while the first answer is on its way). Later, a form carrying that value is
# never answered with the code: a copy of the visit's cookie (the session lives in it)
# replayed later must not reveal it (trial finding).
REPEAT_SECONDS = 30


class RepeatTooLate(LookupError):
    """The form's report was stored longer ago than a repeat can be: never show its code."""


def find_repeat(session: Session, token: str, *, now: datetime | None = None) -> Stored | None:
    """The report already stored from this form, if the same form is sent again within
    ``REPEAT_SECONDS``; RepeatTooLate if it was stored before that.

    Not asked before storing: a repeat is rare, and the unique submission hash refuses it
    at the commit (the views then call this), so the common case costs no extra query."""
    report = session.scalar(
        select(Report).where(Report.submission_hash == followup.submission_hash(token))
    )
    if report is None or report.sealed_code is None:
        return None
    if (now or utcnow()) - report.created_at > timedelta(seconds=REPEAT_SECONDS):
        raise RepeatTooLate
    return Stored(report, followup.unseal_code(report.sealed_code, token), repeated=True)


def _new_report(school: School, source: Source, token: str, **values: object) -> Stored:
    code = followup.new_code()
    report = Report(
        school_id=school.id,
        source=source,
        followup_code_hash=followup.code_hash(code),
        submission_hash=followup.submission_hash(token),
        sealed_code=followup.seal_code(code, token),
        # Empty from the start, so attaching the checklists at arrival reads nothing back.
        checklist_items=[], checklists=[],
        **values,
    )
    return Stored(report, code)


def submit_pupil_report(
    session: Session, school: School, data: PupilSubmission, *, token: str,
    extras: Extras | None = None,
) -> Stored:
    """Store a pupil's report ("logged ... under the category of 'Allegation of Bullying'")."""
    extras = extras or Extras()
    urgency = priority.assess(feels_safe=data.feels_safe, kinds=data.kinds,
                              happened_before=data.happened_before, places=data.places,
                              text=f"{data.what_happened}\n{data.who_involved}",
                              extra_dirs=extras.word_dirs)
    stored = _new_report(
        school, Source.PUPIL, token,
        body=data.what_happened,
        about=data.about,
        when=data.when,
        happened_before=data.happened_before,
        places=list(data.places),
        people_involved=data.who_involved,
        feels_safe=data.feels_safe,
        anonymous=data.anonymous,
        reporter_name="" if data.anonymous else data.reporter_name,
        reporter_class="" if data.anonymous else data.reporter_class,
        preferred_adult=adult_label(session, school, data.adult),
        urgency=urgency.score,
        urgency_reasons=urgency.stored(),
        kinds=[ReportKind(kind=k) for k in dict.fromkeys(data.kinds)],
    )
    arrived = _arrive(session, school, stored, extras)
    # The adult by id as well as by name, so the DSL can tell them a pupil asked for them
    # even after the adult is renamed (portal.casework.notices).
    adult_id = chosen_adult_id(session, school, data.adult)
    if adult_id is not None:
        session.add(ReportAdult(report_id=arrived.report.id, adult_id=adult_id))
        session.flush()
    return arrived


def submit_parent_report(
    session: Session, school: School, data: ParentSubmission, *, token: str,
    extras: Extras | None = None,
) -> Stored:
    """Store a parent's report ("Parents/carers are actively encouraged to: Report ...")."""
    extras = extras or Extras()
    concerns = concern_codes(data.concern)
    kinds = list(data.kinds)
    if ONLINE in concerns and ONLINE not in kinds:
        kinds.append(ONLINE)
    urgency = priority.assess(feels_safe=None, kinds=kinds, happened_before=None, places=[],
                              text=data.details, concern=data.concern,
                              since=data.since_when, extra_dirs=extras.word_dirs)
    stored = _new_report(
        school, Source.PARENT, token,
        body=data.details,
        anonymous=False,
        child_name=data.child_name,
        child_year=data.child_year,
        concern=",".join(concerns) or None,
        since_when=data.since_when,
        told_before=data.told_before,
        parent_name=data.parent_name,
        contact_email=data.contact_email,
        contact_phone=data.contact_phone,
        contact_preference=data.contact_preference,
        notify_updates=data.email_updates and bool(data.contact_email),
        urgency=urgency.score,
        urgency_reasons=urgency.stored(),
        kinds=[ReportKind(kind=k) for k in dict.fromkeys(kinds)],
    )
    return _arrive(session, school, stored, extras)


@dataclass(frozen=True)
class ReporterStatus:
    """What the follow-up page says about where a report is: a short word and one sentence
    that is true of both the status and whether an adult has acknowledged it."""

    short: str
    sentence: str


def reporter_status(report: Report, date: Callable[[datetime], str]) -> ReporterStatus:
    """The status in the reporter's words (a child's for a pupil, an adult's for a parent);
    ``date`` writes the day it was read as the reporter reads dates (UK local time)."""
    read = report.acknowledged_at
    if report.source == Source.PARENT:
        short = words.PARENT_STATUS_SHORT[report.status]
        if report.status == Status.CLOSED or read is None:
            return ReporterStatus(short, words.PARENT_STATUS_PLAIN[report.status])
        said = words.PARENT_READ_ON if report.status == Status.NEW else words.PARENT_READ_LOOKING
        return ReporterStatus(short, said.format(date=date(read)))
    short = words.PUPIL_STATUS_SHORT[report.status]
    if report.status == Status.CLOSED:
        school_wrote = any(m.sender == Sender.STAFF for m in report.messages)
        return ReporterStatus(short, words.PUPIL_CLOSED_AFTER_MESSAGE if school_wrote
                              else words.PUPIL_CLOSED)
    if read is None:
        return ReporterStatus(short, words.STATUS_PLAIN[report.status])
    said = words.PUPIL_READ_ON if report.status == Status.NEW else words.PUPIL_READ_LOOKING
    return ReporterStatus(short, said.format(date=date(read)))


def find_by_code(session: Session, code: str) -> Report | None:
    """The report a follow-up code belongs to, or None (for any reason at all)."""
    digits = followup.normalise(code)
    if digits is None:
        return None
    return session.scalar(
        select(Report).where(Report.followup_code_hash == followup.code_hash(digits))
    )


REPLY_LIMIT = 5000


class EmptyMessage(ValueError):
    """A message with no words, or too many."""


def reply_to_school(session: Session, report: Report, body: str) -> Message:
    """The reporter answers through their code; the case shows an unread reply in the queue.

    The audit event says a reply came, never what it says."""
    text = body.strip()
    if not text:
        raise EmptyMessage("Write your message first.")
    if len(text) > REPLY_LIMIT:
        raise EmptyMessage(f"Please make your message shorter. You can use {REPLY_LIMIT} "
                           f"letters and you have used {len(text)}.")
    message = Message(report_id=report.id, sender=Sender.REPORTER, body=text)
    session.add(message)
    search.index_text(session, report, text)
    report.has_unread_reply = True
    session.add(Event.new(Action.MESSAGE_FROM_REPORTER, school_id=report.school_id,
                          report_id=report.id))
    session.flush()
    return message


def reporter_view(session: Session, report: Report) -> list[Message]:
    """The messages a reporter sees (theirs and the school's); the school's become read."""
    now = utcnow()
    for message in report.messages:
        if message.sender == Sender.STAFF and message.read_at is None:
            message.read_at = now
    session.flush()
    return list(report.messages)
