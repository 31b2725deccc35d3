"""Workshop load benchmark: N participants join one workshop at once and answer every question while the
trainer's board refreshes, against the app under gunicorn on SQLite and on PostgreSQL. The same load runs
against a bare Flask page that reads one row (bench/bare_app.py) in the same run, so results read as ratios.

It checks that the answers stored equal the answers sent (none lost, none doubled) and prints a Markdown
table (copied into docs/benchmarks.md, "Workshop load").

    .venv/bin/python bench/workshop.py                       # 200 participants, paced and stress, both DBs
    .venv/bin/python bench/workshop.py --db sqlite --modes stress --participants 50

Only the standard library talks HTTP (a minimal keep-alive client on sockets), only to 127.0.0.1. Every
run is bounded: a deadline per run (--deadline) and a timeout per request. PostgreSQL: a dedicated
database is created on --pg-url's server and dropped afterwards; skipped with a note when the server
cannot be reached.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import resource
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
FT_RE = re.compile(r'name="ft" value="([^"]+)"')
VALUES = ("0", "1", "2", "3", "4", "na", "unknown")
TRAINER_EMAIL, TRAINER_PASSWORD = "bench-trainer@example.org", "bench trainer password 2026"
REQUEST_TIMEOUT = 30.0


# --- HTTP client: one keep-alive connection and cookie jar per simulated person ----------------------------------


class Failure(Exception):
    pass


@dataclass
class Recorder:
    """Latencies per kind of request, and every error, shared by all client threads."""

    lat: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.lat.setdefault(kind, []).append(seconds)

    def error(self, msg: str) -> None:
        with self.lock:
            self.errors.append(msg)


class Closed(Exception):
    """The server closed a keep-alive connection before answering (worker recycled, idle timeout)."""


class Client:
    """A minimal HTTP/1.1 client on one keep-alive socket, with a cookie jar.

    The simulated people share the machine with the server, so their own CPU use is taken from the server's:
    this parser (status line, headers, Content-Length body) costs a fraction of ``http.client``'s, whose
    header parsing goes through the ``email`` package. The server's responses always carry Content-Length.
    """

    def __init__(self, port: int, rec: Recorder) -> None:
        self.port, self.rec = port, rec
        self.cookies: dict[str, str] = {}
        self.sock: socket.socket | None = None
        self.buf = b""

    def _connect(self) -> socket.socket:
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=REQUEST_TIMEOUT)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.buf = b""
        return self.sock

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def _recv(self, sock: socket.socket) -> bytes:
        chunk = sock.recv(262144)
        if not chunk:
            raise Closed
        return chunk

    def _exchange(self, raw: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        sock = self._connect()
        sock.sendall(raw)
        buf = self.buf
        while (end := buf.find(b"\r\n\r\n")) < 0:
            buf += self._recv(sock)
        lines = buf[:end].decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = []
        length, close = 0, False
        for line in lines[1:]:
            name, _c, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            headers.append((name, value))
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding":
                raise Failure(f"unexpected Transfer-Encoding: {value}")
            elif name == "connection" and value.lower() == "close":
                close = True
        body = buf[end + 4:]
        while len(body) < length:
            body += self._recv(sock)
        self.buf = body[length:]
        if close:
            self.close()
        return status, headers, body[:length]

    def request(self, kind: str, method: str, path: str, form: dict[str, str] | None = None,
                expect: tuple[int, ...] = (200,)) -> str:
        body = urllib.parse.urlencode(form).encode() if form is not None else b""
        head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}"]
        if self.cookies:
            head.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if form is not None:
            head += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
        raw = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        for attempt in (1, 2):
            fresh = self.sock is None
            t0 = time.perf_counter()
            try:
                status, headers, data = self._exchange(raw)
            except (Closed, ConnectionResetError, BrokenPipeError) as exc:
                self.close()
                if attempt == 1 and not fresh and (method == "GET" or isinstance(exc, BrokenPipeError)):
                    continue  # a keep-alive connection the server had closed: send again on a new one
                raise Failure(f"{method} {path}: {type(exc).__name__}") from exc
            except (TimeoutError, OSError, ValueError) as exc:
                self.close()
                raise Failure(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
            self.rec.add(kind, time.perf_counter() - t0)
            for name, value in headers:
                if name == "set-cookie":
                    cname, _eq, rest = value.partition("=")
                    self.cookies[cname.strip()] = rest.split(";", 1)[0]
            if status not in expect:
                raise Failure(f"{method} {path}: HTTP {status}")
            return data.decode("utf-8", "replace")
        raise Failure("unreachable")


# --- servers ---------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_gunicorn(spec: str, env: dict[str, str], workers: int, threads: int,
                   extra: tuple[str, ...] = ()) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    # The production settings (gunicorn.conf.py: preloaded app, gthread, worker recycling), with the
    # benchmark's own worker and thread counts.
    cmd = [str(ROOT / ".venv" / "bin" / "gunicorn"), "--config", str(ROOT / "gunicorn.conf.py"),
           "--workers", str(workers), "--threads", str(threads),
           "--worker-class", "gthread", "--keep-alive", "30", "--backlog", "2048", "--bind", f"127.0.0.1:{port}",
           "--log-level", "warning", *extra, *os.environ.get("BENCH_GUNICORN_ARGS", "").split(), spec]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env, "PYTHONPATH": str(ROOT)})
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc, port
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError(f"gunicorn {spec} did not start")


def warm_up(port: int, paths: tuple[str, ...], n: int) -> None:
    """Wait until the workers answer, then send ``n`` concurrent clients through ``paths`` so every worker has
    loaded the app, compiled its templates and opened its database connections: the run measures a warm
    server (a real one has been up for hours)."""
    path = paths[0]
    deadline = time.time() + 60
    while True:
        try:
            Client(port, Recorder()).request("warm", "GET", path)
            break
        except (Failure, OSError):
            if time.time() > deadline:
                raise RuntimeError("server did not answer") from None
            time.sleep(0.3)

    def hit() -> None:
        c = Client(port, Recorder())
        try:
            for _ in range(3):
                for p in paths:
                    c.request("warm", "GET", p)
        except Failure:
            pass
        finally:
            c.close()

    threads = [threading.Thread(target=hit) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)


def wait_until_idle(pid: int, limit: float = 30.0) -> float:
    """Wait until the server's processes stop using CPU (workers still starting would take it from the
    measured load); returns the seconds waited."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < limit:
        before = process_tree_cpu(pid)
        time.sleep(0.5)
        if process_tree_cpu(pid) - before < 0.05:  # under 10 % of one core
            break
    return time.perf_counter() - t0


