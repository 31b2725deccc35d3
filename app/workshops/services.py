"""Workshop use cases. Services take a session and flush; views (or the CLI) commit.

Participants are identified only by the SHA-256 of a random 256-bit token kept in their cookie, so a database
dump does not let anyone act as a participant, and nothing personal is ever asked.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import Delete, bindparam, delete, func, select
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from .. import audit
from ..assessments.services import create_assessment
from ..content import Content
from ..db import upsert
from ..models import Answer, AuditEvent, Unit, User, utcnow
from ..scoring import VALID_VALUES
from .board import K_MIN
from .models import (
    Pacing,
    Participant,
    Workshop,
    WorkshopAggregate,
    WorkshopAnswer,
    WorkshopConsensus,
    WorkshopStatus,
)

# No 0/O, 1/I/L: a code read aloud or copied from a projector cannot be mistyped into another valid one.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
TOKEN_BYTES = 32  # 256 bits; the cookie grants write access to one participant's answers
ROLE_LABEL_MAX = 40


class StateError(Exception):
    """The action does not fit the workshop's current state. The message is shown to the user (translated)."""


class ClosedError(StateError):
    """The workshop is closed: answers are read-only."""


class NotOpenError(StateError):
    """Paced workshop: the trainer has not opened this recommendation now."""


# --- join codes -------------------------------------------------------------------------------------------


def normalise_code(raw: str | None) -> str:
    """What people type: any case, spaces or dashes ("abc-234" → "ABC234")."""
    return re.sub(r"[^A-Za-z0-9]", "", raw or "").upper()[:32]


def format_code(code: str) -> str:
    """Split in two halves for reading aloud and for the projector."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def is_well_formed(code: str) -> bool:
    """Length and alphabet of a join code: a malformed code is refused without a database query."""
    return len(code) == CODE_LENGTH and all(c in CODE_ALPHABET for c in code)


def _new_code(session: Session) -> str:
    """A random code not used by any open workshop (the unique open_code column is the final guard)."""
    for _ in range(50):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if session.scalar(select(func.count()).select_from(Workshop).where(Workshop.open_code == code)) == 0:
            return code
    raise RuntimeError("could not find a free join code")  # 887 million codes: practically unreachable


def token_hash(token: str) -> str:
    """What is stored of a participant's cookie token: a database dump does not let anyone act as them."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# --- trainer actions ----------------------------------------------------------------------------------------


def create_workshop(session: Session, user: User, title: str, content: Content, rec_ids: Iterable[str],
                    pacing: str, code_hours: int) -> Workshop:
    """Open a workshop in the trainer's agency with a fresh join code valid for ``code_hours``."""
    if user.agency_id is None:
        raise StateError(_l("a trainer without an agency cannot open workshops"))
    wanted = set(rec_ids)
    ordered = [r.id for r in content.recommendations if r.id in wanted]
    if not ordered:
        raise StateError(_l("choose at least one recommendation"))
    if pacing not in (Pacing.ALL.value, Pacing.ONE.value):
        raise StateError(_l("unknown pacing"))
    now = utcnow()
    code = _new_code(session)
    w = Workshop(agency_id=user.agency_id, created_by_id=user.id, title=title, content_version=content.version,
                 recommendation_ids=",".join(ordered), pacing=pacing,
                 open_recommendation_id=ordered[0] if pacing == Pacing.ONE.value else None,
                 code=code, open_code=code, code_expires_at=now + timedelta(hours=code_hours),
                 status=WorkshopStatus.OPEN.value, created_at=now, updated_at=now)
    session.add(w)
    session.flush()
    audit.record(session, "workshop_opened", "workshop", w.id, user=user, agency_id=w.agency_id,
                 detail=f"{len(ordered)} recommendation(s), pacing {pacing}")
    return w


def close_workshop(session: Session, w: Workshop, user: User) -> bool:
    """Stop answers and free the code. Returns False when it was already closed."""
    if not w.is_open:
        return False
    now = utcnow()
    w.status, w.open_code, w.closed_at, w.updated_at = WorkshopStatus.CLOSED.value, None, now, now
    session.flush()
    audit.record(session, "workshop_closed", "workshop", w.id, user=user, agency_id=w.agency_id)
    return True


