"""Alembic environment: the app's models are the target; SQLite runs in batch mode."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import context

from app import models as _models  # noqa: F401  (registers the core tables on Base.metadata)
from app.actions import models as _action_models  # noqa: F401  (and the action plans)
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
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode rebuilds a table (create a copy, drop the old one, rename); with foreign keys enforced,
            # dropping a table that other tables' rows point at fails ("FOREIGN KEY constraint failed") as
            # soon as the database holds data. The pragma only changes outside a transaction, so it is set on
            # the driver's connection before the migration's transaction begins, and the keys are checked
            # after it instead.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=sqlite, compare_type=True, render_item=render_item)
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            connection.rollback()
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
            if broken:
                raise RuntimeError(f"The migration left rows whose foreign keys point nowhere: {broken[:5]}")
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
