"""Alembic environment: the app's models are the target; SQLite runs in batch mode."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import context

from app import models as _models  # noqa: F401  (registers the core tables on Base.metadata)
from app.config import normalise_database_url
from app.db import Base, make_engine
from app.workshops import models as _workshop_models  # noqa: F401  (and the workshop tables)

config = context.config
url = config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL") or (
    f"sqlite:///{Path(__file__).resolve().parent.parent / 'instance' / 'thb.sqlite3'}"
)
url = normalise_database_url(url)
target_metadata = Base.metadata


def render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Write our UTCDateTime decorator as a plain timezone-aware DateTime in migration files."""
    if type_ == "type" and type(obj).__name__ == "UTCDateTime":
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite", compare_type=True,
                          render_item=render_item)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
