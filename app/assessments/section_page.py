"""Rendering a questionnaire section page: shared by the section view and by the recovery handlers.

Kept out of views.py so that the handlers that bring typed answers back (recovery.py) render the same page
without importing a view module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import abort, render_template
from werkzeug.datastructures import MultiDict

from ..access import get_assessment
from ..content import Content, Recommendation
from ..content.current import for_version
from ..db import db
from ..models import Assessment
from . import services
from .forms import field_names, section_form_class


def content_of(a: Assessment) -> Content:
    """The content version the assessment was started with (old assessments keep their wording)."""
    return for_version(a.content_version)


def recommendation(content: Content, number: int) -> Recommendation:
    """The recommendation shown as section ``number``; 404 for a number the content does not have."""
    rec = content.recommendation_by_number.get(number)
    if rec is None:
        abort(404)
    return rec


def section_context(a: Assessment, content: Content, rec: Recommendation,
                    answers: Mapping[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """What the section template needs; ``answers`` when the caller has already read them (one query a page)."""
    if answers is None:
        answers = services.stored_answers(db.session, a)
    values = services.answer_values(answers)
    return dict(a=a, content=content, rec=rec, answers=answers,
                progress=services.progress(content, values), **extra)


def render_section_with_input(assessment_id: int, number: int, formdata: Any, notice: str) -> str:
    """The section page filled with input that was typed but not saved (expired token or session)."""
    a = get_assessment(assessment_id)
    content = content_of(a)
    rec = recommendation(content, number)
    allowed = field_names(rec)
    data = MultiDict([(k, v) for k, v in formdata.items(multi=True) if k in allowed and k != "csrf_token"])
    form = section_form_class(rec)(formdata=data)
    form.validate()  # shows field errors; the CSRF error is not displayed and the page carries a fresh token
    return render_template("assessments/section.html", form=form, notice=notice, **section_context(a, content, rec))
