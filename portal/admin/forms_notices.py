"""The school's contacts for policy notices, and trusted adults' staff accounts."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Regexp

from ..forms import EMAIL, clean_text, max_length
from ..models import CONTACT_ROLE_LABELS


class ContactForm(FlaskForm):
    """Someone a policy step asks the school to inform."""

    name = StringField("Name", filters=[clean_text],
                       validators=[DataRequired("Enter the contact's name."),
                                   max_length(120, "Keep the name to {limit} characters.")])
    role = RadioField("Role", choices={r.value: label for r, label in CONTACT_ROLE_LABELS.items()},
                      validate_choice=True,
                      validators=[InputRequired("Choose the contact's role.")])
    email = StringField("Email address", filters=[clean_text],
                        validators=[DataRequired("Enter an email address."),
                                    max_length(254, "Keep the address to {limit} characters."),
                                    Regexp(EMAIL, message="Enter an email address like "
                                                          "name@school.example.")])


class AdultAccountForm(FlaskForm):
    """Which staff account is this trusted adult's (choices set by the view)."""

    account = SelectField("Staff account", validate_choice=True)
