"""`flask backup`, `flask restore`, `flask copy-to-postgres`: whole-database operations for the IT department.

Each prints what it did in one or two lines (fit for a systemd journal) and ends with exit code 1 and an
"Error: ..." line when it refuses or fails.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app

from .dburl import OpsError


def _kb(size: int) -> str:
    return f"{size / 1024:,.0f} kB" if size < 10 * 1024 * 1024 else f"{size / 1024 / 1024:,.1f} MB"


def init_app(app: Flask) -> None:
    @app.cli.command("backup")
    @click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
                  help="File to write (must not exist).")
    @click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
                  help="Directory to write a time-stamped thb-YYYYMMDDTHHMMSSZ file into (default: instance/backups).")
    @click.option("--keep", type=click.IntRange(0), default=0,
                  help="With --dir: afterwards keep only this many newest backups there (0: keep all).")
    def backup_command(output: Path | None, directory: Path | None, keep: int) -> None:
        """Write a consistent copy of the database while the service runs (SQLite backup API / pg_dump -Fc)."""
        from .backup import backup, default_name, prune

        url = current_app.config["SQLALCHEMY_DATABASE_URI"]
        if output and directory:
            raise click.UsageError("Give --output or --dir, not both.")
        try:
            if output is None:
                directory = directory or Path(current_app.instance_path) / "backups"
                output = directory / default_name(url)
            s = backup(url, output)
        except OpsError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"Backed up the {s.dialect} database (revision {s.revision}, {s.tables} tables, {s.rows} rows) "
                   f"to {s.path} ({_kb(s.size)}).")
        if directory and keep:
            for p in prune(directory, keep):
                click.echo(f"Deleted old backup {p} (keeping the {keep} newest).")

    @app.cli.command("restore")
    @click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--yes", is_flag=True, help="Replace a database that already holds data.")
    def restore_command(source: Path, yes: bool) -> None:
        """Replace the configured database with a backup made by `flask backup` (refused on data without --yes)."""
        from .backup import restore

        url = current_app.config["SQLALCHEMY_DATABASE_URI"]
        current_app.extensions["db_engine"].dispose()  # no pooled connection may hold a lock on the old tables
        try:
            s = restore(url, source, overwrite=yes)
        except OpsError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"Restored the {s.dialect} database from {s.path}: revision {s.revision}, {s.tables} tables, "
                   f"{s.rows} rows.")
        click.echo("Run `flask db-upgrade` if this backup is older than the installed version.")

    @app.cli.command("copy-to-postgres")
    @click.option("--from", "source", metavar="URL",
                  help="The trial's SQLite database (default: the configured DATABASE_URL when it is SQLite).")
    @click.option("--to", "target", metavar="URL", required=True,
                  help="An empty PostgreSQL database: postgresql://user@host/db (its schema is created).")
    def copy_command(source: str | None, target: str) -> None:
        """Move a trial onto PostgreSQL: copy every row, keep ids and revisions, verify counts and checksums."""
        from .copy import TableCopy, copy_to_postgres

        source = source or current_app.config["SQLALCHEMY_DATABASE_URI"]

        def echo(t: TableCopy) -> None:
            click.echo(f"  {t.name:<22} {t.rows:>8} rows  sha256 {t.checksum[:16]}  identical")

        click.echo("Copying (row counts and SHA-256 per table, compared on both sides):")
        try:
            done = copy_to_postgres(source, target, echo)
        except OpsError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"Copied {sum(t.rows for t in done)} rows in {len(done)} tables; every table verified, "
                   "id sequences moved past the copied ids. Point DATABASE_URL at the new database.")
