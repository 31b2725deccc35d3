"""`flask agencies|units|users ...`: administration from the command line (first admin, scripted set-up).

Audited with actor "cli". Bad input ends with a clear message and exit code 1; the set-password link is printed
(there is no mail server), built on --base-url or BASE_URL (app.links), as the web pages build theirs.
Messages and help texts come from the catalogs, in DEFAULT_LANGUAGE; the link itself and the `agencies list`
table stay as they are (scripts read them).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..account.services import IssuedLink
from ..config import ConfigError, check_base_url
from ..db import db
from ..i18n import lazy_help as _l
from ..i18n import option
from ..links import set_password_url
from ..models import Agency, Unit, User
from . import services
from .services import AdminError


@contextmanager
def _writing() -> Iterator[Session]:
    """One committed transaction; a refused change becomes "Error: ..." on stderr and exit code 1."""
    try:
        with db.writing() as session:
            yield session
    except AdminError as exc:
        raise click.ClickException(str(exc)) from exc


def _id(raw: str, not_a_number: str, not_positive: str) -> int:
    """``raw`` as an id; the two refusals are whole sentences (each its own msgid) naming what was expected."""
    try:
        value = int(raw)
    except ValueError:
        raise click.ClickException(not_a_number) from None
    if value < 1:
        raise click.ClickException(not_positive)
    return value


def _agency(session: Session, raw: str) -> Agency:
    found = session.get(Agency, _id(raw, _("Agency id must be a number, not %(value)s.", value=repr(raw)),
                                    _("Agency id must be a positive number, not %(value)s.", value=repr(raw))))
    if found is None:
        raise click.ClickException(_("There is no agency %(id)s (see `flask agencies list`).", id=raw))
    return found


def _unit(session: Session, raw: str) -> Unit:
    found = session.get(Unit, _id(raw, _("Unit id must be a number, not %(value)s.", value=repr(raw)),
                                  _("Unit id must be a positive number, not %(value)s.", value=repr(raw))))
    if found is None:
        raise click.ClickException(_("There is no unit %(id)s (see `flask agencies list`).", id=raw))
    return found


def _user(session: Session, email: str) -> User:
    found = session.scalars(select(User).where(func.lower(User.email) == email.strip().lower())).first()
    if found is None:
        raise click.ClickException(_("There is no account with the e-mail address %(email)s.", email=repr(email)))
    return found


def _base_url(option: str | None) -> str:
    try:
        return check_base_url(option or current_app.config["BASE_URL"])
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _print_link(user: User, link: IssuedLink, base_url: str) -> None:
    url = set_password_url(link.token, base_url)
    click.echo(_("One-time set-password link for %(email)s, valid until %(expires)s UTC. Hand it over through a "
                 "channel you trust:", email=user.email, expires=f"{link.expires_at:%Y-%m-%d %H:%M}"))
    click.echo(url)


BASE_URL_HELP = _l("Address of the service, used to build the link (default: BASE_URL).")


def init_app(app: Flask) -> None:
    agencies = AppGroup("agencies", help=_l("Create and rename agencies."))
    units = AppGroup("units", help=_l("Create and rename units of an agency."))
    users = AppGroup("users", help=_l("Create, deactivate and reactivate accounts; issue set-password links."))

    @agencies.command("create", help=_l("Create an agency called NAME."))
    @click.argument("name")
    def agencies_create(name: str) -> None:
        with _writing() as s:
            agency = services.create_agency(s, name, by=None)
        click.echo(_("Created agency %(id)d: %(name)s", id=agency.id, name=agency.name))

    @agencies.command("rename", help=_l("Rename agency ID to NAME."))
    @click.argument("agency_id", metavar="ID")
    @click.argument("name")
    def agencies_rename(agency_id: str, name: str) -> None:
        with _writing() as s:
            agency = _agency(s, agency_id)
            services.rename_agency(s, agency, name, by=None)
        click.echo(_("Agency %(id)d is now called: %(name)s", id=agency.id, name=agency.name))

    @agencies.command("list", help=_l("List agencies and their units with their ids."))
    def agencies_list() -> None:
        for agency in db.session.scalars(select(Agency).order_by(Agency.name)):
            click.echo(f"{agency.id:>5}  {agency.name}")
            for unit in agency.units:
                click.echo(f"{'':>5}  {unit.id:>5}  {unit.name}")

    @units.command("create", help=_l("Create a unit called NAME in agency AGENCY_ID."))
    @click.argument("agency_id", metavar="AGENCY_ID")
    @click.argument("name")
    def units_create(agency_id: str, name: str) -> None:
        with _writing() as s:
            agency = _agency(s, agency_id)
            unit = services.create_unit(s, agency, name, by=None)
        click.echo(_("Created unit %(id)d in agency %(agency)d: %(name)s", id=unit.id, agency=agency.id,
                     name=unit.name))

    @units.command("rename", help=_l("Rename unit ID to NAME."))
    @click.argument("unit_id", metavar="ID")
    @click.argument("name")
    def units_rename(unit_id: str, name: str) -> None:
        with _writing() as s:
            unit = _unit(s, unit_id)
            services.rename_unit(s, unit, name, by=None)
        click.echo(_("Unit %(id)d is now called: %(name)s", id=unit.id, name=unit.name))

    @users.command("create", help=_l("Create an account for EMAIL and print its one-time set-password link."))
    @click.argument("email")
    @option("--name", required=True, help=_l("The person's name as shown in the service."))
    @option("--role", required=True, help=_l("member, supervisor, trainer or admin."))
    @option("--agency", "agency_id", required=True, help=_l("Agency id (see `flask agencies list`)."))
    @option("--unit", "unit_id", default=None, help=_l("Unit id; required for members."))
    @option("--base-url", default=None, help=BASE_URL_HELP)
    def users_create(email: str, name: str, role: str, agency_id: str, unit_id: str | None,
                     base_url: str | None) -> None:
        base = _base_url(base_url)
        with _writing() as s:
            agency = _agency(s, agency_id)
            unit = _unit(s, unit_id) if unit_id is not None else None
            user, link = services.create_user(
                s, email=email, name=name, role=role.strip().lower(), agency=agency,
                unit=unit, by=None, link_hours=current_app.config["SET_PASSWORD_HOURS"])
        click.echo(_("Created account %(id)d: %(email)s (%(role)s)", id=user.id, email=user.email, role=user.role))
        _print_link(user, link, base)

    @users.command("deactivate", help=_l("Deactivate the account EMAIL and end its sessions."))
    @click.argument("email")
    def users_deactivate(email: str) -> None:
        with _writing() as s:
            user = _user(s, email)
            changed = services.deactivate_user(s, user, by=None)
        click.echo(_("Deactivated %(email)s.", email=user.email) if changed
                   else _("%(email)s was already deactivated.", email=user.email))

    @users.command("reactivate", help=_l("Let the account EMAIL log in again."))
    @click.argument("email")
    def users_reactivate(email: str) -> None:
        with _writing() as s:
            user = _user(s, email)
            changed = services.reactivate_user(s, user, by=None)
        click.echo(_("Reactivated %(email)s.", email=user.email) if changed
                   else _("%(email)s was already active.", email=user.email))

    @users.command("reset-password", help=_l("Remove the password of EMAIL, end its sessions and print a new "
                                             "one-time link."))
    @click.argument("email")
    @option("--base-url", default=None, help=BASE_URL_HELP)
    def users_reset_password(email: str, base_url: str | None) -> None:
        base = _base_url(base_url)
        with _writing() as s:
            user = _user(s, email)
            link = services.reset_password(s, user, by=None, link_hours=current_app.config["SET_PASSWORD_HOURS"])
        click.echo(_("Password of %(email)s removed; every session of the account has ended.", email=user.email))
        _print_link(user, link, base)

    for group in (agencies, units, users):
        app.cli.add_command(group)
