"""The actions the two policies require, as versioned checklists attached to a case.

A checklist is attached when the facts that require it are recorded (a report arrives with
its kinds and places, the kinds or the urgency reasons change, a DSL acknowledges or acts
on the case): every operation that changes a case calls ``sync``. Looking at a case never
does (a GET writes nothing but its audit event).

How to add a step (this file only):

1. Add a ``Step`` to the checklist's ``steps`` where it belongs, with a new code
   ("cyber-4.10"; never reuse or rename a code: cases store it), its words and the
   policy's clause.
2. Raise that checklist's ``version`` by one (and, if its ``title`` names the policy's
   range of clauses, "4.1–4.9", make it name the new one).
3. Deploy, then run ``portal checklists-sync``: every open case that has the checklist
   gains the step now (each also gains it at its next recorded change anyway). Closed
   cases keep the steps they had: the record says what the policy asked then.

How to remove a step: move it from ``steps`` to ``retired`` (keep its words) and raise the
version. Cases that have it still show it, marked as no longer asked for, and it no
longer blocks closing. ``tests/unit/test_checklists.py`` checks codes are unique and never
lost between ``steps`` and ``retired``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from .events import Action
from .models import CaseChecklist, ChecklistItem, Event, ItemState, Report, utcnow
from .vocabulary import ONLINE, Reason, Status


@dataclass(frozen=True)
class Step:
    code: str  # stable, unique across every checklist ("cyber-4.3")
    text: str
    clause: str
    required: bool = True


@dataclass(frozen=True)
class Checklist:
    code: str  # stored on the case ("online")
    title: str
    version: int
    steps: tuple[Step, ...]
    retired: tuple[Step, ...] = ()  # no longer asked for; kept so old cases read them


RESPONDING = "responding"
CYBER = "online"
MALICIOUS = "malicious"

# Anti-bullying policy, "Responding to incidents of bullying".
_RESPONDING = Checklist(RESPONDING, "Responding to bullying (anti-bullying policy)", 1, (
    Step("responding-immediate_safety", "Make sure the pupil is not at risk of immediate harm",
         "The school will provide appropriate support for the person being bullied – making "
         "sure they are not at risk of immediate harm"),
    Step("responding-interview_all", "Interview all parties involved",
         "The Assistant Head of School / DSL or another member of the leadership team will "
         "interview all parties involved"),
    Step("responding-inform_dsl", "DSL informed where there are safeguarding concerns",
         "The DSL will be informed of all bullying issues where there are safeguarding concerns"),
    Step("responding-support_target", "Support the pupil being bullied",
         "Pupils who have been bullied will be supported by: reassuring the pupil and "
         "providing continuous pastoral support"),
    Step("responding-inform_staff", "Inform other staff where appropriate",
         "The school will speak with and inform other staff members, where appropriate"),
    Step("responding-parents_informed", "Parents or carers kept informed",
         "The school will ensure parents/carers are kept informed about the concern and "
         "action taken"),
    Step("responding-sanctions", "Sanctions and support under the behaviour policy",
         "Sanctions, as identified within the school behaviour policy and support will be "
         "implemented in consultation with all parties concerned"),
    Step("responding-other_agencies", "Consider other agencies (police, early help, social care)",
         "If necessary, other agencies may be consulted or involved", required=False),
))

# Cyber-bullying policy, 4. Required actions if cyber bullying occurs.
_CYBER = Checklist(CYBER, "Online bullying: cyber-bullying policy 4.1–4.9", 1, (
    Step("cyber-4.1", "Advise the child not to respond to the message", "4.1"),
    Step("cyber-4.2", "Refer to relevant policies and apply appropriate sanctions", "4.2"),
    Step("cyber-4.3", "Secure and preserve any evidence", "4.3"),
    Step("cyber-4.4", "Inform Principal and Senior Management team", "4.4"),
    Step("cyber-4.5", "Notify parents/carers of the children involved", "4.5"),
    Step("cyber-4.6", "Consider delivering a parent workshop", "4.6", required=False),
    Step("cyber-4.7", "Consider informing the sender's e-mail service provider", "4.7",
         required=False),
    Step("cyber-4.8", "Consider informing the police (severity or repetition)", "4.8",
         required=False),
    Step("cyber-4.9", "Inform the LA/MAT eSafety officer", "4.9"),
))

# Cyber-bullying policy, 5. Required actions if malicious posts or threats are made.
_MALICIOUS = Checklist(MALICIOUS, "Malicious posts or threats: cyber-bullying policy 5.1–5.8", 1, (
    Step("cyber-5.1", "Ensure pupils are shielded from further exposure", "5.1"),
    Step("cyber-5.2", "Inform the site and request the comments be removed", "5.2"),
    Step("cyber-5.3", "Secure and preserve evidence: URLs, screenshots, printouts", "5.3"),
    Step("cyber-5.4", "Inform Principal and Senior Leadership Team", "5.4"),
    Step("cyber-5.5", "Inform parents", "5.5"),
    Step("cyber-5.6", "Send all the evidence to CEOP", "5.6"),
    Step("cyber-5.7", "Endeavour to trace the origin and inform police as appropriate", "5.7"),
    Step("cyber-5.8", "Inform MAT eSafety officer", "5.8"),
))

CHECKLISTS: dict[str, Checklist] = {c.code: c for c in (_RESPONDING, _CYBER, _MALICIOUS)}

# Cyber-bullying policy 5: "Required actions if malicious posts or threats are made against
# students or teachers"; 5.6 "Send all the evidence to CEOP" (sexual images of a child).
# Keyed on reason codes, so rewording a reason's words never switches this rule off.
MALICIOUS_REASONS = frozenset({Reason.THREAT_TO_HURT, Reason.SEXUAL_IMAGES})


def titles() -> dict[str, str]:
    """Each checklist's title by its code (the forms, the case page)."""
    return {code: c.title for code, c in CHECKLISTS.items()}


