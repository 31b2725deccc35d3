"""Work done after a request has answered: rendering report PDFs into their database caches (issues 15, 16).

A small thread pool per worker process, started on first use (never in gunicorn's master: a pool made before
the fork would have no threads in the child, so a forked child forgets it and starts its own). A job gets an
application context of its own and its own database session; it must keep everything that matters in the
database (a cache row), so that a job lost with its process (a worker killed or recycled, a full queue) only
means the next download renders the file itself.

Jobs are submitted after the submitting request's transaction has committed, so they read what it wrote, and
they run beside the request's response, never before it. ``wait_idle`` lets tests (and the CLI) wait for them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from flask import Flask

log = logging.getLogger(__name__)

THREADS = 2  # one long agency render must not hold up a unit's gap report
MAX_PENDING = 32  # beyond this a job is dropped (logged): the next download renders the file itself

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_pending: set[Future[None]] = set()
_idle = threading.Condition(_lock)


def _forget_after_fork() -> None:
    global _executor, _lock, _idle
    _executor = None
    _pending.clear()
    _lock = threading.Lock()
    _idle = threading.Condition(_lock)


os.register_at_fork(after_in_child=_forget_after_fork)


def _done(fut: Future[None]) -> None:
    with _idle:
        _pending.discard(fut)
        if not _pending:
            _idle.notify_all()


def submit(app: Flask, work: Callable[..., Any], *args: Any, what: str = "") -> bool:
    """Run ``work(*args)`` soon in a background thread, inside an app context of ``app``. False if dropped."""
    global _executor

    def run() -> None:
        try:
            with app.app_context():
                work(*args)
        except Exception:  # a lost job costs one render on the next download; it must never kill the pool
            log.exception("background job failed: %s", what or getattr(work, "__name__", "job"))

    with _idle:
        if len(_pending) >= MAX_PENDING:
            log.warning("background queue full, job dropped: %s", what)
            return False
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="thb-background")
        fut = _executor.submit(run)
        _pending.add(fut)
    fut.add_done_callback(_done)
    return True


def wait_idle(timeout: float = 120.0) -> bool:
    """Block until no job is queued or running (tests; the end of a CLI command). True if idle."""
    with _idle:
        return _idle.wait_for(lambda: not _pending, timeout=timeout)


def pending() -> int:
    with _lock:
        return len(_pending)


_libc: Any = None


def release_memory() -> None:
    """Give freed heap memory back to the operating system after a large render (glibc's ``malloc_trim``).

    WeasyPrint's layout of a long report allocates a few hundred MiB of small objects; Python frees them, but
    glibc keeps the pages in the process, so a worker stayed at ~200 MiB. Does nothing where there is no glibc.
    """
    global _libc
    gc.collect()  # WeasyPrint's boxes hold reference cycles: free them before handing pages back
    try:
        if _libc is None:
            _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = getattr(_libc, "malloc_trim", None)
        if trim is not None:
            trim(0)
    except OSError:
        _libc = False
