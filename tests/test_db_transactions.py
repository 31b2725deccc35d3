"""How a request moves from reading to writing (``db.start_writing``) on each database.

SQLite must end the read transaction and begin the next one IMMEDIATE, or two writers that both read first
fail with "database is locked"; PostgreSQL keeps its transaction (no ROLLBACK, no second pre-ping).
"""

from __future__ import annotations

import sqlite3

import pytest
from flask import Flask
from sqlalchemy import text

from app.db import db


def test_start_writing_takes_sqlites_write_lock_or_keeps_the_postgres_transaction(app: Flask) -> None:
    with app.test_request_context():
        db.mark_write_intent(False)
        try:
            session = db.session
            if db.engine.dialect.name == "sqlite":
                session.execute(text("SELECT count(*) FROM agency"))
                assert session.in_transaction()
                db.start_writing()
                assert not session.in_transaction()  # the read transaction is over
                session.execute(text("SELECT count(*) FROM agency"))  # begins IMMEDIATE: holds the write lock
                other = sqlite3.connect(db.engine.url.database, timeout=0)
                try:
                    with pytest.raises(sqlite3.OperationalError, match="locked"):
                        other.execute("BEGIN IMMEDIATE")
                finally:
                    other.close()
                session.rollback()
            else:
                before = session.execute(text("SELECT txid_current()")).scalar_one()
                db.start_writing()
                assert session.in_transaction()
                assert session.execute(text("SELECT txid_current()")).scalar_one() == before
                session.rollback()
        finally:
            db.mark_write_intent(False)
