"""Benchmark of the supervisors' analytics pages against a large agency (not a test).

Seeds an agency with N units × 10 submitted assessments × every question of the content (bulk inserts),
then times, through the Flask test client in one process, the agency dashboard, one unit's trend page and
the agency PDF next to a single assessment's results page, counting SQL statements per request.

    .venv/bin/python bench/analytics.py                       # 10 and 100 units, temporary SQLite files
    .venv/bin/python bench/analytics.py --pg-url postgresql://postgres@127.0.0.1:5432/test

With ``--pg-url`` each scale runs in a dedicated database ``thb_bench_analytics_*`` created on that server
and dropped afterwards (nothing else on the server is touched). Targets (docs/benchmarks.md):
dashboard p95 under 300 ms, and the same number of queries per request whatever the number of units.
"""

from __future__ import annotations

import argparse
import random
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

from sqlalchemy import create_engine, event

from app import background, create_app
from app.config import ROOT, normalise_database_url
from app.content import load_file
from app.demo_large import seed_large_agency
from app.migrate import upgrade

PASSWORD = "bench-supervisor-pass"
EMAIL = "bench-supervisor@example.org"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def seed(url: str, n_units: int, per_unit: int, rng: random.Random) -> dict[str, Any]:
    """The large agency of ``app.demo_large`` (and a small second agency that must never show up)."""
    content = load_file(ROOT / "recommendations.json")
    engine = create_engine(url)
    with engine.begin() as conn:
        ids = seed_large_agency(conn, content, name="Bench National Police", n_units=n_units, per_unit=per_unit,
                                supervisor=(EMAIL, PASSWORD), rng=rng, other_agency="Other Agency")
    engine.dispose()
    return ids


ACTIONS_PER_UNIT = 20  # issue 17: every unit of the large agency carries an action plan of this size


def seed_actions(url: str, per_unit: int, rng: random.Random) -> int:
    """``per_unit`` actions in every unit (a mix of statuses including workshop proposals, a third overdue, some
    owned by an account of the unit), on the content's recommendations, in one bulk insert."""
    from datetime import UTC, date, datetime, timedelta

    from sqlalchemy import insert, select

    from app.actions.models import ActionItem
    from app.models import Unit, User

    content = load_file(ROOT / "recommendations.json")
    rec_ids = [r.id for r in content.recommendations]
    engine = create_engine(url)
    now, today = datetime.now(UTC), date.today()
    with engine.begin() as conn:
        unit_ids = list(conn.execute(select(Unit.id)).scalars())
        members = dict(conn.execute(select(User.unit_id, User.id).where(User.unit_id.is_not(None))).all())
        rows = []
        for unit_id in unit_ids:
            for i in range(per_unit):
                status = rng.choice(["planned", "planned", "in_progress", "done", "dropped", "proposed"])
                owner = members.get(unit_id) if i % 2 else None
                rows.append({"unit_id": unit_id, "recommendation_id": rec_ids[i % len(rec_ids)],
                             "content_version": content.version, "title": f"Bench action {i}", "description": "",
                             "owner_id": owner, "owner_name": "" if owner else "Head of unit",
                             "proposed_by": "Bench workshop" if status == "proposed" else "",
                             "due_date": today + timedelta(days=rng.randint(-60, 120)), "status": status,
                             "drop_reason": "bench" if status == "dropped" else "", "progress_note": "",
                             "evidence": "", "supervisor_remark": "", "created_at": now, "updated_at": now,
                             "done_at": now - timedelta(days=rng.randint(0, 500)) if status == "done" else None,
                             "version_id": 1})
        if rows:
            conn.execute(insert(ActionItem), rows)
    engine.dispose()
    return len(rows)


def measure(client: Any, counter: list[int], url: str, runs: int, warmup: int = 2) -> dict[str, Any]:
    for _ in range(warmup):
        resp = client.get(url)
        while resp.status_code == 202:  # the agency PDF is rendered off the request (issue 16): wait for it
            background.wait_idle()
            resp = client.get(url)
        assert resp.status_code == 200, (url, resp.status_code)
    times, queries = [], []
    for _ in range(runs):
        counter[0] = 0
        t0 = time.perf_counter()
        resp = client.get(url)
        _ = resp.data
        times.append((time.perf_counter() - t0) * 1000)
        queries.append(counter[0])
        assert resp.status_code == 200, (url, resp.status_code)
    times.sort()
    p95 = times[min(len(times) - 1, max(0, round(0.95 * len(times)) - 1))]
    return {"url": url, "runs": runs, "p50": statistics.median(times), "p95": p95, "max": times[-1],
            "queries": sorted(set(queries)), "bytes": len(resp.data)}