def _every_step() -> dict[str, Step]:
    return {s.code: s for c in CHECKLISTS.values() for s in (*c.steps, *c.retired)}


def _legacy_key(checklist: str, key: str) -> str:
    """The code of a step named the way cases and events named it before migration 0014
    (the checklist, then "4.3" or "interview_all")."""
    prefix = "responding" if checklist == RESPONDING else "cyber"
    return key if key.startswith(f"{prefix}-") else f"{prefix}-{key}"


def step_words(code: str, checklist: str = "") -> str:
    """What a step says; a retired step's words too. Never fails: a code no definition has
    (not even as retired) reads as the code itself. ``checklist`` lets the old form of a
    key ("online", "4.3"), kept in events written before migration 0014, be read."""
    steps = _every_step()
    found = steps.get(code) or (steps.get(_legacy_key(checklist, code)) if checklist else None)
    return found.text if found else code


def event_step_names() -> dict[str, str]:
    """Step words by "checklist:key", as ``step.updated`` events name them, in the current
    form ("online:cyber-4.3") and the one before migration 0014 ("online:4.3")."""
    names: dict[str, str] = {}
    for checklist in CHECKLISTS.values():
        for s in (*checklist.steps, *checklist.retired):
            names[f"{checklist.code}:{s.code}"] = s.text
            names[f"{checklist.code}:{s.code.split('-', 1)[1]}"] = s.text
    return names


def is_current(item: ChecklistItem) -> bool:
    """Whether the policy still asks for this step (not retired since it was attached)."""
    definition = CHECKLISTS.get(item.checklist)
    return definition is not None and any(s.code == item.key for s in definition.steps)


def checklists_for(report: Report) -> list[str]:
    """Which checklists a case needs: always responding; online kinds or places add
    4.1–4.9; online threats or sexual images add 5.1–5.8."""
    names = [RESPONDING]
    online = ONLINE in report.kind_values or ONLINE in (report.places or [])
    if online:
        names.append(CYBER)
        if MALICIOUS_REASONS.intersection(report.reason_codes):
            names.append(MALICIOUS)
    return names


def _attached(report: Report) -> dict[str, CaseChecklist]:
    return {c.checklist: c for c in report.checklists}