def process_tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and its children: the live ones, and those it
    has reaped (gunicorn recycles workers after ``max_requests``)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    for p in [str(pid), *children]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        if p == str(pid):
            total += (int(fields[13]) + int(fields[14])) / ticks  # cutime, cstime: reaped workers
    return total


def own_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# --- database set-up and verification ----------------------------------------------------------------------------


def app_for(url: str) -> Any:
    from app import create_app

    return create_app({"APP_ENV": "test", "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secrets.token_hex(16)})


def seed(url: str) -> tuple[int, str, list[tuple[int, list[str]]]]:
    """Migrate, then create an agency, a trainer and an open workshop on all ten recommendations."""
    from app.content.current import current
    from app.db import db
    from app.migrate import upgrade
    from app.models import Agency, Role, User
    from app.passwords import hash_password
    from app.workshops.services import create_workshop

    upgrade(url)
    app = app_for(url)
    with app.app_context(), db.writing() as s:
        agency = Agency(name="Bench agency")
        s.add(agency)
        s.flush()
        trainer = User(email=TRAINER_EMAIL, name="Bench Trainer", role=Role.TRAINER.value, agency_id=agency.id,
                       password_hash=hash_password(TRAINER_PASSWORD), active=True)
        s.add(trainer)
        s.flush()
        content = current()
        w = create_workshop(s, trainer, "Load test", content, [r.id for r in content.recommendations], "all", 2)
        recs = [(r.number, [q.id for q in r.questions]) for r in content.recommendations]
        wid, code = w.id, w.code
    app.extensions["db_engine"].dispose()
    return wid, code, recs


def verify(url: str, wid: int, sent: dict[str, dict[str, str]]) -> dict[str, int]:
    """Compare what the database holds with what the participants sent (token -> question -> final value)."""
    from sqlalchemy import select

    from app.db import db
    from app.workshops.models import Participant, WorkshopAnswer
    from app.workshops.services import token_hash

    app = app_for(url)
    with app.app_context():
        people = {p.token_hash: p.id for p in db.session.scalars(select(Participant)
                                                                 .where(Participant.workshop_id == wid))}
        rows = db.session.execute(select(WorkshopAnswer.participant_id, WorkshopAnswer.question_id,
                                         WorkshopAnswer.value).where(WorkshopAnswer.workshop_id == wid)).all()
    app.extensions["db_engine"].dispose()
    stored: dict[tuple[int, str], list[str]] = {}
    for pid, qid, value in rows:
        stored.setdefault((pid, qid), []).append(value)
    expected = {}
    unknown_people = 0
    for token, answers in sent.items():
        pid = people.get(token_hash(token))
        if pid is None:
            unknown_people += 1
            continue
        for qid, value in answers.items():
            expected[(pid, qid)] = value
    lost = sum(1 for k in expected if k not in stored) + unknown_people
    doubled = sum(len(v) - 1 for v in stored.values()) + sum(1 for k in stored if k not in expected)
    doubled += max(0, len(people) - len(sent))
    wrong = sum(1 for k, v in expected.items() if k in stored and stored[k][-1] != v)
    return {"participants_stored": len(people), "answers_sent": len(expected) + unknown_people,
            "answers_stored": len(rows), "lost": lost, "doubled": doubled, "wrong": wrong}


# --- load ------------------------------------------------------------------------------------------------------


@dataclass
class Run:
    label: str
    mode: str
    requests: int
    errors: list[str]
    seconds: float
    lat: dict[str, list[float]]
    check: dict[str, int] = field(default_factory=dict)
    server_cpu: float = 0.0  # CPU seconds of gunicorn (arbiter + workers) during the load
    client_cpu: float = 0.0  # CPU seconds of this process (the simulated people) during the load

    def all_lat(self, exclude: tuple[str, ...] = ("board",)) -> list[float]:
        return sorted(x for k, v in self.lat.items() if k not in exclude for x in v)


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    idx = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))  # nearest rank
    return ordered[idx] * 1000


