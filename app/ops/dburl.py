"""Database URLs as the external tools (pg_dump, pg_restore) and sqlite3 want them."""

from __future__ import annotations

import os
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy.engine import make_url

from ..config import normalise_database_url


class OpsError(RuntimeError):
    """A refused or failed operation; the CLI prints the message and exits with status 1.

    Messages come from the catalogs (DEFAULT_LANGUAGE in the CLI; English outside an app context)."""


def dialect(url: str) -> str:
    """'sqlite' or 'postgresql' (anything else is refused: the app supports only these two)."""
    name = make_url(normalise_database_url(url)).get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise OpsError(_("Unsupported database %(name)s: use sqlite:///path or postgresql://...", name=repr(name)))
    return name


def sqlite_path(url: str) -> Path:
    """The file behind a sqlite:/// URL (an in-memory database cannot be backed up or restored)."""
    database = make_url(url).database
    if not database or database == ":memory:":
        raise OpsError(_("An in-memory SQLite database has nothing to back up or restore."))
    return Path(database)


def libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection URI without the password, and the environment carrying it.

    The password goes in PGPASSWORD rather than on the command line, where any local user could read it
    in the process list while pg_dump runs.
    """
    parsed = make_url(normalise_database_url(url))
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env
