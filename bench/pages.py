"""Per-request cost of the app's hot pages against the bare Flask app, in one process, interleaved (not a test).

    .venv/bin/python bench/pages.py                      # SQLite, temporary file
    .venv/bin/python bench/pages.py --pg-url postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/pages.py --profile section     # also write a pyinstrument profile of one page

Loads the demo data into a fresh database, logs in the demo member through the Flask test client and
times, round by round so that noise hits both alike: a questionnaire section page (GET), the same section
saved with 4 changed answers (POST), the results page of the submitted 2026 assessment, and the bare app's
``/page`` (20 rows, 10 KiB Jinja page) and ``/save`` (4 rows in one transaction, redirect), see
bench/bare_app.py. It reports median wall and CPU time per request, the ratio bare/app of CPU time (what the
throughput ratio is on a CPU-bound server), SQL statements per request, and whether the section page
re-sent the session cookie. The gunicorn load run of the issue (bench/workshop.py style) measures the same
code under concurrency; this script isolates the per-request cost, which is what the changes cut.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, select

from app import create_app
from app.config import normalise_database_url
from app.content.current import current
from app.db import db
from app.migrate import upgrade

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
HIDDEN_RE = re.compile(r'<input[^>]*name="((?:rev_|target_orig|csrf_token)[^"]*)"[^>]*value="([^"]*)"')
HIDDEN_RE2 = re.compile(r'<input[^>]*value="([^"]*)"[^>]*name="((?:rev_|target_orig|csrf_token)[^"]*)"')


def _hidden(html: str) -> dict[str, str]:
    out = {m.group(1): m.group(2) for m in HIDDEN_RE.finditer(html)}
    out.update({m.group(2): m.group(1) for m in HIDDEN_RE2.finditer(html)})
    return out


def _timed(fn: Any) -> tuple[float, float, Any]:
    c0, t0 = time.process_time(), time.perf_counter()
    resp = fn()
    _ = resp.data
    return (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000, resp


def run(url: str, rounds: int, profile: str | None) -> dict[str, Any]:
    url = normalise_database_url(url)
    upgrade(url)
    app = create_app({"APP_ENV": "test", "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-" + "x" * 40,
                      "RATELIMIT_STORAGE_URI": "memory://", "WTF_CSRF_ENABLED": True})
    from app import demo
    from app.models import Assessment

    with app.app_context():
        demo.load(db.session, current())
        db.session.commit()
        ids = {a.title: a.id for a in db.session.scalars(select(Assessment))}
    draft, submitted = ids["Mid-year review 2026 (draft)"], ids["Annual self-assessment 2026"]
    os.environ["DATABASE_URL"] = url
    from bench import bare_app

    counter = [0]

    @event.listens_for(app.extensions["db_engine"], "before_cursor_execute")
    def _count(*_args: Any) -> None:
        counter[0] += 1

    client, bare = app.test_client(), bare_app.app.test_client()
    token = CSRF_RE.search(client.get("/login").data.decode()).group(1)  # type: ignore[union-attr]
    resp = client.post("/login", data={"email": "member@demo.example", "password": "demo-member-pass",
                                       "csrf_token": token})
    assert resp.status_code == 302, resp.data[:300]
    section = f"/assessments/{draft}/section/5"
    with app.app_context():
        rec = current().recommendation_by_number[5]
    qids = [q.id for q in rec.questions][:4]
    results = f"/assessments/{submitted}/results"
    samples: dict[str, dict[str, list[float]]] = {}
    cookies_resent = 0
    html = client.get(section).data.decode()

    def note(name: str, wall: float, cpu: float, queries: int | None = None) -> None:
        s = samples.setdefault(name, {"wall": [], "cpu": [], "queries": []})
        s["wall"].append(wall)
        s["cpu"].append(cpu)
        if queries is not None:
            s["queries"].append(queries)

    for i in range(rounds + 3):
        warm = i < 3
        counter[0] = 0
        w, c, r = _timed(lambda: client.get(section))
        assert r.status_code == 200, r.status_code
        html = r.data.decode()
        if not warm:
            note("section page (GET)", w, c, counter[0])
            cookies_resent += any(h.startswith("thb_session=") for h in r.headers.getlist("Set-Cookie"))
        w, c, r = _timed(lambda: bare.get("/page"))
        if not warm:
            note("bare page", w, c)
        data = _hidden(html)
        data.update({"target": "3", "action": "save"})
        for q in rec.questions:
            data[f"c_{q.id}"] = data[f"e_{q.id}"] = ""
        for q in qids:
            data[f"q_{q}"] = "2" if i % 2 else "3"
        counter[0] = 0
        w, c, r = _timed(lambda d=data: client.post(section, data=d))
        assert r.status_code == 302, (r.status_code, r.data[:500])
        if not warm:
            note("section save (POST, 4 answers)", w, c, counter[0])
        w, c, r = _timed(lambda: bare.post("/save"))
        if not warm:
            note("bare save", w, c)
        counter[0] = 0
        w, c, r = _timed(lambda: client.get(results))
        assert r.status_code == 200
        if not warm:
            note("results page (submitted)", w, c, counter[0])
    if profile:
        from pyinstrument import Profiler

        target = {"section": section, "results": results}[profile]
        prof = Profiler(interval=0.0005)
        prof.start()
        for _ in range(50):
            _ = client.get(target).data
        prof.stop()
        out = Path(tempfile.gettempdir()) / f"pages-{profile}.txt"
        out.write_text(prof.output_text(unicode=False, show_all=False))
        print(f"profile written to {out}", file=sys.stderr)
    app.extensions["db_engine"].dispose()
    bare_app.engine.dispose()
    return {"samples": samples, "cookies_resent": cookies_resent, "rounds": rounds}


def report(res: dict[str, Any], backend: str) -> None:
    s = res["samples"]
    med = {k: (statistics.median(v["wall"]), statistics.median(v["cpu"]), v["queries"]) for k, v in s.items()}
    print(f"\n{backend}, Flask test client, one process, {res['rounds']} interleaved rounds; median ms per request\n")
    print("| request | wall ms | CPU ms | bare CPU ms | bare/app (CPU) | SQL statements |")
    print("|---|---:|---:|---:|---:|---|")
    for name, bare in (("section page (GET)", "bare page"), ("section save (POST, 4 answers)", "bare save"),
                       ("results page (submitted)", "bare page")):
        w, c, q = med[name]
        bc = med[bare][1]
        print(f"| {name} | {w:.2f} | {c:.2f} | {bc:.2f} | {bc / c:.2f}× | {', '.join(map(str, sorted(set(q))))} |")
    print(f"\nsection page re-sent the session cookie on {res['cookies_resent']} of {res['rounds']} loads")


@contextmanager
def _pg_database(server_url: str) -> Iterator[str]:
    """A fresh database on the server for one run, dropped afterwards."""
    import psycopg

    name = f"thb_bench_pages_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(server_url, autocommit=True, connect_timeout=5)
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield normalise_database_url(re.sub(r"/[^/]*$", f"/{name}", server_url))
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=60)
    ap.add_argument("--pg-url")
    ap.add_argument("--profile", choices=["section", "results"])
    args = ap.parse_args()
    if args.pg_url:
        with _pg_database(args.pg_url) as url:
            report(run(url, args.rounds, args.profile), "PostgreSQL")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            report(run(f"sqlite:///{Path(tmp) / 'pages.sqlite3'}", args.rounds, args.profile), "SQLite")


if __name__ == "__main__":
    main()
