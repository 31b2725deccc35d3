"""The `flask` commands speak DEFAULT_LANGUAGE (issue 13): messages, errors and --help come from the catalogs.

The CLI has no request, so Flask-Babel's selector (app.i18n.select_locale) falls back to DEFAULT_LANGUAGE.
Machine-readable output stays as it is whatever the language: the OK/INVALID verdict of `content check`, the
demo login table, the set-password URL. The other CLI tests pin the English wording under the default "en".
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.cli import FlaskGroup

from app import demo
from app.config import ROOT

CONTENT = ROOT / "recommendations.json"


def flask_cli(app: Flask, *args: str) -> Result:
    """Run the command as `flask ...` does: through FlaskGroup, which pushes the app context before it looks a
    command up, so --help is rendered inside it too (app.test_cli_runner() would render help without one)."""
    group = FlaskGroup(create_app=lambda: app, add_default_commands=False, add_version_option=False,
                       set_debug_flag=False, load_dotenv=False)
    return CliRunner().invoke(group, list(args), catch_exceptions=False)


@pytest.fixture
def app_config(app_config: dict[str, Any], request: pytest.FixtureRequest) -> dict[str, Any]:
    return {**app_config, "DEFAULT_LANGUAGE": getattr(request, "param", "de")}


def test_demo_load_prints_german_with_default_language_de(app: Flask) -> None:
    out = flask_cli(app, "demo", "load")
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0] == "Demodaten geladen."
    assert lines[1] == "Demo-Anmeldedaten (E-Mail / Passwort / Rolle):"
    for (email, password, role), line in zip(demo.logins(), lines[2:], strict=True):
        assert line.split() == [email, password, role]  # the table itself is data: unchanged
    again = flask_cli(app, "demo", "load")
    assert again.output.splitlines()[0] == "Demodaten sind bereits vorhanden."


def test_content_check_and_help_in_german(app: Flask) -> None:
    out = flask_cli(app, "content", "check", str(CONTENT))
    assert out.exit_code == 0, out.output
    first = out.output.splitlines()[0]
    assert re.fullmatch(rf"OK {re.escape(str(CONTENT))}: Version \S+, 10 Empfehlungen, \d+ Fragen", first), first
    assert re.search(r"^OK \S+\.de\.json: de, \d+ Texte$", out.output, re.M), out.output
    # Help texts are lazy: rendered in the configured language when --help asks for them.
    assert "Behörden anlegen und umbenennen." in flask_cli(app, "agencies", "--help").output
    helped = flask_cli(app, "users", "create", "--help").output
    assert "Ein Konto für EMAIL anlegen" in helped and "Unit id; required" not in helped
    assert "ID der Dienststelle; für Mitglieder erforderlich." in helped


def test_errors_of_the_ops_commands_in_german(app: Flask, tmp_path: Path) -> None:
    both = flask_cli(app, "backup", "--output", str(tmp_path / "a"), "--dir", str(tmp_path))
    assert both.exit_code == 2 and "Geben Sie --output oder --dir an, nicht beides." in both.output
    missing = flask_cli(app, "restore", str(tmp_path / "nothing.dump"))
    assert missing.exit_code == 1
    assert missing.output.strip() == f"Error: Unter {tmp_path / 'nothing.dump'} gibt es keine Sicherungsdatei."


@pytest.mark.parametrize("app_config", ["es"], indirect=True)
def test_admin_commands_in_spanish_with_default_language_es(app: Flask, world: Any) -> None:
    out = flask_cli(app, "agencies", "create", "Aduanas")
    assert out.exit_code == 0, out.output
    assert re.fullmatch(r"Organismo \d+ creado: Aduanas\n", out.output), out.output
    refused = flask_cli(app, "units", "create", "abc", "X")
    assert refused.exit_code == 1
    assert refused.output.strip() == "Error: El id. del organismo debe ser un número, no 'abc'."
    made = flask_cli(app, "users", "create", "nueva@example.org", "--name", "Nueva", "--role", "trainer",
                     "--agency", str(world.agency_a))
    assert made.exit_code == 0, made.output
    assert "Enlace de un solo uso para establecer la contraseña de nueva@example.org" in made.output
    assert re.search(r"^http://localhost/set-password/[A-Za-z0-9_-]{43}$", made.output, re.M)  # the URL as is
