"""Form pieces shared by the public and staff forms."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from wtforms import Field, Form, SelectMultipleField, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from .vocabulary import Choice

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

    def pre_validate(self, form: Form) -> None:
        allowed = set(self.choices or {})
        for value in self.data or []:
            if value not in allowed:
                raise ValidationError("Please choose from the list.")


def max_length(limit: int, message: str) -> Callable[[Form, Field], None]:
    """A length check whose message says how long the text is now."""

    def check(_form: Form, field: Field) -> None:
        if field.data and len(field.data) > limit:
            raise ValidationError(message.format(limit=limit, length=len(field.data)))

    return check
