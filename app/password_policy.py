"""Password policy (OWASP ASVS 5.0 V6.2): length, common passwords, nothing derived from the e-mail.

Pure rules first (``check`` returns rule codes, testable without the app), then messages and a WTForms
validator that read the minimum length from the app's config. The common-password list is the one that
ships with zxcvbn (30,000 most frequent leaked passwords), so no list is maintained here.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from functools import cache

from flask import current_app, has_app_context
from flask_babel import gettext as _
from wtforms import Field, Form
from wtforms.validators import ValidationError

DEFAULT_MIN_LENGTH = 12
MAX_LENGTH = 1024
# A local part shorter than this ("jo@…") would refuse far too many good passwords; it is not checked.
MIN_LOCAL_PART = 3
# Stripped from both ends before the common-list check: "password2024!" is as weak as "password".
_AFFIX = "0123456789 !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


class Rule(enum.StrEnum):
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    COMMON = "common"
    LIKE_EMAIL = "like_email"


@cache
def common_passwords() -> frozenset[str]:
    """Loaded once, on first use: importing zxcvbn's lists costs a few milliseconds and some memory."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


def _is_common(password: str) -> bool:
    lowered = password.lower()
    common = common_passwords()
    if lowered in common:
        return True
    core = lowered.strip(_AFFIX)
    if len(core) >= 4 and core in common:
        return True
    # "qwertyqwerty", "abcabcabcabc": a common word repeated is no stronger than the word.
    for size in range(1, len(lowered) // 2 + 1):
        if len(lowered) % size == 0 and lowered[:size] * (len(lowered) // size) == lowered:
            unit = lowered[:size]
            return len(set(unit)) <= 2 or unit in common
    return False


def check(password: str, *, email: str = "", min_length: int = DEFAULT_MIN_LENGTH) -> list[Rule]:
    """Every rule the password breaks (empty when it is acceptable)."""
    broken: list[Rule] = []
    if len(password) < min_length:
        broken.append(Rule.TOO_SHORT)
    if len(password) > MAX_LENGTH:
        broken.append(Rule.TOO_LONG)
        return broken  # do not scan a megabyte against the lists
    if _is_common(password):
        broken.append(Rule.COMMON)
    email = email.strip().lower()
    if email:
        lowered = password.lower()
        local = email.split("@", 1)[0]
        if lowered == email or email in lowered or (len(local) >= MIN_LOCAL_PART and local in lowered):
            broken.append(Rule.LIKE_EMAIL)
    return broken


def min_length() -> int:
    return int(current_app.config.get("PASSWORD_MIN_LENGTH", DEFAULT_MIN_LENGTH)) if has_app_context() \
        else DEFAULT_MIN_LENGTH


def message(rule: Rule, minimum: int | None = None) -> str:
    minimum = min_length() if minimum is None else minimum
    return {
        Rule.TOO_SHORT: _("Use at least %(n)d characters. A few unrelated words make a long password that is "
                          "easy to remember.", n=minimum),
        Rule.TOO_LONG: _("Use at most %(n)d characters.", n=MAX_LENGTH),
        Rule.COMMON: _("This password is on a list of commonly used passwords that attackers try first. "
                       "Choose something less predictable."),
        Rule.LIKE_EMAIL: _("The password must not be or contain your e-mail address or its name part."),
    }[rule]


def problems(password: str, email: str = "") -> list[str]:
    """The policy's complaints about ``password`` as messages for the user, using the configured minimum."""
    minimum = min_length()
    return [message(rule, minimum) for rule in check(password, email=email, min_length=minimum)]


def description() -> str:
    return _("At least %(n)d characters; not a common password; not your e-mail address.", n=min_length())


class PasswordPolicy:
    """WTForms validator; ``email`` gives the account's e-mail at validation time (it may come from the form)."""

    def __init__(self, email: Callable[[Form], str]) -> None:
        self.email = email

    def __call__(self, form: Form, field: Field) -> None:
        found = problems(field.data or "", self.email(form))
        if found:
            raise ValidationError(" ".join(found))
