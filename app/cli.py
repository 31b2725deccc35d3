"""Command-line tools: migrate, check content, load the demo.

Messages and help texts come from the catalogs like every page, in ``DEFAULT_LANGUAGE`` (the commands run in an
app context without a request). Output meant for scripts stays as it is: the ``OK``/``INVALID`` verdict of
``content check`` (and the content file's own diagnostics, JSON paths and schema messages), the table of demo
logins.
"""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_babel import gettext as _
from flask_babel import ngettext

from .content import ContentError, parse, read_file
from .i18n import lazy_help as _l
from .i18n import option

# The large demo agency's supervisor (demo data only, like the other demo logins).
LARGE_SUPERVISOR = ("coordinator-{units}@large-demo.example", "demo-coordinator-pass")


def init_app(app: Flask) -> None:
    @app.cli.command("db-upgrade", help=_l("Apply every Alembic migration to the configured database."))
    def db_upgrade() -> None:
        from .migrate import upgrade

        upgrade(current_app.config["SQLALCHEMY_DATABASE_URI"])
        click.echo(_("Database is up to date."))

    content_cli = click.Group("content", help=_l("Questionnaire content tools."))

    @content_cli.command("check", help=_l(
        "Validate a content file (schema and cross-references) and every translation of it (<name>.<lang>.json "
        "beside it, for each configured language) without starting anything."))
    @click.argument("path", type=click.Path(dir_okay=False))
    def content_check(path: str) -> None:
        from .content import translation

        try:
            data, sha = read_file(path)
        except ContentError as exc:
            click.echo(f"INVALID {exc}", err=True)
            sys.exit(1)
        c = parse(data, sha)
        recommendations = ngettext("%(num)d recommendation", "%(num)d recommendations", len(c.recommendations))
        questions = ngettext("%(num)d question", "%(num)d questions", len(c.questions))
        click.echo("OK " + _("%(path)s: version %(version)s, %(recommendations)s, %(questions)s", path=path,
                             version=c.version, recommendations=recommendations, questions=questions))
        failed = False
        for lang in current_app.config["LANGUAGES"]:
            try:
                t = translation.load(path, lang)
            except ValueError as exc:
                click.echo(f"INVALID {exc}", err=True)
                failed = True
                continue
            if t is None:
                continue
            found = translation.problems(data, t)
            for line in found:
                click.echo(f"INVALID {line}", err=True)
            if found:
                failed = True
            else:
                click.echo("OK " + ngettext("%(path)s: %(language)s, %(num)d text",
                                            "%(path)s: %(language)s, %(num)d texts",
                                            len(t.strings), path=t.path, language=lang))
        if failed:
            sys.exit(1)

    app.cli.add_command(content_cli)

    demo_cli = AppGroup("demo", help=_l("Demo data."))

    @demo_cli.command("load", help=_l(
        "Load the demo agency, units, users and assessments (once) and print the logins."))
    def demo_load() -> None:
        from . import demo
        from .content.current import current
        from .db import db

        with db.writing() as session:
            created = demo.load(session, current())
        click.echo(_("Demo data loaded.") if created else _("Demo data already present."))
        click.echo(_("Demo logins (e-mail / password / role):"))
        for email, password, role in demo.logins():
            click.echo(f"  {email:<26} {password:<22} {role}")

    @demo_cli.command("large", help=_l("Add a large agency (many units, years of submitted assessments) to try the "
                                       "supervisors' pages at scale."))
    @option("--units", type=click.IntRange(1, 1000), default=100, show_default=True,
            help=_l("Number of units."))
    @option("--per-unit", type=click.IntRange(1, 30), default=10, show_default=True,
            help=_l("Submitted assessments per unit, one a year."))
    def demo_large(units: int, per_unit: int) -> None:
        import random

        from .content.current import current
        from .demo_large import agency_exists, seed_large_agency
        from .migrate import upgrade

        upgrade(current_app.config["SQLALCHEMY_DATABASE_URI"])  # so it also works before `make run` ever ran
        name = f"Large Demo Police ({units} units)"  # demo data, looked up by this name: not translated
        with current_app.extensions["db_engine"].begin() as conn:
            if agency_exists(conn, name):
                click.echo(_("%(name)s is already there.", name=repr(name)))
            else:
                click.echo(_("Creating %(name)s: %(units)s with %(assessments)s each ...", name=repr(name),
                             units=ngettext("%(num)d unit", "%(num)d units", units),
                             assessments=ngettext("%(num)d assessment", "%(num)d assessments", per_unit)))
                ids = seed_large_agency(conn, current(), name=name, n_units=units, per_unit=per_unit,
                                        supervisor=(LARGE_SUPERVISOR[0].format(units=units), LARGE_SUPERVISOR[1]),
                                        rng=random.Random(2026))  # noqa: S311 reproducible demo values
                click.echo(ngettext("Created %(num)d submitted assessment with %(answers)s.",
                                    "Created %(num)d submitted assessments with %(answers)s.", ids["assessments"],
                                    answers=ngettext("%(num)d answer", "%(num)d answers", ids["answers"])))
        click.echo(_("Supervisor login: %(email)s / %(password)s", email=LARGE_SUPERVISOR[0].format(units=units),
                     password=LARGE_SUPERVISOR[1]))

    app.cli.add_command(demo_cli)
    init_workshop_cli(app)

    from .admin.cli import init_app as init_admin_cli
    from .ops.cli import init_app as init_ops_cli

    init_admin_cli(app)
    init_ops_cli(app)


def init_workshop_cli(app: Flask) -> None:
    """`flask workshops purge`: the retention job, fit for cron (prints what it removed, exit 0)."""
    workshops_cli = AppGroup("workshops", help=_l("Workshop mode tools."))

    @workshops_cli.command("purge", help=_l(
        "Delete participant-level answers of workshops closed more than the retention period ago."))
    @option("--days", type=int, default=None, help=_l("Retention in days (default: WORKSHOP_RETENTION_DAYS)."))
    def workshops_purge(days: int | None) -> None:
        from .content.current import for_version
        from .db import db
        from .workshops.services import purge_expired

        keep = current_app.config["WORKSHOP_RETENTION_DAYS"] if days is None else days
        with db.writing() as session:
            purged = purge_expired(session, for_version, keep)
        for p in purged:
            what = {"id": p.workshop_id, "title": repr(p.title),
                    "participants": ngettext("%(num)d participant", "%(num)d participants", p.participants),
                    "answers": ngettext("%(num)d answer", "%(num)d answers", p.answers)}
            if p.auto_closed:
                click.echo(_("workshop %(id)d %(title)s: deleted %(participants)s and %(answers)s (left open, join "
                             "code expired: closed as abandoned); aggregates and consensus kept", **what))
            else:
                click.echo(_("workshop %(id)d %(title)s: deleted %(participants)s and %(answers)s; aggregates and "
                             "consensus kept", **what))
        click.echo(ngettext("%(num)d workshop purged (retention %(days)s).",
                            "%(num)d workshops purged (retention %(days)s).", len(purged),
                            days=ngettext("%(num)d day", "%(num)d days", keep)))

    app.cli.add_command(workshops_cli)
