"""The yardstick for bench/workshop.py: a bare Flask page that reads one row, served the same way.

Same engine settings as the app (app.db.make_engine: WAL and busy timeout on SQLite, the same pool on
PostgreSQL), nothing else: no sessions, CSRF, templates or access checks. ``gunicorn bench.bare_app:app``.
"""

from __future__ import annotations

import os

from flask import Flask, jsonify
from sqlalchemy import text

from app.config import normalise_database_url
from app.db import make_engine

app = Flask(__name__)
engine = make_engine(normalise_database_url(os.environ["DATABASE_URL"]))


@app.get("/one")
def one():  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        row = conn.execute(text("SELECT id, name FROM agency ORDER BY id LIMIT 1")).first()
    return jsonify(id=row[0], name=row[1]) if row else ("", 404)
