"""The case page's notice forms: a policy step's "Send notice to …" and "Tell NAME a pupil
asked for them"."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, Form, HiddenField, ValidationError
from wtforms.validators import Regexp

# Read when a form is checked, not at import: portal.casework.notices imports the triage
# package (its operations), which imports this module.
from ..casework import notices as notice_rules
from ..forms import MultiCheckboxField

# "contact id:sends when the page was drawn", comma-separated: "3:0,7:1".
SEEN = re.compile(r"^(\d{1,9}:\d{1,4})(,\d{1,9}:\d{1,4}){0,99}$|^$")


def _notice_step(_form: Form, field: Field) -> None:
    if field.data not in notice_rules.NOTICE_STEPS:
        raise ValidationError("That step does not ask for a notice.")


class StepNoticeForm(FlaskForm):
    step = HiddenField(validators=[_notice_step])
    # choices: the school's contacts, set by the view
    contacts = MultiCheckboxField("Who to tell")
    seen = HiddenField(validators=[Regexp(SEEN, message="Reload the page and try again.")])
    mark_done = BooleanField("Mark the step done, noting who was told and when",
                             default=True)

    def seen_counts(self) -> dict[int, int]:
        """Each contact's sends when the page was drawn."""
        pairs = (part.split(":") for part in (self.seen.data or "").split(",") if part)
        return {int(contact): int(count) for contact, count in pairs}


class AdultNoticeForm(FlaskForm):
    """The button "Tell NAME a pupil asked for them": how often they had been told when
    the page was drawn."""

    seen = HiddenField(validators=[Regexp(r"^\d{1,4}$", message="Reload the page and try "
                                                                "again.")])
