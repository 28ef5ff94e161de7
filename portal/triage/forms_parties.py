"""The case page's forms for the people involved: someone not on the roster, a finding,
support and sanctions, the child's voice, interviews."""

from __future__ import annotations

from collections.abc import Callable

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    Form,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Optional

from ..casework.parties import DESCRIPTION_MAX, NAME_MAX, REVIEW_OUTCOMES, TEXT_MAX
from ..forms import Day, clean_text, max_length
from ..models import (
    FINDING_LABELS,
    LINK_ROLE_LABELS,
    PARTY_KIND_LABELS,
    SUPPORT_LABELS,
    PartyKind,
)

F = [clean_text]
DATE = "Enter the date, like 2026-11-23."


def _long(limit: int) -> Callable[[Form, Field], None]:
    return max_length(limit, "Keep this to {limit} characters or fewer (it is {length}).")


class AddPartyForm(FlaskForm):
    """Someone involved who is not on the roster."""

    party_kind = RadioField("Who are they?", choices={
        k.value: PARTY_KIND_LABELS[k] for k in PartyKind if k != PartyKind.ROSTER_PUPIL},
        validators=[InputRequired("Choose who they are.")])
    party_role = SelectField("Role", choices={k.value: v for k, v in LINK_ROLE_LABELS.items()},
                             validators=[InputRequired("Choose their role.")])
    description = StringField("What is known about them", filters=F,
                              validators=[_long(DESCRIPTION_MAX)])


class FindingForm(FlaskForm):
    finding = RadioField("Finding", choices={k.value: v for k, v in FINDING_LABELS.items()},
                         validators=[InputRequired("Choose a finding.")])
    finding_reason = TextAreaField("Reason for the finding", filters=F,
                                   validators=[_long(TEXT_MAX)])


class SupportForm(FlaskForm):
    """Support or a sanction: the code says which (a sanction is one of SANCTIONS)."""

    support_code = SelectField("What", choices={"": "—", **SUPPORT_LABELS}, validate_choice=True,
                               validators=[InputRequired("Choose what it is.")])
    given_by = StringField("Who gives it", filters=F,
                           validators=[_long(NAME_MAX)])
    starts_on = Day("Starts on", validators=[InputRequired(DATE)])
    review_on = Day("Review on (optional)", validators=[Optional()])
    ask_reporter = BooleanField("On the review date, ask the reporter “Is it better now?” "
                                "through their follow-up code")
    support_note = TextAreaField("Note", filters=F,
                                 validators=[_long(TEXT_MAX)])


class ReviewSupportForm(FlaskForm):
    outcome = RadioField("Outcome", choices=dict(REVIEW_OUTCOMES),
                         validators=[InputRequired("Choose reviewed or ended.")])
    review_note = TextAreaField("What the review found", filters=F,
                                validators=[_long(TEXT_MAX)])
    next_review_on = Day("Next review on (optional)", validators=[Optional()])


class VoiceForm(FlaskForm):
    said_on = Day("Date", validators=[InputRequired(DATE)])
    wants = TextAreaField("What they want to happen", filters=F,
                          validators=[_long(TEXT_MAX)])


class InterviewForm(FlaskForm):
    held_on = Day("Date of the interview", validators=[InputRequired(DATE)])
    interviewer = StringField("Who interviewed them", filters=F,
                              validators=[_long(NAME_MAX)])
    present = StringField("Who else was there", filters=F,
                          validators=[_long(NAME_MAX)])
    account = TextAreaField("A short account", filters=F,
                            validators=[_long(TEXT_MAX)])
