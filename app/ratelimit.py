"""Rate limits shared by every worker process and kept across restarts.

Counters live in the app's own database (table ``rate_counter``) by default, so a fresh install holds its
limits with nothing else to run; in Redis when ``REDIS_URL`` is set; in process memory only for development
and tests (production refuses it at start-up, see app.config).

Each limit is a fixed window that starts with its first counted event, as ``limits``' own storages do; the
rules are written in ``limits``' notation ("10 per 15 minutes").

Two ways of counting, for two kinds of check:

- ``reserve`` before a password is checked (login, password change): every counter involved is raised in one
  short transaction, and when one would pass its limit nothing is raised and the caller refuses without
  checking. A correct password gives its reservation back (``refund``; a window left with nothing counted is
  deleted, so successes never start one). So no more than the configured number
  of wrong passwords is ever checked per window, however many workers and threads answer at once, and refused
  attempts count towards nothing (a stranger's refused guesses do not use up the officer's own allowance).
- ``exhausted`` then ``reserve`` after the fact (workshop join codes): successes, the whole class joining in
  the same second, cost one read and no write; a failed guess is counted afterwards, and when counting it
  would pass the limit its answer is replaced by the refusal, so no more failed guesses are answered than
  configured.

The database transaction is on its own connection and never spans the caller's work (a password hash, a
request's transaction): on SQLite it holds the write lock for a few statements only.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

from flask import Flask, current_app
from limits import parse
from sqlalchemy import Connection, case, delete, select, update
from sqlalchemy.engine import Engine

from .config import ConfigError
from .models import RateCounter

DATABASE = "database"
MEMORY = "memory://"


@dataclass(frozen=True)
class Limit:
    """One counter: ``rule`` (config notation) applied to ``subject`` (an e-mail, an address) in ``scope``."""

    scope: str
    subject: str
    rule: str

    @property
    def key(self) -> str:
        # Hashed: the table or Redis never holds typed e-mail addresses in clear, and keys have one length.
        return hashlib.sha256(f"{self.scope}\x00{self.subject}".encode()).hexdigest()


@lru_cache(maxsize=64)
def _rule(rule: str) -> tuple[int, int]:
    """(amount, window in milliseconds) of a rule such as "10 per 15 minutes"."""
    item = parse(rule)
    return int(item.amount), int(item.get_expiry()) * 1000


@dataclass(frozen=True)
class Slot:
    key: str
    amount: int
    window_ms: int


@dataclass
class Ticket:
    """What ``reserve`` raised: (key, window start) pairs, so a refund never lowers a newer window."""

    entries: list[tuple[str, int]] = field(default_factory=list)


class Store(Protocol):
    def reserve(self, slots: Sequence[Slot], now_ms: int) -> list[int] | None: ...

    def refund(self, entries: Sequence[tuple[str, int]]) -> None: ...

    def counts(self, keys: Sequence[str], now_ms: int) -> dict[str, int]: ...


class MemoryStore:
    """Per-process counters: development and tests only (every worker would count on its own)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[str, list[int]] = {}  # key -> [window_start_ms, expires_at_ms, count]

    def reserve(self, slots: Sequence[Slot], now_ms: int) -> list[int] | None:
        with self._lock:
            planned = []
            for s in slots:
                row = self._rows.get(s.key)
                if row is None or row[1] <= now_ms:
                    row = [now_ms, now_ms + s.window_ms, 0]
                if row[2] + 1 > s.amount:
                    return None
                planned.append((s.key, row))
            for key, row in planned:
                row[2] += 1
                self._rows[key] = row
            return [row[0] for _key, row in planned]

    def refund(self, entries: Sequence[tuple[str, int]]) -> None:
        with self._lock:
            for key, start in entries:
                row = self._rows.get(key)
                if row is not None and row[0] == start:
                    row[2] -= 1
                    if row[2] <= 0:
                        del self._rows[key]

    def counts(self, keys: Sequence[str], now_ms: int) -> dict[str, int]:
        with self._lock:
            return {k: row[2] for k in keys if (row := self._rows.get(k)) is not None and row[1] > now_ms}


class _Over(Exception):
    """A limit would be passed: roll the whole reservation back."""


class DatabaseStore:
    """Counters in the app's database: an atomic upsert per counter (SQLite >= 3.35 and PostgreSQL)."""

    CLEANUP_ONE_IN = 50  # reservations that also delete expired windows (keeps the table small)

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        # Both dialects spell the upsert alike; SQLAlchemy has one construct for each.
        self._insert: Any = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert

    @contextmanager
    def _transaction(self, write: bool) -> Iterator[Connection]:
        from .db import write_intent

        with write_intent(write), self.engine.begin() as conn:
            yield conn

    def _upsert(self, conn: Connection, s: Slot, now_ms: int) -> tuple[int, int]:
        t = RateCounter.__table__.c
        expired = t.expires_at_ms <= now_ms
        ins = self._insert(RateCounter).values(key=s.key, window_start_ms=now_ms,
                                               expires_at_ms=now_ms + s.window_ms, count=1)
        stmt = ins.on_conflict_do_update(index_elements=[t.key], set_={
            "count": case((expired, 1), else_=t.count + 1),
            "window_start_ms": case((expired, now_ms), else_=t.window_start_ms),
            "expires_at_ms": case((expired, now_ms + s.window_ms), else_=t.expires_at_ms),
        }).returning(t.count, t.window_start_ms)
        count, start = conn.execute(stmt).one()
        return int(count), int(start)

    def reserve(self, slots: Sequence[Slot], now_ms: int) -> list[int] | None:
        starts: dict[str, int] = {}
        try:
            with self._transaction(write=True) as conn:
                # One order for every transaction: two reservations sharing counters never deadlock.
                for s in sorted(slots, key=lambda s: s.key):
                    count, starts[s.key] = self._upsert(conn, s, now_ms)
                    if count > s.amount:
                        raise _Over
                if secrets.randbelow(self.CLEANUP_ONE_IN) == 0:
                    conn.execute(delete(RateCounter).where(RateCounter.expires_at_ms <= now_ms))
        except _Over:
            return None
        return [starts[s.key] for s in slots]

    def refund(self, entries: Sequence[tuple[str, int]]) -> None:
        with self._transaction(write=True) as conn:
            for key, start in sorted(entries):
                mine = (RateCounter.key == key, RateCounter.window_start_ms == start)
                conn.execute(update(RateCounter).where(*mine).values(count=RateCounter.count - 1))
                # A window with nothing counted is forgotten: the next failure starts a full window of its own.
                conn.execute(delete(RateCounter).where(*mine, RateCounter.count <= 0))

    def counts(self, keys: Sequence[str], now_ms: int) -> dict[str, int]:
        with self._transaction(write=False) as conn:
            rows = conn.execute(select(RateCounter.key, RateCounter.count)
                                .where(RateCounter.key.in_(list(keys)), RateCounter.expires_at_ms > now_ms))
            return {k: int(c) for k, c in rows}


