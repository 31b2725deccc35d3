"""The yardstick for the load benchmarks: bare Flask pages with the app's engine settings, served the same way.

Same engine settings as the app (app.db.make_engine: WAL and busy timeout on SQLite, the same pool on
PostgreSQL), nothing else: no sessions, CSRF, forms or access checks. ``gunicorn bench.bare_app:app``.

- ``/one``: reads one row (bench/workshop.py).
- ``/page``: reads 20 rows and renders a Jinja page of about 10 KiB (bench/pages.py, the page yardstick).
- ``/save`` (POST): inserts 4 rows in one transaction and redirects (bench/pages.py, the save yardstick).
"""

from __future__ import annotations

import os

from flask import Flask, jsonify, redirect
from sqlalchemy import text

from app.config import normalise_database_url
from app.db import make_engine, write_intent

app = Flask(__name__)
engine = make_engine(normalise_database_url(os.environ["DATABASE_URL"]))

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Bare page</title></head><body>
<main><h1>Rows</h1><table>{% for row in rows %}{% for k in range(8) %}
<tr class="row-{{ k }}"><td>{{ row[0] }}</td><td>{{ row[1] }}</td><td>{{ loop.index }} of {{ rows|length }}</td>
<td><a href="/page?row={{ row[0] }}&amp;k={{ k }}">open {{ row[1]|e }}</a></td></tr>{% endfor %}{% endfor %}
</table></main></body></html>"""

_page_template = app.jinja_env.from_string(PAGE)  # compiled once, as a file template would be

with engine.begin() as _conn:
    _conn.execute(text("CREATE TABLE IF NOT EXISTS bare_scratch (id INTEGER PRIMARY KEY, body VARCHAR(200))"))


@app.get("/one")
def one():  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        row = conn.execute(text("SELECT id, name FROM agency ORDER BY id LIMIT 1")).first()
    return jsonify(id=row[0], name=row[1]) if row else ("", 404)


@app.get("/page")
def page():  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, question_id FROM answer ORDER BY id LIMIT 20")).all()
    return _page_template.render(rows=rows)


@app.post("/save")
def save():  # type: ignore[no-untyped-def]
    with write_intent(True), engine.begin() as conn:
        conn.execute(text("INSERT INTO bare_scratch (body) VALUES (:b)"), [{"b": f"row {i}"} for i in range(4)])
    return redirect("/page")
