"""Password policy: pure rules without the app, then the configured minimum and the messages with it."""

from __future__ import annotations

import pytest

from app.password_policy import MAX_LENGTH, Rule, check, common_passwords, problems

EMAIL = "jane.doe@police.example"


def test_a_long_uncommon_password_passes():
    assert check("tram lantern quietly 1987", email=EMAIL) == []


@pytest.mark.parametrize("password", ["", "a", "short-pass1", "x" * 11])
def test_too_short(password):
    assert Rule.TOO_SHORT in check(password)


def test_minimum_is_configurable_and_exact():
    assert check("abcdefgh-xyz", min_length=12) == []
    assert check("abcdefgh-xy", min_length=12) == [Rule.TOO_SHORT]
    assert Rule.TOO_SHORT in check("tram lantern quietly", min_length=30)


def test_too_long_is_refused_without_scanning():
    assert check("k" * (MAX_LENGTH + 1)) == [Rule.TOO_LONG]
    assert Rule.TOO_LONG not in check("tram lantern " * 78)  # 1014 characters


def test_common_list_is_shipped_and_large():
    common = common_passwords()
    assert len(common) > 10_000 and "password" in common and "123456" in common


@pytest.mark.parametrize("password", [
    "qwerty123456", "1qaz2wsx3edc", "QWERTY123456",  # on the list as they are (any case)
    "password2024!", "!!Password1234", "letmein12345", "dragon1234567",  # a common word with digits/symbols
    "qwertyqwerty", "monkeymonkey", "aaaaaaaaaaaa", "abababababab",  # repetitions
])
def test_common_passwords_refused(password):
    assert Rule.COMMON in check(password), password


@pytest.mark.parametrize("password", [
    EMAIL, EMAIL.upper(), "my-jane.doe-password", "Jane.Doe.2026.secret", f"x{EMAIL}x",
])
def test_email_and_its_local_part_refused(password):
    assert Rule.LIKE_EMAIL in check(password, email=EMAIL), password


def test_very_short_local_part_is_not_checked():
    # "jo" would make half the dictionary unusable; only the whole address is refused for such accounts.
    assert Rule.LIKE_EMAIL not in check("jolly roger sails at dawn", email="jo@police.example")
    assert Rule.LIKE_EMAIL in check("xx jo@police.example xx", email="jo@police.example")


def test_several_rules_at_once():
    assert set(check("jane.doe", email=EMAIL)) == {Rule.TOO_SHORT, Rule.LIKE_EMAIL}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_messages_use_the_configured_minimum(app_config):
    from app import create_app

    app = create_app({**app_config, "PASSWORD_MIN_LENGTH": 16})
    try:
        with app.test_request_context():
            found = problems("fifteen chars!!", EMAIL)
            assert len(found) == 1 and "16" in found[0]
            assert problems("tram lantern quietly 1987", EMAIL) == []
            msgs = problems("password", EMAIL)
            assert any("commonly used" in m for m in msgs)
            assert any("e-mail" in m for m in problems("jane.doe tram lantern quietly", EMAIL))
    finally:
        app.extensions["db_engine"].dispose()