def think(rng: random.Random, span: tuple[float, float]) -> None:
    if span[1] > 0:
        time.sleep(rng.uniform(*span))


def participant_flow(i: int, port: int, wid: int, code: str, recs: list[tuple[int, list[str]]],
                     span: tuple[float, float], rec: Recorder, start: threading.Barrier, deadline: float,
                     sent: dict[str, dict[str, str]], lock: threading.Lock) -> None:
    """Scan the QR code, join, open the workshop, answer every recommendation, then change one answer.

    In paced mode a pause (people read) comes before every action: pressing "Join", opening a page, saving
    it. Following a redirect is the browser's doing and comes at once. All participants open the QR link
    in the same instant."""
    rng = random.Random(i)
    c = Client(port, rec)
    plan = {qid: rng.choice(VALUES) for _n, qids in recs for qid in qids}
    try:
        start.wait(timeout=60)
        page = c.request("join", "GET", f"/w/j/{code}")
        csrf = CSRF_RE.search(page)
        if not csrf:
            raise Failure("no CSRF token on the join page")
        think(rng, span)  # read the page (and perhaps type a role label), then press "Join"
        c.request("join", "POST", "/w/join", {"csrf_token": csrf.group(1), "code": code, "role_label": "bench"},
                  expect=(302,))
        token = c.cookies.get(f"thb_wp{wid}")
        if not token:
            raise Failure("no participant cookie after joining")
        with lock:
            sent[token] = {}
        c.request("page", "GET", f"/w/{wid}/")
        for number, qids in recs:
            if time.time() > deadline:
                raise Failure("deadline")
            think(rng, span)
            ft = FT_RE.search(c.request("page", "GET", f"/w/{wid}/r/{number}"))
            if not ft:
                raise Failure("no form token on the answer page")
            think(rng, span)
            form = {"ft": ft.group(1), "action": "next", **{f"q_{q}": plan[q] for q in qids}}
            c.request("answer", "POST", f"/w/{wid}/r/{number}", form, expect=(302,))
            with lock:
                sent[token].update({q: plan[q] for q in qids})
        # A change of mind after the discussion: one answer of recommendation 1 again, differently.
        number, qids = recs[0]
        ft = FT_RE.search(c.request("page", "GET", f"/w/{wid}/r/{number}"))
        new = next(v for v in VALUES if v != plan[qids[0]])
        c.request("answer", "POST", f"/w/{wid}/r/{number}", {"ft": ft.group(1) if ft else "", f"q_{qids[0]}": new},
                  expect=(302,))
        with lock:
            sent[token][qids[0]] = new
    except Failure as exc:
        rec.error(f"participant {i}: {exc}")
    except threading.BrokenBarrierError:
        rec.error(f"participant {i}: start barrier broken")
    finally:
        c.close()


