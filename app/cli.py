"""Command-line tools: migrate, check content, load the demo."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from .content import ContentError, parse, read_file

# The large demo agency's supervisor (demo data only, like the other demo logins).
LARGE_SUPERVISOR = ("coordinator-{units}@large-demo.example", "demo-coordinator-pass")


def init_app(app: Flask) -> None:
    @app.cli.command("db-upgrade")
    def db_upgrade() -> None:
        """Apply every Alembic migration to the configured database."""
        from .migrate import upgrade

        upgrade(current_app.config["SQLALCHEMY_DATABASE_URI"])
        click.echo("Database is up to date.")

    content_cli = click.Group("content", help="Questionnaire content tools.")

    @content_cli.command("check")
    @click.argument("path", type=click.Path(dir_okay=False))
    def content_check(path: str) -> None:
        """Validate a content file (schema and cross-references) and every translation of it
        (``<name>.<lang>.json`` beside it, for each configured language) without starting anything."""
        from .content import translation

        try:
            data, sha = read_file(path)
        except ContentError as exc:
            click.echo(f"INVALID {exc}", err=True)
            sys.exit(1)
        c = parse(data, sha)
        n_q = len(c.questions)
        click.echo(f"OK {path}: version {c.version}, {len(c.recommendations)} recommendations, {n_q} questions")
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
                click.echo(f"OK {t.path}: {lang}, {len(t.strings)} texts")
        if failed:
            sys.exit(1)

    app.cli.add_command(content_cli)

    demo_cli = AppGroup("demo", help="Demo data.")

    @demo_cli.command("load")
    def demo_load() -> None:
        """Load the demo agency, units, users and assessments (once) and print the logins."""
        from . import demo
        from .content.current import current
        from .db import db

        with db.writing() as session:
            created = demo.load(session, current())
        click.echo("Demo data loaded." if created else "Demo data already present.")
        click.echo("Demo logins (e-mail / password / role):")
        for email, password, role in demo.logins():
            click.echo(f"  {email:<26} {password:<22} {role}")

    @demo_cli.command("large")
    @click.option("--units", type=click.IntRange(1, 1000), default=100, show_default=True)
    @click.option("--per-unit", type=click.IntRange(1, 30), default=10, show_default=True,
                  help="Submitted assessments per unit, one a year.")
    def demo_large(units: int, per_unit: int) -> None:
        """Add a large agency (many units, years of submitted assessments) to try the supervisors' pages at scale."""
        import random

        from .content.current import current
        from .demo_large import agency_exists, seed_large_agency
        from .migrate import upgrade

        upgrade(current_app.config["SQLALCHEMY_DATABASE_URI"])  # so it also works before `make run` ever ran
        name = f"Large Demo Police ({units} units)"
        with current_app.extensions["db_engine"].begin() as conn:
            if agency_exists(conn, name):
                click.echo(f"{name!r} is already there.")
            else:
                click.echo(f"Creating {name!r}: {units} units x {per_unit} assessments ...")
                ids = seed_large_agency(conn, current(), name=name, n_units=units, per_unit=per_unit,
                                        supervisor=(LARGE_SUPERVISOR[0].format(units=units), LARGE_SUPERVISOR[1]),
                                        rng=random.Random(2026))  # noqa: S311 reproducible demo values
                click.echo(f"Created {ids['assessments']} submitted assessments with {ids['answers']} answers.")
        click.echo(f"Supervisor login: {LARGE_SUPERVISOR[0].format(units=units)} / {LARGE_SUPERVISOR[1]}")

    app.cli.add_command(demo_cli)
    init_workshop_cli(app)

    from .admin.cli import init_app as init_admin_cli
    from .ops.cli import init_app as init_ops_cli

    init_admin_cli(app)
    init_ops_cli(app)


def init_workshop_cli(app: Flask) -> None:
    """`flask workshops purge`: the retention job, fit for cron (prints what it removed, exit 0)."""
    workshops_cli = AppGroup("workshops", help="Workshop mode tools.")

    @workshops_cli.command("purge")
    @click.option("--days", type=int, default=None, help="Retention in days (default: WORKSHOP_RETENTION_DAYS).")
    def workshops_purge(days: int | None) -> None:
        """Delete participant-level answers of workshops closed more than the retention period ago."""
        from .content.current import for_version
        from .db import db
        from .workshops.services import purge_expired

        keep = current_app.config["WORKSHOP_RETENTION_DAYS"] if days is None else days
        with db.writing() as session:
            purged = purge_expired(session, for_version, keep)
        for p in purged:
            how = " (left open, join code expired: closed as abandoned)" if p.auto_closed else ""
            click.echo(f"workshop {p.workshop_id} {p.title!r}: deleted {p.participants} participant(s) and "
                       f"{p.answers} answer(s){how}; aggregates and consensus kept")
        click.echo(f"{len(purged)} workshop(s) purged (retention {keep} days).")

    app.cli.add_command(workshops_cli)
