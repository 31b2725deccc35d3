"""CPU time of the supervisor dashboard at N units × 10 submitted assessments, in one process (not a test).

    .venv/bin/python bench/dashboard_cpu.py --units 100 --runs 15

Seeds the large agency of bench/analytics.py into a temporary SQLite file and reports the median and p95
process CPU time per dashboard request and the SQL statements per request. CPU time, unlike wall-clock
time, is steady on a machine shared with other work; bench/analytics.py gives wall-clock percentiles.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event

from app import create_app
from app.config import normalise_database_url
from app.migrate import upgrade
from bench.analytics import CSRF_RE, EMAIL, PASSWORD, seed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--units", type=int, default=100)
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = normalise_database_url(f"sqlite:///{Path(tmp) / 'dash.sqlite3'}")
        upgrade(url)
        seed(url, args.units, 10, random.Random(2026))
        app = create_app({"APP_ENV": "test", "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-" + "x" * 40,
                          "RATELIMIT_STORAGE_URI": "memory://", "WTF_CSRF_ENABLED": True})
        counter = [0]

        @event.listens_for(app.extensions["db_engine"], "before_cursor_execute")
        def _count(*_args: Any) -> None:
            counter[0] += 1

        client = app.test_client()
        token = CSRF_RE.search(client.get("/login").data.decode()).group(1)  # type: ignore[union-attr]
        resp = client.post("/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token})
        assert resp.status_code == 302
        for _ in range(2):
            client.get("/agency/")
        cpu, queries = [], set()
        for _ in range(args.runs):
            counter[0] = 0
            c0 = time.process_time()
            resp = client.get("/agency/")
            _ = resp.data
            cpu.append((time.process_time() - c0) * 1000)
            queries.add(counter[0])
            assert resp.status_code == 200
        cpu.sort()
        p95 = cpu[min(len(cpu) - 1, max(0, round(0.95 * len(cpu)) - 1))]
        print(f"dashboard, {args.units} units: CPU median {statistics.median(cpu):.1f} ms, p95 {p95:.1f} ms, "
              f"queries {sorted(queries)}")
        app.extensions["db_engine"].dispose()


if __name__ == "__main__":
    main()
