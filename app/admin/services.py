"""Agency, unit and account administration, shared by the web area and the CLI.

Services take a session and flush; the caller commits. ``by`` is the acting user, or None for the CLI (audited
with actor "cli"). Who may act on what is decided before a service is called (app.access scopes every lookup);
services check what holds for everyone: names unique, a unit belongs to the account's agency, a member has a unit.
Passwords and tokens never reach the audit log.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import audit
from ..account.services import IssuedLink, issue_link
from ..models import Agency, Role, Unit, User

NAME_MAX = 200
EMAIL_MAX = 254
# Deliberately simple: one "@", something on each side, a dot in the domain, no spaces. The link is shown to
# the admin, not mailed, so the address is an identifier first.
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


class AdminError(ValueError):
    """A change that cannot be made as asked; the message is for the user (shown with a 422)."""


class DuplicateError(AdminError):
    """The name or e-mail is already taken."""


def clean_name(value: str | None, *, what: str | None = None) -> str:
    """NFC, trimmed, inner runs of spaces collapsed; refuses control and invisible formatting characters.

    Names identify agencies, units and people in lists and reports: a right-to-left override or a zero-width
    space would let two names look identical, or make one display as something it is not.
    """
    text = unicodedata.normalize("NFC", value or "")
    text = " ".join(text.split())
    label = what or _("The name")
    if not text:
        raise AdminError(_("%(what)s must not be empty.", what=label))
    if len(text) > NAME_MAX:
        raise AdminError(_("%(what)s must be at most %(n)d characters long.", what=label, n=NAME_MAX))
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in text):
        raise AdminError(_("%(what)s contains invisible or control characters (such as a right-to-left override "
                           "or a zero-width space). Remove them and try again.", what=label))
    return text


def clean_email(value: str | None) -> str:
    email = (value or "").strip().lower()
    if not email:
        raise AdminError(_("Enter an e-mail address."))
    if len(email) > EMAIL_MAX:
        raise AdminError(_("The e-mail address must be at most %(n)d characters long.", n=EMAIL_MAX))
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in email) or not EMAIL_RE.match(email):
        raise AdminError(_("Enter a valid e-mail address, such as name@police.example."))
    return email


def _actor(by: User | None) -> str | None:
    """The audit actor: the user's e-mail (filled in by audit.record), or "cli" for the command line."""
    return None if by is not None else "cli"


@contextmanager
def _unique(message: str) -> Iterator[None]:
    """Turn a unique-constraint race (checked before, inserted by someone else meanwhile) into a clear error."""
    try:
        yield
    except IntegrityError as exc:
        raise DuplicateError(message) from exc


def _flush_unique(session: Session, message: str) -> None:
    with _unique(message), session.begin_nested():
        session.flush()


def _agency_taken(session: Session, name: str, exclude: int | None = None) -> bool:
    stmt = select(Agency.id).where(func.lower(Agency.name) == name.lower())
    if exclude is not None:
        stmt = stmt.where(Agency.id != exclude)
    return session.scalars(stmt).first() is not None


def _unit_taken(session: Session, agency_id: int, name: str, exclude: int | None = None) -> bool:
    stmt = select(Unit.id).where(Unit.agency_id == agency_id, func.lower(Unit.name) == name.lower())
    if exclude is not None:
        stmt = stmt.where(Unit.id != exclude)
    return session.scalars(stmt).first() is not None


def _email_taken(session: Session, email: str) -> bool:
    return session.scalars(select(User.id).where(func.lower(User.email) == email.lower())).first() is not None


def _email_taken_message(session: Session, email: str, by: User | None) -> str:
    """What the creator may be told about an e-mail address already in use.

    Admins and the CLI see every agency: they are told plainly. A supervisor sees only its own agency: an
    account there may be named (it is in the supervisor's own list), but an address used in another agency
    gets a message that says nothing about that agency or that an account exists there. (That the address
    cannot be used at all is unavoidable: addresses are unique across the service.)
    """
    if by is None or by.role == Role.ADMIN:
        return _("An account with the e-mail address %(email)s already exists.", email=email)
    owner = session.scalars(select(User.agency_id).where(func.lower(User.email) == email.lower())).first()
    if owner is not None and owner == by.agency_id:
        return _("An account with the e-mail address %(email)s already exists in your agency: find it in the "
                 "accounts list.", email=email)
    return _("This e-mail address cannot be used for a new account. Check it, or ask an administrator.")


def create_agency(session: Session, name: str, *, by: User | None) -> Agency:
    """Create an agency; its name must be unique (case-insensitive)."""
    name = clean_name(name, what=_("The agency name"))
    taken = _("An agency named “%(name)s” already exists.", name=name)
    if _agency_taken(session, name):
        raise DuplicateError(taken)
    agency = Agency(name=name)
    session.add(agency)
    _flush_unique(session, taken)
    audit.record(session, "agency_created", "agency", agency.id, agency_id=agency.id, detail=name,
                 user=by, actor=_actor(by))
    return agency


