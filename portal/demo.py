"""Demo data: a roster and a realistic mix of reports in every state, so the queue, the
pupil pages and the checklists can be seen at once. Names are invented."""

from __future__ import annotations

import random
import secrets
from datetime import date, timedelta

from sqlalchemy.orm import Session

from . import checklists, demo_history, linking
from .casework import notices, parties
from .figures.model import term_of
from .models import (
    ActionKind,
    ContactRole,
    Finding,
    ItemState,
    LinkRole,
    PartyKind,
    Pupil,
    Report,
    School,
    SchoolContact,
    SenStatus,
    SupportType,
    User,
    utcnow,
)
from .overdue import LOCAL
from .reporting.operations import (
    ParentSubmission,
    PupilSubmission,
    submit_parent_report,
    submit_pupil_report,
)
from .triage import operations as ops
from .vocabulary import Category, Status

# Oakfield's head teacher: the `head` account portal.cli makes, and the school's Principal
DEMO_HEAD = "Ms Reid (head teacher)"
DEMO_HEAD_EMAIL = "head@demo.school"

FIRST = ["Aisha", "Ben", "Chloe", "Daniel", "Ella", "Finn", "Grace", "Harry", "Isla", "Jack",
         "Kai", "Lily", "Mason", "Nia", "Oscar", "Priya", "Quinn", "Ruby", "Sam", "Tara",
         "Umar", "Violet", "Will", "Yusuf", "Zara", "Leo", "Maya", "Noah", "Amelia", "Theo"]
LAST = ["Khan", "Taylor", "Smith", "Jones", "Brown", "Patel", "Wilson", "Evans", "Thomas",
        "Roberts", "Walker", "Wright", "Hughes", "Green", "Hall", "Lewis", "Clarke", "Ahmed",
        "Turner", "Hill", "Cooper", "Ward", "Morris", "King", "Baker", "Harris", "Young",
        "Allen", "Scott", "Begum"]
YEARS = ["Year 3", "Year 4", "Year 5", "Year 6"]


def roster(session: Session, school: School) -> dict[str, Pupil]:
    """Thirty pupils across Years 3–6; a few with SEN support or an EHC plan."""
    pupils = {}
    for i, (first, last) in enumerate(zip(FIRST, LAST, strict=True)):
        year = YEARS[i % 4]
        sen = SenStatus.EHC_PLAN if i in (8, 21) else SenStatus.SEN_SUPPORT if i % 9 == 4 \
            else SenStatus.NONE
        pupil = Pupil(school_id=school.id, upn=f"D{1000 + i}", first_name=first, last_name=last,
                      date_of_birth=date(2019 - int(year[-1]), 1 + i % 12, 1 + i % 27),
                      year_group=year, form=f"{year[-1]}{'BRP'[i % 3]}", sen_status=sen)
        session.add(pupil)
        pupils[f"{first} {last}"] = pupil
    session.flush()
    return pupils


def _pupil(session: Session, school: School, days_ago: int, **values: object) -> Report:
    stored = submit_pupil_report(session, school, PupilSubmission(**values),  # type: ignore[arg-type]
                                 token=secrets.token_urlsafe(24))
    stored.report.created_at = utcnow() - timedelta(days=days_ago, hours=days_ago % 5)
    return stored.report


def _parent(session: Session, school: School, days_ago: int, **values: object) -> Report:
    stored = submit_parent_report(session, school, ParentSubmission(**values),  # type: ignore[arg-type]
                                  token=secrets.token_urlsafe(24))
    stored.report.created_at = utcnow() - timedelta(days=days_ago, hours=2)
    return stored.report


def _history(session: Session, school: School, dsl: User, pupils: list[Pupil],
             rng: random.Random, targets: demo_history.Targets, base_url: str) -> int:
    now = utcnow()
    term = term_of(now.astimezone(LOCAL).date())
    return demo_history.history(session, school, dsl, pupils, rng,
                                periods=(term, term.last_year()), targets=targets,
                                base_url=base_url, now=now)


