"""Demo workshops for `make run`: one running with a handful of participants, one closed with a consensus."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy.orm import Session

from ..content import Content
from ..models import User, utcnow
from . import services
from .models import WorkshopAnswer

# Per participant, a leaning (0-4) around which they answer; the spread makes some questions disputed.
LEANINGS = (1, 1, 2, 2, 2, 3, 4)
ROLES = ("investigator", "investigator", "investigator", "analyst", "analyst", "analyst", "")
# The closed seminar's group mostly agrees, with one optimist: a few hotspots, not everything.
SEMINAR = ((2, "investigator"), (2, "investigator"), (2, "investigator"), (1, "analyst"), (2, "analyst"),
           (3, "analyst"), (2, ""), (4, ""))


def _answers(session: Session, w_id: int, participant_id: int, content: Content, rec_ids: list[str],
             leaning: int, rng: random.Random, skip_last: bool) -> None:
    for rid in rec_ids:
        qs = content.recommendation_by_id[rid].questions
        for q in qs[:-1] if skip_last else qs:
            roll = rng.random()
            value = "unknown" if roll < 0.06 else "na" if roll < 0.09 else str(
                max(0, min(4, leaning + rng.choice((-1, 0, 0, 0, 1)))))
            session.add(WorkshopAnswer(workshop_id=w_id, participant_id=participant_id, question_id=q.id,
                                       value=value))


def load(session: Session, content: Content, trainer: User) -> None:
    """Add the demo workshops (called once from app.demo.load)."""
    rng = random.Random(2026)  # noqa: S311  (demo data, not a secret)
    running = services.create_workshop(session, trainer, "Demo: THB investigators course (running)", content,
                                       ["r1", "r2", "r4", "r7"], "all", 24 * 30)
    for i, (leaning, role) in enumerate(zip(LEANINGS, ROLES, strict=True)):
        p, _token = services.join(session, running.id, role)
        # The last two people have not reached the last question of each recommendation yet: below k=3 there.
        _answers(session, running.id, p.id, content, running.rec_ids, leaning, rng, skip_last=i >= 2)
    closed = services.create_workshop(session, trainer, "Demo: Academy seminar, spring (closed)", content,
                                      [r.id for r in content.recommendations], "all", 12)
    for leaning, role in SEMINAR:
        p, _token = services.join(session, closed.id, role)
        _answers(session, closed.id, p.id, content, closed.rec_ids, leaning, rng, skip_last=False)
    session.flush()
    from .board import build_board

    group = build_board(content, closed.rec_ids, services.answer_counts(session, closed)).group_values
    services.record_consensus(session, closed, trainer, content, group)
    services.close_workshop(session, closed, trainer)
    closed.created_at = closed.created_at - timedelta(days=6)
    closed.closed_at = utcnow() - timedelta(days=5)
    session.flush()
