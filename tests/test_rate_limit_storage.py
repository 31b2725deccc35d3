"""The rate-limit stores (app.ratelimit): the app's database (default) and Redis count the same way, atomically."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app import ratelimit
from app.ratelimit import Limit

from .conftest import PASSWORD, Browser, email


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throw-away redis-server (apt-get install redis-server; CI installs it and sets REQUIRE_REDIS=1)."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail("REQUIRE_REDIS=1 but redis-server is not installed")
        pytest.skip("redis-server is not installed")
    port = _free_port()
    work = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(work)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                raise
            time.sleep(0.1)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(params=["database", "redis"])
def app_config(request, app_config):
    if request.param == "redis":
        return {**app_config, "RATELIMIT_STORAGE_URI": request.getfixturevalue("redis_url")}
    return app_config


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_reserve_refund_and_exhausted(app, tmp_path: Path):
    tag = tmp_path.name  # Redis is shared by the tests of this module: keys of their own
    a, b = Limit("t", f"a-{tag}", "2 per 1 minute"), Limit("t", f"b-{tag}", "5 per 1 minute")
    with app.app_context():
        first = ratelimit.reserve(a, b)
        assert first is not None and not ratelimit.exhausted(a)
        assert ratelimit.reserve(a, b) is not None and ratelimit.exhausted(a) and not ratelimit.exhausted(b)
        assert ratelimit.reserve(a, b) is None  # a is full: nothing is counted, b stays at 2
        assert [ratelimit.reserve(b) is not None for _ in range(4)] == [True, True, True, False]
        ratelimit.refund(first)  # a success gives its attempt back
        assert not ratelimit.exhausted(a) and not ratelimit.exhausted(b)
        assert ratelimit.reserve(a) is not None and ratelimit.exhausted(a)


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_counting_is_atomic_under_concurrency(app, tmp_path: Path):
    """Forty threads reserving against a limit of 15 that they share with a second counter: exactly 15 pass."""
    tag = tmp_path.name
    shared = Limit("t", f"shared-{tag}", "15 per 1 minute")
    passed: list[bool] = []
    lock = threading.Lock()
    start = threading.Barrier(40)

    def go(i: int) -> None:
        with app.app_context():
            start.wait()
            ok = ratelimit.reserve(shared, Limit("t", f"own-{tag}-{i % 4}", "100 per 1 minute")) is not None
        with lock:
            passed.append(ok)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert passed.count(True) == 15


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_login_limits_with_either_store(app, world):
    app.config.update(LOGIN_LIMIT="2 per 1 minute", LOGIN_IP_LIMIT="50 per 1 minute")

    def attempt(password: str, addr: str) -> int:
        b = Browser(app.test_client())
        b.client.environ_base["REMOTE_ADDR"] = addr
        b.get("/login")
        return b.post("/login", {"email": email("member_a1"), "password": password}).status_code

    assert [attempt("stranger guess", "198.51.100.9") for _ in range(3)] == [401, 401, 429]
    assert attempt(PASSWORD, "10.9.9.9") == 302
