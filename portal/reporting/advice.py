"""What a pupil reads after reporting: advice taken from the two policies, in a child's words."""

from __future__ import annotations

from dataclasses import dataclass

from .. import vocabulary


@dataclass(frozen=True)
class Advice:
    text: str
    source: str  # the policy sentence it comes from, for staff and reviewers


ALWAYS = (
    # Cyber policy 8.1: "Reassurance that it was right to report the incident and that
    # something will be done about it"; "reassurance that they haven't done anything wrong".
    Advice("You were right to tell us. It is not your fault.",
           "Cyber-bullying policy 8.1: reassurance that it was right to report the incident"),
    Advice("An adult at school will read this and do something about it.",
           "Cyber-bullying policy 8.1: ... and that something will be done about it"),
)

ONLINE = (
    # Cyber policy 4.1 and 8.1: "Advice not to retaliate or reply, but to keep the evidence
    # and show or give it to their parent or a member of staff".
    Advice("Do not reply to the messages.",
           "Cyber-bullying policy 4.1: advise the child not to respond to the message"),
    Advice("Keep the messages or pictures. Do not delete them. Show them to a grown-up you trust.",
           "Cyber-bullying policy 8.1: keep the evidence and show or give it to their parent "
           "or a member of staff"),
    Advice("You can block the person. A grown-up can help you do it.",
           "Cyber-bullying policy 8.1: age appropriate advice on how the perpetrator might "
           "be blocked online"),
)

SOMEONE_ELSE = (
    Advice("Thank you for looking out for someone else. That was kind and brave.",
           "Anti-bullying policy: all members of our school community are encouraged to tell "
           "if they see, hear about or experience bullying"),
)

NOT_PHYSICAL_RETALIATION = Advice(
    "Do not hit back or be unkind back. Tell a grown-up instead.",
    "Cyber-bullying policy 8.1: advice not to retaliate",
)


def advice_for(*, kinds: list[str], places: list[str], about: str | None) -> list[Advice]:
    """The advice to show a pupil for what they reported."""
    items = list(ALWAYS)
    if about == "someone_else":
        items.extend(SOMEONE_ELSE)
    if vocabulary.ONLINE in kinds or vocabulary.ONLINE in places:
        items.extend(ONLINE)
    else:
        items.append(NOT_PHYSICAL_RETALIATION)
    return items
