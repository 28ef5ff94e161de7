"""Follow-up codes: entropy, readable form, tolerant input, stored only as a hash."""

from __future__ import annotations

import math
import re

import pytest

from portal import followup


def test_codes_have_at_least_64_bits_and_are_grouped_for_reading_aloud():
    code = followup.new_code()
    assert re.fullmatch(r"\d{4}(-\d{4}){4}", code)
    assert followup.DIGITS * math.log2(10) >= 64


def test_codes_are_random():
    assert len({followup.new_code() for _ in range(1000)}) == 1000


@pytest.mark.parametrize("typed", ["1234-5678-9012-3456-7890", "12345678901234567890",
                                   " 1234 5678 9012 3456 7890 ", "1234.5678.9012.3456.7890"])
def test_what_a_child_types_is_normalised(typed):
    assert followup.normalise(typed) == "12345678901234567890"


@pytest.mark.parametrize("typed", ["", "1234", "1234-5678-9012-3456-789X",
                                   "123456789012345678901", "<script>1234567890123456789</script>",
                                   "١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦٧٨٩٠"])
def test_anything_else_is_not_a_code(typed):
    assert followup.normalise(typed) is None


def test_the_stored_hash_does_not_contain_the_code_and_matches_any_typed_form():
    code = followup.new_code()
    digits = code.replace("-", "")
    assert digits not in followup.code_hash(code)
    assert followup.code_hash(code) == followup.code_hash(digits)


def test_a_sealed_code_opens_only_with_its_submission_token():
    from cryptography.exceptions import InvalidTag
    sealed = followup.seal_code("1111-2222-3333-4444-5555", "token-a" * 4)
    assert followup.unseal_code(sealed, "token-a" * 4) == "1111-2222-3333-4444-5555"
    with pytest.raises(InvalidTag):
        followup.unseal_code(sealed, "token-b" * 4)
