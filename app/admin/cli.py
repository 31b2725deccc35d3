"""`flask agencies|units|users ...`: administration from the command line (first admin, scripted set-up).

Audited with actor "cli". Bad input ends with a clear message and exit code 1; the set-password link is printed
(there is no mail server), built on --base-url or BASE_URL (app.links), as the web pages build theirs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..account.services import IssuedLink
from ..config import ConfigError, check_base_url
from ..db import db
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


def _id(raw: str, what: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise click.ClickException(f"{what} must be a number, not {raw!r}.") from None
    if value < 1:
        raise click.ClickException(f"{what} must be a positive number, not {raw!r}.")
    return value


def _agency(session: Session, raw: str) -> Agency:
    found = session.get(Agency, _id(raw, "Agency id"))
    if found is None:
        raise click.ClickException(f"There is no agency {raw} (see `flask agencies list`).")
    return found


def _unit(session: Session, raw: str) -> Unit:
    found = session.get(Unit, _id(raw, "Unit id"))
    if found is None:
        raise click.ClickException(f"There is no unit {raw} (see `flask agencies list`).")
    return found


def _user(session: Session, email: str) -> User:
    found = session.scalars(select(User).where(func.lower(User.email) == email.strip().lower())).first()
    if found is None:
        raise click.ClickException(f"There is no account with the e-mail address {email!r}.")
    return found


def _base_url(option: str | None) -> str:
    try:
        return check_base_url(option or current_app.config["BASE_URL"])
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _print_link(user: User, link: IssuedLink, base_url: str) -> None:
    url = set_password_url(link.token, base_url)
    click.echo(f"One-time set-password link for {user.email}, valid until "
               f"{link.expires_at:%Y-%m-%d %H:%M} UTC. Hand it over through a channel you trust:")
    click.echo(url)


BASE_URL_HELP = "Address of the service, used to build the link (default: BASE_URL)."


def init_app(app: Flask) -> None:
    agencies = AppGroup("agencies", help="Create and rename agencies.")
    units = AppGroup("units", help="Create and rename units of an agency.")
    users = AppGroup("users", help="Create, deactivate and reactivate accounts; issue set-password links.")

    @agencies.command("create")
    @click.argument("name")
    def agencies_create(name: str) -> None:
        """Create an agency called NAME."""
        with _writing() as s:
            agency = services.create_agency(s, name, by=None)
        click.echo(f"Created agency {agency.id}: {agency.name}")

    @agencies.command("rename")
    @click.argument("agency_id", metavar="ID")
    @click.argument("name")
    def agencies_rename(agency_id: str, name: str) -> None:
        """Rename agency ID to NAME."""
        with _writing() as s:
            agency = _agency(s, agency_id)
            services.rename_agency(s, agency, name, by=None)
        click.echo(f"Agency {agency.id} is now called: {agency.name}")

    @agencies.command("list")
    def agencies_list() -> None:
        """List agencies and their units with their ids."""
        for agency in db.session.scalars(select(Agency).order_by(Agency.name)):
            click.echo(f"{agency.id:>5}  {agency.name}")
            for unit in agency.units:
                click.echo(f"{'':>5}  {unit.id:>5}  {unit.name}")

    @units.command("create")
    @click.argument("agency_id", metavar="AGENCY_ID")
    @click.argument("name")
    def units_create(agency_id: str, name: str) -> None:
        """Create a unit called NAME in agency AGENCY_ID."""
        with _writing() as s:
            agency = _agency(s, agency_id)
            unit = services.create_unit(s, agency, name, by=None)
        click.echo(f"Created unit {unit.id} in agency {agency.id}: {unit.name}")

    @units.command("rename")
    @click.argument("unit_id", metavar="ID")
    @click.argument("name")
    def units_rename(unit_id: str, name: str) -> None:
        """Rename unit ID to NAME."""
        with _writing() as s:
            unit = _unit(s, unit_id)
            services.rename_unit(s, unit, name, by=None)
        click.echo(f"Unit {unit.id} is now called: {unit.name}")

    @users.command("create")
    @click.argument("email")
    @click.option("--name", required=True, help="The person's name as shown in the service.")
    @click.option("--role", required=True, help="member, supervisor, trainer or admin.")
    @click.option("--agency", "agency_id", required=True, help="Agency id (see `flask agencies list`).")
    @click.option("--unit", "unit_id", default=None, help="Unit id; required for members.")
    @click.option("--base-url", default=None, help=BASE_URL_HELP)
    def users_create(email: str, name: str, role: str, agency_id: str, unit_id: str | None,
                     base_url: str | None) -> None:
        """Create an account for EMAIL and print its one-time set-password link."""
        base = _base_url(base_url)
        with _writing() as s:
            agency = _agency(s, agency_id)
            unit = _unit(s, unit_id) if unit_id is not None else None
            user, link = services.create_user(
                s, email=email, name=name, role=role.strip().lower(), agency=agency,
                unit=unit, by=None, link_hours=current_app.config["SET_PASSWORD_HOURS"])
        click.echo(f"Created account {user.id}: {user.email} ({user.role})")
        _print_link(user, link, base)

    @users.command("deactivate")
    @click.argument("email")
    def users_deactivate(email: str) -> None:
        """Deactivate the account EMAIL and end its sessions."""
        with _writing() as s:
            user = _user(s, email)
            changed = services.deactivate_user(s, user, by=None)
        click.echo(f"Deactivated {user.email}." if changed else f"{user.email} was already deactivated.")

    @users.command("reactivate")
    @click.argument("email")
    def users_reactivate(email: str) -> None:
        """Let the account EMAIL log in again."""
        with _writing() as s:
            user = _user(s, email)
            changed = services.reactivate_user(s, user, by=None)
        click.echo(f"Reactivated {user.email}." if changed else f"{user.email} was already active.")

    @users.command("reset-password")
    @click.argument("email")
    @click.option("--base-url", default=None, help=BASE_URL_HELP)
    def users_reset_password(email: str, base_url: str | None) -> None:
        """Remove the password of EMAIL, end its sessions and print a new one-time link."""
        base = _base_url(base_url)
        with _writing() as s:
            user = _user(s, email)
            link = services.reset_password(s, user, by=None, link_hours=current_app.config["SET_PASSWORD_HOURS"])
        click.echo(f"Password of {user.email} removed; every session of the account has ended.")
        _print_link(user, link, base)

    for group in (agencies, units, users):
        app.cli.add_command(group)
