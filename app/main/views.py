"""Home page (by role) and the health check."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import text
from werkzeug.wrappers import Response

from ..access import allow, public
from ..content.current import current as current_content
from ..db import db
from ..errors import DATABASE_AWAY, RETRY_AFTER_SECONDS, end_failed_transaction
from ..i18n import COOKIE, COOKIE_MAX_AGE, supported
from ..models import Role

bp = Blueprint("main", __name__)


@bp.route("/")
@public
def index() -> Response | str:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    if current_user.role in (Role.MEMBER, Role.SUPERVISOR):
        return redirect(url_for("assessments.index"))
    return render_template("main/home.html")


@bp.route("/healthz")
@public
def health() -> Response | tuple[Response, int, dict[str, str]]:
    """For load balancers and monitoring: 200 when the database answers, else 503 saying which part is down."""
    try:
        db.session.execute(text("SELECT 1"))
    except DATABASE_AWAY as exc:
        current_app.logger.warning("health check: database unreachable: %s", type(exc).__name__)
        end_failed_transaction()
        return (jsonify(status="unavailable", database="unreachable"), 503,
                {"Retry-After": str(RETRY_AFTER_SECONDS)})
    return jsonify(status="ok", database="ok")


@bp.route("/about")
@allow(*Role)
def about() -> str:
    return render_template("main/about.html", content=current_content())


@bp.route("/accessibility")
@public
def accessibility() -> str:
    """The accessibility statement (EU Web Accessibility Directive 2016/2102 style); public, linked from the footer,
    so it can be read before logging in."""
    return render_template("main/accessibility.html")


def _local_path(target: str | None) -> str:
    """Only a path on this site (``/…``, not ``//host``): the chooser must not become an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("main.index")


@bp.route("/language", methods=["POST"])
@public
def choose_language() -> Response:
    """Remember the reader's language: in a cookie for everyone (also before login and on a workshop
    participant's phone), and on the account when logged in, so it follows the officer to another device."""
    lang = supported(request.form.get("language"))
    back = redirect(_local_path(request.form.get("next")))
    if lang is None:
        return back
    back.set_cookie(COOKIE, lang, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Lax",
                    secure=current_app.config["SESSION_COOKIE_SECURE"])
    if current_user.is_authenticated and current_user.language != lang:
        current_user.language = lang
        db.session.commit()
    return back
