"""Extensions, created unbound and wired in create_app (DESIGN.md section 7, convention 1)."""

from __future__ import annotations

from flask import request
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf import CSRFProtect


def client_address() -> str:
    """The caller's address as seen after ProxyFix (configured from TRUSTED_PROXIES)."""
    return request.remote_addr or "unknown"


csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()