def trainer_login(port: int, rec: Recorder) -> Client:
    """Logged in before the participants arrive, as a trainer is (and argon2 is slow on purpose)."""
    c = Client(port, rec)
    csrf = CSRF_RE.search(c.request("login", "GET", "/login"))
    c.request("login", "POST", "/login", {"csrf_token": csrf.group(1) if csrf else "", "email": TRAINER_EMAIL,
                                          "password": TRAINER_PASSWORD}, expect=(302,))
    return c


def trainer_flow(c: Client, wid: int, every: float, rec: Recorder, stop_at: threading.Event,
                 deadline: float) -> None:
    """Fetch the board fragment as the page's script does, until the participants are done."""
    try:
        while not stop_at.is_set() and time.time() < deadline:
            c.request("board", "GET", f"/workshops/{wid}/board/fragment")
            stop_at.wait(every)
        c.request("board", "GET", f"/workshops/{wid}")  # the full page once more at the end
    except Failure as exc:
        rec.error(f"trainer: {exc}")
    finally:
        c.close()


def bare_flow(i: int, port: int, steps: int, span: tuple[float, float], rec: Recorder, start: threading.Barrier,
              deadline: float) -> None:
    """The same shape of load (same number of requests, same think times) against the one-row page."""
    rng = random.Random(i)
    c = Client(port, rec)
    try:
        start.wait(timeout=60)
        for step in range(steps):
            if time.time() > deadline:
                raise Failure("deadline")
            if step == 1 or step >= 3:  # as a participant: pauses before "Join" and before each page and save
                think(rng, span)
            c.request("bare", "GET", "/one")
    except Failure as exc:
        rec.error(f"bare {i}: {exc}")
    except threading.BrokenBarrierError:
        rec.error(f"bare {i}: start barrier broken")
    finally:
        c.close()


def drive(pid: int, people: list[threading.Thread], deadline: float,
          then: Callable[[], None] | None = None) -> tuple[float, float, float]:
    """Run the simulated people to the end (then ``then``); returns the wall seconds of the people's run and
    the CPU seconds the server (``pid`` and its workers) and this process used meanwhile."""
    cpu0, own0, t0 = process_tree_cpu(pid), own_cpu(), time.perf_counter()
    for t in people:
        t.start()
    for t in people:
        t.join(timeout=max(1.0, deadline - time.time() + 5))
    seconds = time.perf_counter() - t0
    if then is not None:
        then()
    return seconds, process_tree_cpu(pid) - cpu0, own_cpu() - own0


def run_app(url: str, label: str, mode: str, n: int, span: tuple[float, float], board_every: float,
            workers: int, threads: int, run_deadline: float) -> Run:
    wid, code, recs = seed(url)
    env = {"APP_ENV": "production", "SECRET_KEY": secrets.token_hex(32), "DATABASE_URL": url,
           "SESSION_COOKIE_SECURE": "0",
           "BASE_URL": "http://127.0.0.1"}
    proc, port = start_gunicorn("wsgi:app", env, workers, threads)
    warm_up(port, ("/w/", "/healthz"), workers * threads * 2)
    wait_until_idle(proc.pid)
    rec = Recorder()
    sent: dict[str, dict[str, str]] = {}
    lock = threading.Lock()
    start = threading.Barrier(n)
    done = threading.Event()
    deadline = time.time() + run_deadline
    try:
        board_client = trainer_login(port, Recorder())
        board_client.rec = rec  # the login is not part of the measured load
        trainer = threading.Thread(target=trainer_flow, args=(board_client, wid, board_every, rec, done, deadline))
        trainer.start()
        people = [threading.Thread(target=participant_flow, args=(i, port, wid, code, recs, span, rec, start,
                                                                  deadline, sent, lock)) for i in range(n)]

        def trainer_done() -> None:
            done.set()
            trainer.join(timeout=30)

        seconds, server_cpu, client_cpu = drive(proc.pid, people, deadline, then=trainer_done)
    finally:
        stop(proc)
    check = verify(url, wid, sent)
    total = sum(len(v) for v in rec.lat.values())
    return Run(label, mode, total, rec.errors, seconds, rec.lat, check, server_cpu, client_cpu)


