"""Set-password links and password changes. Services take a session and flush; views and the CLI commit.

A link carries a random token (256 bits from ``secrets``); only its SHA-256 is stored, so a copy of the
database does not hand out working links. Setting or changing a password bumps the account's session epoch:
every session cookie issued before is dead.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import url_for
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .. import audit
from ..models import PasswordToken, User, utcnow
from ..passwords import hash_password

TOKEN_BYTES = 32
MAX_TOKEN_CHARS = 128  # anything longer cannot be ours; not even hashed


class TokenState(enum.StrEnum):
    VALID = "valid"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    INACTIVE = "inactive"


class TokenUnusable(Exception):
    """The link was used, expired or replaced between reading it and using it (a second tab, a double click)."""


@dataclass(frozen=True)
class IssuedLink:
    """The one moment the clear token exists: shown to the admin or printed by the CLI, then forgotten."""

    user_id: int
    token: str
    expires_at: datetime


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _expire_unused(session: Session, user_id: int, now: datetime) -> None:
    session.execute(
        update(PasswordToken)
        .where(PasswordToken.user_id == user_id, PasswordToken.used_at.is_(None), PasswordToken.expires_at > now)
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )


def issue_link(session: Session, user: User, *, hours: int, by: User | None = None) -> IssuedLink:
    """Issue a one-time set-password token for ``user``; older unused links of that user stop working."""
    now = utcnow()
    _expire_unused(session, user.id, now)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    expires = now + timedelta(hours=hours)
    session.add(PasswordToken(user_id=user.id, token_hash=token_hash(token), expires_at=expires,
                              created_by_id=by.id if by else None))
    session.flush()
    return IssuedLink(user.id, token, expires)


def find_token(session: Session, token: str) -> tuple[TokenState, PasswordToken | None]:
    """Look a link's token up and say whether it can still be used, and if not, why."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return TokenState.UNKNOWN, None
    record = session.scalars(select(PasswordToken).where(PasswordToken.token_hash == token_hash(token))).first()
    if record is None:
        return TokenState.UNKNOWN, None
    if record.used_at is not None:
        return TokenState.USED, record
    if record.expires_at <= utcnow():
        return TokenState.EXPIRED, record
    if not record.user.active:
        return TokenState.INACTIVE, record
    return TokenState.VALID, record


def _set_password(user: User, password: str, now: datetime) -> None:
    user.password_hash = hash_password(password)
    user.password_changed_at = now
    user.session_epoch += 1  # every session opened before this is dead


def use_link(session: Session, record: PasswordToken, password: str) -> User:
    """Set the password from a link; the token is consumed with a conditional UPDATE, so it works once only."""
    now = utcnow()
    consumed = session.execute(
        update(PasswordToken)
        .where(PasswordToken.id == record.id, PasswordToken.used_at.is_(None), PasswordToken.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if consumed.rowcount != 1:  # type: ignore[attr-defined]
        raise TokenUnusable
    user = record.user
    _set_password(user, password, now)
    _expire_unused(session, user.id, now)
    audit.record(session, "password_set", "user", user.id, user=user, agency_id=user.agency_id)
    session.flush()
    return user


def change_password(session: Session, user: User, password: str) -> None:
    """A user's own change: new hash, other sessions dead, any outstanding set-password link void."""
    now = utcnow()
    _set_password(user, password, now)
    _expire_unused(session, user.id, now)
    audit.record(session, "password_changed", "user", user.id, user=user, agency_id=user.agency_id)
    session.flush()


def link_url(token: str) -> str:
    """The absolute set-password URL, as the person will open it (the web area's host; the CLI's --base-url)."""
    return url_for("account.set_password", token=token, _external=True)