# Redis: one Lua script per operation, so each is atomic on the server, whatever the number of app processes.
_RESERVE = """
local now = ARGV[1]
local starts = {}
local over = false
for i, key in ipairs(KEYS) do
  local c = redis.call('HINCRBY', key, 'count', 1)
  if c == 1 then
    redis.call('HSET', key, 'start', now)
    redis.call('PEXPIRE', key, tonumber(ARGV[2 * i + 1]))
  end
  starts[i] = redis.call('HGET', key, 'start')
  if c > tonumber(ARGV[2 * i]) then over = true end
end
if over then
  for _, key in ipairs(KEYS) do
    if redis.call('HINCRBY', key, 'count', -1) <= 0 then redis.call('DEL', key) end
  end
  return false
end
return starts
"""
_REFUND = """
for i, key in ipairs(KEYS) do
  if redis.call('HGET', key, 'start') == ARGV[i] then
    if redis.call('HINCRBY', key, 'count', -1) <= 0 then redis.call('DEL', key) end
  end
end
return 0
"""


class RedisStore:
    """Counters in Redis (``REDIS_URL``): a hash per window with the count and its start, expiring with it."""

    PREFIX = "thb:rl:"

    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url)
        self._reserve = self.client.register_script(_RESERVE)
        self._refund = self.client.register_script(_REFUND)

    def reserve(self, slots: Sequence[Slot], now_ms: int) -> list[int] | None:
        args: list[int] = [now_ms]
        for s in slots:
            args += [s.amount, s.window_ms]
        starts = self._reserve(keys=[self.PREFIX + s.key for s in slots], args=args)
        return None if starts is None else [int(x) for x in starts]

    def refund(self, entries: Sequence[tuple[str, int]]) -> None:
        self._refund(keys=[self.PREFIX + k for k, _s in entries], args=[str(s) for _k, s in entries])

    def counts(self, keys: Sequence[str], now_ms: int) -> dict[str, int]:
        pipe = self.client.pipeline(transaction=False)
        for k in keys:
            pipe.hget(self.PREFIX + k, "count")
        return {k: int(v) for k, v in zip(keys, pipe.execute(), strict=True) if v is not None}


def make_store(uri: str, engine: Engine) -> Store:
    if uri == DATABASE:
        return DatabaseStore(engine)
    if uri.startswith(("redis://", "rediss://", "unix://")):
        return RedisStore(uri)
    if uri.startswith(MEMORY):
        return MemoryStore()
    raise ValueError(f"unknown rate-limit storage {uri!r}")


RULES = ("LOGIN_LIMIT", "LOGIN_ACCOUNT_LIMIT", "LOGIN_IP_LIMIT", "WORKSHOP_JOIN_LIMIT")


def init_app(app: Flask) -> None:
    for name in RULES:  # a mistyped rule stops the start, not the first login
        try:
            _rule(str(app.config[name]))
        except ValueError as exc:
            raise ConfigError(f"{name}={app.config[name]!r} is not a rate such as '10 per 15 minutes'.") from exc
    try:
        app.extensions["ratelimit"] = make_store(app.config["RATELIMIT_STORAGE_URI"], app.extensions["db_engine"])
    except ValueError as exc:
        raise ConfigError(f"RATELIMIT_STORAGE_URI: {exc}; use a redis:// URL, or leave it unset for the database.") \
            from exc


def _store() -> Store:
    return current_app.extensions["ratelimit"]


def _slots(limits: Sequence[Limit]) -> list[Slot]:
    return [Slot(lim.key, *_rule(lim.rule)) for lim in limits]


def _now_ms() -> int:
    return int(time.time() * 1000)


def reserve(*limits: Limit) -> Ticket | None:
    """Count one attempt against every limit, or none of them (None) when one of them would be passed."""
    slots = _slots(limits)
    starts = _store().reserve(slots, _now_ms())
    if starts is None:
        return None
    return Ticket([(s.key, start) for s, start in zip(slots, starts, strict=True)])


def refund(ticket: Ticket) -> None:
    """Give a reservation back: the attempt succeeded (successes never count)."""
    _store().refund(ticket.entries)


def exhausted(*limits: Limit) -> bool:
    """True when one of the limits has no attempt left in its current window (a read; nothing is written)."""
    slots = _slots(limits)
    counts = _store().counts([s.key for s in slots], _now_ms())
    return any(counts.get(s.key, 0) >= s.amount for s in slots)
