"""Many participants answering at the same moment, over real HTTP against a threaded server: every answer is
kept exactly once (on SQLite with BEGIN IMMEDIATE, and on PostgreSQL)."""

from __future__ import annotations

import http.cookiejar
import random
import re
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from app.db import db
from app.workshops.models import Participant, WorkshopAnswer
from app.workshops.services import token_hash

from .helpers import CONTENT
from .test_workshops import open_workshop, trainer_browser

PARTICIPANTS = 40
RECS = (1, 2)
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
FT_RE = re.compile(r'name="ft" value="([^"]+)"')


@pytest.fixture
def server(app) -> Iterator[str]:
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()


class Person:
    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=30) as r:
            return r.read().decode()

    def post(self, path: str, data: dict[str, str], headers: dict[str, str] | None = None) -> int:
        req = urllib.request.Request(self.base + path, data=urllib.parse.urlencode(data).encode(),  # noqa: S310
                                     headers=headers or {}, method="POST")
        with self.opener.open(req, timeout=30) as r:
            r.read()
            return r.status

    def join(self, code: str) -> None:
        token = CSRF_RE.search(self.get("/w/")).group(1)
        assert self.post("/w/join", {"csrf_token": token, "code": code}) == 200  # followed the redirect

    def token(self) -> str:
        return next(c.value for c in self.jar if c.name.startswith("thb_wp"))


def test_concurrent_answers_are_all_kept_once(app, world, server):
    trainer = trainer_browser(app)
    wid, code = open_workshop(trainer, "Load", [f"r{n}" for n in RECS])
    rng = random.Random(4)
    plans = [{n: [rng.choice(["0", "1", "2", "3", "4", "na", "unknown"]) for _ in range(4)] for n in RECS}
             for _ in range(PARTICIPANTS)]
    start = threading.Barrier(PARTICIPANTS)
    people = [Person(server) for _ in range(PARTICIPANTS)]
    errors: list[str] = []

    def run(i: int) -> None:
        p = people[i]
        try:
            start.wait(timeout=30)
            p.join(code)
            for n in RECS:
                ft = FT_RE.search(p.get(f"/w/{wid}/r/{n}")).group(1)
                rec = CONTENT.recommendation_by_number[n]
                first = {"ft": ft, **{f"q_{q.id}": "0" for q in rec.questions}}
                final = {"ft": ft, **{f"q_{q.id}": v for q, v in zip(rec.questions, plans[i][n], strict=True)}}
                assert p.post(f"/w/{wid}/r/{n}", first) == 200
                # A double-click: the same final answers sent twice at once (autosave and the Save button).
                url = f"/w/{wid}/r/{n}"
                with ThreadPoolExecutor(2) as two:
                    codes = list(two.map(lambda d, u=url: p.post(u, d, {"X-Requested-With": "fetch"}),
                                         [final, final]))
                assert codes == [200, 200]
        except Exception as exc:  # collected and asserted below, so one failure does not hide the others
            errors.append(f"participant {i}: {type(exc).__name__}: {exc}")

    with ThreadPoolExecutor(PARTICIPANTS) as pool:
        list(pool.map(run, range(PARTICIPANTS)))
    assert errors == []
    with app.app_context():
        people_rows = db.session.scalars(select(Participant).where(Participant.workshop_id == wid))
        ids = {p.token_hash: p.id for p in people_rows}
        assert len(ids) == PARTICIPANTS
        rows = db.session.execute(select(WorkshopAnswer.participant_id, WorkshopAnswer.question_id,
                                         WorkshopAnswer.value).where(WorkshopAnswer.workshop_id == wid)).all()
        total = db.session.scalar(select(func.count()).select_from(WorkshopAnswer))
    got = {(pid, qid): v for pid, qid, v in rows}
    expected = {}
    for i, p in enumerate(people):
        pid = ids[token_hash(p.token())]
        for n in RECS:
            for q, v in zip(CONTENT.recommendation_by_number[n].questions, plans[i][n], strict=True):
                expected[(pid, q.id)] = v
    assert total == len(rows) == len(expected) == PARTICIPANTS * 4 * len(RECS)  # none doubled
    assert got == expected  # none lost, none stale
