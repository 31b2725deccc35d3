"""Jinja globals and filters shared by pages and PDF templates."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask_babel import gettext, ngettext

from .display import fmt_level, fmt_pct


def fmt_dt(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def fmt_date(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d")


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(_=gettext, ngettext=ngettext)
    app.jinja_env.filters.update(level=fmt_level, pct=fmt_pct, dt=fmt_dt, date=fmt_date)
    app.jinja_env.globals["marking"] = lambda: app.config["HANDLING_MARKING"]
    app.jinja_env.globals["organisation"] = lambda: app.config["ORGANISATION_NAME"]
