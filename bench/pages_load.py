"""Issue 16's side-by-side: the hot pages and the bare Flask app under the production gunicorn config (not a test).

    .venv/bin/python bench/pages_load.py                  # SQLite, then PostgreSQL if the server answers
    .venv/bin/python bench/pages_load.py --seconds 5 --db sqlite

Per database: a fresh database with the demo data and the large agency of bench/analytics.py (100 units × 10
submitted assessments); the app (``wsgi:app``, ``APP_ENV=production``) and ``bench/bare_app.py`` each under
gunicorn with the production ``gunicorn.conf.py`` (5 workers × 4 threads unless --workers/--threads), both
warm and idle before each run. ``wrk`` with 20 connections drives each request in turn, app / bare / app /
bare (``--rounds`` pairs), so noise hits both alike. For each run: requests per second, latency percentiles
(wrk's own, p95 from its histogram), non-2xx/3xx responses and socket errors, the server's CPU time per
request (gunicorn's process tree, from /proc) and the load average before and after.

The requests (the bare app's yardstick in brackets): a member's questionnaire section (bare /page), the
same section saved with 4 changed answers (bare /save), a submitted assessment's results page (bare /page),
the supervisor dashboard of the demo agency and of the 100-unit agency (bare /page). Sessions are logged in
afresh before each app run, so the idle clock in the cookie is fresh as a browser's would be.

Needs ``wrk`` on PATH. The CPU figures are steady on a shared machine; throughput and latency are not:
compare ratios from one run, on a quiet machine.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.workshop import free_port, process_tree_cpu, stop, wait_until_idle  # noqa: E402

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"

# Prints one parsable line at the end of a wrk run (wrk's own summary has no p95).
LUA_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d seconds=%f p50=%f p95=%f p99=%f max=%f status=%d sock=%d\\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(95) / 1e3,
    latency:percentile(99) / 1e3, latency.max / 1e3, e.status, e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass
class Target:
    name: str  # the row of the table
    app_path: str
    bare_path: str
    who: str  # "member" | "supervisor" | "large"
    post: dict[str, str] | None = None  # the section save's form (values alternate per request)
    bare_post: bool = False


@dataclass
class Result:
    db: str
    name: str
    side: str  # app | bare
    requests: int
    seconds: float
    p50: float
    p95: float
    p99: float
    errors: int
    cpu_ms: float
    load_before: float
    load_after: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def start(spec: str, env: dict[str, str], workers: int, threads: int, log: Path) -> tuple[Any, int]:
    port = free_port()
    cmd = [str(ROOT / ".venv" / "bin" / "gunicorn"), "--config", str(ROOT / "gunicorn.conf.py"),
           "--workers", str(workers), "--threads", str(threads), "--worker-class", "gthread",
           "--keep-alive", "30", "--backlog", "2048", "--bind", f"127.0.0.1:{port}", "--log-level", "warning", spec]
    # The app's request log (one JSON line per request, part of its cost) goes to a file, not the terminal.
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.DEVNULL, stderr=log.open("ab"))
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/healthz" if spec.startswith("wsgi") else "/page")
            c.getresponse().read()
            return proc, port
        except OSError:
            time.sleep(0.3)
    stop(proc)
    raise RuntimeError(f"gunicorn {spec} did not start (see {log})")


class Session:
    """A logged-in browser: one cookie, kept up to date (http.client, no dependency)."""

    def __init__(self, port: int) -> None:
        self.port, self.cookie = port, ""

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, str, str]:
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        text = r.read().decode("utf-8", "replace")
        for h in r.headers.get_all("Set-Cookie") or []:
            if h.startswith("thb_session="):
                self.cookie = h.split(";", 1)[0]
        c.close()
        return r.status, text, r.headers.get("Location", "")

    def login(self, email: str, password: str) -> None:
        _, page, _ = self.request("GET", "/login")
        m = CSRF_RE.search(page)
        assert m, page[:500]
        status, _, _ = self.request("POST", "/login", {"email": email, "password": password, "csrf_token": m.group(1)})
        assert status == 302, f"login of {email}: {status}"


def wrk(port: int, path: str, seconds: int, connections: int, cookie: str = "", post: dict[str, str] | None = None,
        bare_post: bool = False) -> dict[str, float]:
    lua = [LUA_DONE]
    headers = {"Cookie": cookie} if cookie else {}
    if post is not None:
        # Each request changes the 4 answers (2 <-> 3), without revisions: a real save every time, no conflict.
        fixed = urllib.parse.urlencode({k: v for k, v in post.items() if not k.startswith("q_")})
        answers = [k for k in post if k.startswith("q_")]
        lua.append("local n = 0\nrequest = function()\n  n = n + 1\n  local v = (n % 2 == 0) and '2' or '3'\n"
                   f"  local body = '{fixed}'" + "".join(f" .. '&{urllib.parse.quote(k)}=' .. v" for k in answers)
                   + "\n  return wrk.format('POST', nil, {['Cookie'] = '" + cookie + "', "
                   "['Content-Type'] = 'application/x-www-form-urlencoded'}, body)\nend\n")
    elif bare_post:
        lua.append("wrk.method = 'POST'\n")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write("\n".join(lua))
        script = f.name
    cmd = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s", "-s", script]
    for k, v in headers.items():
        if post is None:
            cmd += ["-H", f"{k}: {v}"]
    cmd.append(f"http://127.0.0.1:{port}{path}")
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script)
    m = re.search(r"RESULT (.*)", out)
    assert m, out
    return {k: float(v) for k, v in (kv.split("=") for kv in m.group(1).split())}


def prepare(url: str, units: int) -> dict[str, Any]:
    """Migrated database with the demo data and the large agency; ids and the section form."""
    from sqlalchemy import select

    from app import create_app, demo
    from app.content.current import current
    from app.db import db
    from app.migrate import upgrade
    from app.models import Assessment
    from bench.analytics import seed

    upgrade(url)
    seed(url, units, 10, random.Random(2026))
    app = create_app({"APP_ENV": "test", "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-" + "x" * 40,
                      "RATELIMIT_STORAGE_URI": "memory://"})
    with app.app_context():
        demo.load(db.session, current())
        db.session.commit()
        ids = {a.title: a.id for a in db.session.scalars(select(Assessment))}
        rec = current().recommendation_by_number[5]
        questions = [q.id for q in rec.questions]
    app.extensions["db_engine"].dispose()
    return {"draft": ids["Mid-year review 2026 (draft)"], "submitted": ids["Annual self-assessment 2026"],
            "questions": questions}


def run_db(label: str, url: str, args: argparse.Namespace, log: Path) -> list[Result]:
    from bench.analytics import EMAIL, PASSWORD

    info = prepare(url, args.units)
    section = f"/assessments/{info['draft']}/section/5"
    targets = [
        Target("a member's questionnaire section (GET)", section, "/page", "member"),
        Target("save one section (POST, 4 answers)", section, "/save", "member", post={}, bare_post=True),
        Target("a submitted assessment's results page", f"/assessments/{info['submitted']}/results", "/page",
               "member"),
        Target("supervisor dashboard, demo agency", "/agency/", "/page", "supervisor"),
        Target(f"supervisor dashboard, {args.units} units × 10 assessments", "/agency/", "/page", "large"),
    ]
    logins = {"member": ("member@demo.example", "demo-member-pass"),
              "supervisor": ("supervisor@demo.example", "demo-supervisor-pass"), "large": (EMAIL, PASSWORD)}
    env = {"APP_ENV": "production", "SECRET_KEY": secrets.token_hex(32), "DATABASE_URL": url,
           "SESSION_COOKIE_SECURE": "0", "BASE_URL": "http://127.0.0.1"}
    app_proc, app_port = start("wsgi:app", env, args.workers, args.threads, log)
    bare_proc, bare_port = start("bench.bare_app:app", {"DATABASE_URL": url}, args.workers, args.threads, log)
    results: list[Result] = []
    try:
        for t in targets:
            if args.only and not any(o in t.name for o in args.only):
                continue
            for _ in range(args.rounds):
                for side in ("app", "bare"):
                    proc, port = (app_proc, app_port) if side == "app" else (bare_proc, bare_port)
                    cookie, post = "", None
                    if side == "app":
                        s = Session(port)
                        s.login(*logins[t.who])
                        if t.post is not None:
                            status, page, _ = s.request("GET", t.app_path)
                            m = CSRF_RE.search(page)
                            assert status == 200 and m, status
                            post = {"csrf_token": m.group(1), "target": "3", "action": "save"}
                            for q in info["questions"]:
                                post[f"c_{q}"] = post[f"e_{q}"] = ""
                            for q in info["questions"][:4]:
                                post[f"q_{q}"] = "2"
                        cookie = s.cookie
                    path = t.app_path if side == "app" else t.bare_path
                    # Warm every worker on this very request, then wait until the server is idle.
                    wrk(port, path, 2, args.connections, cookie, post, side == "bare" and t.bare_post)
                    wait_until_idle(proc.pid)
                    load_before = os.getloadavg()[0]
                    cpu0 = process_tree_cpu(proc.pid)
                    r = wrk(port, path, args.seconds, args.connections, cookie, post,
                            side == "bare" and t.bare_post)
                    cpu = process_tree_cpu(proc.pid) - cpu0
                    res = Result(label, t.name, side, int(r["requests"]), r["seconds"], r["p50"], r["p95"], r["p99"],
                                 int(r["status"] + r["sock"]), cpu * 1000 / max(1, r["requests"]), load_before,
                                 os.getloadavg()[0])
                    results.append(res)
                    print(f"  {label:10} {side:4} {t.name}: {res.rps:.0f} req/s, p95 {res.p95:.0f} ms, "
                          f"errors {res.errors}, CPU {res.cpu_ms:.2f} ms/req, load {res.load_before:.2f} -> "
                          f"{res.load_after:.2f}", file=sys.stderr, flush=True)
    finally:
        stop(app_proc)
        stop(bare_proc)
    return results


def tables(results: list[Result]) -> str:
    names = list(dict.fromkeys(r.name for r in results))
    dbs = list(dict.fromkeys(r.db for r in results))
    out = ["| request | app / bare throughput (" + ", ".join(dbs) + ") | server CPU per request, app / bare |",
           "|---|---|---|"]
    for n in names:
        ratios, cpus = [], []
        for d in dbs:
            app = [r for r in results if r.name == n and r.db == d and r.side == "app"]
            bare = [r for r in results if r.name == n and r.db == d and r.side == "bare"]
            if not app or not bare:
                continue
            ratios.append(f"{sum(r.rps for r in app) / sum(r.rps for r in bare):.2f}×")
            cpus.append(f"{statistics.median(r.cpu_ms for r in app):.1f} / "
                        f"{statistics.median(r.cpu_ms for r in bare):.1f} ms")
        out.append(f"| {n} | {', '.join(ratios)} | {'; '.join(cpus)} |")
    out += ["", "| database | request | side | req/s | p50 ms | p95 ms | p99 ms | errors | server CPU ms/req | "
            "load avg before → after |", "|---|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in results:
        out.append(f"| {r.db} | {r.name} | {r.side} | {r.rps:.1f} | {r.p50:.1f} | {r.p95:.1f} | {r.p99:.1f} | "
                   f"{r.errors} | {r.cpu_ms:.2f} | {r.load_before:.2f} → {r.load_after:.2f} |")
    return "\n".join(out)


def _pg_reachable(url: str) -> bool:
    try:
        import psycopg

        psycopg.connect(url, connect_timeout=3).close()
        return True
    except Exception:
        return False


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=15, help="length of each measured wrk run")
    ap.add_argument("--rounds", type=int, default=2, help="app/bare pairs per request")
    ap.add_argument("--connections", type=int, default=20)
    ap.add_argument("--workers", type=int, default=5)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--units", type=int, default=100)
    ap.add_argument("--db", choices=["sqlite", "pg", "both"], default="both")
    ap.add_argument("--pg-url", default=PG_DEFAULT)
    ap.add_argument("--only", action="append", help="run only the requests whose name contains this")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    from app.config import normalise_database_url
    from bench.pages import _pg_database

    cores = os.cpu_count()
    print(f"gunicorn gthread {args.workers} workers × {args.threads} threads, wrk {args.connections} connections, "
          f"{args.seconds} s per run, {args.rounds} app/bare pairs, {cores} cores", flush=True)
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "gunicorn.log"
        if args.db in ("sqlite", "both"):
            results += run_db("SQLite", normalise_database_url(f"sqlite:///{Path(tmp) / 'pages.sqlite3'}"), args, log)
        if args.db in ("pg", "both"):
            if _pg_reachable(args.pg_url):
                with _pg_database(args.pg_url) as url:
                    results += run_db("PostgreSQL", url, args, log)
            else:
                print(f"PostgreSQL at {args.pg_url} does not answer: skipped", file=sys.stderr)
    print()
    print(tables(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
