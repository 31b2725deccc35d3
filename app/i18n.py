"""Which language a request is answered in, and the languages the service speaks.

Order of precedence (issue 13): an explicit ``?lang=`` on the URL (a shared link, a report downloaded in
another language), the logged-in account's saved choice, the ``thb_lang`` cookie (anonymous visitors and
workshop participants on their phones), the browser's Accept-Language, then ``DEFAULT_LANGUAGE``.
Nothing here writes: the choice is stored only by ``POST /language``.
"""

from __future__ import annotations

from flask import current_app, has_request_context, request
from flask_login import current_user

# Native names: a reader finds their own language whatever the page is in.
LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "es": "Español",
    "ca": "Català",
    "fr": "Français",
    "de": "Deutsch",
}
COOKIE = "thb_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600


def languages() -> list[str]:
    """The configured languages, English (the source language) first."""
    return list(current_app.config["LANGUAGES"])


def supported(code: str | None) -> str | None:
    """``code`` if the service speaks it (case-insensitive, ``es-ES`` → ``es``), else None."""
    if not code:
        return None
    code = code.strip().lower().replace("_", "-").split("-")[0]
    return code if code in languages() else None


def select_locale() -> str:
    """Flask-Babel's locale selector."""
    default = current_app.config["DEFAULT_LANGUAGE"]
    if not has_request_context():
        return default
    chosen = supported(request.args.get("lang"))
    if chosen:
        return chosen
    if current_user.is_authenticated:
        chosen = supported(getattr(current_user, "language", None))
        if chosen:
            return chosen
    chosen = supported(request.cookies.get(COOKIE))
    if chosen:
        return chosen
    best = request.accept_languages.best_match(languages())
    return best or default
