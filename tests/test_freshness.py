"""The agency fingerprint that keys the dashboard's and agency report's caches changes with every change they show,
and with nothing outside the agency."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import delete, update

from app.actions.models import ActionItem
from app.db import db
from app.models import Assessment, Unit
from app.supervisor.freshness import agency_fingerprint

from .conftest import World


def _fp(app: Flask, agency_id: int) -> str:
    with app.app_context():
        return agency_fingerprint(db.session, agency_id)


def test_fingerprint_follows_every_change_of_the_agency_and_only_its_own(app: Flask, world: World) -> None:
    seen = {_fp(app, world.agency_a)}

    def changed() -> None:
        now = _fp(app, world.agency_a)
        assert now not in seen
        seen.add(now)

    with app.app_context(), db.writing() as s:
        a = Assessment(unit_id=world.unit_a1, content_version="1.0", title="T")
        s.add(a)
        s.flush()
        aid = a.id
    changed()
    assert _fp(app, world.agency_a) in seen  # reading it twice gives the same value
    with app.app_context(), db.writing() as s:
        s.execute(update(Assessment).where(Assessment.id == aid).values(version_id=Assessment.version_id + 1))
    changed()
    with app.app_context(), db.writing() as s:
        item = ActionItem(unit_id=world.unit_a2, recommendation_id="r1", content_version="1.0", title="Do it")
        s.add(item)
        s.flush()
        item_id = item.id
    changed()
    with app.app_context(), db.writing() as s:
        s.execute(update(ActionItem).where(ActionItem.id == item_id).values(version_id=ActionItem.version_id + 1))
    changed()
    with app.app_context(), db.writing() as s:
        s.execute(update(Unit).where(Unit.id == world.unit_a2).values(name="Unit A2 renamed"))
    changed()
    with app.app_context(), db.writing() as s:
        s.execute(delete(Assessment).where(Assessment.id == aid))
    changed()

    before_b = _fp(app, world.agency_b)
    mine = _fp(app, world.agency_a)
    with app.app_context(), db.writing() as s:
        s.add(Assessment(unit_id=world.unit_b1, content_version="1.0", title="Other agency"))
        s.add(ActionItem(unit_id=world.unit_b1, recommendation_id="r1", content_version="1.0", title="Theirs"))
    assert _fp(app, world.agency_a) == mine
    assert _fp(app, world.agency_b) != before_b
