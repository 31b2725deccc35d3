"""`flask backup`, `flask restore`, `flask copy-to-postgres`: whole-database operations for the IT department.

Each prints what it did in one or two lines (fit for a systemd journal) and ends with exit code 1 and an
"Error: ..." line when it refuses or fails. Messages and help texts come from the catalogs, in DEFAULT_LANGUAGE;
the per-table lines of the copy (name, rows, checksum) are a table and stay as they are.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _

from ..i18n import lazy_help as _l
from ..i18n import option
from .dburl import OpsError


def _kb(size: int) -> str:
    """A file size with the locale's digit grouping (1,234 kB in English, 1.234 kB in German)."""
    if size < 10 * 1024 * 1024:
        return _("%(size)s kB", size=format_decimal(round(size / 1024), format="#,##0"))
    return _("%(size)s MB", size=format_decimal(size / 1024 / 1024, format="#,##0.0"))


def _tables_rows(tables: int, rows: int) -> dict[str, str]:
    """"3 tables" and "1 row" with the plural each number takes, for the sentences that report both."""
    return {"tables": ngettext("%(num)d table", "%(num)d tables", tables),
            "rows": ngettext("%(num)d row", "%(num)d rows", rows)}


def init_app(app: Flask) -> None:
    @app.cli.command("backup", help=_l("Write a consistent copy of the database while the service runs (SQLite "
                                       "backup API / pg_dump -Fc)."))
    @option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
            help=_l("File to write (must not exist)."))
    @option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
            help=_l("Directory to write a time-stamped thb-YYYYMMDDTHHMMSSZ file into (default: "
                    "instance/backups)."))
    @option("--keep", type=click.IntRange(0), default=0,
            help=_l("With --dir: afterwards keep only this many newest backups there (0: keep all)."))
    def backup_command(output: Path | None, directory: Path | None, keep: int) -> None:
        from .backup import backup, default_name, prune

        url = current_app.config["SQLALCHEMY_DATABASE_URI"]
        if output and directory:
            raise click.UsageError(_("Give --output or --dir, not both."))
        try:
            if output is None:
                directory = directory or Path(current_app.instance_path) / "backups"
                output = directory / default_name(url)
            s = backup(url, output)
        except OpsError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(_("Backed up the %(dialect)s database (revision %(revision)s, %(tables)s, %(rows)s) to %(path)s "
                     "(%(size)s).", dialect=s.dialect, revision=s.revision, path=s.path, size=_kb(s.size),
                     **_tables_rows(s.tables, s.rows)))
        if directory and keep:
            for p in prune(directory, keep):
                click.echo(ngettext("Deleted old backup %(path)s (keeping the newest).",
                                    "Deleted old backup %(path)s (keeping the %(num)d newest).", keep, path=p))

    @app.cli.command("restore", help=_l("Replace the configured database with a backup made by `flask backup` "
                                        "(refused on data without --yes)."))
    @click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
    @option("--yes", is_flag=True, help=_l("Replace a database that already holds data."))
    def restore_command(source: Path, yes: bool) -> None:
        from .backup import restore

        url = current_app.config["SQLALCHEMY_DATABASE_URI"]
        current_app.extensions["db_engine"].dispose()  # no pooled connection may hold a lock on the old tables
        try:
            s = restore(url, source, overwrite=yes)
        except OpsError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(_("Restored the %(dialect)s database from %(path)s: revision %(revision)s, %(tables)s, %(rows)s.",
                     dialect=s.dialect, path=s.path, revision=s.revision, **_tables_rows(s.tables, s.rows)))
        click.echo(_("Run `flask db-upgrade` if this backup is older than the installed version."))

    @app.cli.command("copy-to-postgres", help=_l("Move a trial onto PostgreSQL: copy every row, keep ids and "
                                                 "revisions, verify counts and checksums."))
    @option("--from", "source", metavar="URL",
            help=_l("The trial's SQLite database (default: the configured DATABASE_URL when it is SQLite)."))
    @option("--to", "target", metavar="URL", required=True,
            help=_l("An empty PostgreSQL database: postgresql://user@host/db (its schema is created)."))
    def copy_command(source: str | None, target: str) -> None:
        from .copy import TableCopy, copy_to_postgres

        source = source or current_app.config["SQLALCHEMY_DATABASE_URI"]

        def echo(t: TableCopy) -> None:
            click.echo(f"  {t.name:<22} {t.rows:>8} rows  sha256 {t.checksum[:16]}  identical")

        click.echo(_("Copying (row counts and SHA-256 per table, compared on both sides):"))
        try:
            done = copy_to_postgres(source, target, echo)
        except OpsError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(_("Copied %(rows)s in %(tables)s; every table verified, id sequences moved past the copied ids. "
                     "Point DATABASE_URL at the new database.", **_tables_rows(len(done), sum(t.rows for t in done))))
