"""Trial to production: copy everything from a SQLite database into an empty PostgreSQL one, and prove it.

Why a copy through the models' tables rather than a dump: the two databases spell types differently
(SQLite keeps timestamps as text and booleans as integers); reading and writing through the same SQLAlchemy
types the app uses gives PostgreSQL exactly the values the app would have written itself.

What is kept: every row of every table with its id, the optimistic-locking counters (``assessment.version_id``,
``answer.rev``), so open forms and cached PDFs stay valid, the audit log, workshop aggregates and the PDF
cache. PostgreSQL's id sequences are then moved past the copied ids, or the first new row would collide.

Verification, inside the same transaction before it commits: per table the row count and a SHA-256 over
every row (in primary-key order, each value in a canonical form) are computed on both sides; any
difference rolls the whole copy back, leaving the target as empty as it was.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import Connection, Row, Table, func, inspect, select, text
from sqlalchemy.exc import DBAPIError

from ..config import normalise_database_url
from ..db import Base, make_engine
from ..migrate import upgrade
from .dburl import OpsError, dialect

BATCH = 1000


@dataclass(frozen=True)
class TableCopy:
    name: str
    rows: int
    checksum: str


def tables() -> list[Table]:
    """Every table of the app, parents before children (the order foreign keys need)."""
    import app.models  # noqa: F401  registers every model, including the feature packages' tables

    return list(Base.metadata.sorted_tables)


def _canonical(value: Any) -> str:
    """One spelling per value on both databases (timestamps in UTC ISO form, bytes as hex)."""
    if value is None:
        return "\x00"
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _rows(conn: Connection, table: Table) -> Iterable[Row[Any]]:
    order = list(table.primary_key.columns) or list(table.columns)
    yield from conn.execute(select(table).order_by(*order)).yield_per(BATCH)


def checksum(conn: Connection, table: Table) -> tuple[int, str]:
    """Row count and SHA-256 of a table's rows in primary-key order."""
    digest = hashlib.sha256()
    count = 0
    for row in _rows(conn, table):
        digest.update("\x1f".join(_canonical(v) for v in row).encode())
        digest.update(b"\x1e")
        count += 1
    return count, digest.hexdigest()


def _revision(conn: Connection) -> str | None:
    if "alembic_version" not in inspect(conn).get_table_names():
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _head() -> str:
    from alembic.script import ScriptDirectory

    from ..migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def _reset_sequence(conn: Connection, table: Table) -> None:
    """Move the id sequence past the copied ids (setval to MAX(id); to 1 with is_called=false when empty)."""
    pk = list(table.primary_key.columns)
    if len(pk) != 1 or not pk[0].autoincrement or pk[0].foreign_keys:
        return
    seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": pk[0].name}).scalar()
    if seq:
        col, name = pk[0].name, table.name  # identifiers from our own metadata, never from input
        sql = f'SELECT setval(:s, COALESCE(MAX("{col}"), 1), MAX("{col}") IS NOT NULL) FROM "{name}"'  # noqa: S608
        conn.execute(text(sql), {"s": seq})


def copy_to_postgres(source_url: str, target_url: str,
                     echo: Callable[[TableCopy], None] | None = None) -> list[TableCopy]:
    """Copy every table from the SQLite ``source_url`` into the empty PostgreSQL ``target_url``; verify it.

    ``echo`` (optional callable) is told about each table as it is done. Raises OpsError when refused.
    """
    source_url, target_url = normalise_database_url(source_url), normalise_database_url(target_url)
    if dialect(source_url) != "sqlite":
        raise OpsError(_("--from must be a SQLite database (sqlite:///path/to/thb.sqlite3)."))
    if dialect(target_url) != "postgresql":
        raise OpsError(_("--to must be a PostgreSQL database (postgresql://user@host/db)."))
    src_engine, dst_engine = make_engine(source_url), make_engine(target_url)
    try:
        with src_engine.connect() as src:
            if "agency" not in inspect(src).get_table_names():
                raise OpsError(_("The source holds no app tables: is --from the trial's database file?"))
            src_rev = _revision(src)
            if src_rev != _head():
                raise OpsError(_("The source is at revision %(source)s, this version of the app at %(head)s: run "
                                 "`flask db-upgrade` against the source first.", source=src_rev, head=_head()))
        upgrade(target_url)  # creates the schema in an empty database; a no-op when it is already at head
        results: list[TableCopy] = []
        with src_engine.connect() as src, dst_engine.connect() as dst:
            src.begin()  # one read transaction: every table from the same moment, even if a writer is busy
            dst.begin()
            for table in tables():
                if dst.execute(select(func.count()).select_from(table)).scalar_one():
                    raise OpsError(_("The target is not empty (table %(table)s has rows): give an empty "
                                     "database; nothing was copied.", table=table.name))
            for table in tables():
                batch: list[dict[str, Any]] = []
                try:
                    for row in _rows(src, table):
                        batch.append(dict(row._mapping))
                        if len(batch) >= BATCH:
                            dst.execute(table.insert(), batch)
                            batch = []
                    if batch:
                        dst.execute(table.insert(), batch)
                except DBAPIError as exc:
                    raise OpsError(_("Copying table %(table)s failed, nothing was copied: %(error)s",
                                     table=table.name, error=str(exc.orig).strip().splitlines()[0])) from exc
                _reset_sequence(dst, table)
            for table in tables():
                want, got = checksum(src, table), checksum(dst, table)
                if want != got:
                    raise OpsError(_("Verification failed for table %(table)s: source %(source)s (%(source_sum)s), "
                                     "copy %(copy)s (%(copy_sum)s); nothing was copied.", table=table.name,
                                     source=ngettext("%(num)d row", "%(num)d rows", want[0]), source_sum=want[1][:12],
                                     copy=ngettext("%(num)d row", "%(num)d rows", got[0]), copy_sum=got[1][:12]))
                results.append(TableCopy(table.name, *got))
                if echo:
                    echo(results[-1])
            dst.commit()
            src.rollback()
        return results
    finally:
        src_engine.dispose()
        dst_engine.dispose()
