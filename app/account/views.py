"""Public set-password page (one-time link) and the logged-in user's password change."""

from __future__ import annotations

import time

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user
from werkzeug.wrappers import Response

from .. import audit, password_policy, ratelimit
from ..access import allow, public
from ..db import db
from ..models import Role, User
from ..passwords import verify_password
from . import services
from .forms import ChangePasswordForm, SetPasswordForm

bp = Blueprint("account", __name__)


def _invalid_link(state: services.TokenState) -> tuple[str, int]:
    """A clear page instead of a form: unknown links are a bad request, spent ones are gone."""
    text = {
        services.TokenState.UNKNOWN: _("This link is not valid. Check that you copied the whole link, or ask your "
                                       "administrator for a new one."),
        services.TokenState.USED: _("This link has already been used to set a password. Log in with that "
                                    "password, or ask your administrator for a new link."),
        services.TokenState.EXPIRED: _("This link has expired or has been replaced by a newer one. Ask your "
                                       "administrator for a new link."),
        services.TokenState.INACTIVE: _("This account is deactivated. Ask your administrator."),
    }[state]
    code = 400 if state == services.TokenState.UNKNOWN else 410
    return render_template("account/link_invalid.html", text=text, code=code), code


@bp.route("/set-password/<token>", methods=["GET", "POST"])
@public
def set_password(token: str) -> Response | tuple[str, int] | str:
    state, record = services.find_token(db.session, token)
    if state != services.TokenState.VALID or record is None:
        return _invalid_link(state)
    form = SetPasswordForm()
    form.account_email = record.user.email
    if form.validate_on_submit():
        try:
            services.use_link(db.session, record, form.password.data)
        except services.TokenUnusable:
            db.session.rollback()
            return _invalid_link(services.TokenState.USED)
        db.session.commit()
        flash(_("Your password has been set. You can log in now."), "success")
        return redirect(url_for("auth.login"))
    body = render_template("account/set_password.html", form=form, email=record.user.email,
                           expires_at=record.expires_at, policy=password_policy.description())
    return (body, 422) if request.method == "POST" else body


def _change_limit(user: User) -> ratelimit.Limit:
    """Wrong current passwords are limited per account, so a left-open session cannot be used to guess it."""
    return ratelimit.Limit("password-change", str(user.id), current_app.config["LOGIN_LIMIT"])


@bp.route("/account/password", methods=["GET", "POST"])
@allow(*Role)
def change_password() -> Response | tuple[str, int] | str:
    user: User = current_user._get_current_object()  # type: ignore[attr-defined]
    form = ChangePasswordForm()
    form.account_email = user.email
    if form.validate_on_submit():
        # End the request's transaction first: the counter is written on a connection of its own (on SQLite
        # two writers in one request would wait for each other), and the slow hash checks run without a lock.
        db.session.rollback()
        db.mark_write_intent(False)
        ticket = ratelimit.reserve(_change_limit(user))  # counted before the check, given back when right
        if ticket is None:
            abort(429)
        current_ok = verify_password(user.password_hash, form.current.data)
        unchanged = current_ok and verify_password(user.password_hash, form.password.data)
        if current_ok:
            ratelimit.refund(ticket)
        db.start_writing()
        if not current_ok:
            form.current.errors = [_("This is not your current password.")]
            audit.record(db.session, "password_change_failed", "user", user.id, user=user)
            db.session.commit()
        elif unchanged:
            form.password.errors = [_("Choose a password different from your current one.")]
        else:
            services.change_password(db.session, user, form.password.data)
            db.session.commit()
            # The epoch moved on: every other copy of the session is dead. Keep this browser logged in with
            # the new epoch, as a fresh login would.
            login_user(user)
            session["login_at"] = session["seen"] = time.time()
            flash(_("Your password has been changed. Other sessions of your account have been logged out."),
                  "success")
            return redirect(url_for("main.index"))
    body = render_template("account/change_password.html", form=form, policy=password_policy.description())
    return (body, 422) if request.method == "POST" else body
