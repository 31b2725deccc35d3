"""Run Alembic migrations programmatically (the schema only changes through migrations/)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from .config import ROOT


def alembic_config(url: str) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Step the schema back (``"base"`` drops every table): used by the upgrade/downgrade-with-data tests."""
    command.downgrade(alembic_config(url), revision)


def revisions() -> list[str]:
    """Every revision from the first to head, in upgrade order (new migrations are picked up by themselves)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return [r.revision for r in reversed(list(script.walk_revisions()))]