def seed(session: Session, school: School, dsl: User, *, base_url: str) -> int:
    """Fill the demo school: roster, reports from every source, links, decisions, steps
    (``base_url``: the portal's address, for any update email a change queues), and a
    history of this term and the same term last year for the figures; returns how many
    reports it made."""
    rng = random.Random(2026)  # noqa: S311 - demo data, the same every run
    kids = roster(session, school)
    extra = demo_history.extra_roster(session, school, rng, 180, prefix="D", years=YEARS,
                                      avoid=set(kids))
    adults = {a.name: str(a.id) for a in school.trusted_adults}
    r1 = _pupil(session, school, 20, about="me", kinds=["verbal", "emotional"],
                what_happened="Some girls in my class keep calling me names at break and they "
                              "tell the others not to play with me.",
                places=["playground"], when="this_week", happened_before="yes",
                who_involved="Chloe and Ruby from 4B", feels_safe="yes", anonymous=True,
                adult=adults.get("Mrs Patel", "anyone"))
    r2 = _parent(session, school, 12, child_name="Isla Thomas", child_year="Year 3",
                 concern="behaviour_change", details="Since half term Isla has been tearful in "
                 "the mornings and says Chloe and Ruby won't let her join in.",
                 parent_name="Mrs Thomas", contact_preference="email",
                 contact_email="parent@example.com", since_when="About three weeks",
                 told_before="no")
    r3 = _pupil(session, school, 4, about="me", kinds=["online"],
                what_happened="Someone in the class group chat keeps sending me messages saying "
                              "nobody likes me and that they will get me after school.",
                places=["online", "journey"], when="yesterday", happened_before="yes",
                who_involved="I think it is Chloe Smith", feels_safe="no", anonymous=False,
                reporter_name="Isla Thomas", reporter_class="3R",
                adult=adults.get("Mr Okafor", "anyone"))
    _pupil(session, school, 6, about="someone_else", kinds=["physical", "property"],
                what_happened="I saw an older boy push a Year 3 boy against the wall by the "
                              "toilets and take his snack. The little boy was crying.",
                places=["corridor", "toilets"], when="today", happened_before="not_sure",
                who_involved="A boy from Year 6 with a red coat, maybe Mason", feels_safe="yes",
                anonymous=True, adult="anyone")
    _parent(session, school, 2, child_name="Maya Young", child_year="Year 6",
                 concern="online", details="Maya showed me messages on a gaming app where "
                 "children from her class share a photo of her with unkind comments. I have "
                 "kept screenshots.", parent_name="Chris Young", contact_preference="phone",
                 contact_phone="01632 960123", since_when="Last weekend", told_before="no")
    _pupil(session, school, 0, about="me", kinds=["verbal"],
                what_happened="people keep saying im stupid because i go to the support room",
                places=["classroom"], when="today", happened_before="yes",
                who_involved="jack and umar", feels_safe="not_sure", anonymous=True,
                adult="anyone")
    r7 = _pupil(session, school, 45, about="me", kinds=["emotional"],
                what_happened="My friends said I can't sit with them any more.",
                places=["lunch_hall"], when="this_week", happened_before="no",
                who_involved="", feels_safe="yes", anonymous=True, adult="nobody")
    session.flush()
    now_links = [
        (r1, "Isla Thomas", LinkRole.TARGET), (r1, "Chloe Smith", LinkRole.ALLEGED_PERPETRATOR),
        (r1, "Ruby Ahmed", LinkRole.ALLEGED_PERPETRATOR), (r2, "Isla Thomas", LinkRole.TARGET),
        (r2, "Chloe Smith", LinkRole.ALLEGED_PERPETRATOR), (r3, "Isla Thomas", LinkRole.TARGET),
    ]
    for report, name, role in now_links:
        ops.record_view(session, report, actor=dsl)
        ops.acknowledge(session, report, actor=dsl)
        linking.link(session, report, kids[name], role, actor=dsl, school=school)
    # Case 1: decided, steps mostly done, parents informed.
    ops.record_decision(session, r1, actor=dsl, category=Category.BULLYING_INCIDENT,
                        reason="Repeated exclusion and name-calling by the same two pupils over "
                               "three weeks, confirmed by the lunchtime supervisor.")
    for item in r1.checklist_items[:5]:
        ops.update_step(session, item, actor=dsl, state=ItemState.DONE, note="")
    ops.record_action(session, r1, actor=dsl, kind=ActionKind.PARENTS_INFORMED,
                      happened_on=date.today() - timedelta(days=18), who="Mrs Thomas (mother)",
                      how="phone", note="Agreed a daily check-in with Mrs Patel.")
    ops.assign(session, r1, actor=dsl, assignee=dsl)
    # Case 1's people: support for Isla with a review date, a finding and a sanction for
    # Chloe, what Isla wants; case 3's bully is an account nobody knows (cyber policy 7.5).
    isla, chloe = (next(p for p in r1.pupil_links if p.pupil_id == kids[name].id)
                   for name in ("Isla Thomas", "Chloe Smith"))
    started = date.today() - timedelta(days=17)
    parties.add_support(session, r1, isla, actor=dsl, type_=SupportType.SUPPORT,
                        code="reassurance_pastoral", given_by="Mrs Patel", starts_on=started,
                        review_on=date.today() + timedelta(days=4),
                        note="Daily check-in at morning break.")
    parties.record_voice(session, r1, isla, actor=dsl, said_on=started,
                         wants="To sit with her own friends at lunch and for it to stop.")
    parties.record_finding(session, r1, chloe, actor=dsl, finding=Finding.RESPONSIBLE,
                           reason="Admitted it in interview; two witnesses agree.")
    parties.add_support(session, r1, chloe, actor=dsl, type_=SupportType.SANCTION,
                        code="removal_of_privileges", given_by=DEMO_HEAD,
                        starts_on=started, review_on=None, note="No lunchtime clubs for a week.")
    parties.add_party(session, r3, actor=dsl, kind=PartyKind.UNKNOWN,
                      role=LinkRole.ALLEGED_PERPETRATOR,
                      description="a game account called “nightowl”")
    # Case 7: closed as not bullying.
    ops.record_view(session, r7, actor=dsl)
    ops.acknowledge(session, r7, actor=dsl)
    ops.record_decision(session, r7, actor=dsl, category=Category.NOT_BULLYING,
                        reason="A one-off friendship fall-out; resolved with a restorative chat.")
    for item in r7.checklist_items:
        if item.required:
            ops.update_step(session, item, actor=dsl, state=ItemState.NOT_NEEDED,
                            note="Not bullying: handled under the behaviour policy.")
    ops.change_status(session, r7, actor=dsl, status=Status.CLOSED,
                      reason="Both pupils happy; no further concerns in two weeks.",
                      base_url=base_url)
    checklists.sync(session, r3)
    session.flush()
    # The head as the school's Principal contact (the trial: the head's notices page was
    # always empty), told of the group-chat threats under cyber-bullying policy 4.4.
    principal = SchoolContact(school_id=school.id, name=DEMO_HEAD, email=DEMO_HEAD_EMAIL,
                              role=ContactRole.PRINCIPAL.value)
    session.add(principal)
    session.flush()
    if any(item.key == "cyber-4.4" for item in r3.checklist_items):
        notices.send_step_notice(session, r3, actor=dsl, step="cyber-4.4", to=[principal],
                                 seen={}, mark_done=True, base_url=base_url)
    # r4, r5 and r6 stay unread, for the DSL to link from the suggestions ("maybe Mason",
    # "Maya Young"); r4 is past its two school days, so it shows as overdue.
    made = _history(session, school, dsl, [*kids.values(), *extra], rng,
                    demo_history.OAKFIELD, base_url)
    return 7 + made


def seed_elm(session: Session, school: School, dsl: User, *, base_url: str) -> int:
    """Fill the trust's second demo school: a roster of 120 and a history for the figures;
    returns how many reports it made."""
    rng = random.Random(2027)  # noqa: S311 - demo data, the same every run
    pupils = demo_history.extra_roster(session, school, rng, 120, prefix="E",
                                       years=[f"Year {n}" for n in range(1, 7)])
    return _history(session, school, dsl, pupils, rng, demo_history.ELM, base_url)