def reopen_workshop(session: Session, w: Workshop, user: User, code_hours: int) -> bool:
    """Accept answers again and renew the join code's validity; a new code if another workshop took it.

    Also renews an open workshop whose code expired (late arrivals). Returns True when the code changed.
    """
    if w.purged_at is not None:
        raise StateError(_l("participants' answers were deleted after the retention period"))
    now = utcnow()
    changed = False
    if not w.is_open:
        taken = session.scalar(select(func.count()).select_from(Workshop)
                               .where(Workshop.open_code == w.code, Workshop.id != w.id))
        if taken:
            w.code, changed = _new_code(session), True
        w.status, w.open_code, w.closed_at = WorkshopStatus.OPEN.value, w.code, None
    w.code_expires_at, w.updated_at = now + timedelta(hours=code_hours), now
    session.flush()
    audit.record(session, "workshop_reopened", "workshop", w.id, user=user, agency_id=w.agency_id,
                 detail="new code" if changed else "")
    return changed


def set_pace(session: Session, w: Workshop, rec_id: str | None) -> None:
    """Open one recommendation (paced) or all of them (``rec_id`` None)."""
    if rec_id is None:
        w.pacing, w.open_recommendation_id = Pacing.ALL.value, None
    else:
        if rec_id not in w.rec_ids:
            raise StateError(_l("that recommendation is not part of this workshop"))
        w.pacing, w.open_recommendation_id = Pacing.ONE.value, rec_id
    w.updated_at = utcnow()
    session.flush()


def answerable_rec_ids(w: Workshop) -> list[str]:
    """Recommendations participants may answer now (none when closed)."""
    if not w.is_open:
        return []
    if w.pacing == Pacing.ONE.value:
        return [w.open_recommendation_id] if w.open_recommendation_id in w.rec_ids else []
    return w.rec_ids


# --- joining and answering ------------------------------------------------------------------------------------


JOIN_OK, JOIN_WRONG, JOIN_CLOSED, JOIN_EXPIRED = "ok", "wrong", "closed", "expired"
_BY_OPEN_CODE = select(Workshop).where(Workshop.open_code == bindparam("code"))  # built once: a room joins at once


def find_for_join(session: Session, raw_code: str | None, now: datetime | None = None) -> tuple[Workshop | None, str]:
    """Resolve a typed code: the open workshop, or why not (wrong code, workshop closed, code expired)."""
    code = normalise_code(raw_code)
    if not is_well_formed(code):
        return None, JOIN_WRONG
    now = now or utcnow()
    w = session.scalars(_BY_OPEN_CODE, {"code": code}).first()
    if w is not None:
        return (w, JOIN_OK) if w.code_expires_at > now else (w, JOIN_EXPIRED)
    old = session.scalars(select(Workshop).where(Workshop.code == code).order_by(Workshop.id.desc())).first()
    if old is None:
        return None, JOIN_WRONG
    return old, (JOIN_EXPIRED if old.purged_at is not None else JOIN_CLOSED)


