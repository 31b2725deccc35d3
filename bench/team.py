"""Team benchmark (issue 11): one unit of 12 members and 2 supervisors working in one draft at the same time,
alongside a 100-participant workshop, against the production gunicorn config on SQLite and on PostgreSQL.

Members page through the draft's sections and save them, each save changing one answer as a person would
(a save refused as a conflict, 409, is counted apart: the app's answer when two people change the same
answer, or save at the same moment); supervisors read the draft's results and the agency dashboard; the
workshop's participants join and answer while its trainer's board refreshes (bench/workshop.py's flows). A
bare Flask page (bench/bare_app.py, its own gunicorn on the same database) is fetched every 0.25 s during
the same run, as the yardstick for "how loaded is the machine".

    .venv/bin/python bench/team.py                     # 60 s, both databases
    .venv/bin/python bench/team.py --seconds 30 --db sqlite

Prints errors (any 5xx, timeout, or unexpected status) and p50/p95 per kind of request as a Markdown table
(docs/benchmarks.md, "Team load").
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import workshop as ws  # noqa: E402

MEMBERS, SUPERVISORS = 12, 2
PASSWORD = "bench team password 2026"
HIDDEN_RE = re.compile(r'<input[^>]*name="((?:rev_|target_orig)[^"]*)"[^>]*value="([^"]*)"')
HIDDEN_RE2 = re.compile(r'<input[^>]*value="([^"]*)"[^>]*name="((?:rev_|target_orig)[^"]*)"')
CHECKED_RE = re.compile(r'<input type="radio" id="[^"]*" name="(q_[^"]+)" value="([^"]*)" checked>')
LEVELS = ("0", "1", "2", "3", "4")


def seed_team(url: str) -> tuple[int, int, str, list[tuple[int, list[str]]], list[str], list[str]]:
    """The workshop of bench/workshop.py, then in the same agency a unit, its members, two supervisors and a
    draft assessment. Returns the workshop (id, code, recs), the draft's id and the logins."""
    from sqlalchemy import select

    from app.assessments.services import create_assessment
    from app.content.current import current
    from app.db import db
    from app.models import Agency, Role, Unit, User
    from app.passwords import hash_password

    wid, code, recs = ws.seed(url)
    app = ws.app_for(url)
    pw = hash_password(PASSWORD)
    with app.app_context(), db.writing() as s:
        agency = s.scalars(select(Agency)).one()
        unit = Unit(name="Bench unit", agency_id=agency.id)
        s.add(unit)
        s.flush()
        members = [f"member-{i}@bench.example" for i in range(MEMBERS)]
        supervisors = [f"supervisor-{i}@bench.example" for i in range(SUPERVISORS)]
        users = [User(email=e, name=e.split("@")[0], role=Role.MEMBER.value, agency_id=agency.id, unit_id=unit.id,
                      password_hash=pw, active=True) for e in members]
        users += [User(email=e, name=e.split("@")[0], role=Role.SUPERVISOR.value, agency_id=agency.id,
                       password_hash=pw, active=True) for e in supervisors]
        s.add_all(users)
        s.flush()
        draft = create_assessment(s, unit, "Team draft", users[0], current())
        draft_id = draft.id
    app.extensions["db_engine"].dispose()
    return wid, code, recs, draft_id, members, supervisors


def login(port: int, email: str) -> ws.Client:
    c = ws.Client(port, ws.Recorder())
    csrf = ws.CSRF_RE.search(c.request("login", "GET", "/login"))
    c.request("login", "POST", "/login", {"csrf_token": csrf.group(1) if csrf else "", "email": email,
                                          "password": PASSWORD}, expect=(302,))
    return c


def member_flow(i: int, c: ws.Client, draft: int, recs: list[tuple[int, list[str]]], rec: ws.Recorder,
                conflicts: list[int], end: float) -> None:
    """Page to a section, read it, change some answers and save; again until the end of the run. An error is
    recorded and the member goes on (as a person would, with the next section)."""
    rng = random.Random(1000 + i)
    while time.time() < end:
        number, qids = rng.choice(recs)
        try:
            page = c.request("section page", "GET", f"/assessments/{draft}/section/{number}")
            hidden = {m.group(1): m.group(2) for m in HIDDEN_RE.finditer(page)}
            hidden.update({m.group(2): m.group(1) for m in HIDDEN_RE2.finditer(page)})
            csrf = ws.CSRF_RE.search(page)
            ws.think(rng, (0.5, 1.5))
            # As a browser sends the form: every answer as shown, one of them changed by this member.
            form = {**hidden, **dict(CHECKED_RE.findall(page)), "csrf_token": csrf.group(1) if csrf else "",
                    "target": "3", "action": "save"}
            for q in qids:
                form[f"c_{q}"] = form[f"e_{q}"] = ""
            form[f"q_{rng.choice(qids)}"] = rng.choice(LEVELS)
            try:
                c.request("section save", "POST", f"/assessments/{draft}/section/{number}", form, expect=(302,))
            except ws.Failure as exc:
                if "HTTP 409" not in str(exc):
                    raise
                conflicts.append(1)  # someone changed the same answer: refused with both versions shown
        except ws.Failure as exc:
            rec.error(f"member {i}: {exc}")
        ws.think(rng, (0.5, 1.5))
    c.close()


def supervisor_flow(i: int, c: ws.Client, draft: int, rec: ws.Recorder, end: float) -> None:
    rng = random.Random(2000 + i)
    while time.time() < end:
        try:
            if rng.random() < 0.5:
                c.request("results", "GET", f"/assessments/{draft}/results")
            else:
                c.request("dashboard", "GET", "/agency/")
        except ws.Failure as exc:
            rec.error(f"supervisor {i}: {exc}")
        ws.think(rng, (1.0, 3.0))
    c.close()


