"""Which language a request is answered in, and the languages the service speaks.

Order of precedence (issue 13): an explicit ``?lang=`` on the URL (a shared link, a report downloaded in
another language), the logged-in account's saved choice, the ``thb_lang`` cookie (anonymous visitors and
workshop participants on their phones), the browser's Accept-Language, then ``DEFAULT_LANGUAGE``.
Nothing here writes: the choice is stored only by ``POST /language``.

The ``flask`` commands run in an app context without a request, so they speak ``DEFAULT_LANGUAGE``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import click
from flask import current_app, has_request_context, request
from flask_babel import lazy_gettext
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
F = TypeVar("F", bound=Callable[..., Any])
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


def lazy_help(text: str) -> str:
    """A CLI help text (command or option), translated when click renders it rather than at import.

    Click keeps help texts unprocessed until ``--help`` formats them, and Flask's command group pushes the
    app context before it looks a command up, so the text comes out in ``DEFAULT_LANGUAGE``. Typed as the
    ``str`` click declares (a LazyString behaves as one). Import it as ``_l`` so the extractor finds the texts.
    """
    return cast(str, lazy_gettext(text))


class LazyHelpOption(click.Option):
    """A click option that keeps its help text lazy: ``click.Option`` runs ``inspect.cleandoc`` on ``help`` when
    the option is built (at import, outside any app context), which would freeze the text in English."""

    _lazy_help: str | None = None

    def __init__(self, *args: Any, help: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = help

    @property  # type: ignore[override]
    def help(self) -> str | None:
        """The text in the current language, as the plain ``str`` click's formatter needs."""
        return None if self._lazy_help is None else str(self._lazy_help)

    @help.setter
    def help(self, value: str | None) -> None:
        self._lazy_help = value


def option(*param_decls: str, **attrs: Any) -> Callable[[F], F]:
    """``click.option`` whose ``help=lazy_help(...)`` is translated when ``--help`` is rendered."""
    return click.option(*param_decls, cls=LazyHelpOption, **attrs)
