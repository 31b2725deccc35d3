"""Jinja globals and filters shared by pages and PDF templates."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, has_app_context
from flask_babel import get_locale, get_translations
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from .content import Content, Question
from .display import fmt_date, fmt_dt, fmt_level, fmt_pct
from .i18n import LANGUAGE_NAMES, languages
from .reports.charts import level_bar
from .scoring import VALID_VALUES

# An assessment's status as people read it: badges, pickers, the PDF and the Word report all use this one mapping.
STATUS_LABELS = {"draft": _l("Draft"), "submitted": _l("Submitted"), "reopened": _l("Reopened")}
# The report's cover spells out that the numbers of an unsubmitted assessment may still change.
REPORT_STATUS_LABELS = {"draft": _l("Draft (provisional results)"), "submitted": _l("Submitted"),
                        "reopened": _l("Reopened (provisional results)")}


def status_label(status: str, *, report: bool = False) -> str:
    """The translated label of an assessment status (``report``: the gap report cover's longer wording)."""
    return str((REPORT_STATUS_LABELS if report else STATUS_LABELS)[status])


def _translations() -> Any:
    """Flask-Babel resolves the locale and its catalogue on every call; a page makes dozens of calls, so the
    templates look the catalogue up once per request (the locale does not change within one)."""
    if not has_app_context():
        return get_translations()
    t = g.get("_template_translations")
    if t is None:
        t = g._template_translations = get_translations()
    return t


def template_gettext(string: str, **variables: Any) -> str:
    """Same result as flask_babel.gettext."""
    s = _translations().ugettext(string)
    return s % variables if variables else s


def template_ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """Same result as flask_babel.ngettext."""
    variables.setdefault("num", num)
    return _translations().ungettext(singular, plural, num) % variables


_CHOICES: dict[tuple[str, str, str | None, bool, str], Markup] = {}


def level_choices(q: Question, qf: Any, content: Content, explain: bool = True) -> Markup:
    """The radio group of one question (``_macros.html`` ``level_choices_html``).

    Its HTML depends only on the content version, the question, the chosen value and the language, and
    answer pages render it for every question on every request (a workshop's 200 participants, several a
    second), so each combination is rendered once per process and kept: at most 8 values x 2 forms per
    question and content file (keyed by its SHA-256). Values outside the valid set (a rejected form shown
    again) are rendered without being kept, so no input can grow the cache. A macro's result is already
    escaped Markup.
    """
    value = None if qf.data is None else str(qf.data)
    if value is not None and value not in VALID_VALUES:
        return _choices_macro()(q, value, content, explain)  # type: ignore[no-any-return]
    key = (content.sha256 or content.version, q.id, value, explain, str(get_locale()))
    html = _CHOICES.get(key)
    if html is None:
        html = _CHOICES[key] = _choices_macro()(q, value, content, explain)
    return html


def _choices_macro() -> Any:
    return current_app.jinja_env.get_template("_macros.html").module.level_choices_html  # type: ignore[attr-defined]


# Short role names for page headers and lists (the account form explains each role at more length).
ROLE_NAMES = {"member": _l("member"), "supervisor": _l("supervisor"), "admin": _l("administrator"),
              "trainer": _l("trainer")}


def bidi(value: object) -> Markup:
    """User text in a page, isolated (``<bdi dir="auto">``): a right-to-left override typed into a title stays
    inside it, so it can neither reorder the words around it nor pull a badge in; the text is kept as typed."""
    return Markup('<bdi dir="auto">%s</bdi>') % str(value if value is not None else "")


def isolate(value: object) -> str:
    """User text in plain-text places (PDF running headers, documents): wrapped in FIRST STRONG ISOLATE and POP
    DIRECTIONAL ISOLATE, the Unicode form of ``<bdi>``."""
    return "\u2068" + str(value if value is not None else "") + "\u2069"


def role_label(role: str) -> str:
    return str(ROLE_NAMES.get(role, role))


def current_language() -> str:
    return str(get_locale() or "en")


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(role_label=role_label, current_language=current_language,
                                 language_codes=languages, language_name=lambda c: LANGUAGE_NAMES.get(c, c))
    app.jinja_env.globals.update(_=template_gettext, ngettext=template_ngettext, level_choices=level_choices,
                                 level_bar=level_bar)
    app.jinja_env.filters.update(level=fmt_level, pct=fmt_pct, dt=fmt_dt, date=fmt_date, status_label=status_label,
                                 bidi=bidi, isolate=isolate)
    app.jinja_env.globals["marking"] = lambda: app.config["HANDLING_MARKING"]
    app.jinja_env.globals["organisation"] = lambda: app.config["ORGANISATION_NAME"]
