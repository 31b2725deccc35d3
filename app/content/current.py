"""Access to the installed content from inside a request or CLI command, in the reader's language.

Pages and reports take the content in the language of the request (``flask_babel.get_locale``); pass
``language="en"`` for machine exports, which stay language-neutral.
"""

from __future__ import annotations

from flask import current_app, has_app_context
from flask_babel import get_locale

from . import Content, ContentRegistry


def registry() -> ContentRegistry:
    return current_app.extensions["content"]


def _language(language: str | None) -> str:
    if language:
        return language
    if has_app_context():
        return str(get_locale() or "en")
    return "en"


def current(language: str | None = None) -> Content:
    return registry().get(registry().current.version, _language(language))


def for_version(version: str, language: str | None = None) -> Content:
    return registry().get(version, _language(language))
