"""portal.forms.required: a validated field's value, or a loud error for a view's mistake."""

from __future__ import annotations

from datetime import date

import pytest

from portal.forms import required


@pytest.mark.parametrize("value", [date(2026, 11, 23), "token", 0, ""])
def test_required_gives_back_a_value_that_is_there(value):
    assert required(value) == value


def test_required_refuses_none_instead_of_passing_it_on():
    # A view that read a field before validating the form must not store a None as a date.
    with pytest.raises(ValueError, match="was the form validated first"):
        required(None)