def run(url: str, n_units: int, per_unit: int, runs: int, pdf_runs: int, seed_value: int) -> list[dict[str, Any]]:
    url = normalise_database_url(url)
    upgrade(url)
    t0 = time.perf_counter()
    ids = seed(url, n_units, per_unit, random.Random(seed_value))
    n_actions = seed_actions(url, ACTIONS_PER_UNIT, random.Random(seed_value + 1)) if ACTIONS_PER_UNIT else 0
    print(f"seeded {n_units} units, {ids['assessments']} assessments, {ids['answers']} answers, {n_actions} actions "
          f"in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    app = create_app({"APP_ENV": "test", "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-" + "x" * 40,
                      "RATELIMIT_STORAGE_URI": "memory://", "WTF_CSRF_ENABLED": True})
    counter = [0]

    @event.listens_for(app.extensions["db_engine"], "before_cursor_execute")
    def _count(*_args: Any) -> None:
        counter[0] += 1

    client = app.test_client()
    token = CSRF_RE.search(client.get("/login").data.decode()).group(1)  # type: ignore[union-attr]
    resp = client.post("/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 302, resp.data[:300]
    pages = [
        ("results page (one assessment)", f"/assessments/{ids['assessment_id']}/results", runs),
        ("agency dashboard", "/agency/", runs),
        ("agency dashboard, overdue actions by recommendation", "/agency/?late_sort=rec&late_order=desc", runs),
        ("unit trend (10 assessments)", f"/units/{ids['unit_id']}/trend", runs),
        ("agency PDF report", "/agency/report.pdf", pdf_runs),
    ]
    out = []
    for label, path, n in pages:
        r = measure(client, counter, path, n, warmup=1 if "PDF" in label else 2)
        r.update(label=label, units=n_units)
        out.append(r)
    app.extensions["db_engine"].dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--units", default="10,100", help="comma-separated unit counts, one fresh database each")
    ap.add_argument("--per-unit", type=int, default=10, help="submitted assessments per unit")
    ap.add_argument("--runs", type=int, default=30, help="timed requests per page")
    ap.add_argument("--pdf-runs", type=int, default=5, help="timed requests for the agency PDF")
    ap.add_argument("--pg-url", help="a PostgreSQL server to run on (a dedicated database is created and dropped)")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--actions-per-unit", type=int, default=ACTIONS_PER_UNIT,
                    help="actions in every unit's plan (0: as before issue 17)")
    args = ap.parse_args()
    globals()["ACTIONS_PER_UNIT"] = args.actions_per_unit
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in args.units.split(",")):
            if args.pg_url:
                with _pg_database(args.pg_url) as url:
                    results += run(url, n, args.per_unit, args.runs, args.pdf_runs, args.seed)
            else:
                url = f"sqlite:///{Path(tmp) / f'bench-{n}.sqlite3'}"
                results += run(url, n, args.per_unit, args.runs, args.pdf_runs, args.seed)
    backend = "PostgreSQL" if args.pg_url else "SQLite"
    print(f"\n{backend}, Flask test client, one process; times in ms\n")
    print("| page | units | runs | p50 | p95 | max | queries per request |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for r in results:
        print(f"| {r['label']} | {r['units']} | {r['runs']} | {r['p50']:.0f} | {r['p95']:.0f} | {r['max']:.0f} | "
              f"{', '.join(map(str, r['queries']))} |")
    dash = [r for r in results if r["label"].startswith("agency dashboard")]
    counts = {(r["units"], r["label"]): r["queries"] for r in dash}
    ok_time = all(r["p95"] < 300 for r in dash)
    ok_queries = len({tuple(q) for q in counts.values()}) == 1
    print(f"\ndashboard p95 < 300 ms: {'yes' if ok_time else 'NO'}; queries independent of units "
          f"({ACTIONS_PER_UNIT} actions per unit) and of the sort: {'yes' if ok_queries else 'NO'} "
          f"{sorted(set(tuple(q) for q in counts.values()))}")


@contextmanager
def _pg_database(server_url: str) -> Iterator[str]:
    """A fresh database on the server for one run, dropped afterwards."""
    import psycopg

    name = f"thb_bench_analytics_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(server_url, autocommit=True, connect_timeout=5)
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield normalise_database_url(re.sub(r"/[^/]*$", f"/{name}", server_url))
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    main()
