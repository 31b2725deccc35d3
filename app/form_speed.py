"""Two per-request costs of Flask-WTF/WTForms, cut without changing what they produce (issue 16).

- Flask-WTF loads WTForms' message catalogue from disk (open, parse, compile the plural rule) on every request
  that builds a form, keeping it only on that request. The catalogue is part of the installed package and never
  changes while the process runs, so it is loaded once per process and language.
- ``wtforms.widgets.core.html_params`` (every rendered field and select option) formats each attribute through
  ``Markup.format``, whose escaping formatter costs more than the rest of the field. The replacement builds the
  very same string: the value escaped by markupsafe (a ``"`` inside an already-safe value becomes ``&quot;``,
  as there), attributes sorted by name, ``True`` as a bare attribute and ``False`` left out.

Both are installed once per process (``install``); tests/test_form_speed.py compares the output with the
originals'.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import flask_wtf.i18n
import wtforms.widgets
import wtforms.widgets.core
from babel import support
from flask import current_app, has_request_context
from flask_babel import get_locale
from markupsafe import Markup, escape
from wtforms.i18n import messages_path

ORIGINAL_HTML_PARAMS = wtforms.widgets.core.html_params
ORIGINAL_GET_TRANSLATIONS = flask_wtf.i18n._get_translations


@lru_cache(maxsize=32)
def _wtforms_catalogue(language: str) -> support.Translations:
    return support.Translations.load(messages_path(), [language], domain="wtforms")  # type: ignore[return-value]


def wtforms_translations() -> Any:
    """What ``flask_wtf.i18n._get_translations`` returns, from the per-process cache."""
    if not has_request_context() or "babel" not in current_app.extensions:
        return None
    return _wtforms_catalogue(str(get_locale()))


_clean_key = wtforms.widgets.core.clean_key


def html_params(**kwargs: Any) -> Markup:
    """Same output as ``wtforms.widgets.core.html_params``."""
    params = []
    for k, v in sorted(kwargs.items()):
        k = _clean_key(k)
        if v is True:
            params.append(str(escape(k)))
        elif v is False:
            pass
        else:
            params.append(f'{escape(k)}="{str(escape(v)).replace(chr(34), "&quot;")}"')
    return Markup(" ".join(params))  # noqa: S704 - every key and value went through escape() above


def install() -> None:
    wtforms.widgets.core.html_params = html_params
    wtforms.widgets.html_params = html_params
    flask_wtf.i18n._get_translations = wtforms_translations
