"""Forms for adopting or writing an action, editing it, and a supervisor's remark (CSRF on all, by FlaskForm)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import HiddenInput

from ..assessments.forms import clean_text, strip_text
from .models import NAME_MAX, TEXT_MAX, TITLE_MAX, ActionStatus
from .services import DUE_MAX, DUE_MIN


def status_choices() -> list[tuple[str, str]]:
    return [(ActionStatus.PLANNED.value, str(_l("Planned"))), (ActionStatus.IN_PROGRESS.value, str(_l("In progress"))),
            (ActionStatus.DONE.value, str(_l("Done"))), (ActionStatus.DROPPED.value, str(_l("Dropped")))]


def _due_in_range(_form: FlaskForm, field: DateField) -> None:
    if field.data is not None and not DUE_MIN <= field.data <= DUE_MAX:
        raise ValidationError(_l("Choose a date between %(a)s and %(b)s.", a=DUE_MIN.isoformat(),
                                 b=DUE_MAX.isoformat()))


class ActionForm(FlaskForm):
    title = StringField(_l("Title"), filters=[strip_text],
                        validators=[DataRequired(), Length(max=TITLE_MAX), clean_text])
    description = TextAreaField(_l("What is to be done"), validators=[Optional(), Length(max=TEXT_MAX), clean_text])
    owner = SelectField(_l("Owner (account of the unit)"), choices=[], validate_choice=True)
    owner_name = StringField(_l("Owner (name and role)"), filters=[strip_text],
                             validators=[Optional(), Length(max=NAME_MAX), clean_text])
    due_date = DateField(_l("Due date"), validators=[Optional(), _due_in_range])
    status = SelectField(_l("Status"), choices=[], validate_choice=True)
    # No Optional(): it would stop the chain on an empty reason before validate_drop_reason could refuse it.
    drop_reason = TextAreaField(_l("Reason for dropping"), validators=[Length(max=TEXT_MAX), clean_text])
    progress_note = TextAreaField(_l("Progress note"), validators=[Optional(), Length(max=TEXT_MAX), clean_text])
    evidence = TextAreaField(_l("Evidence of completion"), validators=[Optional(), Length(max=TEXT_MAX), clean_text])
    version = IntegerField(widget=HiddenInput(), validators=[Optional(), NumberRange(min=0)])
    recommendation = HiddenField()

    def validate_drop_reason(self, field: TextAreaField) -> None:
        if self.status.data == ActionStatus.DROPPED.value and not (field.data or "").strip():
            raise ValidationError(_l("Say why the action is dropped."))


class RemarkForm(FlaskForm):
    remark = TextAreaField(_l("Remark"), validators=[DataRequired(), Length(max=TEXT_MAX), clean_text])


class ProposalForm(FlaskForm):
    """Adopt a workshop's proposed action, or drop it (a reason is then required)."""

    decision = SelectField(choices=[SelectChoice("adopt", "adopt"), SelectChoice("drop", "drop")],
                           validate_choice=True)
    reason = TextAreaField(_l("Reason for dropping"), validators=[Length(max=TEXT_MAX), clean_text])
    version = IntegerField(widget=HiddenInput(), validators=[DataRequired(), NumberRange(min=0)])

    def validate_reason(self, field: TextAreaField) -> None:
        if self.decision.data == "drop" and not (field.data or "").strip():
            raise ValidationError(_l("Say why the action is dropped."))
