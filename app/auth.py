"""Login and logout: argon2id, session epoch (logout kills copied cookies), idle and absolute timeouts."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from werkzeug.wrappers import Response
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from . import audit
from .access import allow, public
from .db import db
from .extensions import limiter
from .models import Role, User, utcnow
from .passwords import hash_password, needs_rehash, verify_password

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])


def _load_user(token: str) -> User | None:
    try:
        uid, epoch = (int(x) for x in token.split(":", 1))
    except ValueError:
        return None
    user = db.session.get(User, uid)
    if user is None or not user.active or user.session_epoch != epoch:
        return None
    now = time.time()
    idle = current_app.config["SESSION_IDLE_MINUTES"] * 60
    lifetime = current_app.config["SESSION_MAX_HOURS"] * 3600
    if now - session.get("seen", now) > idle or now - session.get("login_at", now) > lifetime:
        session.clear()
        return None
    session["seen"] = now
    return user


def init_login(app: Flask, manager: LoginManager) -> None:
    manager.init_app(app)
    manager.user_loader(_load_user)
    manager.login_view = "auth.login"
    manager.login_message = _("Please log in to continue.")
    manager.session_protection = "basic"


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths are followed after login (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("main.index")


def _login_key() -> str:
    email = (request.form.get("email") or "").strip().lower()
    return f"login-account:{email}"


def _failed(resp: Response) -> bool:
    """Only failed attempts count towards the limits, so a whole office behind one address can log in."""
    return resp.status_code != 302


def _on_breach(limit: object) -> None:
    """Record the refusal; the 429 page itself comes from the error handlers."""
    email = (request.form.get("email") or "").strip().lower()[:254]
    db.session.rollback()
    audit.record(db.session, "login_rate_limited", "user", "", actor=email, detail=str(getattr(limit, "limit", "")))
    db.session.commit()


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT"], methods=["POST"], key_func=_login_key,
               deduct_when=_failed, on_breach=_on_breach, scope="login-account")
@limiter.limit(lambda: current_app.config["LOGIN_IP_LIMIT"], methods=["POST"], deduct_when=_failed,
               on_breach=_on_breach, scope="login-address")
def login() -> Response | str | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    db.mark_write_intent(False)  # the slow hash check runs outside SQLite's write lock
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = db.session.scalars(select(User).where(func.lower(User.email) == email)).first()
        ok = user is not None and user.active and verify_password(user.password_hash, form.password.data)
        rehashed = (hash_password(form.password.data)
                    if ok and user is not None and needs_rehash(user.password_hash or "") else None)
        db.session.rollback()
        with db.writing() as ws:
            if user is not None:
                user = ws.get(User, user.id)
            if ok and user is not None:
                if rehashed:
                    user.password_hash = rehashed
                user.last_login_at = utcnow()
                audit.record(ws, "login", "user", user.id, user=user)
            else:
                audit.record(ws, "login_failed", "user", user.id if user else "", actor=email,
                             agency_id=user.agency_id if user else None)
        if ok and user is not None:
            session.clear()  # a fresh session at login: nothing carried over from before
            g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)  # and a fresh CSRF token
            now = time.time()
            session["login_at"] = session["seen"] = now
            login_user(user)
            resumed = _resume_questionnaire()
            if resumed is not None:
                return resumed
            return redirect(_safe_next(request.args.get("next")))
        flash(_("E-mail or password is not correct, or the account is deactivated."), "error")
        if request.form.get("resume_path"):  # keep the unsaved answers through a mistyped password
            kept = [(k, v) for k, v in request.form.items(multi=True) if k.startswith("resume-")]
            return render_template("auth/relogin.html", form=form, kept=kept,
                                   resume_path=request.form["resume_path"]), 401
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


def _resume_questionnaire() -> str | None:
    """After a re-login from an expired questionnaire page, show that page again with the typed answers."""
    from werkzeug.datastructures import MultiDict
    from werkzeug.exceptions import HTTPException

    from .assessments.views import RESUME_PREFIX, render_section_with_input

    path = request.form.get("resume_path", "")
    kept = MultiDict([(k[len(RESUME_PREFIX):], v) for k, v in request.form.items(multi=True)
                      if k.startswith(RESUME_PREFIX)])
    if not path:
        return None
    try:
        endpoint, args = current_app.url_map.bind("").match(path, method="POST")
    except HTTPException:
        return None
    if endpoint != "assessments.section":
        return None
    return render_section_with_input(int(args["assessment_id"]), int(args["number"]), kept, notice="relogin")


@bp.route("/session/ping")
@allow(*Role)
def ping() -> Response:
    """Keeps an active page's session alive (the idle warning's "Stay logged in" button)."""
    from flask import jsonify

    return jsonify(ok=True, idle_seconds=current_app.config["SESSION_IDLE_MINUTES"] * 60)


@bp.route("/logout", methods=["POST"])
@allow(*Role)
def logout() -> Response:
    user = db.session.get(User, current_user.id)
    if user is not None:
        user.session_epoch += 1  # every other copy of this session cookie is now invalid
        audit.record(db.session, "logout", "user", user.id, user=user)
        db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have been logged out."), "info")
    return redirect(url_for("auth.login"))
