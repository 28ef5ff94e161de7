"""A history for the demo schools, so every chart on the figures page means something
(issue 15): about a term of reports this term and in the same term a year before, made
through the portal's own rules (a report sent, viewed, acknowledged, linked, decided,
checked back on, closed) and then dated back to when it "happened".

Deterministic: one ``random.Random`` seeded by the caller, so the demo's figures are the
same every run (on the same day). Names are invented.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session

from . import checklists, linking
from .casework import checkback
from .figures.model import Period
from .models import (
    A_LITTLE_BETTER,
    BETTER,
    NOT_BETTER,
    CheckBack,
    Event,
    ItemState,
    LinkRole,
    Pupil,
    Report,
    ReportPupil,
    School,
    SenStatus,
    User,
)
from .overdue import LOCAL, due_by
from .priority import URGENT
from .reporting.operations import (
    ParentSubmission,
    PupilSubmission,
    submit_parent_report,
    submit_pupil_report,
)
from .triage import operations as ops
from .vocabulary import Category, Kind, Status

FIRST = ["Adam", "Bella", "Caleb", "Daisy", "Ethan", "Freya", "George", "Hana", "Ibrahim",
         "Jasmine", "Kian", "Layla", "Milo", "Niamh", "Olly", "Poppy", "Reuben", "Sophie",
         "Toby", "Willow", "Zain", "Alfie", "Erin", "Hugo", "Iris", "Jude", "Lucas", "Mia",
         "Rosa", "Sienna", "Arlo", "Evie", "Felix", "Imogen", "Kofi", "Lola"]
LAST = ["Adams", "Bailey", "Carter", "Davies", "Edwards", "Fisher", "Gray", "Hussain",
        "Jackson", "Kelly", "Lee", "Mitchell", "Nelson", "Owen", "Parker", "Reid", "Shaw",
        "Thompson", "Underwood", "Vaughan", "Watson", "Ali", "Bennett", "Chowdhury", "Dixon",
        "Foster", "Graham", "Hussein", "Iqbal", "Jenkins"]

SOURCES = (("pupil_anonymous", 36), ("pupil_named", 20), ("witness", 16), ("parent", 16),
           ("staff", 12))
PLACES = (("playground", 30), ("corridor", 15), ("lunch_hall", 14), ("toilets", 10),
          ("online", 12), ("classroom", 10), ("journey", 5), ("elsewhere", 4))
KINDS = (("verbal", 34), ("emotional", 24), ("physical", 22), ("property", 8), ("online", 10),
         ("other", 2))
# Local times of day a pupil or member of staff tells: clustered at morning break, lunch
# and the end of the day (start, end, weight).
SCHOOL_TIMES = ((time(8, 30), time(9, 0), 1), (time(9, 0), time(10, 30), 1),
                (time(10, 30), time(11, 0), 6), (time(11, 0), time(12, 0), 1),
                (time(12, 0), time(13, 30), 7), (time(13, 30), time(15, 0), 1),
                (time(15, 0), time(16, 30), 4))
PARENT_TIMES = ((time(8, 0), time(9, 0), 2), (time(15, 30), time(17, 0), 2),
                (time(18, 0), time(21, 30), 5))
DECISIONS = ((Category.BULLYING_INCIDENT, 44), (Category.NOT_BULLYING, 46),
             (Category.SAFEGUARDING, 10))
REASONS = {
    Category.BULLYING_INCIDENT: "Repeated and deliberate, by the same pupils; confirmed by "
                                "staff on duty.",
    Category.NOT_BULLYING: "A one-off fall-out between friends; handled under the behaviour "
                           "policy.",
    Category.SAFEGUARDING: "What the pupil said raises a safeguarding concern; passed on "
                           "under the child protection procedure.",
}
WORDS = {
    "verbal": "keep calling me names and laughing at me",
    "emotional": "won't let me play and tell the others not to talk to me",
    "physical": "pushed me over and kicked me when the teachers weren't looking",
    "property": "took my pencil case and broke my things",
    "online": "send mean messages about me in the group chat",
    "other": "keep following me around and it scares me",
}
PLACE_WORDS = {"playground": "in the playground", "corridor": "in the corridor",
               "lunch_hall": "at lunch", "toilets": "in the toilets", "online": "online",
               "classroom": "in class", "journey": "on the way home", "elsewhere": "at the park"}


@dataclass(frozen=True)
class Targets:
    """How many history reports to make in each period and which rare kinds a DSL records
    after review: ``{kind: (this period, the same period last year)}``."""

    now: int
    last_year: int
    rare: dict[str, tuple[int, int]]
    open_at_most: int = 9


OAKFIELD = Targets(90, 110, {
    Kind.PREJUDICE_RACE: (5, 6), Kind.PREJUDICE_DISABILITY: (4, 3),
    Kind.PREJUDICE_APPEARANCE: (3, 5), Kind.PREJUDICE_RELIGION: (1, 2),
    Kind.PREJUDICE_SEX: (2, 1), Kind.PREJUDICE_SEXUALITY: (0, 1),
    Kind.PREJUDICE_GENDER_IDENTITY: (1, 0), Kind.PREJUDICE_FAMILY: (1, 2),
    Kind.SEXUAL: (2, 3),
})
ELM = Targets(28, 32, {Kind.PREJUDICE_RACE: (2, 3), Kind.PREJUDICE_APPEARANCE: (1, 2),
                       Kind.SEXUAL: (1, 0)}, open_at_most=4)


T = TypeVar("T")


def _pick(rng: random.Random, weighted: Sequence[tuple[T, int]]) -> T:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def extra_roster(session: Session, school: School, rng: random.Random, count: int, *,
                 prefix: str, years: Sequence[str], avoid: Collection[str] = ()) -> list[Pupil]:
    """``count`` more invented pupils (about one in ten with SEN support, a few with an
    EHC plan), so "reports per 100 pupils" has a real roll behind it."""
    names = [f"{f} {s}" for f in FIRST for s in LAST if f"{f} {s}" not in avoid]
    rng.shuffle(names)
    pupils = []
    for i, name in enumerate(names[:count]):
        first, last = name.split(" ")
        year = years[i % len(years)]
        draw = rng.random()
        sen = SenStatus.EHC_PLAN if draw < 0.03 else SenStatus.SEN_SUPPORT if draw < 0.13 \
            else SenStatus.NONE
        number = int(year.split()[-1]) if year[-1].isdigit() else 0
        pupil = Pupil(school_id=school.id, upn=f"{prefix}{2000 + i}", first_name=first,
                      last_name=last, year_group=year, sen_status=sen,
                      date_of_birth=date(2019 - number, 1 + i % 12, 1 + i % 28),
                      form=f"{number}{'ABC'[i % 3]}")
        session.add(pupil)
        pupils.append(pupil)
    session.flush()
    return pupils


class Clock:
    """While set, what the rules record (events, links, check-backs) carries the demo's
    moment instead of now: the chronology reads as it would have happened."""

    def __init__(self) -> None:
        self.at: datetime | None = None

    def stamp(self, session: Session, _ctx: object, _instances: object) -> None:
        if self.at is None:
            return
        for obj in session.new:
            if isinstance(obj, Event):
                obj.created_at = self.at
            elif isinstance(obj, ReportPupil):
                obj.linked_at = self.at
            elif isinstance(obj, CheckBack):
                obj.scheduled_at = self.at


@contextmanager
def clock(session: Session) -> Iterator[Clock]:
    stamp = Clock()
    event.listen(session, "before_flush", stamp.stamp)
    try:
        yield stamp
    finally:
        session.flush()
        event.remove(session, "before_flush", stamp.stamp)


def school_days(first: date, last: date) -> list[date]:
    """Weekdays from ``first`` to ``last``, less October half term and Christmas."""
    days = []
    day = first
    while day <= last:
        half_term = day.month == 10 and day.day >= 24
        christmas = day.month == 12 and day.day > 18
        if day.weekday() < 5 and not half_term and not christmas:
            days.append(day)
        day += timedelta(days=1)
    return days


def _moment(rng: random.Random, day: date, slots: Sequence[tuple[time, time, int]]) -> datetime:
    start, end, _ = rng.choices(slots, [w for *_, w in slots])[0]
    a = start.hour * 60 + start.minute
    b = end.hour * 60 + end.minute
    minute = rng.randrange(a, b)
    local = datetime.combine(day, time(minute // 60, minute % 60, rng.randrange(60)),
                             tzinfo=LOCAL)
    return local.astimezone(UTC)


def _arrivals(rng: random.Random, period: Period, count: int, now: datetime) -> list[
        tuple[datetime, str]]:
    """``count`` (moment, source) pairs in ``period`` before ``now``: school days in school
    hours, parents in the evening and now and then at a weekend."""
    last = min(period.end, now.astimezone(LOCAL).date() - timedelta(days=1))
    days = school_days(period.start + timedelta(days=2), last)
    every_day = [period.start + timedelta(days=i)
                 for i in range((last - period.start).days + 1)]
    weekends = [d for d in every_day if d.weekday() >= 5]
    out: list[tuple[datetime, str]] = []
    if not days:  # the first days of a term: its history starts next time
        return out
    for _ in range(count):
        source = _pick(rng, SOURCES)
        if source == "parent":
            day = rng.choice(weekends) if weekends and rng.random() < 0.25 else rng.choice(days)
            at = _moment(rng, day, PARENT_TIMES)
        else:
            at = _moment(rng, rng.choice(days), SCHOOL_TIMES)
        out.append((at, source))
    return sorted(out)


@dataclass
class Cast:
    """Who the history's reports are about: a few children targeted again and again, a
    couple of repeat alleged perpetrators, and everyone else now and then."""

    pupils: list[Pupil]
    targets: list[Pupil]
    perpetrators: list[Pupil]

    @classmethod
    def of(cls, rng: random.Random, pupils: list[Pupil], targets: int, perpetrators: int
           ) -> Cast:
        chosen = rng.sample(pupils, targets + perpetrators)
        return cls(pupils, chosen[:targets], chosen[targets:])

    def target(self, rng: random.Random) -> Pupil:
        return rng.choice(self.targets) if rng.random() < 0.3 else rng.choice(self.pupils)

    def perpetrator(self, rng: random.Random, not_: Pupil) -> Pupil:
        pool = self.perpetrators if rng.random() < 0.25 else self.pupils
        choice = rng.choice(pool)
        return choice if choice.id != not_.id else rng.choice(
            [p for p in self.pupils if p.id != not_.id])


def _submit(session: Session, school: School, dsl: User, rng: random.Random, source: str,
            target: Pupil, other: Pupil | None) -> Report:
    kinds = [_pick(rng, KINDS)]
    if rng.random() < 0.2:
        kinds.append(_pick(rng, KINDS))
    kinds = list(dict.fromkeys(kinds))
    places = ["online"] if "online" in kinds else [_pick(rng, PLACES)]
    if rng.random() < 0.15:
        places.append(_pick(rng, PLACES))
    places = list(dict.fromkeys(places))
    who = f"{other.first_name} {other.last_name[0]}" if other else ""
    if rng.random() < 0.3:
        who = ""
    feels_safe = rng.choices(["yes", "not_sure", "no"], [66, 22, 12])[0]
    happened_before = rng.choice(["yes", "no", "not_sure"])
    when = rng.choice(["today", "today", "yesterday", "this_week", "before"])
    token = secrets.token_urlsafe(24)
    if source == "parent":
        concern = ["online"] if "online" in kinds else rng.sample(
            ["bullying", "behaviour_change", "school_refusal"], rng.randint(1, 2))
        return submit_parent_report(session, school, ParentSubmission(
            child_name=target.name, child_year=target.year_group or "", concern=concern,
            details=f"{target.first_name} came home upset: children in their class "
                    f"{WORDS[kinds[0]]}. {('They mentioned ' + who + '.') if who else ''}",
            parent_name=f"Parent of {target.first_name}", contact_preference="email",
            contact_email="parent@example.com", since_when=rng.choice(
                ["This week", "A couple of weeks", "Since half term"]),
            told_before=rng.choice(["yes", "no"])), token=token).report
    if source == "staff":
        return ops.record_concern(
            session, actor=dsl, told_by=target.name, told_by_class=target.form or "",
            what_happened=f"{target.first_name} told me at {PLACE_WORDS[places[0]]} that "
                          f"other children {WORDS[kinds[0]]}.",
            kinds=kinds, places=places, when=when, feels_safe=feels_safe,
            people_involved=who)
    about = "someone_else" if source == "witness" else "me"
    text = (f"I saw some children being unkind to {target.first_name} {PLACE_WORDS[places[0]]}."
            if about == "someone_else"
            else f"Some children {WORDS[kinds[0]]} {PLACE_WORDS[places[0]]}.")
    named = source == "pupil_named"
    return submit_pupil_report(session, school, PupilSubmission(
        about=about, kinds=kinds, what_happened=text, places=places, when=when,
        happened_before=happened_before, who_involved=who, feels_safe=feels_safe,
        anonymous=not named, reporter_name=target.name if named else "",
        reporter_class=(target.form or "") if named else "", adult="anyone"),
        token=token).report


def _ack_time(rng: random.Random, school: School, report: Report, late: bool) -> datetime:
    due = due_by(report.created_at, urgent=report.urgency >= URGENT,
                 urgent_days=school.urgent_due_days, normal_days=school.normal_due_days,
                 day_ends_hour=school.day_ends_hour)
    if late or due <= report.created_at:
        return due + timedelta(days=rng.randint(1, 3), hours=rng.randint(1, 5))
    soon = report.created_at + timedelta(minutes=rng.randint(15, 240))
    return min(soon, report.created_at + (due - report.created_at) * 0.9)


def _close(session: Session, report: Report, dsl: User, base_url: str, at: datetime) -> None:
    done = ItemState.NOT_NEEDED if report.category == Category.NOT_BULLYING else ItemState.DONE
    for item in checklists.open_required(report):
        ops.update_step(session, item, actor=dsl, state=done,
                        note="Not bullying: handled under the behaviour policy."
                        if done is ItemState.NOT_NEEDED else "")
        item.done_at = at
    ops.change_status(session, report, actor=dsl, status=Status.CLOSED,
                      reason="Actions complete; the pupils and parents are happy with the "
                             "outcome.", base_url=base_url)


def history(session: Session, school: School, dsl: User, pupils: list[Pupil],
            rng: random.Random, *, periods: tuple[Period, Period], targets: Targets,
            base_url: str, now: datetime) -> int:
    """Add ``targets`` reports to ``school`` over this period and the same period a year
    before, worked as the DSL would have worked them; returns how many."""
    cast = Cast.of(rng, pupils, 6, 3)
    plan = [(at, source, 0) for at, source in _arrivals(rng, periods[0], targets.now, now)]
    plan += [(at, source, 1) for at, source in _arrivals(rng, periods[1], targets.last_year,
                                                          now)]
    # Which reports a DSL records a rare kind on (after review): older, decided ones.
    rare: dict[int, list[str]] = {}
    for kind, counts in targets.rare.items():
        for which, n in enumerate(counts):
            candidates = [i for i, (at, _, w) in enumerate(plan)
                          if w == which and now - at > timedelta(days=21)]
            for i in rng.sample(candidates, min(n, len(candidates))):
                rare.setdefault(i, []).append(kind)
    plan_open = [i for i, (at, _, _) in enumerate(plan) if now - at < timedelta(days=12)]
    still_open = set(plan_open[-targets.open_at_most:])
    # "Is it better now?": the first three check-backs of each period get each answer, so
    # every row of that table has something in it whatever the day.
    feelings = [BETTER, A_LITTLE_BETTER, NOT_BETTER, BETTER, A_LITTLE_BETTER, BETTER]
    checks_made = [0, 0]
    with clock(session) as stamp:
        for i, (at, source, which) in enumerate(plan):
            stamp.at = at
            target = cast.target(rng)
            other = cast.perpetrator(rng, target) if rng.random() < 0.65 else None
            report = _submit(session, school, dsl, rng, source, target, other)
            report.created_at = at
            session.flush()
            if i in still_open and now - at < timedelta(days=2):
                continue  # sent in the last few days, not yet looked at
            ack = _ack_time(rng, school, report, late=rng.random() < 0.14)
            ack = min(ack, now - timedelta(minutes=30))
            stamp.at = ack
            if i in still_open:
                ops.record_view(session, report, actor=dsl)
            ops.acknowledge(session, report, actor=dsl)
            if source != "witness" or rng.random() < 0.8:
                linking.link(session, report, target, LinkRole.TARGET, actor=dsl,
                             school=school)
            if other is not None and rng.random() < 0.85:
                linking.link(session, report, other, LinkRole.ALLEGED_PERPETRATOR,
                             actor=dsl, school=school)
            if i in rare:
                ops.set_kinds(session, report, actor=dsl,
                              kinds=[*report.kind_values, *rare[i]], school=school,
                              reason="Recorded after speaking to the pupils involved.")
            report.acknowledged_at = ack
            if i in still_open:
                continue
            stamp.at = ack + timedelta(hours=rng.randint(2, 30))
            category = _pick(rng, DECISIONS)
            ops.record_decision(session, report, actor=dsl, category=category,
                                reason=REASONS[category])
            speed = rng.choices([rng.uniform(1, 7), rng.uniform(7.5, 28),
                                 rng.uniform(29, 50)], [50, 36, 14])[0]
            # Cases are closed in the school day, after school more often than not.
            closed_day = (at + timedelta(days=speed)).astimezone(LOCAL).date()
            while closed_day.weekday() >= 5:
                closed_day += timedelta(days=1)
            closed = datetime.combine(closed_day, time(rng.randint(9, 16), rng.randrange(60)),
                                      tzinfo=LOCAL).astimezone(UTC)
            closed = min(closed, now - timedelta(hours=1))
            closed = max(closed, stamp.at + timedelta(minutes=5))
            if (closed - stamp.at) > timedelta(days=2) and (
                    checks_made[which] < 3 or rng.random() < 0.1):
                # "Is it better now?": asked a few days on, answered before closing.
                asked = (stamp.at + (closed - stamp.at) / 2)
                check = checkback.schedule(session, report, actor=dsl,
                                           due_on=asked.astimezone(LOCAL).date(),
                                           on=asked.astimezone(LOCAL).date())
                stamp.at = asked
                feeling = feelings[checks_made[which] % len(feelings)]
                checks_made[which] += 1
                checkback.answer(session, report, check, feeling=feeling, base_url=base_url)
                check.answered_at = asked
            stamp.at = closed
            _close(session, report, dsl, base_url, closed)
            report.closed_at = closed
            report.has_unread_reply = False
        stamp.at = None
    session.flush()
    return len(plan)
