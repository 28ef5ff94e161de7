"""The pupil and parent report forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import HiddenField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Optional, ValidationError

from ..forms import EMAIL, MultiCheckboxField, YearGroupField, choices, clean_text, max_length
from ..vocabulary import (
    ABOUT,
    CONCERNS,
    CONTACT_PREFERENCES,
    KINDS,
    PLACES,
    WHEN,
    YES_NO_UNSURE,
)

TEXT_LIMIT = 5000
SHORT_LIMIT = 120
F = [clean_text]


class PupilReportForm(FlaskForm):
    """Journey 1: a pupil on a shared tablet. Field names follow the design's contract."""

    submission = HiddenField()
    about = RadioField(
        "Who is it happening to?",
        choices=choices(ABOUT, "child"),
        validators=[InputRequired("Please choose who this happened to.")],
    )
    kinds = MultiCheckboxField("What happened?", choices=choices(KINDS, "child"))
    what_happened = TextAreaField(
        "Tell us what happened",
        filters=F,
        validators=[max_length(TEXT_LIMIT, "Please make this shorter. You can use {limit} "
                               "letters and you have used {length}.")],
    )
    places = MultiCheckboxField("Where did it happen?", choices=choices(PLACES, "child"))
    when = RadioField("When did it happen?", choices=choices(WHEN, "child"),
                      validators=[Optional()])
    happened_before = RadioField("Has it happened before?", choices=choices(YES_NO_UNSURE, "child"),
                                 validators=[Optional()])
    who_involved = TextAreaField(
        "Who was there or who did it?",
        filters=F,
        validators=[max_length(2000, "Please make this shorter. You can use {limit} letters "
                               "and you have used {length}.")],
    )
    feels_safe = RadioField(
        "Do you feel safe right now?",
        choices=choices(YES_NO_UNSURE, "child"),
        validators=[InputRequired("Please tell us if you feel safe right now.")],
    )
    anonymous = RadioField(
        "Do you want to tell us your name?",
        choices={"yes": "No, keep my name secret", "no": "Yes, I will tell you my name"},
        validators=[InputRequired("Please choose if you want to tell us your name.")],
    )
    reporter_name = StringField("Your name", filters=F,
                                validators=[max_length(SHORT_LIMIT, "Please use a shorter name.")])
    reporter_class = StringField("Your class", filters=F,
                                 validators=[max_length(60, "Please use a shorter class name.")])
    adult = RadioField("Who would you like to talk to?", validate_choice=True)
    evidence = MultipleFileField("Pictures or screenshots (you don't have to)")

    def validate_what_happened(self, field: TextAreaField) -> None:
        # A young child may only tick a picture; writing is welcome but not required then.
        if not field.data and not self.kinds.data:
            raise ValidationError("Please tick what happened or write about it.")

    def validate_reporter_name(self, field: StringField) -> None:
        if self.anonymous.data == "no" and not field.data:
            raise ValidationError("Please write your name, or choose to keep it secret.")

    def validate_reporter_class(self, field: StringField) -> None:
        if self.anonymous.data == "no" and not field.data:
            raise ValidationError("Please write your class, or choose to keep your name secret.")


class ParentReportForm(FlaskForm):
    """Journey 2: a parent or carer at home."""

    submission = HiddenField()
    child_name = StringField(
        "Your child's name", filters=F,
        validators=[DataRequired("Enter your child's name."),
                    max_length(SHORT_LIMIT, "Your child's name must be {limit} characters or "
                               "fewer.")],
    )
    child_year = YearGroupField(  # narrowed to the school's phase in the view
        "Year group", blank="Choose a year group",
        validators=[InputRequired("Choose your child's year group.")],
    )
    # Several can be true at once ("won't go to school" and "has changed"): checkboxes.
    concern = MultiCheckboxField("What is your concern about?", choices=choices(CONCERNS))
    kinds = MultiCheckboxField("If it is bullying, what kind?", choices=choices(KINDS))
    details = TextAreaField(
        "What has happened?", filters=F,
        validators=[DataRequired("Tell us what has happened."),
                    max_length(TEXT_LIMIT, "This must be {limit} characters or fewer; it is "
                               "{length} now.")],
    )
    since_when = StringField(
        "Since when?", filters=F,
        validators=[max_length(200, "This must be {limit} characters or fewer.")],
    )
    told_before = RadioField("Have you told the school about this before?",
                             choices=choices(YES_NO_UNSURE), validators=[Optional()])
    parent_name = StringField(
        "Your name", filters=F,
        validators=[DataRequired("Enter your name."),
                    max_length(SHORT_LIMIT, "Your name must be {limit} characters or fewer.")],
    )
    contact_email = StringField(
        "Email address", filters=F,
        validators=[max_length(254, "The email address must be {limit} characters or fewer.")],
    )
    contact_phone = StringField(
        "Phone number", filters=F,
        validators=[max_length(40, "The phone number must be {limit} characters or fewer.")],
    )
    contact_preference = RadioField(
        "How would you like us to contact you?", choices=choices(CONTACT_PREFERENCES),
        validators=[InputRequired("Choose how you would like us to contact you.")],
    )
    email_updates = RadioField(
        "Email me when there is an update?",
        choices={"yes": "Yes: email me that there is an update (never the details)",
                 "no": "No, I will check with my code"},
        default="no", validators=[Optional()])
    evidence = MultipleFileField("Screenshots, photos or a PDF (optional)")

    def validate_concern(self, field: MultiCheckboxField) -> None:
        if not field.data:
            raise ValidationError("Choose what your concern is about.")

    def validate_contact_email(self, field: StringField) -> None:
        if field.data and not EMAIL.match(field.data):
            raise ValidationError("Enter an email address like name@example.com.")
        if not field.data and not self.contact_phone.data:
            raise ValidationError("Enter an email address or a phone number so we can reply.")

    def validate_contact_phone(self, field: StringField) -> None:
        digits = [ch for ch in field.data or "" if ch.isdigit()]
        if field.data and (len(digits) < 7
                           or any(ch not in "0123456789 +-()" for ch in field.data)):
            raise ValidationError("Enter a phone number, like 01632 960 123.")

    def validate_contact_preference(self, field: RadioField) -> None:
        if field.data == "email" and not self.contact_email.data:
            raise ValidationError("Enter an email address if you would like us to email you.")
        if field.data == "phone" and not self.contact_phone.data:
            raise ValidationError("Enter a phone number if you would like us to phone you.")


class FollowUpForm(FlaskForm):
    # No "required" check: an empty code gets the same neutral answer as any wrong one.
    code = StringField("Your follow-up code", filters=F)



class ReplyForm(FlaskForm):
    """The reporter's reply, sent with the code they typed (in the form, not the URL)."""

    code = HiddenField()
    message = TextAreaField("Write back to the school", filters=F)
