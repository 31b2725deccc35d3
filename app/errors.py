"""Generic error pages in the app's look; never a stack trace. The 500 handler rolls back.

Features that need more than a generic page (the questionnaire keeps typed answers) register error handlers on
their own blueprint and fall back to the responses built here; this module knows no feature.
"""

from __future__ import annotations

from typing import Any, NoReturn

from flask import Flask, current_app, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException, SecurityError, default_exceptions
from werkzeug.wrappers import Response

from .db import db
from .requestlog import current_request_id

_CODES = default_exceptions

MESSAGES = {
    400: (lambda: _("Bad request"), lambda: _("The request could not be understood. Please go back and try again.")),
    401: (lambda: _("Login required"), lambda: _("Please log in to continue.")),
    403: (lambda: _("Not allowed"), lambda: _("Your account is not allowed to open this page.")),
    404: (lambda: _("Not found"), lambda: _("There is nothing here, or it is not yours to see.")),
    405: (lambda: _("Not allowed"), lambda: _("This address does not accept that kind of request.")),
    409: (lambda: _("Conflict"), lambda: _("Someone else changed this at the same time.")),
    413: (lambda: _("Too large"), lambda: _("What you sent is larger than this service accepts.")),
    422: (lambda: _("Cannot be saved"), lambda: _("Some of what you entered is not valid.")),
    429: (lambda: _("Too many attempts"),
          lambda: _("Too many attempts in a short time. Please wait a few minutes and try again.")),
    500: (lambda: _("Something went wrong"),
          lambda: _("The service hit an internal error. Nothing of this request was saved.")),
    503: (lambda: _("Temporarily unavailable"),
          lambda: _("The database cannot be reached just now, so nothing of this request was saved. "
                    "Please try again in a minute.")),
}

# The database is away (stopped, restarting, unreachable, or SQLite's lock not granted in time): a 503 that
# tells the client to come back, never a 500. Connection errors of every driver arrive as OperationalError.
DATABASE_AWAY: tuple[type[Exception], ...] = (OperationalError, DisconnectionError, PoolTimeoutError)
RETRY_AFTER_SECONDS = 30


def fail(code: int, message: str) -> NoReturn:
    """Stop the request with ``code`` and a message meant for the user (shown on the error page)."""
    exc = _CODES[code]()
    exc.user_message = message  # type: ignore[attr-defined]
    raise exc


def render_error(code: int, detail: str | None = None) -> tuple[str, int]:
    title, text = MESSAGES.get(code, MESSAGES[500])
    # On a server error the page shows the request id, which finds the log line and the traceback.
    reference = current_request_id() if code >= 500 else None
    return render_template("error.html", code=code, title=title(), text=detail or text(), reference=reference), code


def csrf_error_response() -> tuple[str, int]:
    """The generic page for a missing, forged or expired CSRF token."""
    return render_error(400, _("The form had expired or was not sent from this site. "
                               "Please go back, reload the page and try again."))


def http_error_response(exc: HTTPException) -> tuple[str, int, dict[str, str]]:
    """The app's page for an HTTP error, keeping the error's own headers (Allow, Retry-After, ...)."""
    code = exc.code or 500
    if code >= 500:
        db.session.rollback()
    body, code = render_error(code, getattr(exc, "user_message", None))
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    return body, code, headers


def is_database_away(exc: BaseException) -> bool:
    """True for errors that mean "the database cannot be used just now" rather than a bug."""
    return isinstance(exc, DATABASE_AWAY) or (isinstance(exc, DBAPIError) and exc.connection_invalidated)


def wants_json() -> bool:
    """A script or the app's own fetch() calls, rather than a person's browser asking for a page."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return request.headers.get("X-Requested-With") == "fetch" or best == "application/json"


def forget_user() -> None:
    """Render the rest of this request as anonymous, so the page layout does not query the user again.

    Used when the database is away: loading or refreshing the logged-in user would raise once more, inside
    the error handler, and the client would get a bare 500 without the app's page or security headers.
    """
    g._login_user = current_app.login_manager.anonymous_user()  # type: ignore[attr-defined]


def end_failed_transaction() -> None:
    """Roll back after a database error; on a dead connection the rollback itself may fail, which is fine."""
    try:
        db.session.rollback()
    except SQLAlchemyError:
        current_app.logger.debug("rollback failed after a database error", exc_info=True)


def database_away_response(body: Any = None) -> Response:
    """503 with Retry-After: JSON for scripts and fetch() calls, else ``body`` or the app's own error page."""
    end_failed_transaction()
    forget_user()
    if wants_json():
        resp = jsonify(status="unavailable", database="unreachable",
                       message=MESSAGES[503][1]())
    else:
        resp = current_app.make_response((body if body is not None else render_error(503)[0], 503))
    resp.status_code = 503
    resp.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return resp


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):  # type: ignore[no-untyped-def]
        return csrf_error_response()

    @app.errorhandler(SecurityError)
    def _unknown_host(exc: SecurityError):  # type: ignore[no-untyped-def]
        """A Host outside TRUSTED_HOSTS: no URL can be built for it, so a plain page without links."""
        return _("This service does not answer to this address."), 400, {"Content-Type": "text/plain; charset=utf-8"}

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):  # type: ignore[no-untyped-def]
        return http_error_response(exc)

    def _database_away(exc: Exception) -> Response:
        app.logger.warning("database unavailable on %s %s: %s", request.method, request.path,
                           str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
        return database_away_response()

    for exc_class in DATABASE_AWAY:
        app.register_error_handler(exc_class, _database_away)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        if is_database_away(exc):
            return _database_away(exc)
        end_failed_transaction()
        # The URL rule, not the path: a path can carry a set-password token or a join code.
        rule = request.url_rule.rule if request.url_rule is not None else None
        app.logger.exception("unhandled error on %s %s (request %s)", request.method, rule, current_request_id())
        return render_error(500)
