"""Join-code guessing is rate-limited per address, counting failed attempts only (a class shares one address)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.db import db
from app.models import AuditEvent

from .test_workshops import join, open_workshop, trainer_browser


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WORKSHOP_JOIN_LIMIT": "4 per 1 minute"}


@pytest.fixture(autouse=True)
def _stopped_clock(frozen_clock):
    return frozen_clock


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_code_guessing_is_limited_but_a_class_behind_one_address_is_not(app, world):
    trainer = trainer_browser(app)
    _wid, code = open_workshop(trainer)
    for _ in range(25):  # a whole class behind one NAT address: successful joins never count
        assert join(app, code, addr="192.0.2.7")[1].status_code == 302
    for guess in ("AAA-AAA", "BBB-BBB", "CCC-CCC", "DDD-DDD"):
        assert join(app, guess, addr="192.0.2.7")[1].status_code == 404
    resp = join(app, "EEE-EEE", addr="192.0.2.7")[1]
    assert resp.status_code == 429 and "Too many attempts" in resp.data.decode()
    assert join(app, code, addr="192.0.2.7")[1].status_code == 429  # this address waits, even with the right code
    assert join(app, code, addr="192.0.2.8")[1].status_code == 302  # other addresses are not affected
    with app.app_context():
        n = db.session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "workshop_join_rate_limited"))
        assert n >= 1
