"""Login and logout: argon2id, session epoch (logout kills copied cookies), idle and absolute timeouts."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, NoReturn
from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from . import audit, ratelimit
from .access import allow, public
from .db import db
from .extensions import client_address
from .models import Role, User, utcnow
from .passwords import hash_password, needs_rehash, verify_password

bp = Blueprint("auth", __name__)

# Logging in again from a page whose session ended: the page's unsaved input travels in the login form's hidden
# fields under this prefix, with the page's path in "resume_path". A feature registers, for its endpoint, what
# to show after the login (register_relogin_resume); this module knows no feature.
RESUME_PREFIX = "resume-"
_RESUMERS = "relogin_resumers"
Resumer = Callable[[dict[str, Any], MultiDict[str, str]], Any]


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])


def _load_user(token: str) -> User | None:
    try:
        uid, epoch = (int(x) for x in token.split(":", 1))
    except ValueError:
        return None
    # With the unit in the same statement: every page's header shows it (base.html), a lazy load was one more.
    user = db.session.get(User, uid, options=[joinedload(User.unit)])
    if user is None or not user.active or user.session_epoch != epoch:
        return None
    now = time.time()
    lifetime = current_app.config["SESSION_MAX_HOURS"] * 3600
    if idle_seconds_left(now) < 0 or now - session.get("login_at", now) > lifetime:
        session.clear()
        return None
    if now - session.get("seen", now) >= current_app.config["SESSION_SEEN_REFRESH_SECONDS"]:
        session["seen"] = now
    return user


def idle_seconds_left(now: float | None = None) -> float:
    """Seconds until the session ends for inactivity: SESSION_IDLE_MINUTES after the activity last recorded.

    The idle clock ("seen") is recorded at most once per SESSION_SEEN_REFRESH_SECONDS (a changed value makes
    Flask sign and send the whole cookie again, which cost every page view as much as a query). So a session
    ends exactly SESSION_IDLE_MINUTES after its last recorded activity, never later than that after the last
    request, and at most the refresh interval earlier; the page's idle warning is given this exact figure.
    """
    now = time.time() if now is None else now
    return current_app.config["SESSION_IDLE_MINUTES"] * 60 - (now - session.get("seen", now))


def init_login(app: Flask, manager: LoginManager) -> None:
    manager.init_app(app)
    manager.user_loader(_load_user)
    manager.login_view = "auth.login"
    manager.login_message = _("Please log in to continue.")
    manager.session_protection = "basic"
    app.jinja_env.globals["idle_seconds_left"] = lambda: max(1, round(idle_seconds_left()))


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths are followed after login (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("main.index")


def login_limits(email: str, address: str) -> tuple[ratelimit.Limit, ...]:
    """The failed-login limits (README, "Login limits"; OWASP ASVS 5.0 V6.1.1, V6.3.1).

    Per account *and* address at LOGIN_LIMIT: a stranger who knows an officer's e-mail uses up only the
    allowance of the stranger's own address, and the officer still logs in from theirs. Per account over all
    addresses at the much higher LOGIN_ACCOUNT_LIMIT: a guesser spread over many addresses is still stopped.
    Per address at LOGIN_IP_LIMIT: one address cannot try many accounts (generous: an office shares one).
    Unknown e-mails are counted the same way, so the limits do not tell which accounts exist.
    """
    cfg = current_app.config
    return (ratelimit.Limit("login-account-address", f"{email}\x00{address}", cfg["LOGIN_LIMIT"]),
            ratelimit.Limit("login-account", email, cfg["LOGIN_ACCOUNT_LIMIT"]),
            ratelimit.Limit("login-address", address, cfg["LOGIN_IP_LIMIT"]))


def _refuse(email: str) -> NoReturn:
    """Record the refusal and answer 429 (the page comes from the error handlers); no password was checked."""
    db.session.rollback()
    with db.writing() as ws:
        audit.record(ws, "login_rate_limited", "user", "", actor=email[:254], detail="failed-login limit")
    abort(429)


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Response | str | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    db.mark_write_intent(False)  # the slow hash check runs outside SQLite's write lock
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        db.session.rollback()  # nothing of this request's may hold SQLite's write lock while the counter is written
        # Counted before the password is checked, and given back when it is right: only failures count, and
        # never more of them are checked than the limits allow, however many workers answer at once.
        ticket = ratelimit.reserve(*login_limits(email, client_address()))
        if ticket is None:
            _refuse(email)
        user = db.session.scalars(select(User).where(func.lower(User.email) == email)).first()
        # Always one hash check, against a dummy hash when there is no account (or no password yet), so an
        # unknown or deactivated e-mail answers as slowly as a wrong password and timing tells nothing.
        verified = verify_password(user.password_hash if user is not None else None, form.password.data)
        ok = user is not None and user.active and verified
        rehashed = (hash_password(form.password.data)
                    if ok and user is not None and needs_rehash(user.password_hash or "") else None)
        db.session.rollback()
        if ok:
            ratelimit.refund(ticket)
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
            kept = [(k, v) for k, v in request.form.items(multi=True) if k.startswith(RESUME_PREFIX)]
            return relogin_page(kept, request.form["resume_path"], form)
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


def relogin_page(kept: list[tuple[str, str]], resume_path: str, form: LoginForm | None = None) -> tuple[str, int]:
    """The "log in again" page (401) carrying ``kept`` (names already prefixed) back to ``resume_path``."""
    return render_template("auth/relogin.html", form=form or LoginForm(formdata=None), kept=kept,
                           resume_path=resume_path), 401


def register_relogin_resume(app: Flask, endpoint: str, resume: Resumer) -> None:
    """After a re-login whose ``resume_path`` routes to ``endpoint``, answer with ``resume(view_args, kept)``."""
    app.extensions.setdefault(_RESUMERS, {})[endpoint] = resume


def _resume_questionnaire() -> Any:
    """After a re-login from an expired page, show that page again with the typed input (if its feature asks)."""
    path = request.form.get("resume_path", "")
    if not path:
        return None
    kept = MultiDict([(k[len(RESUME_PREFIX):], v) for k, v in request.form.items(multi=True)
                      if k.startswith(RESUME_PREFIX)])
    try:
        endpoint, args = current_app.url_map.bind("").match(path, method="POST")
    except HTTPException:
        return None
    resume = current_app.extensions.get(_RESUMERS, {}).get(endpoint)
    return resume(args, kept) if resume is not None else None


@bp.route("/session/ping")
@allow(*Role)
def ping() -> Response:
    """Keeps an active page's session alive (the idle warning's "Stay logged in" button)."""
    from flask import jsonify

    session["seen"] = time.time()  # the user asked to stay: restart the idle clock whatever its age
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
