"""Production settings for gunicorn, read automatically when it is started from this directory:

    gunicorn wsgi:app

Command-line options override these. WEB_CONCURRENCY, GUNICORN_THREADS and BIND set the numbers without
editing the file.

Why these values:
- ``preload_app``: the app (content file, every template compiled, WeasyPrint's libraries) is loaded once in
  the master, and workers are forked from it. Loading takes seconds of CPU per process; without preloading,
  every worker start, including each ``max_requests`` recycle, spends it again while serving, which a
  workshop of 200 people feels as a stall. The database pool is emptied in each child after the fork
  (app/db.py), so no connection is shared between processes.
- ``gthread`` with a few threads: boards poll every few seconds and a supervisor's ZIP of reports streams
  for minutes; a sync worker would be cut off by its timeout.
- ``max_requests``: recycles workers, which keeps WeasyPrint's memory in check on long runs.
- ``accesslog = None``: no access log from gunicorn. The app writes one JSON line per request to stderr
  itself (app/requestlog.py: URL rule, status, duration, request id, user id; REQUEST_LOG=0 turns it off),
  which gunicorn's access log would only duplicate, with the raw path and query string it must not keep.
  Errors and worker events still go to stderr (``errorlog``'s default).
- ``pre_fork``: the loaded app is about 150,000 Python objects that live as long as the process. Frozen
  before each fork, the workers' garbage collector no longer walks them: a full collection in a worker
  took 90-120 ms on the 2-core benchmark machine, during which all of its threads wait.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from typing import Any

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 4))
preload_app = True
max_requests = 500
max_requests_jitter = 50
keepalive = 30  # seconds; participants' phones keep one connection across questions
timeout = 60
accesslog = None  # the app logs each request (see above); `--access-logfile -` would log it twice


def pre_fork(server: Any, worker: Any) -> None:
    gc.freeze()
