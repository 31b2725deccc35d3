"""One JSON line per request on stderr, and a request id a user can quote from an error page.

Why this shape:
- A force's log collector (journald, then whatever ships it) reads one JSON object per line; gunicorn's own
  access log is off (gunicorn.conf.py) so that each request is logged once, here, where the app knows the
  URL rule, the user and the request id.
- Only the URL *rule* is logged (``/assessments/<int:assessment_id>/section/<int:number>``), never the
  path as sent nor its query string: paths and queries can carry set-password tokens and join codes.
  Bodies (answers, comments, passwords), cookies and headers are never read here.
- The request id comes from the proxy (nginx sends ``X-Request-ID $request_id``, which is also in its own
  log) when it looks like one, else it is made here. It goes back to the client in ``X-Request-ID`` and
  onto the 500 page, so that what a user quotes finds the log line and the traceback.

Records go to the logger ``thb.request`` at INFO. Outside tests a stderr handler with the JSON formatter is
attached to it once; under test the records propagate to pytest's log capture (shown for failing tests only).
``REQUEST_LOG=0`` turns the log off; the request id header and the reference on error pages stay.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, g, request
from werkzeug.wrappers import Response

LOGGER_NAME = "thb.request"
HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_FIELDS = ("method", "path", "status", "duration_ms", "request_id", "user_id")

logger = logging.getLogger(LOGGER_NAME)


def current_request_id() -> str:
    """The id of the request being served: the proxy's when sane, else a new one; the same all request long."""
    rid = g.get("request_id")
    if rid is None:
        incoming = request.headers.get(HEADER, "")
        rid = incoming if _SANE_ID.fullmatch(incoming) else uuid.uuid4().hex
        g.request_id = rid
    return str(rid)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: the time, the level and the request's fields (nothing else of the record)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "event": record.getMessage(),
        }
        line.update({k: getattr(record, k, None) for k in _FIELDS})
        return json.dumps(line, ensure_ascii=False, separators=(",", ":"))


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to ``sys.stderr`` as it is at the time of each record, not as it was when attached."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def _start() -> None:
    g.request_started = time.perf_counter()
    current_request_id()


def _user_id() -> int | None:
    # Flask-Login keeps the user it loaded for this request in g._login_user. Reading it (rather than
    # current_user) never queries the database: logging must not fail, nor write, after a failed request.
    user = g.get("_login_user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    uid = getattr(user, "id", None)
    return uid if isinstance(uid, int) else None


def _finish(resp: Response) -> Response:
    resp.headers[HEADER] = current_request_id()
    if current_app.config.get("REQUEST_LOG", True):
        started = g.get("request_started")
        rule = request.url_rule
        # For a streamed download this is the time to the first byte, not to the end of the stream.
        logger.info("request", extra={
            "method": request.method,
            "path": rule.rule if rule is not None else None,  # None: no route matched (404/405)
            "status": resp.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started is not None else None,
            "request_id": current_request_id(),
            "user_id": _user_id(),
        })
    return resp


def init_app(app: Flask) -> None:
    """Register before any other request hook, so that a request refused by one still gets an id and a line."""
    if app.config.get("REQUEST_LOG", True):
        logger.setLevel(logging.INFO)
        if not app.testing and not any(isinstance(h, _StderrHandler) for h in logger.handlers):
            handler = _StderrHandler(sys.stderr)
            handler.setFormatter(JsonFormatter())
            logger.addHandler(handler)
            logger.propagate = False  # the line is written once, here, whatever else configures the root logger

    app.before_request(_start)
    app.after_request(_finish)
