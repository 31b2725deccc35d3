"""`flask backup` / `flask restore`: a consistent copy taken while the service runs, and putting it back.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies the pages under SQLite's own locking,
so the copy is one consistent state even while workers write (a plain ``cp`` of a WAL database is not).
The copy is a normal SQLite file: open it with ``sqlite3`` to look inside.

PostgreSQL: ``pg_dump -Fc`` (custom format: compressed, restorable table by table) reads in one
repeatable-read snapshot, so it is consistent while the service runs; ``pg_restore --clean --if-exists
--single-transaction`` replaces the tables, and a failure half-way leaves the database as it was.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import create_engine, func, inspect, select, table, text

from ..config import normalise_database_url
from .dburl import OpsError, dialect, libpq, sqlite_path

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
SUFFIX = {"sqlite": ".sqlite3", "postgresql": ".dump"}


@dataclass(frozen=True)
class Summary:
    """What a backup or restore did, for the one line the command prints."""

    path: Path
    dialect: str
    tables: int
    rows: int
    size: int
    revision: str | None


def row_counts(url: str) -> dict[str, int]:
    """Rows per table of the database at ``url`` (every table, including alembic_version)."""
    engine = create_engine(normalise_database_url(url))
    try:
        with engine.connect() as conn:
            names = inspect(conn).get_table_names()
            return {n: int(conn.execute(select(func.count()).select_from(table(n))).scalar_one())
                    for n in sorted(names)}
    finally:
        engine.dispose()


def revision(url: str) -> str | None:
    """The Alembic revision the database is at (None before any migration)."""
    engine = create_engine(normalise_database_url(url))
    try:
        with engine.connect() as conn:
            if "alembic_version" not in inspect(conn).get_table_names():
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


def _summary(url: str, path: Path, kind: str) -> Summary:
    counts = row_counts(url)
    return Summary(path, kind, len(counts), sum(counts.values()), path.stat().st_size, revision(url))


def default_name(url: str, now: datetime | None = None) -> str:
    """thb-20261203T031500Z.sqlite3 / .dump: sorts by time, says which kind of database it came from."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"thb-{stamp}{SUFFIX[dialect(url)]}"


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise OpsError(_("%(tool)s not found: install the PostgreSQL client (`apt-get install postgresql-client`).",
                          tool=name))
    return found


def _run(cmd: list[str], env: dict[str, str] | None = None) -> None:
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise OpsError(_("%(tool)s failed (exit %(code)d): %(error)s", tool=Path(cmd[0]).name, code=result.returncode,
                         error=result.stderr.strip()))


def backup(url: str, dest: Path) -> Summary:
    """Write a consistent copy of the database at ``url`` to ``dest`` (which must not exist yet)."""
    kind = dialect(url)
    if dest.exists():
        raise OpsError(_("%(path)s already exists: backups are never overwritten.", path=dest))
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        if kind == "sqlite":
            source = sqlite_path(url)
            if not source.exists():
                raise OpsError(_("There is no database file at %(path)s.", path=source))
            src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
            dst = sqlite3.connect(partial)
            try:
                src.backup(dst)
            finally:
                dst.close()
                src.close()
        else:
            uri, env = libpq(url)
            _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={partial}",
                  f"--dbname={uri}"], env)
        partial.chmod(0o600)  # restricted data: readable by the service account only
        partial.rename(dest)  # a backup file that exists is a complete one
    finally:
        partial.unlink(missing_ok=True)
    return Summary(dest, kind, *_file_stats(dest, kind, url))


def _file_stats(path: Path, kind: str, url: str) -> tuple[int, int, int, str | None]:
    """Tables, rows, size and revision of a backup (read from the copy itself for SQLite)."""
    # pg_dump's file cannot be read without restoring it: count the source, which it is a snapshot of.
    s = _summary(f"sqlite:///{path}" if kind == "sqlite" else url, path, kind)
    return s.tables, s.rows, s.size, s.revision


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete all but the ``keep`` newest thb-* backups in ``directory``; returns what was deleted."""
    files = sorted(p for p in directory.glob("thb-*") if p.suffix in (".sqlite3", ".dump"))
    doomed = files[:-keep] if keep > 0 else []
    for p in doomed:
        p.unlink()
    return doomed


def kind_of_file(path: Path) -> str:
    """'sqlite' or 'postgresql' from the file's first bytes, so a wrong file is refused before anything."""
    if not path.is_file():
        raise OpsError(_("There is no backup file at %(path)s.", path=path))
    with path.open("rb") as f:
        head = f.read(16)
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    raise OpsError(_("%(path)s is neither a SQLite backup nor a pg_dump custom-format file.", path=path))


def has_data(url: str) -> bool:
    """True when the target holds any table at all (restoring would replace it)."""
    if dialect(url) == "sqlite" and not sqlite_path(url).exists():
        return False
    return bool(row_counts(url))


def restore(url: str, source: Path, *, overwrite: bool) -> Summary:
    """Replace the database at ``url`` with the backup ``source``; refuses a non-empty target unless told."""
    kind = dialect(url)
    file_kind = kind_of_file(source)
    if file_kind != kind:
        if file_kind == "sqlite":
            raise OpsError(_("%(path)s is a %(file_kind)s backup and the configured database is %(kind)s (to move a "
                             "SQLite trial onto PostgreSQL use `flask copy-to-postgres`).", path=source,
                             file_kind=file_kind, kind=kind))
        raise OpsError(_("%(path)s is a %(file_kind)s backup and the configured database is %(kind)s.", path=source,
                         file_kind=file_kind, kind=kind))
    if not overwrite and has_data(url):
        raise OpsError(_("The configured database is not empty; restoring replaces everything in it. "
                         "Stop the service, then run again with --yes."))
    if kind == "sqlite":
        target = sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        dst = sqlite3.connect(target, timeout=30)
        try:
            src.backup(dst)  # page by page under the target's write lock: readers never see half a restore
        finally:
            dst.close()
            src.close()
    else:
        uri, env = libpq(url)
        _run([_tool("pg_restore"), "--clean", "--if-exists", "--single-transaction", "--no-owner",
              "--no-privileges", "--exit-on-error", f"--dbname={uri}", str(source)], env)
    return _summary(url, source, kind)
