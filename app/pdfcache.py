"""Rendered PDFs kept in the database (table ``pdf_cache``) and rendered off the request (issues 15, 16).

One row per (kind, object, language): the file and the key it was rendered for. The key is a fingerprint of
everything the file shows, computed from the database *before* the render reads its data, so a change made
while rendering leaves a row whose key no longer matches (rendered again next time), never a stale file served
as fresh. Every process and host shares the rows; nothing here must survive in one process's memory.

The same row claims a render (``job_key``, ``job_started_at``): a request that finds the file stale claims it in
a short best-effort write and only the claimant starts the render, so two supervisors asking at once, in two
workers or on two hosts, start one render. A claim older than ``STALE_CLAIM`` is taken over: its worker may have
died with the job.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from . import background
from .db import db, upsert
from .models import PdfCache, utcnow

STALE_CLAIM = timedelta(minutes=5)

_inflight: set[tuple[str, int, str, str]] = set()  # jobs queued in this process: an optimisation only
_inflight_lock = threading.Lock()


def _pk(kind: str, object_id: int, language: str) -> ColumnElement[bool]:
    return and_(PdfCache.kind == kind, PdfCache.object_id == object_id, PdfCache.language == language)


def cached(session: Session, kind: str, object_id: int, language: str, key: str) -> bytes | None:
    """The stored file if it was rendered for ``key``; None when missing or stale."""
    row = session.execute(select(PdfCache.cache_key, PdfCache.pdf).where(_pk(kind, object_id, language))).first()
    if row is None or row.cache_key != key or row.pdf is None:
        return None
    return bytes(row.pdf)


def claim(session: Session, kind: str, object_id: int, language: str, key: str) -> bool:
    """Claim the render of ``key`` (in a write transaction); False if someone else holds a fresh claim on it."""
    now = utcnow()
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(PdfCache).values(kind=kind, object_id=object_id, language=language, cache_key="")
                    .on_conflict_do_nothing())
    result = session.execute(
        update(PdfCache).where(_pk(kind, object_id, language),
                               or_(PdfCache.job_key.is_(None), PdfCache.job_key != key,
                                   PdfCache.job_started_at.is_(None), PdfCache.job_started_at < now - STALE_CLAIM))
        .values(job_key=key, job_started_at=now))
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def store(session: Session, kind: str, object_id: int, language: str, key: str, data: bytes) -> None:
    """Keep the file rendered for ``key`` and release the claim on that key."""
    upsert(session, PdfCache, [{"kind": kind, "object_id": object_id, "language": language, "cache_key": key,
                                "pdf": data, "generated_at": utcnow()}],
           ["kind", "object_id", "language"], ["cache_key", "pdf", "generated_at"])
    session.execute(update(PdfCache).where(_pk(kind, object_id, language), PdfCache.job_key == key)
                    .values(job_key=None, job_started_at=None))


def forget(session: Session, kind: str, object_id: int) -> None:
    """Drop every language's file of an object (its key would no longer match anyway: this frees the space)."""
    session.execute(update(PdfCache).where(PdfCache.kind == kind, PdfCache.object_id == object_id)
                    .values(pdf=None, cache_key=""))


def render_and_store(kind: str, object_id: int, language: str, key_of: Callable[[Session], str | None],
                     render: Callable[[Session], bytes]) -> None:
    """The background job: read the key, render, store under that key. Runs in an app context of its own."""
    try:
        with force_locale(language):
            key = key_of(db.session)
            if key is None or cached(db.session, kind, object_id, language, key) is not None:
                return  # gone, no longer cacheable, or already there (another process was quicker)
            data = render(db.session)
            db.session.rollback()  # end the read before the write (SQLite's write lock)
            db.best_effort(lambda s: store(s, kind, object_id, language, key, data),
                           f"{kind} pdf cache of {object_id}")
    finally:
        background.release_memory()


def start(kind: str, object_id: int, language: str, key: str, key_of: Callable[[Session], str | None],
          render: Callable[[Session], bytes], *, claim_first: bool = True) -> None:
    """Have the file for ``key`` rendered in the background unless it already is being rendered.

    ``claim_first``: claim the job in the database first (a request that found the file stale); without it
    (a job scheduled right after a commit) the in-process check alone avoids a double render here.
    """
    job = (kind, object_id, language, key)
    with _inflight_lock:
        if job in _inflight:
            return
    if claim_first:
        claimed: list[bool] = []
        stored = db.best_effort(lambda s: claimed.append(claim(s, kind, object_id, language, key)),
                                f"claim of the {kind} pdf of {object_id}")
        if stored and not claimed[0]:
            return  # a fresh claim by another request (maybe another process or host) is rendering it
    with _inflight_lock:
        if job in _inflight:
            return
        _inflight.add(job)

    def run() -> None:
        try:
            render_and_store(kind, object_id, language, key_of, render)
        finally:
            with _inflight_lock:
                _inflight.discard(job)

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not background.submit(app, run, what=f"{kind} pdf of {object_id} ({language})"):
        with _inflight_lock:
            _inflight.discard(job)


def is_rendering(session: Session, kind: str, object_id: int, language: str, key: str) -> bool:
    """Whether a fresh claim on ``key`` exists (so a status poll need not start another render)."""
    row = session.execute(select(PdfCache.job_key, PdfCache.job_started_at)
                          .where(_pk(kind, object_id, language))).first()
    return bool(row is not None and row.job_key == key and row.job_started_at is not None
                and row.job_started_at > utcnow() - STALE_CLAIM)
