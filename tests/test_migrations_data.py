"""Migrations with data in the database, on SQLite and PostgreSQL: from every revision up to head nothing is
lost or changed, and downgrading to the base leaves a database that migrates up to a working schema again.

The schema-only check (test_migrations.py) cannot see a migration that rewrites, truncates or drops rows; a
database filled by the demo and a (small) large agency can.
"""

from __future__ import annotations

import random
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, create_engine, inspect, select
from sqlalchemy.exc import IntegrityError

from app.content.current import current
from app.db import Base, db
from app.demo import load as load_demo
from app.demo_large import seed_large_agency
from app.migrate import downgrade, revisions, upgrade
from app.ops.copy import _canonical

Snapshot = dict[str, dict[tuple[str, ...], dict[str, str]]]


def snapshot(url: str) -> Snapshot:
    """Every row of every table (reflected, so it works at any revision), keyed by primary key."""
    engine = create_engine(url)
    out: Snapshot = {}
    with engine.connect() as conn:
        meta = MetaData()
        meta.reflect(conn)
        for name, table in meta.tables.items():
            if name == "alembic_version":
                continue
            pk = list(table.primary_key.columns) or list(table.columns)
            rows = {}
            for row in conn.execute(select(table)):
                values = {k: _canonical(v) for k, v in row._mapping.items()}
                rows[tuple(values[c.name] for c in pk)] = values
            out[name] = rows
    engine.dispose()
    return out


def restricted(snap: Snapshot, to: Snapshot) -> Snapshot:
    """``snap`` cut down to the tables and columns that exist in ``to``."""
    out: Snapshot = {}
    for name, rows in to.items():
        columns = set(next(iter(rows.values()), {})) or None
        out[name] = {k: {c: v for c, v in r.items() if columns is None or c in columns}
                     for k, r in snap.get(name, {}).items()}
    return out


def schema_diff(url: str) -> list[Any]:
    engine = create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    engine.dispose()
    return diff


def fill(app) -> None:
    with app.app_context(), db.writing() as s:
        assert load_demo(s, current())
    with app.app_context(), app.extensions["db_engine"].begin() as conn:
        seed_large_agency(conn, current(), name="Large agency for migrations", n_units=3, per_unit=2,
                          supervisor=("coordinator-m@large-demo.example", "demo-coordinator-pass"),
                          rng=random.Random(7))
    app.extensions["db_engine"].dispose()


def test_every_revision_upgrades_to_head_with_data_and_downgrades_to_base(app, db_url: str) -> None:
    fill(app)
    try:
        check_round_trips(app, db_url)
    finally:
        upgrade(db_url)  # the PostgreSQL test database is shared by the session: leave it at head


def check_round_trips(app, url: str) -> None:
    full = snapshot(url)
    assert len(full["answer"]) > 200 and full["workshop_answer"] and full["audit_event"]
    revs = revisions()
    assert len(revs) >= 3

    for rev in reversed(revs[:-1]):  # step down with data, then back up to head from there
        downgrade(url, rev)
        at_rev = snapshot(url)
        assert at_rev, f"nothing left at revision {rev}"
        assert at_rev == restricted(full, at_rev), f"the downgrade to {rev} changed or lost rows it keeps"
        upgrade(url)
        back = snapshot(url)
        assert restricted(back, at_rev) == at_rev, f"the upgrade from {rev} to head changed or lost rows"
        assert all(not back[n] for n in back if n not in at_rev), "tables created by the upgrade hold rows"
        assert schema_diff(url) == [], f"upgrading from {rev} did not give the models' schema"
        full = back

    downgrade(url, "base")
    engine = create_engine(url)
    with engine.connect() as conn:
        left = set(inspect(conn).get_table_names()) - {"alembic_version"}
    engine.dispose()
    assert left == set()
    upgrade(url)  # the downgraded database is a working starting point again
    assert schema_diff(url) == []
    fill(app)
    assert len(snapshot(url)["answer"]) > 200


def test_wj_0002_proposed_actions_survive_and_downgrade_to_planned(app, world, db_url: str) -> None:
    """wj_0002 adds the 'proposed' status (a CHECK change: SQLite rebuilds the table in batch mode) and the
    proposing workshop. Going down, a proposal becomes a planned action (the old CHECK has no 'proposed');
    every other column and row is kept, and the way back up restores a working schema."""
    from app.actions.models import ActionItem

    with app.app_context(), db.writing() as s:
        for status, reason in (("proposed", ""), ("planned", ""), ("dropped", "Why")):
            s.add(ActionItem(unit_id=world.unit_a1, recommendation_id="r1", content_version="2026.1",
                             title=f"A {status}", description="d", owner_name="", status=status, drop_reason=reason,
                             progress_note="", evidence="", supervisor_remark="",
                             proposed_by="Seminar" if status == "proposed" else ""))
    app.extensions["db_engine"].dispose()
    try:
        before = snapshot(db_url)["action_item"]
        downgrade(db_url, "wj_0001")
        after = snapshot(db_url)["action_item"]
        assert sorted(r["status"] for r in after.values()) == ["dropped", "planned", "planned"]
        assert all("proposed_by" not in r for r in after.values())
        for key, row in after.items():
            old = {k: v for k, v in before[key].items() if k not in ("proposed_by", "status")}
            assert {k: v for k, v in row.items() if k != "status"} == old
        upgrade(db_url)
        assert {r["proposed_by"] for r in snapshot(db_url)["action_item"].values()} == {""}
        assert schema_diff(db_url) == []
        engine = create_engine(db_url)  # the CHECK is back: an unknown status is refused, 'proposed' accepted
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE action_item SET status = 'proposed' WHERE title = 'A planned'")
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql("UPDATE action_item SET status = 'bogus' WHERE title = 'A planned'")
            raise AssertionError("the status CHECK is missing after the round trip")
        except IntegrityError:
            pass
        engine.dispose()
    finally:
        upgrade(db_url)
