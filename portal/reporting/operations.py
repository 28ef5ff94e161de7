"""Storing reports and finding them again by follow-up code. No Flask here."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import followup, priority
from ..models import Event, Report, ReportKind, School, TrustedAdult
from ..vocabulary import ADULT_ANYONE, ADULT_NOBODY, Source


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
    concern: str
    details: str
    parent_name: str
    contact_preference: str
    kinds: list[str] = field(default_factory=list)
    since_when: str = ""
    told_before: str | None = None
    contact_email: str = ""
    contact_phone: str = ""


@dataclass(frozen=True)
class Stored:
    """A stored report and the follow-up code to show (only ever shown, never kept)."""

    report: Report
    code: str
    repeated: bool = False


def adult_label(session: Session, school: School, choice: str) -> str:
    """What the pupil chose, in words the DSL reads."""
    if choice == ADULT_NOBODY:
        return "Nobody yet"
    if choice == ADULT_ANYONE or not choice.isdigit():
        return "Any adult"
    adult = session.get(TrustedAdult, int(choice))
    if adult is None or adult.school_id != school.id:
        return "Any adult"
    return adult.name


def find_repeat(session: Session, token: str) -> Stored | None:
    """The report already stored from this form, if the same form is sent again."""
    report = session.scalar(
        select(Report).where(Report.submission_hash == followup.submission_hash(token))
    )
    if report is None or report.sealed_code is None:
        return None
    return Stored(report, followup.unseal_code(report.sealed_code, token), repeated=True)


def _new_report(school: School, source: Source, token: str, **values: object) -> Stored:
    code = followup.new_code()
    report = Report(
        school_id=school.id,
        source=source,
        followup_code_hash=followup.code_hash(code),
        submission_hash=followup.submission_hash(token),
        sealed_code=followup.seal_code(code, token),
        **values,
    )
    return Stored(report, code)


def submit_pupil_report(
    session: Session, school: School, data: PupilSubmission, *, token: str,
    word_dirs: tuple[Path, ...] = (),
) -> Stored:
    """Store a pupil's report ("logged ... under the category of 'Allegation of Bullying'")."""
    repeat = find_repeat(session, token)
    if repeat is not None:
        return repeat
    urgency = priority.assess(feels_safe=data.feels_safe, kinds=data.kinds,
                              happened_before=data.happened_before, places=data.places,
                              text=f"{data.what_happened}\n{data.who_involved}",
                              extra_dirs=word_dirs)
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
        urgency_reasons=list(urgency.reasons),
        kinds=[ReportKind(kind=k) for k in dict.fromkeys(data.kinds)],
    )
    session.add(stored.report)
    session.flush()
    session.add(Event(school_id=school.id, report_id=stored.report.id, action="report.received",
                      new_value=Source.PUPIL.value))
    session.flush()
    return stored


def submit_parent_report(
    session: Session, school: School, data: ParentSubmission, *, token: str,
    word_dirs: tuple[Path, ...] = (),
) -> Stored:
    """Store a parent's report ("Parents/carers are actively encouraged to: Report ...")."""
    repeat = find_repeat(session, token)
    if repeat is not None:
        return repeat
    kinds = list(data.kinds)
    if data.concern == "online" and "online" not in kinds:
        kinds.append("online")
    urgency = priority.assess(feels_safe=None, kinds=kinds, happened_before=None, places=[],
                              text=data.details, extra_dirs=word_dirs)
    stored = _new_report(
        school, Source.PARENT, token,
        body=data.details,
        anonymous=False,
        child_name=data.child_name,
        child_year=data.child_year,
        concern=data.concern,
        since_when=data.since_when,
        told_before=data.told_before,
        parent_name=data.parent_name,
        contact_email=data.contact_email,
        contact_phone=data.contact_phone,
        contact_preference=data.contact_preference,
        urgency=urgency.score,
        urgency_reasons=list(urgency.reasons),
        kinds=[ReportKind(kind=k) for k in dict.fromkeys(kinds)],
    )
    session.add(stored.report)
    session.flush()
    session.add(Event(school_id=school.id, report_id=stored.report.id, action="report.received",
                      new_value=Source.PARENT.value))
    session.flush()
    return stored


def find_by_code(session: Session, code: str) -> Report | None:
    """The report a follow-up code belongs to, or None (for any reason at all)."""
    digits = followup.normalise(code)
    if digits is None:
        return None
    return session.scalar(
        select(Report).where(Report.followup_code_hash == followup.code_hash(digits))
    )
