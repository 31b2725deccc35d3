"""Configuration: safe defaults, overridden by environment variables (documented in README.md)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask_babel import gettext as _

ROOT = Path(__file__).resolve().parent.parent
DEV_BASE_URL = "http://127.0.0.1:5000"
LOOPBACK_HOSTS = ("localhost", "127.0.0.1")
ENVIRONMENTS = ("development", "test", "production")
PLACEHOLDER_KEYS = frozenset({"changeme", "change-me", "change_me", "secret", "dev", "development", "test",
                              "please-change-me", "your-secret-key", "x" * 32})


class ConfigError(RuntimeError):
    """Raised when the service must not start with the configuration it was given."""


def normalise_database_url(url: str) -> str:
    """Let operators write the usual ``postgresql://`` URL while we always use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _dev_secret(instance_path: Path) -> str:
    """A per-checkout random key for development, kept in the instance folder, never in the repo."""
    instance_path.mkdir(parents=True, exist_ok=True)
    key_file = instance_path / "dev-secret-key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def load_config(instance_path: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the config mapping from defaults, environment and explicit overrides (tests)."""
    env = os.environ
    overrides = dict(overrides or {})
    app_env = overrides.pop("APP_ENV", None) or env.get("APP_ENV", "production")
    if app_env not in ENVIRONMENTS:
        raise ConfigError(f"APP_ENV must be one of {', '.join(ENVIRONMENTS)}, not {app_env!r}")
    default_db = f"sqlite:///{instance_path / 'thb.sqlite3'}"
    cfg: dict[str, Any] = {
        "APP_ENV": app_env,
        "TESTING": app_env == "test",
        "SECRET_KEY": env.get("SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(env.get("DATABASE_URL", default_db)),
        "SQLALCHEMY_ECHO": _bool(env.get("SQL_ECHO"), False),
        "CONTENT_FILE": env.get("CONTENT_FILE", str(ROOT / "recommendations.json")),
        "CONTENT_ARCHIVE_DIR": env.get("CONTENT_ARCHIVE_DIR", str(ROOT / "content_versions")),
        "HANDLING_MARKING": env.get("HANDLING_MARKING", "RESTRICTED"),
        "ORGANISATION_NAME": env.get("ORGANISATION_NAME", "Gap assessment service"),
        # Supervisors: a unit with no submitted assessment within this many months is shown as overdue.
        "REVIEW_INTERVAL_MONTHS": int(env.get("REVIEW_INTERVAL_MONTHS", "12")),
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH", str(1024 * 1024))),
        # Rate-limit counters: the app's database unless REDIS_URL is set ("memory://" only outside production:
        # each worker process would count on its own). See app/ratelimit.py and README "Login limits".
        "RATELIMIT_STORAGE_URI": env.get("REDIS_URL") or env.get("RATELIMIT_STORAGE_URI") or "database",
        "LOGIN_LIMIT": env.get("LOGIN_LIMIT", "10 per 15 minutes"),  # failed logins per account and address
        "LOGIN_ACCOUNT_LIMIT": env.get("LOGIN_ACCOUNT_LIMIT", "100 per 15 minutes"),  # per account, all addresses
        "LOGIN_IP_LIMIT": env.get("LOGIN_IP_LIMIT", "50 per 15 minutes"),  # failed logins per address
        # Workshops: participant answers are deleted this many days after closing; failed join-code attempts
        # are limited per address (successful joins never count: a class shares one NAT address).
        "WORKSHOP_RETENTION_DAYS": int(env.get("WORKSHOP_RETENTION_DAYS", "30")),
        "WORKSHOP_CODE_HOURS": int(env.get("WORKSHOP_CODE_HOURS", "12")),
        "WORKSHOP_JOIN_LIMIT": env.get("WORKSHOP_JOIN_LIMIT", "60 per 10 minutes"),
        # Accounts: password policy and lifetime of one-time set-password links.
        "PASSWORD_MIN_LENGTH": int(env.get("PASSWORD_MIN_LENGTH", "12")),
        "SET_PASSWORD_HOURS": int(env.get("SET_PASSWORD_HOURS", "72")),
        # The service's own address: every link handed to other people (set-password links, the workshop join
        # address and QR code) is built on it, never on the Host a request came with. Required in production.
        "BASE_URL": env.get("BASE_URL") or (None if app_env == "production" else DEV_BASE_URL),
        # Further host names the service answers to (comma-separated), besides BASE_URL's; others get 400.
        "TRUSTED_HOSTS": env.get("TRUSTED_HOSTS", ""),
        "SESSION_IDLE_MINUTES": int(env.get("SESSION_IDLE_MINUTES", "30")),
        "SESSION_MAX_HOURS": int(env.get("SESSION_MAX_HOURS", "12")),
        # How stale the idle clock in the session cookie may get before a request refreshes it (app.auth): a
        # cookie whose content is unchanged is not signed and sent again, which every page view did before.
        "SESSION_SEEN_REFRESH_SECONDS": int(env.get("SESSION_SEEN_REFRESH_SECONDS", "60")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), app_env == "production"),
        "SESSION_COOKIE_NAME": "thb_session",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": int(env.get("WTF_CSRF_TIME_LIMIT", "3600")),
        # Languages offered (the catalogs in app/translations and recommendations.<lang>.json must exist for
        # each) and the one used when neither the account, the cookie nor the browser names one of them.
        "LANGUAGES": [c.strip() for c in env.get("LANGUAGES", "en,es,ca,fr,de").split(",") if c.strip()],
        "DEFAULT_LANGUAGE": env.get("DEFAULT_LANGUAGE", "en"),
        "PREFERRED_URL_SCHEME": "https" if app_env == "production" else "http",
        "TRUSTED_PROXIES": int(env.get("TRUSTED_PROXIES", "0")),
        # Render report PDFs in a background thread after a submission, sign-off, reopening or workshop closing
        # (and re-render the agency report where it was asked for), so the first download is ready (app.background).
        "PREPARE_REPORTS": _bool(env.get("PREPARE_REPORTS"), True),
        # One JSON line per request on stderr (app/requestlog.py); 0 turns it off.
        "REQUEST_LOG": _bool(env.get("REQUEST_LOG"), True),
    }
    cfg.update(overrides)
    if cfg["APP_ENV"] == "production" and cfg.get("SECRET_KEY"):
        key = str(cfg["SECRET_KEY"])
        if len(key) < 32 or key.lower() in PLACEHOLDER_KEYS:
            raise ConfigError("SECRET_KEY is too short or a well-known placeholder: use at least 32 random "
                              "characters of your own (`python -c 'import secrets; print(secrets.token_hex(32))'`).")
    if not cfg.get("SECRET_KEY"):
        if cfg["APP_ENV"] == "production":
            raise ConfigError(
                "SECRET_KEY is not set. Generate one with "
                "`python -c 'import secrets; print(secrets.token_hex(32))'` and export it, "
                "or set APP_ENV=development for a local trial."
            )
        cfg["SECRET_KEY"] = _dev_secret(instance_path)
    cfg["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(cfg["SQLALCHEMY_DATABASE_URI"])
    if cfg["APP_ENV"] == "production" and str(cfg["RATELIMIT_STORAGE_URI"]).startswith("memory://"):
        raise ConfigError("RATELIMIT_STORAGE_URI=memory:// keeps rate limits in each worker's memory, so they do "
                          "not hold across workers or restarts. Unset it (the database keeps the counters) or "
                          "set REDIS_URL.")
    cfg["BASE_URL"] = check_base_url(cfg.get("BASE_URL"))
    cfg["TRUSTED_HOSTS"] = trusted_hosts(cfg["BASE_URL"], cfg["TRUSTED_HOSTS"], cfg["APP_ENV"])
    if cfg["DEFAULT_LANGUAGE"] not in cfg["LANGUAGES"]:
        raise ConfigError(f"DEFAULT_LANGUAGE {cfg['DEFAULT_LANGUAGE']!r} is not one of LANGUAGES "
                          f"({', '.join(cfg['LANGUAGES'])}).")
    cfg["BABEL_DEFAULT_LOCALE"] = cfg["DEFAULT_LANGUAGE"]
    return cfg


def check_base_url(value: str | None) -> str:
    """The configured address of the service, without a trailing slash; refuses to start without a usable one.

    Its messages are in the catalogs because `flask users create --base-url` shows them (in DEFAULT_LANGUAGE);
    at start-up, before the app exists, they are English."""
    if not value:
        raise ConfigError(_("BASE_URL is not set. Set it to the address people open the service with, such as "
                            "https://assess.police.example (links given to other people are built on it)."))
    base = str(value).strip().rstrip("/")
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(_("BASE_URL must be an http:// or https:// address without query, such as "
                            "https://assess.police.example, not %(value)s.", value=repr(value)))
    return base


def trusted_hosts(base_url: str, extra: str | list[str] | None, app_env: str) -> list[str]:
    """Host names requests may carry (Flask refuses others with 400): BASE_URL's, the listed ones, and on a
    developer's machine the loopback names."""
    hosts = [urlsplit(base_url).hostname or ""]
    listed = extra.split(",") if isinstance(extra, str) else list(extra or [])
    hosts += [h.strip().lower() for h in listed if h.strip()]
    if app_env != "production":
        hosts += list(LOOPBACK_HOSTS)
    return list(dict.fromkeys(hosts))
