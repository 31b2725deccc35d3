"""Engine and per-request session; SQLite tuned for concurrent writers (WAL, busy timeout, BEGIN IMMEDIATE)."""

from __future__ import annotations

import contextvars
import os
import sqlite3
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
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

BUSY_TIMEOUT_MS = 5000  # how long a SQLite writer waits for the write lock
SIDE_WRITE_WAIT_MS = 2000  # how long an optional write made by a page view waits for a lock (best_effort)


@contextmanager
def write_intent(on: bool) -> Iterator[None]:
    """Set whether transactions begun inside take SQLite's write lock up front, then restore the previous value.

    For work on a connection of its own (app.ratelimit) inside a request that has declared something else.
    """
    token = _write_intent.set(on)
    try:
        yield
    finally:
        _write_intent.reset(token)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def make_engine(url: str, echo: bool = False) -> Engine:
    """Create an engine; on SQLite, drive transactions ourselves so that writers begin IMMEDIATE."""
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000,
                                                             "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            dbapi_conn.isolation_level = None  # let the "begin" hook below emit BEGIN
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
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

    def writes_from_here(self) -> None:
        """Called once a write request's checks are done (security.py): its next transaction takes the write lock.

        The checks (loading the logged-in user, the access rule) ran in a read transaction, outside SQLite's
        write lock, so saves no longer queue behind each other's user lookups. On SQLite that read transaction
        is rolled back, which expires what it loaded: a view that changes the user (logout's session epoch)
        reads it again under the lock, exactly as when the whole request held it. The view's first query
        begins IMMEDIATE; a view that reads and validates first turns the intent off again and calls
        ``start_writing`` when it is about to write.
        """
        session: Session | None = g.get("db_session")
        if session is not None and session.in_transaction() and self.engine.dialect.name == "sqlite":
            session.rollback()
        _write_intent.set(True)

    def start_writing(self, keep_loaded: bool = False) -> None:
        """Turn a request that has read and checked into one that writes, as cheaply as each database allows.

        SQLite: end the read transaction, so the next one begins IMMEDIATE (a read transaction cannot safely
        take the write lock: it would fail with "database is locked" instead of waiting). Other databases:
        keep the open transaction; ending it would cost a ROLLBACK and, with the pool's pre-ping, a SELECT 1
        round trip, and the statements that need a lock take it themselves (``FOR SHARE``, upserts).
        Objects read so far may be expired (SQLite) or not: read again what the write depends on.
        ``keep_loaded``: end SQLite's read transaction with a COMMIT when nothing is pending, so that objects stay
        loaded (the logged-in user is not read again under the lock); for callers that re-read under the lock,
        with ``populate_existing``, everything the write depends on.
        """
        _write_intent.set(True)
        if self.engine.dialect.name == "sqlite":
            session = self.session
            if keep_loaded and not (session.new or session.dirty or session.deleted):
                session.commit()
            else:
                session.rollback()

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

    def best_effort(self, work: Callable[[Session], object], what: str) -> bool:
        """Run ``work`` in a short write transaction of its own that can never fail the request; True if stored.

        For the writes a page view makes on the side (an audit row for a download, a PDF kept in the cache, a
        retention purge): on its own connection and session, so the request's session and its objects are
        untouched, and only this connection begins IMMEDIATE on SQLite (the request's reads never take the write
        lock, and a lazy load in the request's session cannot queue behind this transaction). Any database error
        (locked, unreachable, deadlock) rolls the work back and is logged with ``what``; the read carries on.
        """
        try:
            with self.engine.connect() as conn:
                sqlite = conn.dialect.name == "sqlite"
                if sqlite:  # wait for the write lock less long than a save would: this write is optional
                    conn.connection.dbapi_connection.execute(f"PRAGMA busy_timeout={SIDE_WRITE_WAIT_MS}")  # type: ignore[union-attr]
                try:
                    token = _write_intent.set(True)
                    try:
                        conn.begin()  # the begin hook runs now: BEGIN IMMEDIATE on SQLite, for this connection only
                    finally:
                        _write_intent.reset(token)
                    if not sqlite:  # PostgreSQL waits for a row or table lock forever unless told otherwise
                        conn.exec_driver_sql(f"SET LOCAL lock_timeout = {SIDE_WRITE_WAIT_MS}")
                    with Session(bind=conn, expire_on_commit=False) as session:
                        work(session)
                        session.flush()
                    conn.commit()
                finally:
                    if sqlite and conn.connection.dbapi_connection is not None:
                        conn.connection.dbapi_connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            return True
        except (SQLAlchemyError, sqlite3.Error):  # the latter from the raw PRAGMA statements
            current_app.logger.error("not stored (the page was served anyway): %s", what, exc_info=True)
            return False


db = Database()
