"""Home page (by role) and the health check."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import text
from werkzeug.wrappers import Response

from ..access import allow, public
from ..content.current import current as current_content
from ..db import db
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
def health() -> Response:
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")


@bp.route("/about")
@allow(*Role)
def about() -> str:
    return render_template("main/about.html", content=current_content())
