"""`flask backup` / `flask restore` on SQLite and PostgreSQL: back up, change data, restore, data back."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app import create_app
from app.db import db
from app.migrate import upgrade
from app.models import Agency, AuditEvent, Unit
from app.ops.backup import kind_of_file, prune


def run(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def snapshot(app) -> tuple[list[str], int, int]:
    with app.app_context():
        names = sorted(db.session.scalars(select(Agency.name)))
        units = db.session.scalar(select(func.count()).select_from(Unit))
        events = db.session.scalar(select(func.count()).select_from(AuditEvent))
        db.session.close()
    return names, units, events


def change_data(app, world) -> None:
    with app.app_context(), db.writing() as s:
        s.get(Agency, world.agency_a).name = "Renamed after the backup"
        s.add(Unit(name="Unit added after the backup", agency_id=world.agency_b))
        s.add(AuditEvent(actor="test", action="after_backup"))


def test_backup_then_restore_brings_the_data_back(app, world, tmp_path: Path) -> None:
    before = snapshot(app)
    dest = tmp_path / "backups" / ("b.sqlite3" if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
                                   else "b.dump")
    out = run(app, "backup", "--output", str(dest))
    assert out.exit_code == 0, out.output
    assert re.search(r"Backed up the (sqlite|postgresql) database \(revision \w+, \d+ tables, \d+ rows\) to ",
                     out.output), out.output
    assert dest.is_file() and dest.stat().st_mode & 0o077 == 0  # restricted data: owner only
    assert not list(dest.parent.glob("*.partial"))

    change_data(app, world)
    changed = snapshot(app)
    assert changed != before

    refused = run(app, "restore", str(dest))
    assert refused.exit_code == 1
    assert "not empty" in refused.output and "--yes" in refused.output
    assert snapshot(app) == changed  # nothing touched

    out = run(app, "restore", str(dest), "--yes")
    assert out.exit_code == 0, out.output
    assert f"from {dest}" in out.output and "Restored the" in out.output
    assert snapshot(app) == before
    # The restored database is fully usable by the app: it can write again.
    with app.app_context(), db.writing() as s:
        s.add(Agency(name="Written after the restore"))
    assert "Written after the restore" in snapshot(app)[0]


def test_backup_never_overwrites_a_file(app, world, tmp_path: Path) -> None:
    dest = tmp_path / "exists.bin"
    dest.write_bytes(b"precious")
    out = run(app, "backup", "--output", str(dest))
    assert out.exit_code == 1 and "already exists" in out.output
    assert dest.read_bytes() == b"precious"


def test_backup_into_a_directory_names_the_file_by_time_and_kind(app, world, tmp_path: Path) -> None:
    out = run(app, "backup", "--dir", str(tmp_path / "nightly"), "--keep", "3")
    assert out.exit_code == 0, out.output
    (made,) = (tmp_path / "nightly").iterdir()
    assert re.fullmatch(r"thb-\d{8}T\d{6}Z\.(sqlite3|dump)", made.name)
    assert kind_of_file(made) == ("sqlite" if made.suffix == ".sqlite3" else "postgresql")


def test_prune_keeps_the_newest(tmp_path: Path) -> None:
    names = [f"thb-2026120{d}T031500Z.dump" for d in range(1, 6)]
    for n in names:
        (tmp_path / n).write_bytes(b"PGDMP")
    (tmp_path / "notes.txt").write_text("not a backup")
    deleted = prune(tmp_path, 2)
    assert sorted(p.name for p in deleted) == names[:3]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*names[3:], "notes.txt"])


def test_restore_refuses_a_file_that_is_not_a_backup(app, world, tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.dump"
    bogus.write_bytes(b"hello, not a database")
    before = snapshot(app)
    out = run(app, "restore", str(bogus), "--yes")
    assert out.exit_code == 1 and "neither a SQLite backup nor a pg_dump" in out.output
    assert snapshot(app) == before


def test_restore_refuses_a_backup_of_the_other_kind(app, world, tmp_path: Path) -> None:
    is_sqlite = app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    other = tmp_path / "other"
    other.write_bytes(b"PGDMP\x01\x0e" if is_sqlite else b"SQLite format 3\x00" + b"\x00" * 84)
    out = run(app, "restore", str(other), "--yes")
    assert out.exit_code == 1
    assert ("is a postgresql backup and the configured database is sqlite" in out.output if is_sqlite
            else "flask copy-to-postgres" in out.output), out.output


@pytest.fixture
def empty_target(request: pytest.FixtureRequest, db_url: str, tmp_path: Path) -> str:
    """A database that holds nothing, of the same kind as ``db_url`` (the restore drill's target)."""
    if db_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'drill.sqlite3'}"
    return request.getfixturevalue("fresh_pg_url")


def test_restore_drill_into_an_empty_database_needs_no_yes(app, world, app_config, empty_target, tmp_path) -> None:
    dest = tmp_path / "drill-backup"
    assert run(app, "backup", "--output", str(dest)).exit_code == 0
    drill = create_app({**app_config, "SQLALCHEMY_DATABASE_URI": empty_target})
    try:
        out = run(drill, "restore", str(dest))
        assert out.exit_code == 0, out.output
        assert snapshot(drill) == snapshot(app)
        upgrade(drill.config["SQLALCHEMY_DATABASE_URI"])  # already at head: nothing to do, nothing breaks
    finally:
        drill.extensions["db_engine"].dispose()