def join(session: Session, workshop_id: int, role_label: str) -> tuple[Participant, str]:
    """Create an anonymous participant; returns it and the token for the cookie (only its hash is stored)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    p = Participant(workshop_id=workshop_id, token_hash=token_hash(token),
                    role_label=role_label.strip()[:ROLE_LABEL_MAX])
    session.add(p)
    session.flush()
    return p, token


# The statements on every participant request are built once: constructing a select costs more CPU than
# SQLite takes to run it, and 200 people send several requests a second.
_PARTICIPANT = select(Participant).where(Participant.token_hash == bindparam("token_hash"),
                                         Participant.workshop_id == bindparam("workshop_id"))
_WORKSHOP_AND_PARTICIPANT = (select(Workshop, Participant).join(Participant, Participant.workshop_id == Workshop.id)
                             .where(Workshop.id == bindparam("workshop_id"),
                                    Participant.token_hash == bindparam("token_hash")))
_MY_ANSWERS = select(WorkshopAnswer.question_id, WorkshopAnswer.value).where(
    WorkshopAnswer.participant_id == bindparam("participant_id"))
_WORKSHOP_FOR_SAVE = (select(Workshop).where(Workshop.id == bindparam("workshop_id")).with_for_update(read=True)
                      .execution_options(populate_existing=True))


def _usable_token(token: str | None) -> bool:
    return bool(token) and len(token or "") <= 200


def participant_for(session: Session, workshop_id: int, token: str | None) -> Participant | None:
    """The participant this cookie token belongs to in this workshop; None if absent, oversized or unknown."""
    if not _usable_token(token):
        return None
    return session.scalars(_PARTICIPANT, {"token_hash": token_hash(token or ""), "workshop_id": workshop_id}).first()


def workshop_and_participant(session: Session, workshop_id: int,
                             token: str | None) -> tuple[Workshop, Participant] | None:
    """The workshop and the participant this cookie token belongs to, in one query; None if it has not joined."""
    if not _usable_token(token):
        return None
    row = session.execute(_WORKSHOP_AND_PARTICIPANT,
                          {"workshop_id": workshop_id, "token_hash": token_hash(token or "")}).first()
    return (row[0], row[1]) if row is not None else None


def my_answers(session: Session, participant: Participant) -> dict[str, str]:
    """Question id -> value of one participant's own answers (a participant never sees anyone else's)."""
    return {qid: value for qid, value in session.execute(_MY_ANSWERS, {"participant_id": participant.id})}


def workshop_for_save(session: Session, workshop_id: int) -> Workshop:
    """The workshop, share-locked on PostgreSQL for the saving transaction: a concurrent close waits for the
    saves already under way, and saves after it see it closed (SQLite: the write lock does the same)."""
    return session.scalars(_WORKSHOP_FOR_SAVE, {"workshop_id": workshop_id}).one()


def save_answers(session: Session, w: Workshop, participant_id: int, content: Content, rec_id: str,
                 values: Mapping[str, str | None]) -> int:
    """Store one participant's answers to one recommendation; unselected questions stay as they were."""
    if not w.is_open:
        raise ClosedError(_l("the workshop is closed"))
    if rec_id not in answerable_rec_ids(w):
        raise NotOpenError(_l("this recommendation is not open now"))
    rec = content.recommendation_by_id[rec_id]
    allowed = {q.id for q in rec.questions}
    now = utcnow()
    rows = []
    for qid, value in values.items():
        if value is None:
            continue
        if qid not in allowed or value not in VALID_VALUES:
            raise ValueError(f"not an answer to {rec_id}: {qid}={value!r}")
        rows.append({"workshop_id": w.id, "participant_id": participant_id, "question_id": qid, "value": value,
                     "updated_at": now})
    upsert(session, WorkshopAnswer, rows, ["participant_id", "question_id"], ["value", "updated_at"])
    session.flush()
    return len(rows)


# --- aggregates -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Participation:
    joined: int
    answered: int  # gave at least one answer
    complete: int  # answered every question of the workshop
    roles: list[tuple[str, int]] = field(default_factory=list)  # labels given by >= K_MIN people
    other_roles: int = 0  # people whose label is rarer than K_MIN or who gave none

    def to_json(self) -> str:
        return json.dumps({"joined": self.joined, "answered": self.answered, "complete": self.complete,
                           "roles": self.roles, "other_roles": self.other_roles})

    @classmethod
    def from_json(cls, raw: str) -> Participation:
        d = json.loads(raw)
        return cls(d["joined"], d["answered"], d["complete"], [(r, c) for r, c in d["roles"]], d["other_roles"])


def answer_counts(session: Session, w: Workshop) -> dict[str, dict[str, int]]:
    """question id → value → count: live from participants' answers, or the snapshot after purging."""
    if w.purged_at is not None:
        rows = session.scalars(select(WorkshopAggregate).where(WorkshopAggregate.workshop_id == w.id))
        return {a.question_id: {k: int(v) for k, v in json.loads(a.counts).items()} for a in rows}
    out: dict[str, dict[str, int]] = {}
    q = (select(WorkshopAnswer.question_id, WorkshopAnswer.value, func.count())
         .where(WorkshopAnswer.workshop_id == w.id).group_by(WorkshopAnswer.question_id, WorkshopAnswer.value))
    for qid, value, n in session.execute(q):
        out.setdefault(qid, {})[value] = int(n)
    return out


