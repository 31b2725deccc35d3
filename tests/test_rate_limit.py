"""Login attempts are limited per account and per address, with a clear message and an audit entry."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from app.db import db
from app.models import AuditEvent, User

from .conftest import PASSWORD, Browser, email


@pytest.fixture
def app_config(app_config):
    return {**app_config, "LOGIN_LIMIT": "3 per 1 minute", "LOGIN_IP_LIMIT": "5 per 1 minute"}


@pytest.fixture(autouse=True)
def _stopped_clock(frozen_clock):
    return frozen_clock


def attempt(app, who: str, password: str, addr: str = "10.0.0.1"):
    b = Browser(app.test_client())
    b.client.environ_base["REMOTE_ADDR"] = addr
    b.get("/login")
    return b.post("/login", {"email": email(who), "password": password})


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_account_limit_reached_and_lifted(app, world, frozen_clock):
    for _ in range(3):
        assert attempt(app, "member_a1", "wrong guess 123").status_code == 401
    resp = attempt(app, "member_a1", PASSWORD)  # even the right password waits until the limit lifts
    assert resp.status_code == 429
    assert "Too many attempts" in resp.data.decode()
    assert attempt(app, "member_a2", PASSWORD).status_code == 302  # other accounts are not affected
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "login_rate_limited")).first()
        assert event is not None and event.actor == email("member_a1")
    frozen_clock["ms"] += 61_000  # the window has passed
    assert attempt(app, "member_a1", PASSWORD).status_code == 302


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_address_limit_and_successes_do_not_count(app, world):
    for _ in range(8):  # successful logins from one address (a whole office) are never throttled
        assert attempt(app, "member_a2", PASSWORD, addr="10.0.0.9").status_code == 302
    who = ["member_a1", "member2_a1", "supervisor_a", "trainer_a", "admin"]
    codes = [attempt(app, w, "bad password!", addr="10.0.0.9").status_code for w in who]
    assert codes == [401] * 5
    assert attempt(app, "supervisor_b", "bad password!", addr="10.0.0.9").status_code == 429
    assert attempt(app, "supervisor_b", PASSWORD, addr="10.0.0.10").status_code == 302


# --- lock-out policy (README "Login limits"; OWASP ASVS 5.0 V6) ---------------------------------------------------


def test_a_stranger_cannot_lock_out_the_officer(app, world):
    """Guessing the officer's password from another address uses up that address's allowance only."""
    app.config.update(LOGIN_LIMIT="3 per 1 minute", LOGIN_IP_LIMIT="50 per 1 minute")
    for _ in range(3):
        assert attempt(app, "member_a1", "stranger guess 1", addr="198.51.100.66").status_code == 401
    assert attempt(app, "member_a1", "stranger guess 2", addr="198.51.100.66").status_code == 429
    assert attempt(app, "member_a1", PASSWORD, addr="198.51.100.66").status_code == 429  # not even the right one
    assert attempt(app, "member_a1", PASSWORD, addr="10.20.0.5").status_code == 302  # the officer, at work


def test_the_account_wide_ceiling_stops_a_guesser_with_many_addresses(app, world):
    app.config.update(LOGIN_LIMIT="2 per 1 minute", LOGIN_ACCOUNT_LIMIT="5 per 1 minute",
                      LOGIN_IP_LIMIT="50 per 1 minute")
    codes = [attempt(app, "member_a1", "spread guess", addr=f"203.0.113.{i // 2}").status_code for i in range(6)]
    assert codes == [401] * 5 + [429]
    # Refused attempts count towards nothing: other addresses of the stranger do not raise the officer's counters.
    assert attempt(app, "member_a2", PASSWORD, addr="203.0.113.1").status_code == 302


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_the_limit_holds_exactly_when_attempts_arrive_at_once(app, world):
    """Twelve wrong passwords in the same instant: exactly the configured five are checked (401)."""
    app.config.update(LOGIN_LIMIT="5 per 1 minute", LOGIN_IP_LIMIT="50 per 1 minute")
    browsers = []
    for _ in range(12):
        b = Browser(app.test_client())
        b.client.environ_base["REMOTE_ADDR"] = "10.0.0.77"
        b.get("/login")
        browsers.append(b)
    start = threading.Barrier(len(browsers))
    codes: list[int] = []
    lock = threading.Lock()

    def go(b: Browser) -> None:
        start.wait()
        code = b.post("/login", {"email": email("member_a1"), "password": "wrong at once"}).status_code
        with lock:
            codes.append(code)

    threads = [threading.Thread(target=go, args=(b,)) for b in browsers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [401] * 5 + [429] * 7


# --- nothing told to strangers --------------------------------------------------------------------------------


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("who", ["nobody-here", "inactive"])
def test_unknown_or_deactivated_e_mail_checks_a_hash_like_a_wrong_password(app, world, monkeypatch, who):
    """Both paths verify one argon2 hash, so the answer time does not tell which e-mails have accounts."""
    from app import passwords

    if who == "inactive":
        with app.app_context(), db.writing() as s:
            s.get(User, world.users["member2_a1"]).active = False
        who = "member2_a1"
    calls: list[str] = []
    real = passwords._hasher

    class Spy:
        """The real hasher, recording each hash it verifies against."""

        def verify(self, stored: str, password: str) -> bool:
            calls.append(stored)
            return real.verify(stored, password)

        def __getattr__(self, name: str):  # hash(), check_needs_rehash(): unchanged
            return getattr(real, name)

    monkeypatch.setattr(passwords, "_hasher", Spy())
    assert attempt(app, who, PASSWORD if who != "nobody-here" else "some guess").status_code == 401
    assert len(calls) == 1 and calls[0].startswith("$argon2id$")
    calls.clear()
    assert attempt(app, "member_a2", "wrong password").status_code == 401
    assert len(calls) == 1


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("setting", [{"LOGIN_LIMIT": "ten per hour"}, {"WORKSHOP_JOIN_LIMIT": ""},
                                     {"RATELIMIT_STORAGE_URI": "mysql://limits"}])
def test_a_mistyped_limit_stops_the_start(app_config, setting):
    from app import create_app
    from app.config import ConfigError

    with pytest.raises(ConfigError, match=next(iter(setting))):
        create_app({**app_config, **setting})