def run_bare(url: str, label: str, mode: str, n: int, steps: int, span: tuple[float, float], workers: int,
             threads: int, run_deadline: float) -> Run:
    proc, port = start_gunicorn("bench.bare_app:app", {"DATABASE_URL": url}, workers, threads)
    warm_up(port, ("/one",), workers * threads * 2)
    wait_until_idle(proc.pid)
    rec = Recorder()
    start = threading.Barrier(n)
    deadline = time.time() + run_deadline
    try:
        people = [threading.Thread(target=bare_flow, args=(i, port, steps, span, rec, start, deadline))
                  for i in range(n)]
        seconds, server_cpu, client_cpu = drive(proc.pid, people, deadline)
    finally:
        stop(proc)
    return Run(label, mode, sum(len(v) for v in rec.lat.values()), rec.errors, seconds, rec.lat, {}, server_cpu,
               client_cpu)


# --- databases -----------------------------------------------------------------------------------------------------


def sqlite_url(tmp: Path, name: str) -> str:
    return f"sqlite:///{tmp / name}.sqlite3"


class PgDatabase:
    """A dedicated, uniquely named database on the benchmark server, dropped on exit."""

    def __init__(self, admin_url: str) -> None:
        import psycopg

        self.admin_url = admin_url
        self.name = f"thb_bench_{uuid.uuid4().hex[:8]}"
        self.conn = psycopg.connect(admin_url, autocommit=True, connect_timeout=5)
        self.conn.execute(f'CREATE DATABASE "{self.name}"')
        self.url = re.sub(r"/[^/]*$", f"/{self.name}", admin_url)

    def drop(self) -> None:
        self.conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self.conn.close()


# --- report ----------------------------------------------------------------------------------------------------


def summary(run: Run) -> dict[str, Any]:
    lat = run.all_lat()
    board = run.lat.get("board", [])
    return {
        "label": run.label, "mode": run.mode, "requests": run.requests, "errors": len(run.errors),
        "seconds": round(run.seconds, 1), "throughput": round(run.requests / run.seconds, 1) if run.seconds else 0,
        "p50": round(pct(lat, 50), 1), "p95": round(pct(lat, 95), 1), "p99": round(pct(lat, 99), 1),
        "max": round(max(lat) * 1000, 1) if lat else None,
        "by_kind": {k: {"n": len(v), "p50": round(pct(v, 50), 1), "p95": round(pct(v, 95), 1)}
                    for k, v in sorted(run.lat.items())},
        "board_p95": round(pct(board, 95), 1) if board else None,
        "server_cpu_ms_per_request": round(1000 * run.server_cpu / run.requests, 2) if run.requests else None,
        "client_cpu_ms_per_request": round(1000 * run.client_cpu / run.requests, 2) if run.requests else None,
        "check": run.check, "first_errors": run.errors[:5],
    }