def _order(report: Report) -> None:
    """Number the case's steps: checklists in the order they came, each one's steps in
    its definition's order, a retired step kept after the step it followed."""
    groups: dict[str, list[ChecklistItem]] = {}
    for item in sorted(report.checklist_items, key=lambda i: (i.position, i.id or 0)):
        groups.setdefault(item.checklist, []).append(item)
    position = 0
    for name, items in groups.items():
        definition = CHECKLISTS.get(name)
        index = {s.code: n for n, s in enumerate(definition.steps)} if definition else {}
        keyed: list[tuple[tuple[int, int, int], ChecklistItem]] = []
        last = -1
        for n, item in enumerate(items):
            if item.key in index:
                last = index[item.key]
                keyed.append(((last, 0, n), item))
            else:
                keyed.append(((last, 1, n), item))
        for _key, item in sorted(keyed, key=lambda pair: pair[0]):
            item.position = position
            position += 1


def _add_steps(report: Report, definition: Checklist) -> bool:
    """Give the case the definition's steps it lacks; whether any were added."""
    have = {i.key for i in report.checklist_items if i.checklist == definition.code}
    new = [s for s in definition.steps if s.code not in have]
    base = max((i.position for i in report.checklist_items), default=-1) + 1
    for offset, step in enumerate(new):
        report.checklist_items.append(ChecklistItem(
            checklist=definition.code, key=step.code, position=base + offset,
            required=step.required, state=ItemState.OPEN))
    return bool(new)


def attach(session: Session, report: Report, names: Iterable[str]) -> list[str]:
    """Add the named checklists the case does not have yet, at their current version;
    returns the codes added."""
    have = _attached(report)
    have_items = {i.checklist for i in report.checklist_items}
    added = []
    now = utcnow()
    for name in dict.fromkeys(names):
        definition = CHECKLISTS.get(name)
        if definition is None or name in have or name in have_items:
            continue  # a checklist dropped from the code is never attached again
        _add_steps(report, definition)
        report.checklists.append(CaseChecklist(checklist=name, version=definition.version,
                                               attached_at=now, synced_at=now))
        added.append(name)
    if added:
        _order(report)
    session.flush()
    return added


def sync(session: Session, report: Report) -> list[str]:
    """Bring an open case up to the policy as it is now: attach the checklists its recorded
    facts require, and give the checklists it has the steps their definitions gained
    since (a newer version). A closed case is left as it was. Returns the checklists
    attached."""
    if report.status == Status.CLOSED:
        return []
    added = attach(session, report, checklists_for(report))
    for name in added:  # attached by the policy's rule, not by a person: no actor
        session.add(Event.new(Action.CHECKLIST_ADDED, {"checklist": name},
                              school_id=report.school_id, report_id=report.id))
    changed = False
    now = utcnow()
    for record in report.checklists:
        definition = CHECKLISTS.get(record.checklist)
        if definition is None or record.version >= definition.version:
            continue
        changed = _add_steps(report, definition) or changed
        record.version = definition.version
        record.synced_at = now
        changed = True
    if changed:
        _order(report)
    session.flush()
    return added


def sync_open(session: Session) -> int:
    """``sync`` every open case (``portal checklists-sync``, after a definition changed);
    returns how many cases changed."""
    reports = session.scalars(
        select(Report).where(Report.status != Status.CLOSED).order_by(Report.id)
        .options(selectinload(Report.checklist_items), selectinload(Report.checklists),
                 selectinload(Report.kinds))
    ).all()
    changed = 0
    for report in reports:
        before = {(c.checklist, c.version) for c in report.checklists}
        count = len(report.checklist_items)
        sync(session, report)
        after = {(c.checklist, c.version) for c in report.checklists}
        changed += before != after or count != len(report.checklist_items)
    return changed


def open_required(report: Report) -> list[ChecklistItem]:
    """Required steps neither done nor marked not needed: these block closing the case.
    A step the policy no longer asks for (retired) never blocks."""
    return [i for i in report.checklist_items
            if i.required and i.state == ItemState.OPEN and is_current(i)]
