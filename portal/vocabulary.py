"""The words the portal uses, and the policy term behind each.

Pupils choose in child-friendly words; staff see the policy's words. Each pair is kept
here once so the forms, the queue filters and the case page always agree.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass


class Source(enum.StrEnum):
    PUPIL = "pupil"
    PARENT = "parent"
    STAFF = "staff"


SOURCE_LABELS = {Source.PUPIL: "Pupil", Source.PARENT: "Parent or carer", Source.STAFF: "Staff"}


class Status(enum.StrEnum):
    NEW = "new"
    IN_REVIEW = "in_review"
    CLOSED = "closed"


STATUS_LABELS = {Status.NEW: "New", Status.IN_REVIEW: "In review", Status.CLOSED: "Closed"}
# What a reporter sees on the follow-up page: one true sentence, from the report's status and
# whether an adult has acknowledged it (portal.reporting.operations.reporter_status). A pupil
# reads a child's words, a parent or carer an adult's. "{date}" is the UK date it was read.
STATUS_PLAIN = {
    Status.NEW: "We have your report. No adult has read it yet.",
    Status.IN_REVIEW: "An adult at school is looking at your report.",
    Status.CLOSED: "The school has done what it needs to do about this report.",
}
STATUS_SHORT = {Status.NEW: "Received", Status.IN_REVIEW: "Being looked at",
                Status.CLOSED: "Closed"}
PUPIL_STATUS_SHORT = {Status.NEW: "Received", Status.IN_REVIEW: "Being looked at",
                      Status.CLOSED: "Finished"}
PUPIL_READ_ON = "An adult at school read your report on {date}."
PUPIL_READ_LOOKING = "An adult at school read your report on {date} and is looking at it."
# A closed report can follow a message that still promises something ("Mrs Patel will come
# and find you in the morning"): the ending points to it rather than contradicting it.
PUPIL_CLOSED_AFTER_MESSAGE = ("The school has done what it needs to do about this report. "
                              "Read the last message from the school to see what happens next.")
PUPIL_CLOSED = ("The school has done what it needs to do about this report. If you still need "
                "help, write to us here or tell an adult you trust.")
PARENT_STATUS_SHORT = {Status.NEW: "Received", Status.IN_REVIEW: "Being looked into",
                       Status.CLOSED: "Closed"}
PARENT_STATUS_PLAIN = {
    Status.NEW: "The school has received your concern. Nobody has read it yet.",
    Status.IN_REVIEW: "The school's safeguarding lead is looking into your concern.",
    Status.CLOSED: "The school has closed this concern. If you are still worried, send a "
                   "message below or contact the school.",
}
PARENT_READ_ON = "The school's safeguarding lead read your concern on {date}."
PARENT_READ_LOOKING = ("The school's safeguarding lead read your concern on {date} and is "
                       "looking into it.")


class Category(enum.StrEnum):
    """Anti-bullying policy: logged as 'Allegation of Bullying', then decided after review."""

    ALLEGATION = "allegation"
    BULLYING_INCIDENT = "bullying_incident"
    NOT_BULLYING = "not_bullying"
    SAFEGUARDING = "safeguarding"


CATEGORY_LABELS = {
    Category.ALLEGATION: "Allegation of Bullying",
    Category.BULLYING_INCIDENT: "Bullying Incident",
    Category.NOT_BULLYING: "Not bullying — handled under the behaviour policy",
    Category.SAFEGUARDING: "Safeguarding concern",
}


@dataclass(frozen=True)
class Choice:
    value: str
    child: str  # words a pupil reads
    adult: str  # words a parent or member of staff reads
    icon: str = ""  # name of an inline SVG symbol in templates/icons.html


class Kind(enum.StrEnum):
    """The kinds of bullying or concern: stable codes, stored in ``report_kinds.kind``.

    Rules key on these codes; the words a child, a parent or a DSL reads are in the tables
    below (``KINDS``, ``STAFF_KINDS``, ``PREJUDICE``) and may be reworded or translated."""

    PHYSICAL = "physical"
    VERBAL = "verbal"
    EMOTIONAL = "emotional"
    PROPERTY = "property"
    ONLINE = "online"
    OTHER = "other"
    PREJUDICE = "prejudice"
    SEXUAL = "sexual"
    PREJUDICE_RACE = "prejudice:race"
    PREJUDICE_RELIGION = "prejudice:religion"
    PREJUDICE_DISABILITY = "prejudice:disability"
    PREJUDICE_SEX = "prejudice:sex"
    PREJUDICE_SEXUALITY = "prejudice:sexuality"
    PREJUDICE_GENDER_IDENTITY = "prejudice:gender_identity"
    PREJUDICE_APPEARANCE = "prejudice:appearance"
    PREJUDICE_FAMILY = "prejudice:family"


# "online" is one code for three answers that mean the same thing to the policies: the
# kind (what happened), the place (where) and the parent's concern. The cyber-bullying
# policy's rules (checklists 4.1-4.9, advice, urgency) read it from any of the three.
ONLINE = Kind.ONLINE


# "Bullying can include name calling, taunting, mocking ...; kicking; hitting; taking
# belongings; ... excluding people from groups" (anti-bullying policy, Definition) and the
# cyber policy's "sending or posting harmful or upsetting text, images or other messages".
KINDS: tuple[Choice, ...] = (
    Choice(Kind.PHYSICAL, "Someone hurt my body", "Physical (hitting, kicking, pushing)",
           "hand"),
    Choice(Kind.VERBAL, "Someone called me names or said mean things",
           "Verbal (name calling, taunting, offensive comments)", "speech"),
    Choice(Kind.EMOTIONAL, "Someone left me out or spread stories about me",
           "Emotional or exclusion (leaving out, rumours)", "people"),
    Choice(Kind.PROPERTY, "Someone took or broke my things",
           "Property (taking or damaging belongings)", "bag"),
    Choice(Kind.ONLINE, "It happened online, on a phone or in games",
           "Online (phone, messages, games, social media)", "phone"),
    Choice(Kind.OTHER, "Something else", "Something else", "dots"),
)
# Added by staff after review (never asked of a child in these words).
STAFF_KINDS: tuple[Choice, ...] = (
    Choice(Kind.PREJUDICE, "", "Prejudice-based (race, religion, disability/SEND, sex, "
           "sexuality, gender identity, appearance, family situation)"),
    Choice(Kind.SEXUAL, "", "Sexual harassment or violence"),
)
# Anti-bullying policy, "Preventing bullying": "differences between people that could
# motivate bullying, such as: ... family situations ... religion, ethnicity, disability,
# gender, sexuality or appearance".
PREJUDICE: tuple[Choice, ...] = (
    Choice(Kind.PREJUDICE_RACE, "", "Prejudice-based: race or ethnicity"),
    Choice(Kind.PREJUDICE_RELIGION, "", "Prejudice-based: religion or belief"),
    Choice(Kind.PREJUDICE_DISABILITY, "", "Prejudice-based: disability or SEND"),
    Choice(Kind.PREJUDICE_SEX, "", "Prejudice-based: sex (sexism)"),
    Choice(Kind.PREJUDICE_SEXUALITY, "", "Prejudice-based: sexuality"),
    Choice(Kind.PREJUDICE_GENDER_IDENTITY, "", "Prejudice-based: gender identity"),
    Choice(Kind.PREJUDICE_APPEARANCE, "", "Prejudice-based: appearance"),
    Choice(Kind.PREJUDICE_FAMILY, "", "Prejudice-based: family situation (e.g. looked after, "
           "young carer)"),
)
KIND_CHOICES: dict[str, Choice] = {c.value: c for c in (*KINDS, *STAFF_KINDS, *PREJUDICE)}
KIND_LABELS = {code: c.adult for code, c in KIND_CHOICES.items()}
PREJUDICE_KINDS: tuple[Kind, ...] = tuple(Kind(c.value) for c in PREJUDICE)
# The queue's kind filter: every kind a report can be filed under, "something else" last.
ALL_KIND_CODES: tuple[Kind, ...] = (
    Kind.PHYSICAL, Kind.VERBAL, Kind.EMOTIONAL, Kind.PROPERTY, Kind.ONLINE, Kind.PREJUDICE,
    Kind.SEXUAL, Kind.OTHER,
)
# What a DSL may record after review: the prejudice-based kinds one by one (not the
# umbrella "prejudice"), "something else" last.
CLASSIFY_KIND_CODES: tuple[Kind, ...] = (
    Kind.PHYSICAL, Kind.VERBAL, Kind.EMOTIONAL, Kind.PROPERTY, Kind.ONLINE, Kind.SEXUAL,
    *PREJUDICE_KINDS, Kind.OTHER,
)
ALL_KINDS: tuple[Choice, ...] = tuple(KIND_CHOICES[code] for code in ALL_KIND_CODES)
CLASSIFY_KINDS: tuple[Choice, ...] = tuple(KIND_CHOICES[code] for code in CLASSIFY_KIND_CODES)

class Reason(enum.StrEnum):
    """Why a report ranks where it does in the queue (portal.priority): stable codes, kept
    in ``reports.urgency_reasons``. Rules (the checklists, the queue's tags) key on these;
    the words are in ``REASON_WORDS`` and may be reworded or translated freely."""

    NOT_SAFE = "not_safe"
    SELF_HARM = "self_harm"
    THREAT_TO_HURT = "threat_to_hurt"
    WEAPON = "weapon"
    SEXUAL_IMAGES = "sexual_images"
    SEXUAL_HARASSMENT = "sexual_harassment"
    NOT_SURE_SAFE = "not_sure_safe"
    LONG_REFUSAL = "long_refusal"
    SCHOOL_REFUSAL = "school_refusal"
    SEND_INVOLVED = "send_involved"
    RECURRING = "recurring"
    PHYSICAL_HARM = "physical_harm"
    HAPPENED_BEFORE = "happened_before"
    ONLINE = "online"


# The words a DSL reads for each reason (the queue, the case page).
REASON_WORDS: dict[Reason, str] = {
    Reason.NOT_SAFE: "Does not feel safe right now",
    Reason.SELF_HARM: "Words of self-harm or suicide",
    Reason.THREAT_TO_HURT: "Threat to kill or hurt",
    Reason.WEAPON: "Weapon mentioned",
    Reason.SEXUAL_IMAGES: "Sexual images of a child: consider CEOP",
    Reason.SEXUAL_HARASSMENT: "Sexual harassment or violence: always a safeguarding matter "
                              "for the DSL",
    Reason.NOT_SURE_SAFE: "Not sure they feel safe right now",
    Reason.LONG_REFUSAL: "Not coming to school for two weeks or more: a safeguarding signal",
    Reason.SCHOOL_REFUSAL: "Doesn't want to come to school",
    Reason.SEND_INVOLVED: "A pupil with SEND is involved",
    Reason.RECURRING: "Recurring: named in several reports",
    Reason.PHYSICAL_HARM: "Physical harm described",
    Reason.HAPPENED_BEFORE: "Has happened before",
    Reason.ONLINE: "Online or outside school",
}
# The queue's short tag for a safeguarding signal short of "urgent" (portal.priority.SIGNAL).
REASON_TAGS: dict[Reason, str] = {
    Reason.NOT_SURE_SAFE: "Unsure if safe",
    Reason.LONG_REFUSAL: "School refusal",
}


HOW_INFORMED: tuple[Choice, ...] = (
    Choice("phone", "", "Phone call"), Choice("meeting", "", "Meeting in school"),
    Choice("email", "", "Email"), Choice("letter", "", "Letter"),
    Choice("in_person", "", "In person at the gate"),
)
AGENCIES: tuple[Choice, ...] = (
    Choice("police", "", "Police"), Choice("ceop", "", "CEOP"),
    Choice("early_help", "", "Early help"),
    Choice("social_care", "", "Children's social care"),
    Choice("mat_esafety", "", "MAT eSafety officer"),
    Choice("la", "", "Local authority"), Choice("other", "", "Other"),
)

PLACES: tuple[Choice, ...] = (
    Choice("classroom", "In a classroom", "Classroom"),
    Choice("playground", "In the playground", "Playground"),
    Choice("lunch_hall", "In the lunch hall", "Lunch hall"),
    Choice("corridor", "In a corridor", "Corridor"),
    Choice("toilets", "In the toilets", "Toilets"),
    Choice("journey", "On the way to or from school", "On the way to or from school"),
    Choice(ONLINE, "Online, on a phone or in a game", "Online"),
    Choice("elsewhere", "Somewhere else", "Somewhere else"),
)
PLACE_LABELS = {c.value: c.adult for c in PLACES}

WHEN: tuple[Choice, ...] = (
    Choice("today", "Today", "Today"),
    Choice("yesterday", "Yesterday", "Yesterday"),
    Choice("this_week", "This week", "Earlier this week"),
    Choice("before", "Before that", "More than a week ago"),
    Choice("not_sure", "I'm not sure", "Not sure"),
)
WHEN_LABELS = {c.value: c.adult for c in WHEN}

YES_NO_UNSURE: tuple[Choice, ...] = (
    Choice("yes", "Yes", "Yes"),
    Choice("no", "No", "No"),
    Choice("not_sure", "I'm not sure", "Not sure"),
)
YES_NO_LABELS = {c.value: c.adult for c in YES_NO_UNSURE}

ABOUT: tuple[Choice, ...] = (
    Choice("me", "It's happening to me", "The reporter"),
    Choice("someone_else", "I saw it happen to someone else", "Someone else (reporter saw it)"),
)
ABOUT_LABELS = {c.value: c.adult for c in ABOUT}

# Anti-bullying policy, "Parents/carers are actively encouraged to: Report any incident of
# bullying ... Report unwillingness to come to school ... 'Tell' us about any change in the
# behaviour of their child."
CONCERNS: tuple[Choice, ...] = (
    Choice("bullying", "", "Bullying"),
    Choice("behaviour_change", "", "A change in my child's behaviour"),
    Choice("school_refusal", "", "My child doesn't want to come to school"),
    Choice(ONLINE, "", "Something online or on a phone"),
    Choice("other", "", "Something else"),
)
CONCERN_LABELS = {c.value: c.adult for c in CONCERNS}


def concern_codes(value: Sequence[str] | str | None) -> list[str]:
    """A parent's concerns as codes, in the form's order: from the form's list, or from
    ``Report.concern``, where several are kept joined with commas ("bullying,online")."""
    given = value.split(",") if isinstance(value, str) else list(value or [])
    chosen = {code.strip() for code in given}
    return [code for code in CONCERN_LABELS if code in chosen]


CONTACT_PREFERENCES: tuple[Choice, ...] = (
    Choice("email", "", "Email"),
    Choice("phone", "", "Phone call"),
    Choice("meeting", "", "A meeting at school"),
)
CONTACT_LABELS = {c.value: c.adult for c in CONTACT_PREFERENCES}

YEAR_GROUPS: tuple[str, ...] = (
    "Nursery", "Reception", "Year 1", "Year 2", "Year 3", "Year 4", "Year 5", "Year 6",
    "Year 7", "Year 8", "Year 9", "Year 10", "Year 11", "Year 12", "Year 13",
)


class Phase(enum.StrEnum):
    """Which children a school teaches; it decides the year groups its forms offer."""

    PRIMARY = "primary"
    SECONDARY = "secondary"
    ALL_THROUGH = "all_through"


PHASE_LABELS = {Phase.PRIMARY: "Primary (Nursery and Reception to Year 6)",
                Phase.SECONDARY: "Secondary (Years 7 to 13, with the sixth form)",
                Phase.ALL_THROUGH: "All-through (every year group)"}
# Schools made before phases existed keep every year group.
DEFAULT_PHASE = Phase.ALL_THROUGH


def year_groups(phase: str | None) -> tuple[str, ...]:
    """The year groups a school of this phase has, youngest first. A primary school's
    nursery class is included; a phase the portal does not know offers every year, so no
    parent is ever left without their child's year."""
    if phase == Phase.PRIMARY:
        return YEAR_GROUPS[:YEAR_GROUPS.index("Year 7")]
    if phase == Phase.SECONDARY:
        return YEAR_GROUPS[YEAR_GROUPS.index("Year 7"):]
    return YEAR_GROUPS


def year_groups_message(phase: str | None) -> str:
    """What a form says when a year outside the school's phase is sent."""
    years = year_groups(phase)
    return f"Choose a year group this school has ({years[0]} to {years[-1]})."

# The pupil's choice of adult: "anyone", "nobody yet", or a TrustedAdult id.
ADULT_ANYONE = "anyone"
ADULT_NOBODY = "nobody"