def participation(session: Session, w: Workshop, total_questions: int) -> Participation:
    """Who took part, live or from the snapshot kept at purge; role labels rarer than K_MIN are pooled."""
    if w.purged_at is not None and w.participation:
        return Participation.from_json(w.participation)
    joined = session.scalar(select(func.count()).select_from(Participant).where(Participant.workshop_id == w.id))
    per = (select(WorkshopAnswer.participant_id, func.count().label("n"))
           .where(WorkshopAnswer.workshop_id == w.id).group_by(WorkshopAnswer.participant_id).subquery())
    answered = session.scalar(select(func.count()).select_from(per)) or 0
    complete = session.scalar(select(func.count()).select_from(per).where(per.c.n >= total_questions)) or 0
    labels: Counter[str] = Counter()
    shown_as: dict[str, str] = {}
    for (label,) in session.execute(select(Participant.role_label).where(Participant.workshop_id == w.id)):
        key = " ".join(label.split()).casefold()
        if key:
            labels[key] += 1
            shown_as.setdefault(key, " ".join(label.split()))
    roles = sorted(((shown_as[k], n) for k, n in labels.items() if n >= K_MIN), key=lambda x: (-x[1], x[0]))
    other = (joined or 0) - sum(n for _r, n in roles)
    return Participation(joined or 0, answered, complete, roles, other)


# --- consensus and conversion -------------------------------------------------------------------------------------


def consensus_values(session: Session, w: Workshop) -> dict[str, str]:
    """Question id -> the group's answer as the trainer recorded it (kept after the purge)."""
    rows = session.execute(select(WorkshopConsensus.question_id, WorkshopConsensus.value)
                           .where(WorkshopConsensus.workshop_id == w.id))
    return dict(rows.all())


def record_consensus(session: Session, w: Workshop, user: User, content: Content,
                     values: Mapping[str, str | None]) -> int:
    """Store the group's agreed answer per question (None removes it). Returns how many are recorded."""
    allowed = {q.id for rid in w.rec_ids for q in content.recommendation_by_id[rid].questions}
    now = utcnow()
    rows, removed = [], []
    for qid, value in values.items():
        if qid not in allowed:
            raise ValueError(f"question {qid} is not part of this workshop")
        if value is None:
            removed.append(qid)
        elif value in VALID_VALUES:
            rows.append({"workshop_id": w.id, "question_id": qid, "value": value, "recorded_by_id": user.id,
                         "recorded_at": now})
        else:
            raise ValueError(f"not an answer value: {value!r}")
    existing = consensus_values(session, w)
    changed = [r for r in rows if existing.get(str(r["question_id"])) != r["value"]]
    upsert(session, WorkshopConsensus, changed, ["workshop_id", "question_id"],
            ["value", "recorded_by_id", "recorded_at"])
    gone = [q for q in removed if q in existing]
    if gone:
        session.execute(delete(WorkshopConsensus).where(WorkshopConsensus.workshop_id == w.id,
                                                        WorkshopConsensus.question_id.in_(gone)))
    session.flush()
    if changed or gone:
        audit.record(session, "workshop_consensus_recorded", "workshop", w.id, user=user, agency_id=w.agency_id,
                     detail=f"{len(changed)} set, {len(gone)} cleared")
    return len(rows)


def convert_to_assessment(session: Session, w: Workshop, user: User, unit: Unit, title: str,
                          content: Content) -> int:
    """Start a DRAFT assessment of ``unit`` pre-filled with the consensus; the unit reviews and submits it.

    Only a unit of the workshop's (and trainer's) own agency: a trainer never writes into another agency.
    """
    if unit.agency_id != w.agency_id or unit.agency_id != user.agency_id:
        raise StateError(_l("the unit belongs to another agency"))
    values = consensus_values(session, w)
    if not values:
        raise StateError(_l("record the group's consensus first"))
    if content.version != w.content_version:
        raise StateError(_l("the workshop was answered against another content version"))
    a = create_assessment(session, unit, title, user, content)
    now = utcnow()
    note = f"Workshop consensus: {w.title}"[:4000]
    for qid, value in values.items():
        if qid in content.questions:
            session.add(Answer(assessment_id=a.id, question_id=qid, value=value, comment=note, evidence="", rev=1,
                               updated_by_id=user.id, updated_at=now))
    session.flush()
    audit.record(session, "workshop_converted", "workshop", w.id, user=user, agency_id=unit.agency_id,
                 detail=f"draft assessment {a.id} for unit {unit.id} ({len(values)} answers)")
    return a.id


def conversions(session: Session, w: Workshop) -> list[AuditEvent]:
    """Earlier conversions of this workshop, newest first (shown so the trainer does not convert twice)."""
    return list(session.scalars(
        select(AuditEvent).where(AuditEvent.action == "workshop_converted", AuditEvent.object_type == "workshop",
                                 AuditEvent.object_id == str(w.id)).order_by(AuditEvent.at.desc())))


# --- retention --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Purged:
    workshop_id: int
    title: str
    participants: int
    answers: int
    auto_closed: bool


