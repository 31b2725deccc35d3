"""The QR-code join page, rendered once per workshop and kept, with a fresh CSRF token put in per request.

A whole room opens this page in the same second when the trainer shows the QR code, and rendering it
(base layout, two form fields) is about half of the request's CPU. For an anonymous visitor with no
pending flash message the page depends only on the app (its settings name the organisation and the
handling marking), the workshop (id, code, title) and the language, apart from the CSRF token, which is
per session: that token is swapped for a marker in the kept copy and a fresh one is put back in each
response. Signed-in users, pages with messages and the debug server (templates reload) always render.
"""

from __future__ import annotations

from collections.abc import Callable
from threading import Lock

from flask import current_app, session
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from .models import Workshop

MAX_KEPT = 256  # workshops whose join page is kept; a server runs a handful at a time
_MARK = "\x00csrf-token\x00"  # cannot occur in rendered HTML (NUL), so the swap cannot touch anything else

_lock = Lock()


def cacheable() -> bool:
    """Only a page that looks the same for every anonymous visitor may be kept or served from the copy."""
    return not current_app.debug and not current_user.is_authenticated and not session.get("_flashes")


def join_page(w: Workshop, render: Callable[[], str]) -> str:
    """The join page of an open workshop: ``render()`` on first use (or when not cacheable), else the copy."""
    if not cacheable():
        return render()
    kept_pages: dict[tuple[object, ...], str] = current_app.extensions.setdefault("workshop_join_pages", {})
    key = (w.id, w.code, w.title, str(get_locale()))
    kept = kept_pages.get(key)
    if kept is not None:
        return kept.replace(_MARK, generate_csrf())
    html = render()
    token = generate_csrf()  # the one render() used: Flask-WTF keeps it for the request
    # The token is in every form of the page (the join form and the language chooser).
    if token in html:
        with _lock:
            if len(kept_pages) >= MAX_KEPT:
                kept_pages.clear()
            kept_pages[key] = html.replace(token, _MARK)
    return html
