"""Forms to set a password from a link and to change one's own password (policy applied to the new one)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Form, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from ..password_policy import MAX_LENGTH, PasswordPolicy


def _account_email(form: Form) -> str:
    return getattr(form, "account_email", "") or ""


class SetPasswordForm(FlaskForm):
    """``account_email`` is set by the view before validation: the policy refuses passwords made from it."""

    account_email = ""
    password = PasswordField(_l("New password"),
                             validators=[DataRequired(), Length(max=MAX_LENGTH), PasswordPolicy(_account_email)])
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))])


class ChangePasswordForm(SetPasswordForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=MAX_LENGTH)])
