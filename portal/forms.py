"""Form pieces shared by the public and staff forms."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from wtforms import DateField, Field, Form, SelectField, SelectMultipleField, ValidationError
from wtforms.form import BaseForm
from wtforms.widgets import CheckboxInput, ListWidget

from .vocabulary import Choice, year_groups, year_groups_message

T = TypeVar("T")


def required(value: T | None) -> T:
    """A field's value once the form has validated it as present (InputRequired, or a check
    in the view); None here is a bug in the view, never something a user typed."""
    if value is None:
        raise ValueError("a required field has no value: was the form validated first?")
    return value

# Control characters (NUL breaks PostgreSQL text) except tab and newlines are dropped.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def clean_text(value: Any) -> Any:
    """Strip control characters and surrounding space from submitted text."""
    if isinstance(value, str):
        return _CONTROL.sub("", value).strip()
    return value


def choices(options: Sequence[Choice], words: str = "adult") -> dict[str, str]:
    """WTForms choices ({value: label}) in a child's or an adult's words."""
    return {c.value: getattr(c, words) for c in options}


class MultiCheckboxField(SelectMultipleField):
    """Several checkboxes under one name."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form: BaseForm) -> None:
        allowed = set(self.choices or {})
        for value in self.data or []:
            if value not in allowed:
                raise ValidationError("Please choose from the list.")


class YearGroupField(SelectField):
    """A year group list; the view narrows it to the school's phase with ``offer``. A year
    the list does not offer (a hand-made request) is refused in words, not "Not a valid
    choice"."""

    def __init__(self, label: str | None = None, validators: Any = None, *, blank: str = "—",
                 **kwargs: Any) -> None:
        super().__init__(label, validators, **kwargs)
        self.blank = blank
        self.offer(None)

    def offer(self, phase: str | None, keep: str = "") -> None:
        """The years of ``phase``, and ``keep`` (a pupil's stored year) if it is not one."""
        years = year_groups(phase)
        extra = (keep,) if keep and keep not in years else ()
        self.choices = {"": self.blank, **{y: y for y in (*years, *extra)}}
        self.refused = year_groups_message(phase)

    def pre_validate(self, form: BaseForm) -> None:
        if self.data and self.data not in (self.choices or {}):
            raise ValidationError(self.refused)


def max_length(limit: int, message: str) -> Callable[[Form, Field], None]:
    """A length check whose message says how long the text is now."""

    def check(_form: Form, field: Field) -> None:
        if field.data and len(field.data) > limit:
            raise ValidationError(message.format(limit=limit, length=len(field.data)))

    return check


DATE_WORDS = "Enter the date, like 2026-11-23."


class Day(DateField):
    """A date field whose refusal of a date it can't read (2026-13-01, 31/12/2026) is in
    plain words, not WTForms' "Not a valid date value"; the typed text is kept."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(DATE_WORDS) from None


def as_id(text: str | None) -> int | None:
    """A database id the client sent as text, or None: ASCII digits only ("²" and "١" are
    digits to str.isdigit), and no more than the INTEGER id columns hold (32 bits on
    PostgreSQL; a trial sent 25 digits and the database driver failed)."""
    value = (text or "").strip()
    if not value or len(value) > 10 or not (value.isascii() and value.isdigit()):
        return None
    return int(value) if int(value) <= 2**31 - 1 else None
