"""Administration pages: agencies and units (admin), accounts (admin: all; supervisor: its agency's members)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from ..access import (
    allow,
    get_managed_agency,
    get_managed_unit,
    get_managed_user,
    grantable_roles,
    scope_managed_agencies,
    scope_managed_units,
    scope_users,
)
from ..account.services import IssuedLink
from ..db import db
from ..errors import fail
from ..links import set_password_url
from ..models import Agency, PasswordToken, Role, Unit, User, utcnow
from . import services
from .forms import ROLE_LABELS, ActionForm, NameForm, UserForm
from .services import AdminError, DuplicateError

bp = Blueprint("admin", __name__, url_prefix="/admin")
MANAGERS = (Role.ADMIN, Role.SUPERVISOR)


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined, no-any-return]


def _hours() -> int:
    return int(current_app.config["SET_PASSWORD_HOURS"])


# --- Agencies and units (admin only) -----------------------------------------------------------------------------


def _agencies_page(form: NameForm, status: int = 200) -> tuple[str, int]:
    agencies = db.session.scalars(scope_managed_agencies(_me())).all()
    units = dict(db.session.execute(select(Unit.agency_id, func.count()).group_by(Unit.agency_id)).all())
    users = dict(db.session.execute(select(User.agency_id, func.count()).group_by(User.agency_id)).all())
    return render_template("admin/index.html", agencies=agencies, unit_counts=units, user_counts=users,
                           form=form), status


@bp.route("/")
@allow(*MANAGERS)
def index() -> Response | tuple[str, int]:
    if current_user.role != Role.ADMIN:
        return redirect(url_for("admin.users"))
    return _agencies_page(NameForm(formdata=None))


@bp.route("/agencies", methods=["POST"])
@allow(Role.ADMIN)
def agency_create() -> Response | tuple[str, int]:
    form = NameForm()
    if form.validate_on_submit():
        try:
            agency = services.create_agency(db.session, form.name.data, by=_me())
        except AdminError as exc:
            db.session.rollback()
            form.name.errors = [str(exc)]
            return _agencies_page(form, 422)
        db.session.commit()
        flash(_("Agency “%(name)s” created. Add its units next.", name=agency.name), "success")
        return redirect(url_for("admin.agency", agency_id=agency.id))
    return _agencies_page(form, 422)


def _agency_page(agency: Agency, *, rename: NameForm | None = None, new_unit: NameForm | None = None,
                 unit_error: tuple[int, str, str] | None = None, status: int = 200) -> tuple[str, int]:
    units = db.session.scalars(select(Unit).where(Unit.agency_id == agency.id).order_by(Unit.name)).all()
    members = dict(db.session.execute(select(User.unit_id, func.count()).where(User.agency_id == agency.id)
                                      .group_by(User.unit_id)).all())
    return render_template("admin/agency.html", agency=agency, units=units, member_counts=members,
                           rename=rename or NameForm(formdata=None, data={"name": agency.name}, prefix="agency"),
                           new_unit=new_unit or NameForm(formdata=None, prefix="unit"), unit_error=unit_error,
                           action=ActionForm()), status


@bp.route("/agencies/<int:agency_id>")
@allow(Role.ADMIN)
def agency(agency_id: int) -> tuple[str, int]:
    return _agency_page(get_managed_agency(agency_id))


@bp.route("/agencies/<int:agency_id>/rename", methods=["POST"])
@allow(Role.ADMIN)
def agency_rename(agency_id: int) -> Response | tuple[str, int]:
    agency = get_managed_agency(agency_id)
    form = NameForm(prefix="agency")
    if form.validate_on_submit():
        try:
            services.rename_agency(db.session, agency, form.name.data, by=_me())
        except AdminError as exc:
            db.session.rollback()
            form.name.errors = [str(exc)]
            return _agency_page(get_managed_agency(agency_id), rename=form, status=422)
        db.session.commit()
        flash(_("Agency renamed."), "success")
        return redirect(url_for("admin.agency", agency_id=agency.id))
    return _agency_page(agency, rename=form, status=422)


@bp.route("/agencies/<int:agency_id>/units", methods=["POST"])
@allow(Role.ADMIN)
def unit_create(agency_id: int) -> Response | tuple[str, int]:
    agency = get_managed_agency(agency_id)
    form = NameForm(prefix="unit")
    if form.validate_on_submit():
        try:
            unit = services.create_unit(db.session, agency, form.name.data, by=_me())
        except AdminError as exc:
            db.session.rollback()
            form.name.errors = [str(exc)]
            return _agency_page(get_managed_agency(agency_id), new_unit=form, status=422)
        db.session.commit()
        flash(_("Unit “%(name)s” created.", name=unit.name), "success")
        return redirect(url_for("admin.agency", agency_id=agency.id))
    return _agency_page(agency, new_unit=form, status=422)


@bp.route("/units/<int:unit_id>/rename", methods=["POST"])
@allow(Role.ADMIN)
def unit_rename(unit_id: int) -> Response | tuple[str, int]:
    unit = get_managed_unit(unit_id)
    form = NameForm()
    if form.validate_on_submit():
        try:
            services.rename_unit(db.session, unit, form.name.data, by=_me())
        except AdminError as exc:
            db.session.rollback()
            unit = get_managed_unit(unit_id)
            return _agency_page(unit.agency, unit_error=(unit.id, str(exc), form.name.raw_data[0]
                                                         if form.name.raw_data else ""), status=422)
        db.session.commit()
        flash(_("Unit renamed."), "success")
        return redirect(url_for("admin.agency", agency_id=unit.agency_id))
    raw = form.name.raw_data[0] if form.name.raw_data else ""
    message = " ".join(str(e) for e in form.name.errors) or _("The form had expired. Please try again.")
    return _agency_page(unit.agency, unit_error=(unit.id, message, raw), status=422)


# --- Accounts (admin: all; supervisor: members of its agency) -----------------------------------------------------


USERS_PAGE_SIZE = 50
SEARCH_MAX = 100


def _like(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, with the user's own % and _ taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@bp.route("/users")
@allow(*MANAGERS)
def users() -> str:
    """Accounts in scope, searchable by name or e-mail and paged: a national service holds thousands."""
    me = _me()
    agencies = db.session.scalars(scope_managed_agencies(me)).all()
    stmt = scope_users(me)
    chosen = request.args.get("agency", type=int)
    if chosen is not None and chosen in {a.id for a in agencies}:
        stmt = stmt.where(User.agency_id == chosen)
    else:
        chosen = None
    q = " ".join((request.args.get("q") or "").split())[:SEARCH_MAX]
    if q:
        stmt = stmt.where(or_(User.name.ilike(_like(q), escape="\\"), User.email.ilike(_like(q), escape="\\")))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    pages = max(1, -(-total // USERS_PAGE_SIZE))
    page = min(max(1, request.args.get("page", 1, type=int) or 1), pages)
    rows = db.session.scalars(stmt.options(selectinload(User.agency), selectinload(User.unit))
                              .order_by(User.active.desc(), func.lower(User.name), User.id)
                              .offset((page - 1) * USERS_PAGE_SIZE).limit(USERS_PAGE_SIZE)).all()
    args = {k: v for k, v in (("agency", chosen), ("q", q)) if v}
    return render_template("admin/users.html", users=rows, agencies=agencies, chosen=chosen, q=q, args=args,
                           page=page, pages=pages, total=total, first=(page - 1) * USERS_PAGE_SIZE + 1)


def _user_form() -> UserForm:
    me = _me()
    form = UserForm()
    form.role.choices = [SelectChoice(r.value, str(ROLE_LABELS[r])) for r in grantable_roles(me)]
    agencies = db.session.scalars(scope_managed_agencies(me)).all()
    form.agency.choices = [SelectChoice(str(a.id), a.name) for a in agencies]
    units = db.session.scalars(scope_managed_units(me).options(selectinload(Unit.agency))).all()
    units = sorted(units, key=lambda u: (u.agency.name.lower(), u.name.lower()))
    placeholder = _("— choose a unit —") if grantable_roles(me) == (Role.MEMBER,) else _("— no unit —")
    form.unit.choices = [SelectChoice("", placeholder)] + [
        SelectChoice(str(u.id), u.name, optgroup=u.agency.name) for u in units]
    form.unit_agency = {u.id: u.agency_id for u in units}
    if request.method == "GET":
        form.role.data = Role.MEMBER.value
        wanted = request.args.get("agency", type=int)
        form.agency.data = wanted if wanted in {a.id for a in agencies} else (me.agency_id if any(
            a.id == me.agency_id for a in agencies) else None)
    return form


def _show_link(user: User, link: IssuedLink, *, created: bool) -> str:
    """The one and only time the clear link exists: on this page, never stored, never flashed into a cookie."""
    return render_template("admin/link.html", user=user, link=set_password_url(link.token), expires_at=link.expires_at,
                           created=created)


@bp.route("/users/new", methods=["GET", "POST"])
@allow(*MANAGERS)
def user_create() -> tuple[str, int] | str:
    form = _user_form()
    errors: list[str] = []
    if form.validate_on_submit():
        agency = get_managed_agency(form.agency.data)
        unit = get_managed_unit(form.unit.data) if form.unit.data is not None else None
        try:
            user, link = services.create_user(
                db.session, email=form.email.data, name=form.name.data, role=form.role.data, agency=agency,
                unit=unit, by=_me(), link_hours=_hours())
        except DuplicateError as exc:
            db.session.rollback()
            form.email.errors = [str(exc)]
        except AdminError as exc:
            db.session.rollback()
            errors.append(str(exc))
        else:
            db.session.commit()
            return _show_link(user, link, created=True)
    body = render_template("admin/user_new.html", form=form, errors=errors)
    return (body, 422) if request.method == "POST" else body


@bp.route("/users/<int:user_id>")
@allow(*MANAGERS)
def user(user_id: int) -> str:
    account = get_managed_user(user_id)
    last_link = db.session.scalars(select(PasswordToken).where(PasswordToken.user_id == account.id)
                                   .order_by(PasswordToken.created_at.desc(), PasswordToken.id.desc())).first()
    return render_template("admin/user.html", account=account, last_link=last_link, action=ActionForm(),
                           is_self=account.id == current_user.id, now=utcnow())


def _act(user_id: int) -> User:
    form = ActionForm()
    if not form.validate_on_submit():  # only the CSRF token; a bad one is answered by the CSRF handler
        fail(400, _("The form could not be read. Please go back, reload the page and try again."))
    return get_managed_user(user_id, for_update=True)


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@allow(*MANAGERS)
def user_deactivate(user_id: int) -> Response:
    account = _act(user_id)
    try:
        changed = services.deactivate_user(db.session, account, by=_me())
    except AdminError as exc:
        fail(409, str(exc))
    db.session.commit()
    if changed:
        flash(_("%(name)s is deactivated and has been logged out everywhere.", name=account.name), "success")
    else:
        flash(_("%(name)s was already deactivated.", name=account.name), "info")
    return redirect(url_for("admin.user", user_id=account.id))


@bp.route("/users/<int:user_id>/reactivate", methods=["POST"])
@allow(*MANAGERS)
def user_reactivate(user_id: int) -> Response:
    account = _act(user_id)
    changed = services.reactivate_user(db.session, account, by=_me())
    db.session.commit()
    if changed:
        flash(_("%(name)s can log in again.", name=account.name), "success")
    else:
        flash(_("%(name)s was already active.", name=account.name), "info")
    return redirect(url_for("admin.user", user_id=account.id))


@bp.route("/users/<int:user_id>/reset-password", methods=["POST"])
@allow(*MANAGERS)
def user_reset(user_id: int) -> str:
    account = _act(user_id)
    try:
        link = services.reset_password(db.session, account, by=_me(), link_hours=_hours())
    except AdminError as exc:
        fail(409, str(exc))
    db.session.commit()
    return _show_link(account, link, created=False)


@bp.context_processor
def _inject() -> dict[str, Any]:
    return {"role_label": lambda role: str(ROLE_LABELS.get(role, role))}
