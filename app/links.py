"""Absolute links the service hands to other people, always built on the configured ``BASE_URL``.

Never on the request's Host (or a proxy's X-Forwarded-Host): a set-password link or a workshop QR code built
from a forged Host would send the person it is given to, and their token or answers, to someone else's
server. The same function serves the web pages and the CLI, which has no request at all.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app


def external_url(endpoint: str, *, base_url: str | None = None, **values: Any) -> str:
    """``endpoint``'s address under BASE_URL (scheme, host, port and any path prefix taken from it);
    ``base_url`` overrides it for one link (the CLI's --base-url)."""
    parts = urlsplit(base_url or current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme)
    return adapter.build(endpoint, values, force_external=True)


def set_password_url(token: str, base_url: str | None = None) -> str:
    """The one-time set-password link, as the person will open it."""
    return external_url("account.set_password", base_url=base_url, token=token)
