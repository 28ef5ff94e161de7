"""Staff password rules: Argon2id, 12+ characters, no common passwords."""

from __future__ import annotations

import pytest

from portal.auth.passwords import WeakPassword, check_strength, hash_password, verify


@pytest.mark.parametrize("password", ["short", "elevenchars", "password1234", "Qwertyuiop123"])
def test_short_or_common_passwords_are_refused(password):
    with pytest.raises(WeakPassword):
        check_strength(password)


def test_a_long_passphrase_without_symbols_is_fine():
    check_strength("purple elephants dance slowly")


def test_hashes_are_argon2id_and_verify():
    stored = hash_password("purple elephants dance slowly")
    assert stored.startswith("$argon2id$")
    assert verify(stored, "purple elephants dance slowly")
    assert not verify(stored, "purple elephants dance quickly")


def test_unknown_account_never_verifies():
    assert not verify(None, "not a real password, only for timing")