def bare_probe(port: int, rec: ws.Recorder, end: float) -> None:
    c = ws.Client(port, rec)
    try:
        while time.time() < end:
            c.request("bare page", "GET", "/one")
            time.sleep(0.25)
    except ws.Failure as exc:
        rec.error(f"bare: {exc}")
    finally:
        c.close()


def run(url: str, label: str, seconds: float, participants: int, workers: int, threads: int) -> dict[str, Any]:
    wid, code, recs, draft, members, supervisors = seed_team(url)
    env = {"APP_ENV": "production", "SECRET_KEY": secrets.token_hex(32), "DATABASE_URL": url,
           "SESSION_COOKIE_SECURE": "0", "BASE_URL": "http://127.0.0.1"}
    proc, port = ws.start_gunicorn("wsgi:app", env, workers, threads)
    bare_proc, bare_port = ws.start_gunicorn("bench.bare_app:app", {"DATABASE_URL": url}, 1, 2)
    rec = ws.Recorder()
    try:
        ws.warm_up(port, ("/login", "/w/", "/healthz"), workers * threads)
        ws.warm_up(bare_port, ("/one",), 2)
        ws.wait_until_idle(proc.pid)
        team = [login(port, e) for e in members + supervisors]  # logged in before the measured load
        board = ws.trainer_login(port, ws.Recorder())
        for c in [*team, board]:
            c.rec = rec
        end = time.time() + seconds
        deadline = end + 60
        conflicts: list[int] = []
        sent: dict[str, dict[str, str]] = {}
        lock = threading.Lock()
        start = threading.Barrier(participants)
        done = threading.Event()
        threads_ = [threading.Thread(target=member_flow, args=(i, c, draft, recs, rec, conflicts, end))
                    for i, c in enumerate(team[:MEMBERS])]
        threads_ += [threading.Thread(target=supervisor_flow, args=(i, c, draft, rec, end))
                     for i, c in enumerate(team[MEMBERS:])]
        threads_ += [threading.Thread(target=ws.participant_flow, args=(i, port, wid, code, recs, (0.5, 1.5), rec,
                                                                         start, deadline, sent, lock))
                     for i in range(participants)]
        threads_.append(threading.Thread(target=bare_probe, args=(bare_port, rec, end)))
        trainer = threading.Thread(target=ws.trainer_flow, args=(board, wid, 3.0, rec, done, end))
        trainer.start()
        for t in threads_:
            t.start()
        for t in threads_:
            t.join(timeout=max(1.0, deadline - time.time()))
        done.set()
        trainer.join(timeout=30)
    finally:
        ws.stop(proc)
        ws.stop(bare_proc)
    check = ws.verify(url, wid, sent)
    kinds = {k: {"n": len(v), "p50": round(ws.pct(v, 50), 1), "p95": round(ws.pct(v, 95), 1)}
             for k, v in sorted(rec.lat.items())}
    by_error: dict[str, int] = {}
    for e in rec.errors:  # "member 3: GET /assessments/1/section/4: HTTP 500" -> "GET /assessments/N/section/N: ..."
        key = re.sub(r"/\d+", "/N", re.sub(r"^\w+ \d+: ", "", e))
        by_error[key] = by_error.get(key, 0) + 1
    return {"db": label, "seconds": seconds, "participants": participants, "errors": len(rec.errors),
            "errors_by_kind": by_error,
            "conflicts_409": len(conflicts),
            "first_errors": rec.errors[:10], "by_kind": kinds, "workshop_check": check}


def markdown(results: list[dict[str, Any]]) -> str:
    lines = ["| database | kind of request | requests | p50 ms | p95 ms |", "|---|---|---|---|---|"]
    for r in results:
        for kind, s in r["by_kind"].items():
            lines.append(f"| {r['db']} | {kind} | {s['n']} | {s['p50']} | {s['p95']} |")
    lines += ["", "| database | seconds | errors | errors by request | saves refused as conflicts (409) | "
              "workshop answers lost / doubled |", "|---|---|---|---|---|---|"]
    for r in results:
        c = r["workshop_check"]
        first = "; ".join(f"{n} × {k}" for k, n in sorted(r["errors_by_kind"].items(), key=lambda kv: -kv[1])) or "–"
        lines.append(f"| {r['db']} | {r['seconds']:g} | {r['errors']} | {first} | {r['conflicts_409']} | "
                     f"{c['lost']} / {c['doubled']} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--participants", type=int, default=100)
    ap.add_argument("--db", default="sqlite,postgresql")
    ap.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--pg-url", default=os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    print(f"{MEMBERS} members + {SUPERVISORS} supervisors in one draft and {args.participants} workshop "
          f"participants for {args.seconds:g} s; gunicorn gthread {args.workers} workers x {args.threads} threads, "
          f"{os.cpu_count()} CPUs (clients share the machine)", flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="thb-team-") as tmpdir:
        for db in args.db.split(","):
            if db == "sqlite":
                results.append(run(ws.sqlite_url(Path(tmpdir), "team"), "SQLite", args.seconds, args.participants,
                                   args.workers, args.threads))
            elif db == "postgresql":
                try:
                    pg = ws.PgDatabase(args.pg_url)
                except Exception as exc:
                    print(f"PostgreSQL skipped: {exc}", flush=True)
                    continue
                try:
                    results.append(run(pg.url, "PostgreSQL", args.seconds, args.participants, args.workers,
                                       args.threads))
                finally:
                    pg.drop()
            print(json.dumps(results[-1], indent=1) if results else "", flush=True)
    print(markdown(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0 if all(r["errors"] == 0 for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
