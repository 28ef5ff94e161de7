"""The case page's forms for parents and carers (portal.casework.parents).

Choices that depend on the case (the child's contacts, the school's staff, the parties)
are plain text fields checked by the rule, so a forged value is refused in words."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import InputRequired, Optional

from ..casework.parents import INVITE_HOW
from ..forms import DATE_WORDS, Day, MultiCheckboxField, clean_text, max_length
from ..models import MEETING_STATE_LABELS, TOLD_HOW_LABELS, MeetingState, ToldHow

F = [clean_text]
DATE = DATE_WORDS


class OneOf(RadioField):
    """Radio buttons whose refusal of a value not offered (a hand-made request) is the
    field's own words."""

    def pre_validate(self, form: Any) -> None:
        if self.data not in (self.choices or {}):
            raise ValidationError(str(getattr(self.validators[0], "message", "")) or
                                  "Choose one of the answers offered.")


class PickOne(SelectField):
    """A list whose refusal of a value not offered is the field's own words."""

    def pre_validate(self, form: Any) -> None:
        if self.data not in (self.choices or {}):
            raise ValidationError(str(getattr(self.validators[0], "message", "")) or
                                  "Choose one of the answers offered.")


class ParentsToldForm(FlaskForm):
    """Parents of one party told: when, who, how, by whom, what."""

    party_id = HiddenField()
    corrects = HiddenField()
    told_on = Day("Date they were told", validators=[InputRequired(DATE)])
    contact = StringField("Who was told", filters=F)
    told_name = StringField("Or type who was told", filters=F,
                            validators=[max_length(160, "Keep this to {limit} characters.")])
    how = OneOf("How", choices={h.value: TOLD_HOW_LABELS[h] for h in ToldHow},
                     validators=[InputRequired("Choose how they were told.")])
    by_user = StringField("Who told them", filters=F)
    by_name = StringField("Or type the name of the member of staff", filters=F,
                          validators=[max_length(160, "Keep this to {limit} characters.")])
    what = TextAreaField("What they were told", filters=F,
                         validators=[InputRequired("Write what they were told."),
                                     max_length(4000, "Keep this to {limit} characters.")])


class InviteForm(FlaskForm):
    """Parents invited to a meeting, for one or several parties."""

    from_party = HiddenField()
    party_ids = MultiCheckboxField("Whose parents or carers are invited", choices={})
    invited_on = Day("Date of the invitation", validators=[InputRequired(DATE)])
    invited_how = PickOne("How they were invited",
                              choices={h.value: TOLD_HOW_LABELS[h] for h in INVITE_HOW},
                              validators=[InputRequired("Choose how they were invited.")])
    meeting_on = Day("Meeting date, if fixed", validators=[Optional()])


class MeetingForm(FlaskForm):
    """A meeting with parents held, or not attended."""

    from_party = HiddenField()
    meeting_id = HiddenField()
    outcome = OneOf("How did it go?",
                         choices={s.value: MEETING_STATE_LABELS[s] for s in MeetingState
                                  if s != MeetingState.INVITED},
                         validators=[InputRequired("Choose whether the meeting was held or "
                                                   "they did not attend.")])
    meeting_on = Day("Date of the meeting", validators=[InputRequired(DATE)])
    attended = StringField("Who attended", filters=F,
                           validators=[max_length(400, "Keep this to {limit} characters.")])
    agreed = TextAreaField("What was agreed", filters=F,
                           validators=[max_length(4000, "Keep this to {limit} characters.")])
    next_steps = TextAreaField("Next steps", filters=F,
                               validators=[max_length(4000, "Keep this to {limit} "
                                                      "characters.")])
