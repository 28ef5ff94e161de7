"""Administration forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired

from ..forms import clean_text, max_length


class TrustedAdultForm(FlaskForm):
    name = StringField("Name pupils know them by", filters=[clean_text],
                       validators=[InputRequired("Enter a name."),
                                   max_length(120, "Keep the name to {limit} characters.")])
    description = StringField("Who they are (optional)", filters=[clean_text],
                              validators=[max_length(120, "Keep this to {limit} characters.")])


class ToggleForm(FlaskForm):
    """A button with a CSRF token."""
