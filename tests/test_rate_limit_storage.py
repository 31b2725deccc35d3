"""The rate-limit stores (app.ratelimit): the app's database (default) and Redis count the same way, atomically."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from app import ratelimit
from app.ratelimit import Limit

from .conftest import PASSWORD, Browser, email


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


@pytest.mark.parametrize("app_config", ["database", "redis"], indirect=True)
@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_windows_restart_and_a_refund_never_lowers_a_newer_window(app, tmp_path: Path):
    from app.ratelimit import Slot

    store = app.extensions["ratelimit"]
    key = f"w-{tmp_path.name}"
    now = int(time.time() * 1000)
    with app.app_context():
        first = store.reserve([Slot(key, 2, 60_000)], now)
        assert first == [now] and store.reserve([Slot(key, 2, 60_000)], now + 1) == [now]
        assert store.reserve([Slot(key, 2, 60_000)], now + 2) is None
        if type(store).__name__ == "DatabaseStore":  # Redis expires keys by itself, on its own clock
            later = now + 60_000
            assert store.reserve([Slot(key, 2, 60_000)], later) == [later]  # a new window, counting from 1
            store.refund([(key, now)])  # the old window's reservation: nothing happens to the new one
            assert store.counts([key], later) == {key: 1}


@pytest.mark.parametrize("app_config", ["database"], indirect=True)
@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_expired_windows_are_deleted(app, monkeypatch):
    from sqlalchemy import func, select

    from app.models import RateCounter
    from app.ratelimit import DatabaseStore, Slot

    monkeypatch.setattr(DatabaseStore, "CLEANUP_ONE_IN", 1)
    store = app.extensions["ratelimit"]
    with app.app_context():
        store.reserve([Slot("old", 5, 1000)], 1_000)
        store.reserve([Slot("new", 5, 1000)], 5_000)
        with app.extensions["db_engine"].connect() as conn:
            assert conn.execute(select(func.count()).select_from(RateCounter)).scalar() == 1
