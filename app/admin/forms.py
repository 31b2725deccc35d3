"""Administration forms. Text is cleaned by the same functions the services use, so the web and CLI agree."""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, Field, Form, SelectField, StringField
from wtforms.validators import StopValidation

from ..models import Role
from .services import AdminError, clean_email, clean_name


def cleaned(fn: Callable[[str | None], str]) -> Callable[[Form, Field], None]:
    """A validator that normalises the field with ``fn`` and shows its refusal as the field's error."""

    def validator(_form: Form, field: Field) -> None:
        try:
            field.data = fn(field.data)
        except AdminError as exc:
            raise StopValidation(str(exc)) from exc

    return validator


def optional_int(value: object) -> int | None:
    return None if value in (None, "") else int(value)  # type: ignore[call-overload]


def _name(value: str | None) -> str:
    return clean_name(value)


class NameForm(FlaskForm):
    """Create or rename an agency or a unit.

    Two of these share the agency page under prefixes; a prefixed form would expect a prefixed CSRF field, so
    the token is left to the app-wide CSRFProtect, which checks every POST anyway (templates send csrf_token()).
    """

    class Meta:
        csrf = False

    name = StringField(_l("Name"), validators=[cleaned(_name)], render_kw={"maxlength": 200})


class ActionForm(FlaskForm):
    """Only the CSRF token: deactivate, reactivate and reset are one button each."""


ROLE_LABELS = {Role.MEMBER: _l("Member (a unit's assessments)"),
               Role.SUPERVISOR: _l("Supervisor (every unit of the agency)"),
               Role.TRAINER: _l("Trainer (workshops)"), Role.ADMIN: _l("Administrator")}


class UserForm(FlaskForm):
    """Create an account. ``unit_agency`` (unit id → agency id) is set by the view from the scoped units."""

    unit_agency: dict[int, int] = {}  # replaced per instance by the view

    email = EmailField(_l("E-mail"), validators=[cleaned(clean_email)], render_kw={"maxlength": 254},
                       description=_l("The person logs in with this address. No e-mail is sent."))
    name = StringField(_l("Name"), validators=[cleaned(_name)], render_kw={"maxlength": 200})
    role = SelectField(_l("Role"), validate_choice=True)
    agency = SelectField(_l("Agency"), coerce=int, validate_choice=True)
    unit = SelectField(_l("Unit"), coerce=optional_int, validate_choice=True,
                       description=_l("Required for members; optional for the other roles."))

    def validate_unit(self, field: Field) -> None:
        if field.data is None:
            if self.role.data == Role.MEMBER.value:
                raise StopValidation(_l("A member belongs to a unit: choose one."))
            return
        if self.unit_agency.get(field.data) != self.agency.data:
            raise StopValidation(_l("This unit does not belong to the chosen agency."))
