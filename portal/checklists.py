"""The actions the two policies require, as checklists attached to a case by its kind."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from .models import ChecklistItem, ItemState, Report


@dataclass(frozen=True)
class Step:
    key: str
    text: str
    clause: str
    required: bool = True


# Anti-bullying policy, "Responding to incidents of bullying".
RESPONDING: tuple[Step, ...] = (
    Step("immediate_safety", "Make sure the pupil is not at risk of immediate harm",
         "The school will provide appropriate support for the person being bullied – making "
         "sure they are not at risk of immediate harm"),
    Step("interview_all", "Interview all parties involved",
         "The Assistant Head of School / DSL or another member of the leadership team will "
         "interview all parties involved"),
    Step("inform_dsl", "DSL informed where there are safeguarding concerns",
         "The DSL will be informed of all bullying issues where there are safeguarding concerns"),
    Step("support_target", "Support the pupil being bullied",
         "Pupils who have been bullied will be supported by: reassuring the pupil and "
         "providing continuous pastoral support"),
    Step("inform_staff", "Inform other staff where appropriate",
         "The school will speak with and inform other staff members, where appropriate"),
    Step("parents_informed", "Parents or carers kept informed",
         "The school will ensure parents/carers are kept informed about the concern and "
         "action taken"),
    Step("sanctions", "Sanctions and support under the behaviour policy",
         "Sanctions, as identified within the school behaviour policy and support will be "
         "implemented in consultation with all parties concerned"),
    Step("other_agencies", "Consider other agencies (police, early help, social care)",
         "If necessary, other agencies may be consulted or involved", required=False),
)

# Cyber-bullying policy, 4. Required actions if cyber bullying occurs.
ONLINE: tuple[Step, ...] = (
    Step("4.1", "Advise the child not to respond to the message", "4.1"),
    Step("4.2", "Refer to relevant policies and apply appropriate sanctions", "4.2"),
    Step("4.3", "Secure and preserve any evidence", "4.3"),
    Step("4.4", "Inform Principal and Senior Management team", "4.4"),
    Step("4.5", "Notify parents/carers of the children involved", "4.5"),
    Step("4.6", "Consider delivering a parent workshop", "4.6", required=False),
    Step("4.7", "Consider informing the sender's e-mail service provider", "4.7", required=False),
    Step("4.8", "Consider informing the police (severity or repetition)", "4.8", required=False),
    Step("4.9", "Inform the LA/MAT eSafety officer", "4.9"),
)

# Cyber-bullying policy, 5. Required actions if malicious posts or threats are made.
MALICIOUS: tuple[Step, ...] = (
    Step("5.1", "Ensure pupils are shielded from further exposure", "5.1"),
    Step("5.2", "Inform the site and request the comments be removed", "5.2"),
    Step("5.3", "Secure and preserve evidence: URLs, screenshots, printouts", "5.3"),
    Step("5.4", "Inform Principal and Senior Leadership Team", "5.4"),
    Step("5.5", "Inform parents", "5.5"),
    Step("5.6", "Send all the evidence to CEOP", "5.6"),
    Step("5.7", "Endeavour to trace the origin and inform police as appropriate", "5.7"),
    Step("5.8", "Inform MAT eSafety officer", "5.8"),
)

CHECKLISTS: dict[str, tuple[str, tuple[Step, ...]]] = {
    "responding": ("Responding to bullying (anti-bullying policy)", RESPONDING),
    "online": ("Online bullying: cyber-bullying policy 4.1–4.9", ONLINE),
    "malicious": ("Malicious posts or threats: cyber-bullying policy 5.1–5.8", MALICIOUS),
}
STEP_TEXT = {(name, s.key): s.text for name, (_t, steps) in CHECKLISTS.items() for s in steps}
STEP_CLAUSE = {(name, s.key): s.clause for name, (_t, steps) in CHECKLISTS.items()
               for s in steps}

THREAT_REASONS = ("Threat to kill or hurt", "Sexual images of a child: consider CEOP")


def checklists_for(report: Report) -> list[str]:
    """Which checklists a case needs: always responding; online kinds add 4.1–4.9; online
    threats or sexual images add 5.1–5.8."""
    names = ["responding"]
    kinds = set(report.kind_values)
    online = "online" in kinds or "online" in (report.places or [])
    if online:
        names.append("online")
        if any(r.startswith(THREAT_REASONS) for r in report.urgency_reasons):
            names.append("malicious")
    return names


def attach(session: Session, report: Report, names: list[str] | None = None) -> list[str]:
    """Add the checklists the case needs that it does not have yet; returns the added names."""
    have = {item.checklist for item in report.checklist_items}
    added = []
    for name in names or checklists_for(report):
        if name in have:
            continue
        _title, steps = CHECKLISTS[name]
        base = len(report.checklist_items)
        for offset, step in enumerate(steps):
            report.checklist_items.append(ChecklistItem(
                checklist=name, key=step.key, position=base + offset, required=step.required))
        added.append(name)
    session.flush()
    return added


def open_required(report: Report) -> list[ChecklistItem]:
    """Required steps neither done nor marked not needed: these block closing the case."""
    return [i for i in report.checklist_items if i.required and i.state == ItemState.OPEN]
