"""The production server set-up: gunicorn preloads the app and forks workers, so no pooled database
connection may cross a fork, and the shipped gunicorn.conf.py must actually serve."""

from __future__ import annotations

import os
import runpy
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent


def test_forked_child_does_not_reuse_the_parents_pooled_connection(app: Flask) -> None:
    engine = app.extensions["db_engine"]
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        parent_conn_id = id(conn.connection.dbapi_connection)
    assert engine.pool.checkedin() == 1  # the parent keeps one connection in its pool

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report what its pool holds, then use the database on its own connection
        code = 1
        try:
            empty = engine.pool.checkedin() == 0
            with engine.connect() as conn:
                ok = conn.execute(text("SELECT 1")).scalar() == 1
                fresh = id(conn.connection.dbapi_connection) != parent_conn_id
            os.write(write, f"{empty} {ok} {fresh}".encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    _pid, status = os.waitpid(pid, 0)
    report = os.read(read, 100).decode()
    os.close(read)
    assert os.waitstatus_to_exitcode(status) == 0
    assert report == "True True True"
    with engine.connect() as conn:  # the parent's connection still works after the child is gone
        assert conn.execute(text("SELECT 1")).scalar() == 1


def test_gunicorn_config_preloads_and_uses_threads() -> None:
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert conf["preload_app"] is True
    assert conf["worker_class"] == "gthread"
    assert conf["workers"] >= 1 and conf["threads"] >= 2
    assert conf["max_requests"] > 0


def test_gunicorn_config_freezes_the_preloaded_objects_before_forking() -> None:
    import gc

    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    gc.unfreeze()
    try:
        conf["pre_fork"](None, None)
        assert gc.get_freeze_count() > 10_000  # pytest, the app modules and their objects
    finally:
        gc.unfreeze()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_gunicorn_with_the_shipped_config_serves_from_every_worker(tmp_path: Path) -> None:
    """Start gunicorn the way the README says (config file picked up from the project directory)."""
    gunicorn = Path(sys.executable).parent / "gunicorn"
    if not gunicorn.exists():
        pytest.fail("gunicorn is a dependency and must be installed in the virtualenv")
    db = tmp_path / "g.sqlite3"
    env = {**os.environ, "APP_ENV": "production", "SECRET_KEY": secrets.token_hex(32),
           "DATABASE_URL": f"sqlite:///{db}", "SESSION_COOKIE_SECURE": "0",
           "WEB_CONCURRENCY": "2", "BIND": f"127.0.0.1:{_free_port()}"}
    env["BASE_URL"] = f"http://{env['BIND']}"
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi.py", "db-upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    proc = subprocess.Popen([str(gunicorn), "wsgi:app"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        url = f"http://{env['BIND']}/healthz"
        deadline = time.monotonic() + 60
        answers = []
        while len(answers) < 40:
            try:
                with urllib.request.urlopen(url, timeout=5) as resp:
                    answers.append((resp.status, resp.read()))
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        assert all(status == 200 and b'"ok"' in body for status, body in answers)
        # Workers are forked one after the other: on a busy machine the first can answer all 40 requests before
        # the second has started, so wait (boundedly) for both rather than counting at one instant.
        deadline = time.monotonic() + 30
        while True:
            workers = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
            if len(workers) == 2 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert len(workers) == 2
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert b"Traceback" not in out, out.decode(errors="replace")


def _start(env: dict[str, str], log: Path, *options: str) -> subprocess.Popen[bytes]:
    gunicorn = Path(sys.executable).parent / "gunicorn"
    proc = subprocess.Popen([str(gunicorn), "--access-logfile", str(log), "--access-logformat", "%(p)s %(r)s %(s)s",
                             *options, "wsgi:app"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://{env['BIND']}/healthz", timeout=5):
                return proc
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    out, _ = proc.communicate(timeout=30)
    assert b"Traceback" not in out, out.decode(errors="replace")


def _post_form(base: str, page: str, action: str, fields: dict[str, str]) -> int:
    """Like a browser: open the form (for its CSRF cookie and token), then send it; each on a new connection."""
    import http.cookiejar
    import re
    import urllib.error
    import urllib.parse

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with opener.open(base + page, timeout=30) as resp:
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', resp.read().decode()).group(1)
    data = urllib.parse.urlencode({**fields, "csrf_token": token}).encode()
    try:
        with opener.open(base + action, data=data, timeout=30) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.parametrize("store", ["database", "redis"])
def test_limits_hold_across_workers_and_restarts(db_url: str, tmp_path: Path, store: str,
                                                 request: pytest.FixtureRequest) -> None:
    """Worker processes count into the same counters (the app's database by default, or Redis), and neither a worker
    recycle nor a restart of the whole server forgets anything: the configured numbers hold exactly, on SQLite
    and PostgreSQL. Each worker is recycled after 3 requests, so the attempts are answered by many processes."""
    env = {**os.environ, "APP_ENV": "production", "SECRET_KEY": secrets.token_hex(32), "DATABASE_URL": db_url,
           "SESSION_COOKIE_SECURE": "0", "WEB_CONCURRENCY": "2", "BIND": f"127.0.0.1:{_free_port()}",
           "LOGIN_LIMIT": "6 per 1 hour", "LOGIN_IP_LIMIT": "1000 per 1 hour", "WORKSHOP_JOIN_LIMIT": "5 per 1 hour"}
    env["BASE_URL"] = base = f"http://{env['BIND']}"
    env.pop("RATELIMIT_STORAGE_URI", None)
    env.pop("REDIS_URL", None)
    if store == "redis":  # REDIS_URL set: the counters live there instead
        import redis

        env["REDIS_URL"] = request.getfixturevalue("redis_url")
        redis.Redis.from_url(env["REDIS_URL"]).flushdb()

    def login() -> int:
        return _post_form(base, "/login", "/login", {"email": "officer@police.example", "password": "a wrong guess"})

    def guess() -> int:
        return _post_form(base, "/w/", "/w/join", {"code": "ZZZ-ZZZ", "role_label": ""})

    log = tmp_path / "access.log"
    proc = _start(env, log, "--max-requests", "3", "--max-requests-jitter", "0")
    try:
        assert [login() for _ in range(9)] == [401] * 6 + [429] * 3
        assert [guess() for _ in range(7)] == [404] * 5 + [429] * 2
    finally:
        _stop(proc)
    pids = {line.split()[0] for line in log.read_text().splitlines() if "POST /login" in line}
    assert len(pids) >= 3, log.read_text()  # 9 attempts, at most 3 requests per worker process

    proc = _start(env, tmp_path / "access2.log")  # a restart: every worker process is new
    try:
        assert login() == 429
        assert guess() == 429
    finally:
        _stop(proc)
