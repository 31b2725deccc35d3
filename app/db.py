"""Engine and per-request session; SQLite tuned for concurrent writers (WAL, busy timeout, BEGIN IMMEDIATE)."""

from __future__ import annotations

import contextvars
import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Set for the duration of a request that will write, so SQLite takes the write lock up front
# instead of failing with "database is locked" when a read transaction tries to upgrade.
_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=False)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def make_engine(url: str, echo: bool = False) -> Engine:
    """Create an engine; on SQLite, drive transactions ourselves so that writers begin IMMEDIATE."""
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"timeout": 5, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            dbapi_conn.isolation_level = None  # let the "begin" hook below emit BEGIN
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=5000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # type: ignore[no-untyped-def]
            conn.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")

        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=5, max_overflow=10)


def reset_pool_after_fork(engine: Engine) -> None:
    """In a forked child (gunicorn's preloaded workers), forget the parent's pooled connections.

    A connection shared by two processes interleaves their statements; ``dispose(close=False)`` drops the
    child's references without closing the parent's sockets, and the child opens its own on first use.
    """
    ref = weakref.ref(engine)

    def _after_fork_in_child() -> None:
        alive = ref()
        if alive is not None:
            alive.dispose(close=False)

    os.register_at_fork(after_in_child=_after_fork_in_child)


_UPSERTS: dict[tuple[str, type, tuple[str, ...], tuple[str, ...]], Any] = {}


def upsert(session: Session, model: type, rows: list[dict[str, Any]], keys: list[str], update: list[str]) -> None:
    """INSERT ... ON CONFLICT (keys) DO UPDATE SET update: two racing writers can neither fail nor store two rows.

    The one upsert of the app (workshop answers and consensus, the PDF cache). SQLite and PostgreSQL spell it
    alike but SQLAlchemy has one construct per dialect; the statement is built once per dialect, table and
    columns, because it is on every workshop participant's save path and building costs more than running it.
    """
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    key = (dialect, model, tuple(keys), tuple(update))
    stmt = _UPSERTS.get(key)
    if stmt is None:
        ins = pg_insert(model) if dialect == "postgresql" else sqlite_insert(model)
        stmt = _UPSERTS[key] = ins.on_conflict_do_update(index_elements=keys,
                                                         set_={c: ins.excluded[c] for c in update})
    session.execute(stmt, rows)


class Database:
    """Holds the app's engine and hands out one session per application context."""

    def init_app(self, app: Flask) -> None:
        engine = make_engine(app.config["SQLALCHEMY_DATABASE_URI"], app.config.get("SQLALCHEMY_ECHO", False))
        app.extensions["db_engine"] = engine
        reset_pool_after_fork(engine)
        app.extensions["db_sessionmaker"] = sessionmaker(bind=engine, expire_on_commit=False)

        @app.teardown_appcontext
        def _close(exc: BaseException | None) -> None:
            session: Session | None = g.pop("db_session", None)
            if session is not None:
                if exc is not None:
                    session.rollback()
                session.close()

    @property
    def engine(self) -> Engine:
        return current_app.extensions["db_engine"]

    @property
    def session(self) -> Session:
        if "db_session" not in g:
            g.db_session = current_app.extensions["db_sessionmaker"]()
        return g.db_session

    @staticmethod
    def mark_write_intent(on: bool = True) -> None:
        """Declare that the current request will write (before its first query)."""
        _write_intent.set(on)

    def start_writing(self) -> None:
        """Turn a request that has read and checked into one that writes, as cheaply as each database allows.

        SQLite: end the read transaction, so the next one begins IMMEDIATE (a read transaction cannot safely
        take the write lock: it would fail with "database is locked" instead of waiting). Other databases:
        keep the open transaction; ending it would cost a ROLLBACK and, with the pool's pre-ping, a SELECT 1
        round trip, and the statements that need a lock take it themselves (``FOR SHARE``, upserts).
        Objects read so far may be expired (SQLite) or not: read again what the write depends on.
        """
        _write_intent.set(True)
        if self.engine.dialect.name == "sqlite":
            self.session.rollback()

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A session whose next transaction takes the write lock at once (SQLite) and commits on exit."""
        token = _write_intent.set(True)
        try:
            yield self.session
            self.session.commit()
        except BaseException:
            self.session.rollback()
            raise
        finally:
            _write_intent.reset(token)


db = Database()