def markdown(results: list[dict[str, Any]]) -> str:
    head = ("| database | mode | target | requests | errors | req/s | p50 ms | p95 ms | p99 ms | max ms | "
            "board p95 ms | answers sent / stored | lost | doubled |\n|" + "---|" * 14)
    lines = [head]
    for r in results:
        for s in (r["app"], r["bare"]):
            c = s["check"]
            io = f"{c['answers_sent']} / {c['answers_stored']}" if c else "–"
            lines.append(f"| {r['db']} | {r['mode']} | {s['label']} | {s['requests']} | {s['errors']} | "
                         f"{s['throughput']} | {s['p50']} | {s['p95']} | {s['p99']} | {s['max']} | "
                         f"{s['board_p95'] if s['board_p95'] is not None else '–'} | {io} | "
                         f"{c.get('lost', '–') if c else '–'} | {c.get('doubled', '–') if c else '–'} |")
    lines.append("")
    lines.append("| database | mode | join p95 ms | answer page p95 ms | answer save p95 ms | board p95 ms |\n"
                 "|---|---|---|---|---|---|")
    for r in results:
        k = r["app"]["by_kind"]
        lines.append(f"| {r['db']} | {r['mode']} | {k.get('join', {}).get('p95', '–')} | "
                     f"{k.get('page', {}).get('p95', '–')} | {k.get('answer', {}).get('p95', '–')} | "
                     f"{k.get('board', {}).get('p95', '–')} |")
    lines.append("")
    lines.append("| database | mode | p50 app/bare | p95 app/bare | throughput app/bare | server CPU ms/request "
                 "app / bare | client CPU ms/request app / bare |\n|---|---|---|---|---|---|---|")
    for r in results:
        a, b = r["app"], r["bare"]
        lines.append(f"| {r['db']} | {r['mode']} | {a['p50'] / b['p50']:.1f}× | {a['p95'] / b['p95']:.1f}× | "
                     f"{a['throughput'] / b['throughput']:.2f}× | {a['server_cpu_ms_per_request']} / "
                     f"{b['server_cpu_ms_per_request']} | {a['client_cpu_ms_per_request']} / "
                     f"{b['client_cpu_ms_per_request']} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--participants", type=int, default=200)
    ap.add_argument("--db", default="sqlite,postgresql")
    ap.add_argument("--modes", default="paced,stress",
                    help="paced: 0.5-1.5 s between a participant's actions (people read); stress: none")
    ap.add_argument("--board-every", type=float, default=1.0, help="seconds between board refreshes")
    ap.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--deadline", type=float, default=240.0, help="seconds allowed per run")
    ap.add_argument("--pg-url", default=os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    spans = {"paced": (0.5, 1.5), "stress": (0.0, 0.0)}
    results = []
    steps = None
    print(f"{args.participants} participants, gunicorn gthread {args.workers} workers x {args.threads} threads, "
          f"{os.cpu_count()} CPUs (clients share the machine)", flush=True)
    with tempfile.TemporaryDirectory(prefix="thb-bench-") as tmpdir:
        tmp = Path(tmpdir)
        for dbname in [d.strip() for d in args.db.split(",") if d.strip()]:
            for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
                pg: PgDatabase | None = None
                if dbname == "sqlite":
                    url = sqlite_url(tmp, f"{mode}-{uuid.uuid4().hex[:6]}")
                else:
                    try:
                        pg = PgDatabase(args.pg_url)
                    except Exception as exc:
                        print(f"PostgreSQL skipped: {type(exc).__name__}: {exc}", flush=True)
                        break
                    url = pg.url
                try:
                    print(f"[{dbname} {mode}] app ...", flush=True)
                    app_run = run_app(url, "app", mode, args.participants, spans[mode], args.board_every,
                                      args.workers, args.threads, args.deadline)
                    steps = steps or round(sum(len(v) for k, v in app_run.lat.items()
                                               if k not in ("board", "login")) / max(1, args.participants))
                    print(f"[{dbname} {mode}] bare page ({steps} requests per client) ...", flush=True)
                    bare_run = run_bare(url, "bare page", mode, args.participants, steps, spans[mode], args.workers,
                                        args.threads, args.deadline)
                finally:
                    if pg is not None:
                        pg.drop()
                r = {"db": dbname, "mode": mode, "app": summary(app_run), "bare": summary(bare_run)}
                results.append(r)
                print(json.dumps(r["app"]["check"]), "errors:", r["app"]["first_errors"], r["bare"]["first_errors"],
                      flush=True)
    print()
    print(markdown(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    ok = all(r["app"]["errors"] == 0 and r["app"]["check"]["lost"] == 0 and r["app"]["check"]["doubled"] == 0
             and r["app"]["check"]["wrong"] == 0 for r in results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
