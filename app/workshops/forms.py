"""Workshop forms. The participant's answer form is a plain WTForms form: it is protected by a per-participant
token instead of the session CSRF token, so a page left open through a long workshop still saves."""

from __future__ import annotations

from functools import cache

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Form, HiddenField, RadioField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..assessments.forms import ANSWER_CHOICES, clean_text, strip_text
from ..content import Recommendation
from .models import Pacing
from .services import ROLE_LABEL_MAX

TITLE_MAX = 200


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class NewWorkshopForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=TITLE_MAX), clean_text],
                        filters=[strip_text],
                        description=_l("For example “THB investigators course, Lyon, 12 March”."))
    recommendations = MultiCheckboxField(_l("Recommendations to discuss"), validators=[DataRequired()],
                                         description=_l("All ten, or only those this session is about."))
    pacing = RadioField(_l("Pacing"), default=Pacing.ALL.value, validators=[DataRequired()], choices=[
        SelectChoice(Pacing.ALL.value, _l("All at once: participants answer at their own pace")),
        SelectChoice(Pacing.ONE.value, _l("One at a time: you open each recommendation in turn")),
    ])


class JoinForm(FlaskForm):
    code = StringField(_l("Join code"), validators=[DataRequired(), Length(max=32)],
                       description=_l("The six characters shown by the trainer, for example ABC-234."))
    role_label = StringField(_l("Your role (optional)"), validators=[Optional(), Length(max=ROLE_LABEL_MAX),
                                                                      clean_text], filters=[strip_text],
                             description=_l("For example “investigator” or “analyst”. No name, please: "
                                            "your answers are anonymous."))


class ActionForm(FlaskForm):
    """Only the CSRF token: close, reopen."""


class PaceForm(FlaskForm):
    rec = HiddenField(validators=[DataRequired(), Length(max=40)])


class ConvertForm(FlaskForm):
    unit = SelectField(_l("Unit"), coerce=int, validate_choice=True)
    title = StringField(_l("Title of the draft assessment"),
                        validators=[DataRequired(), Length(max=TITLE_MAX), clean_text], filters=[strip_text])
    # The hotspots (questions the group disagreed on) to carry into the unit's plan as proposed actions.
    hotspots = MultiCheckboxField(_l("Carry these disagreements into the unit's action plan as proposals"),
                                  choices=[], validate_choice=True)


CONSENSUS_CHOICES = [SelectChoice("", _l("– not recorded –")), *ANSWER_CHOICES]


@cache
def answer_form_class(rec: Recommendation) -> type[Form]:
    """One radio group per question (q_<id>) and the participant's form token (ft)."""
    attrs: dict[str, object] = {f"q_{q.id}": RadioField(q.text, choices=ANSWER_CHOICES, validators=[Optional()])
                                for q in rec.questions}
    attrs["ft"] = HiddenField(validators=[DataRequired()])
    attrs["action"] = HiddenField()
    return type(f"WorkshopAnswerForm_{rec.id}", (Form,), attrs)


def answer_field_names(rec: Recommendation) -> frozenset[str]:
    return frozenset({"ft", "action", *(f"q_{q.id}" for q in rec.questions)})


@cache
def consensus_form_class(question_ids: tuple[str, ...]) -> type[FlaskForm]:
    attrs: dict[str, object] = {f"c_{qid}": SelectField(qid, choices=CONSENSUS_CHOICES, validators=[Optional()])
                                for qid in question_ids}
    return type("ConsensusForm", (FlaskForm,), attrs)
