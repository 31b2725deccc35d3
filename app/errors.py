"""Generic error pages in the app's look; never a stack trace. The 500 handler rolls back."""

from __future__ import annotations

from typing import NoReturn

from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, SecurityError, default_exceptions

from .db import db

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
}


def fail(code: int, message: str) -> NoReturn:
    """Stop the request with ``code`` and a message meant for the user (shown on the error page)."""
    exc = _CODES[code]()
    exc.user_message = message  # type: ignore[attr-defined]
    raise exc


def render_error(code: int, detail: str | None = None) -> tuple[str, int]:
    title, text = MESSAGES.get(code, MESSAGES[500])
    return render_template("error.html", code=code, title=title(), text=detail or text()), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):  # type: ignore[no-untyped-def]
        from .assessments.views import recover_after_csrf_error

        recovered = recover_after_csrf_error()
        if recovered is not None:
            return recovered
        return render_error(400, _("The form had expired or was not sent from this site. "
                                   "Please go back, reload the page and try again."))

    @app.errorhandler(SecurityError)
    def _unknown_host(exc: SecurityError):  # type: ignore[no-untyped-def]
        """A Host outside TRUSTED_HOSTS: no URL can be built for it, so a plain page without links."""
        return _("This service does not answer to this address."), 400, {"Content-Type": "text/plain; charset=utf-8"}

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):  # type: ignore[no-untyped-def]
        code = exc.code or 500
        if code >= 500:
            db.session.rollback()
        body, code = render_error(code, getattr(exc, "user_message", None))
        headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
        return body, code, headers

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(500)
