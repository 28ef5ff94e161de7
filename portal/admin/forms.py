"""Administration forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    PasswordField,
    RadioField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional, Regexp

from .. import exits
from ..forms import YearGroupField, clean_text, max_length
from ..models import SEN_LABELS, SenStatus
from ..vocabulary import DEFAULT_PHASE, PHASE_LABELS


class TrustedAdultForm(FlaskForm):
    name = StringField("Name pupils know them by", filters=[clean_text],
                       validators=[DataRequired("Enter a name."),
                                   max_length(120, "Keep the name to {limit} characters.")])
    description = StringField("Who they are (optional)", filters=[clean_text],
                              validators=[max_length(120, "Keep this to {limit} characters.")])


class ToggleForm(FlaskForm):
    """A button with a CSRF token."""


class PupilForm(FlaskForm):
    """Add or correct a pupil on the roster by hand."""

    upn = StringField("UPN or admission number", filters=[clean_text],
                      validators=[DataRequired("Enter the UPN or admission number."),
                                  Regexp(r"^[A-Za-z0-9-]{1,20}$",
                                         message="Use up to 20 letters, digits or dashes.")])
    first_name = StringField("First name", filters=[clean_text],
                             validators=[DataRequired("Enter the first name."),
                                         max_length(80, "Keep this to {limit} characters.")])
    last_name = StringField("Surname", filters=[clean_text],
                            validators=[DataRequired("Enter the surname."),
                                        max_length(80, "Keep this to {limit} characters.")])
    date_of_birth = DateField("Date of birth", validators=[Optional()])
    # narrowed to the school's phase in the view
    year_group = YearGroupField("Year group", default="")
    form = StringField("Form or class", filters=[clean_text],
                       validators=[max_length(30, "Keep this to {limit} characters.")])
    sen_status = RadioField("SEN status", choices={s.value: SEN_LABELS[s] for s in SenStatus},
                            validators=[InputRequired("Choose the SEN status.")])
    on_roll = RadioField("On roll", choices={"yes": "On roll", "no": "Left the school"},
                         validators=[InputRequired("Choose whether the pupil is on roll.")])


class SchoolSettingsForm(FlaskForm):
    """What the school decides: when a child counts as recurring, when a report is overdue,
    and where the quick-exit button goes."""

    recurring_count = IntegerField("Reports that make a child “recurring”",
                                   validators=[InputRequired("Enter a number."),
                                               NumberRange(2, 20, "Use a number from 2 to 20.")])
    recurring_days = IntegerField("…within this many days",
                                  validators=[InputRequired("Enter a number."),
                                              NumberRange(7, 730, "Use 7 to 730 days.")])
    urgent_due_days = IntegerField("Urgent reports acknowledged within (school days; 0 = the "
                                   "same day)",
                                   validators=[InputRequired("Enter a number."),
                                               NumberRange(0, 5, "Use 0 to 5.")])
    normal_due_days = IntegerField("Other reports acknowledged within (school days)",
                                   validators=[InputRequired("Enter a number."),
                                               NumberRange(1, 10, "Use 1 to 10.")])
    day_ends_hour = IntegerField("The school day ends at (hour, 24-hour clock)",
                                 validators=[InputRequired("Enter an hour."),
                                             NumberRange(12, 20, "Use an hour from 12 to 20.")])
    phase = RadioField("Which year groups the school has (the forms offer only these)",
                       choices={p.value: label for p, label in PHASE_LABELS.items()},
                       default=DEFAULT_PHASE.value, validate_choice=True,
                       validators=[InputRequired("Choose which year groups the school has.")])
    exit_url = RadioField("Where the “Leave this page quickly” button goes",
                          choices=exits.choices(), default=exits.DEFAULT,
                          validate_choice=True)


class TabletForm(FlaskForm):
    label = StringField("Name for this tablet", filters=[clean_text],
                        validators=[DataRequired("Give the tablet a name, like “Library iPad”."),
                                    max_length(80, "Keep the name to {limit} characters.")])


class SsoProviderForm(FlaskForm):
    """The school's (or trust's) OpenID Connect provider (portal.admin.sso_settings)."""

    label = StringField("Name staff will see", filters=[clean_text], validators=[
        max_length(80, "Keep the name to {limit} characters.")])
    issuer = StringField("Issuer", filters=[clean_text], validators=[
        DataRequired("Enter the issuer address your identity provider gives."),
        max_length(500, "Keep the issuer to {limit} characters.")])
    client_id = StringField("Client ID", filters=[clean_text], validators=[
        DataRequired("Enter the client ID your identity provider gave the portal."),
        max_length(500, "Keep the client ID to {limit} characters.")])
    client_secret = PasswordField("Client secret", validators=[
        max_length(500, "Keep the client secret to {limit} characters.")])
    domains = TextAreaField("Email domains", filters=[clean_text], validators=[
        max_length(2000, "Keep the domains to {limit} characters.")])
    enabled = BooleanField("Staff may sign in with this provider")
