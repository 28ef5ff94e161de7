"""The case page's notice forms: a policy step's "Send notice to …" and "Tell NAME a pupil
asked for them"."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField
from wtforms.validators import AnyOf, Regexp

from ..casework.notices import NOTICE_STEPS
from ..forms import MultiCheckboxField

# "contact id:sends when the page was drawn", comma-separated: "3:0,7:1".
SEEN = re.compile(r"^(\d{1,9}:\d{1,4})(,\d{1,9}:\d{1,4}){0,99}$|^$")


class StepNoticeForm(FlaskForm):
    step = HiddenField(validators=[AnyOf(list(NOTICE_STEPS),
                                         message="That step does not ask for a notice.")])
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
