"""Staff forms on the case page."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.validators import InputRequired

from ..forms import clean_text, max_length
from ..vocabulary import CATEGORY_LABELS, STATUS_LABELS, Category, Status

F = [clean_text]
REASON = [InputRequired("Write the reason for this change."),
          max_length(4000, "Keep the reason to {limit} characters or fewer.")]


class DecisionForm(FlaskForm):
    category = RadioField(
        "Decision",
        choices={c.value: CATEGORY_LABELS[c] for c in Category},
        validators=[InputRequired("Choose a decision.")],
    )
    reason = TextAreaField("Reason for the decision", filters=F, validators=REASON)


class StatusForm(FlaskForm):
    status = SelectField("Move to", choices={s.value: STATUS_LABELS[s] for s in Status},
                         validators=[InputRequired("Choose a status.")])
    status_reason = TextAreaField("Reason", filters=F, validators=REASON)


class NoteForm(FlaskForm):
    note = TextAreaField("Staff-only note", filters=F,
                         validators=[InputRequired("Write the note first."),
                                     max_length(8000, "Keep the note to {limit} characters or "
                                                "fewer.")])
