"""Forms for starting an assessment and for one questionnaire section, built from content at runtime."""

from __future__ import annotations

import unicodedata
from functools import cache

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, Form, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import HiddenInput

from ..content import Recommendation
from ..models import COMMENT_MAX
from ..scoring import LEVEL_VALUES

TITLE_MAX = 200
ANSWER_CHOICES = [SelectChoice(v, v) for v in LEVEL_VALUES] + [
    SelectChoice("na", _l("Not applicable")), SelectChoice("unknown", _l("Don't know"))]
TARGET_CHOICES = [SelectChoice(v, v) for v in ("1", "2", "3", "4")]


def clean_text(_form: Form, field: Field) -> None:
    """Refuse control characters (NUL and friends) that databases reject or that hide text; keep newlines."""
    if not field.data:
        return
    for ch in field.data:
        if ch in "\n\r\t":
            continue
        if unicodedata.category(ch) == "Cc":
            raise ValidationError(_l("Remove the control characters (such as NUL) from this text."))


def strip_text(value: str | None) -> str | None:
    """Trim, and store newlines as LF: browsers send a textarea's line breaks as CRLF."""
    if not isinstance(value, str):
        return value
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


class NewAssessmentForm(FlaskForm):
    title = StringField(
        _l("Title or period"),
        validators=[DataRequired(), Length(max=TITLE_MAX), clean_text],
        filters=[strip_text],
        description=_l("For example “Annual self-assessment 2026” or “Q1 2026”."),
    )
    unit = SelectField(_l("Unit"), coerce=int, validate_choice=True)


class SubmitForm(FlaskForm):
    """Only the CSRF token: submitting is one button."""


class SignOffForm(FlaskForm):
    remark = TextAreaField(_l("Remark (optional)"), validators=[Length(max=2000), clean_text], filters=[strip_text],
                           description=_l("Printed with your name and the date in the report's sign-off block."))


class ReopenForm(FlaskForm):
    reason = TextAreaField(_l("Reason for reopening"), validators=[DataRequired(), Length(max=2000), clean_text],
                           filters=[strip_text],
                           description=_l("Required. Recorded in the audit log; the unit sees it on the assessment."))


def field_names(rec: Recommendation) -> frozenset[str]:
    """Every form key a section page may send; anything else is refused as an unknown question."""
    names = {"csrf_token", "target", "target_orig", "action", "goto"}
    for q in rec.questions:
        names |= {f"q_{q.id}", f"c_{q.id}", f"e_{q.id}", f"rev_{q.id}"}
    return frozenset(names)


@cache
def section_form_class(rec: Recommendation) -> type[FlaskForm]:
    """One field per question (q_<id>) plus comment, evidence note and the revision the page was loaded at."""
    attrs: dict[str, object] = {}
    for q in rec.questions:
        attrs[f"q_{q.id}"] = RadioField(q.text, choices=ANSWER_CHOICES, validators=[Optional()])
        attrs[f"c_{q.id}"] = TextAreaField(
            _l("Comment"), validators=[Length(max=COMMENT_MAX), clean_text], filters=[strip_text]
        )
        attrs[f"e_{q.id}"] = TextAreaField(
            _l("Evidence note"), validators=[Length(max=COMMENT_MAX), clean_text], filters=[strip_text]
        )
        attrs[f"rev_{q.id}"] = IntegerField(widget=HiddenInput(), validators=[Optional(), NumberRange(min=0)])
    attrs["target"] = SelectField(_l("Target level"), choices=TARGET_CHOICES, coerce=int, default=3)
    attrs["target_orig"] = IntegerField(widget=HiddenInput(), validators=[Optional(), NumberRange(min=1, max=4)])
    return type(f"SectionForm_{rec.id}", (FlaskForm,), attrs)