def rename_agency(session: Session, agency: Agency, name: str, *, by: User | None) -> Agency:
    """Rename an agency; reports made earlier show the new name too (they are rendered from the database)."""
    name = clean_name(name, what=_("The agency name"))
    if name == agency.name:
        return agency
    taken = _("An agency named “%(name)s” already exists.", name=name)
    if _agency_taken(session, name, exclude=agency.id):
        raise DuplicateError(taken)
    old, agency.name = agency.name, name
    _flush_unique(session, taken)
    audit.record(session, "agency_renamed", "agency", agency.id, agency_id=agency.id,
                 detail=f"{old} → {name}", user=by, actor=_actor(by))
    return agency


def create_unit(session: Session, agency: Agency, name: str, *, by: User | None) -> Unit:
    """Create a unit in ``agency``; unit names are unique within their agency."""
    name = clean_name(name, what=_("The unit name"))
    taken = _("The agency already has a unit named “%(name)s”.", name=name)
    if _unit_taken(session, agency.id, name):
        raise DuplicateError(taken)
    unit = Unit(agency_id=agency.id, name=name)
    session.add(unit)
    _flush_unique(session, taken)
    audit.record(session, "unit_created", "unit", unit.id, agency_id=agency.id, detail=name,
                 user=by, actor=_actor(by))
    return unit


def rename_unit(session: Session, unit: Unit, name: str, *, by: User | None) -> Unit:
    name = clean_name(name, what=_("The unit name"))
    if name == unit.name:
        return unit
    taken = _("The agency already has a unit named “%(name)s”.", name=name)
    if _unit_taken(session, unit.agency_id, name, exclude=unit.id):
        raise DuplicateError(taken)
    old, unit.name = unit.name, name
    _flush_unique(session, taken)
    audit.record(session, "unit_renamed", "unit", unit.id, agency_id=unit.agency_id, detail=f"{old} → {name}",
                 user=by, actor=_actor(by))
    return unit


def create_user(session: Session, *, email: str, name: str, role: str, agency: Agency, unit: Unit | None,
                by: User | None, link_hours: int) -> tuple[User, IssuedLink]:
    """Create an account without a password and issue its one-time set-password link."""
    email = clean_email(email)
    name = clean_name(name)
    if role not in {r.value for r in Role}:
        raise AdminError(_("Unknown role “%(role)s”.", role=role))
    if unit is not None and unit.agency_id != agency.id:
        raise AdminError(_("The unit “%(unit)s” does not belong to the agency “%(agency)s”.",
                           unit=unit.name, agency=agency.name))
    if role == Role.MEMBER and unit is None:
        raise AdminError(_("A member belongs to a unit: choose one."))
    # Worded before the insert: in a race (the address inserted meanwhile) it is the neutral one for a supervisor.
    taken = _email_taken_message(session, email, by)
    if _email_taken(session, email):
        raise DuplicateError(taken)
    user = User(email=email, name=name, role=role, agency_id=agency.id, unit_id=unit.id if unit else None,
                active=True, password_hash=None)
    session.add(user)
    _flush_unique(session, taken)
    audit.record(session, "user_created", "user", user.id, agency_id=agency.id,
                 detail=f"{email}; role={role}; unit={unit.id if unit else '-'}", user=by,
                 actor=_actor(by))
    return user, issue_link(session, user, hours=link_hours, by=by)


def _not_self(user: User, by: User | None, message: str) -> None:
    if by is not None and by.id == user.id:
        raise AdminError(message)


def deactivate_user(session: Session, user: User, *, by: User | None) -> bool:
    """Deactivate an account and end its sessions at once; False when it already was deactivated."""
    _not_self(user, by, _("You cannot deactivate your own account."))
    if not user.active:
        return False
    user.active = False
    user.session_epoch += 1
    audit.record(session, "user_deactivated", "user", user.id, agency_id=user.agency_id, detail=user.email,
                 user=by, actor=_actor(by))
    session.flush()
    return True


def reactivate_user(session: Session, user: User, *, by: User | None) -> bool:
    """Allow an account to log in again (with its old password, if it had one)."""
    if user.active:
        return False
    user.active = True
    audit.record(session, "user_reactivated", "user", user.id, agency_id=user.agency_id, detail=user.email,
                 user=by, actor=_actor(by))
    session.flush()
    return True


def reset_password(session: Session, user: User, *, by: User | None, link_hours: int) -> IssuedLink:
    """Issue a new set-password link; the old password stops working and every session of the account ends.

    The old password is removed rather than kept until the link is used: a reset is often asked for because
    the password may be known to someone else.
    """
    _not_self(user, by, _("Use “Change password” for your own account."))
    user.password_hash = None
    user.session_epoch += 1
    link = issue_link(session, user, hours=link_hours, by=by)
    audit.record(session, "password_reset_issued", "user", user.id, agency_id=user.agency_id, detail=user.email,
                 user=by, actor=_actor(by))
    return link