def purge_due(w: Workshop, now: datetime, retention_days: int) -> bool:
    """Closed for longer than the retention period, and not purged yet."""
    return (w.purged_at is None and not w.is_open and w.closed_at is not None
            and w.closed_at <= now - timedelta(days=retention_days))


def _deleted(session: Session, stmt: Delete) -> int:
    """Run a bulk DELETE and return how many rows it removed (a DML statement's result is a CursorResult)."""
    return cast("CursorResult[Any]", session.execute(stmt)).rowcount


def purge_workshop(session: Session, w: Workshop, content: Content, now: datetime | None = None) -> Purged:
    """Freeze the per-question counts and participation, then delete every participant-level row."""
    now = now or utcnow()
    total_questions = sum(len(content.recommendation_by_id[r].questions) for r in w.rec_ids
                          if r in content.recommendation_by_id)
    counts = answer_counts(session, w)
    snapshot = participation(session, w, total_questions)
    for qid, by_value in counts.items():
        session.add(WorkshopAggregate(workshop_id=w.id, question_id=qid, counts=json.dumps(by_value, sort_keys=True),
                                      created_at=now))
    n_answers = _deleted(session, delete(WorkshopAnswer).where(WorkshopAnswer.workshop_id == w.id))
    n_people = _deleted(session, delete(Participant).where(Participant.workshop_id == w.id))
    w.participation, w.purged_at, w.updated_at = snapshot.to_json(), now, now
    session.flush()
    audit.record(session, "workshop_purged", "workshop", w.id, actor="retention", agency_id=w.agency_id,
                 detail=f"{n_people} participant(s), {n_answers} answer(s) deleted")
    return Purged(w.id, w.title, n_people or 0, n_answers or 0, False)


def purge_expired(session: Session, content_for: Callable[[str], Content], retention_days: int,
                  now: datetime | None = None) -> list[Purged]:
    """Purge every workshop closed more than ``retention_days`` ago.

    A workshop left open whose join code expired more than ``retention_days`` ago counts as abandoned: it is
    closed as of that expiry and purged at once, so forgotten workshops do not keep answers for ever.
    """
    now = now or utcnow()
    cutoff = now - timedelta(days=retention_days)
    done: list[Purged] = []
    abandoned = session.scalars(select(Workshop).where(Workshop.status == WorkshopStatus.OPEN.value,
                                                       Workshop.code_expires_at <= cutoff).with_for_update())
    auto_closed = set()
    for w in abandoned:
        w.status, w.open_code, w.closed_at = WorkshopStatus.CLOSED.value, None, w.code_expires_at
        auto_closed.add(w.id)
        audit.record(session, "workshop_closed", "workshop", w.id, actor="retention", agency_id=w.agency_id,
                     detail="abandoned: join code expired")
    session.flush()
    due = session.scalars(select(Workshop).where(Workshop.status == WorkshopStatus.CLOSED.value,
                                                 Workshop.purged_at.is_(None), Workshop.closed_at <= cutoff)
                          .order_by(Workshop.id).with_for_update())
    for w in due:
        p = purge_workshop(session, w, content_for(w.content_version), now)
        done.append(Purged(p.workshop_id, p.title, p.participants, p.answers, w.id in auto_closed))
    return done


def report_fingerprint(session: Session, w: Workshop) -> str:
    """A key that changes whenever the closed workshop's report can change (its PDF is cached under it): the
    workshop's own row (status, closing, reopening, purge, pacing, title: every writer sets ``updated_at``), the
    participants' answers and the consensus (counts and latest times), and the names printed on it."""
    def agg(model: Any, when: Any) -> tuple[Any, ...]:
        return tuple(session.execute(select(func.count(), func.max(when)).select_from(model)
                                     .where(model.workshop_id == w.id)).one())

    trainer = session.scalar(select(User.name).where(User.id == w.created_by_id))
    row = (w.id, w.status, w.title, w.recommendation_ids, w.closed_at, w.purged_at, w.updated_at, w.created_at,
           w.participation, w.agency.name, trainer, agg(WorkshopAnswer, WorkshopAnswer.updated_at),
           agg(WorkshopConsensus, WorkshopConsensus.recorded_at), agg(Participant, Participant.created_at),
           agg(WorkshopAggregate, WorkshopAggregate.created_at))
    return hashlib.sha256(repr(row).encode()).hexdigest()[:32]
