"""Retention: participant-level answers go WORKSHOP_RETENTION_DAYS after closing (cron command and on access);
per-question counts, participation and the consensus stay, and the board and report still render."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.db import db
from app.models import AuditEvent
from app.workshops import services
from app.workshops.models import Participant, Workshop, WorkshopAggregate, WorkshopAnswer, WorkshopConsensus

from .helpers import CONTENT
from .test_workshops import answer, open_workshop, participant, trainer_browser

R1 = CONTENT.recommendation_by_number[1]


def _fill(app, trainer, title: str, n: int = 4) -> int:
    wid, code = open_workshop(trainer, title, ["r1"])
    for i in range(n):
        answer(participant(app, code, role="analyst"), wid, 1, [str(i % 5), "2", "na", "unknown"])
    return wid


def _set(app, wid: int, **values) -> None:
    with app.app_context(), db.writing() as s:
        w = s.get(Workshop, wid)
        for k, v in values.items():
            setattr(w, k, v)


def _count(app, model, wid: int) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(model.workshop_id == wid))


def _counts(app, wid: int) -> tuple[dict, services.Participation]:
    with app.app_context():
        w = db.session.get(Workshop, wid)
        return services.answer_counts(db.session, w), services.participation(db.session, w, 4)


def test_purge_removes_exactly_the_expired_participant_answers(app, world):
    trainer = trainer_browser(app)
    now = services.utcnow()
    old = _fill(app, trainer, "Old course")
    recent = _fill(app, trainer, "Recent course")
    running = _fill(app, trainer, "Running course")
    abandoned = _fill(app, trainer, "Forgotten course", n=3)
    trainer.get(f"/workshops/{old}/consensus")
    trainer.post(f"/workshops/{old}/consensus", {f"c_{q.id}": "2" for q in R1.questions})
    _set(app, old, status="closed", open_code=None, closed_at=now - timedelta(days=31))
    _set(app, recent, status="closed", open_code=None, closed_at=now - timedelta(days=29))
    _set(app, abandoned, code_expires_at=now - timedelta(days=40))
    before_counts, before_part = _counts(app, old)
    untouched = {w: (_count(app, WorkshopAnswer, w), _count(app, Participant, w)) for w in (recent, running)}

    result = app.test_cli_runner().invoke(args=["workshops", "purge"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"workshop {old} 'Old course': deleted 4 participants and 16 answers" in out
    assert f"workshop {abandoned} 'Forgotten course': deleted 3 participants and 12 answers" in out
    assert "abandoned" in out and "2 workshops purged (retention 30 days)." in out
    for wid in (old, abandoned):
        assert _count(app, WorkshopAnswer, wid) == 0 and _count(app, Participant, wid) == 0
        assert _count(app, WorkshopAggregate, wid) == 4
    # Aggregates and consensus stay, and read exactly as before.
    after_counts, after_part = _counts(app, old)
    assert after_counts == before_counts and after_part == before_part and after_part.joined == 4
    assert _count(app, WorkshopConsensus, old) == 4
    for w, (answers, people) in untouched.items():
        assert (_count(app, WorkshopAnswer, w), _count(app, Participant, w)) == (answers, people)
    with app.app_context():
        w = db.session.get(Workshop, abandoned)
        assert w.status == "closed" and w.open_code is None and w.purged_at is not None
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "workshop_purged")) == 2
    # The board and the report of a purged workshop still show the group's figures.
    board = trainer.get(f"/workshops/{old}").data.decode()
    assert "individual answers were deleted" in board and 'class="hist"' in board
    report = trainer.get(f"/workshops/{old}/report").data.decode()
    assert "Old course" in report and "analyst (4)" in report
    assert trainer.get(f"/workshops/{old}/report.pdf").status_code == 200
    # A purged workshop cannot be reopened (its participants are gone); running it again is a no-op.
    trainer.get(f"/workshops/{old}")
    resp = trainer.post(f"/workshops/{old}/reopen")
    assert resp.status_code == 409 and "cannot be reopened" in resp.data.decode()
    again = app.test_cli_runner().invoke(args=["workshops", "purge"])
    assert "0 workshops purged" in again.output


def test_purge_on_access_when_the_board_or_report_is_opened(app, world):
    trainer = trainer_browser(app)
    wid = _fill(app, trainer, "Course")
    _set(app, wid, status="closed", open_code=None, closed_at=services.utcnow() - timedelta(days=30, minutes=1))
    before, _p = _counts(app, wid)
    resp = trainer.get(f"/workshops/{wid}/report")
    assert resp.status_code == 200
    assert _count(app, WorkshopAnswer, wid) == 0 and _count(app, Participant, wid) == 0
    assert _counts(app, wid)[0] == before


def test_retention_days_is_configurable(app, world):
    trainer = trainer_browser(app)
    wid = _fill(app, trainer, "Course")
    _set(app, wid, status="closed", open_code=None, closed_at=services.utcnow() - timedelta(days=3))
    assert "0 workshops purged" in app.test_cli_runner().invoke(args=["workshops", "purge"]).output
    out = app.test_cli_runner().invoke(args=["workshops", "purge", "--days", "2"]).output
    assert f"workshop {wid}" in out and "(retention 2 days)" in out
    assert _count(app, WorkshopAnswer, wid) == 0
