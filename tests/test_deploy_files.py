"""The deployment files stay in step with the code: every setting the app reads is in the environment
template, nginx's request limit equals the app's, and the scheduled jobs call commands that exist."""

from __future__ import annotations

import getpass
import os
import re
import shlex
import subprocess
from pathlib import Path

import click
import pytest

from app import create_app
from app.config import load_config

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
SIZE = {"": 1, "k": 1024, "m": 1024 * 1024, "g": 1024 * 1024 * 1024}


def settings_read_by_the_code() -> set[str]:
    names = set()
    for path in (ROOT / "app" / "config.py", ROOT / "gunicorn.conf.py"):
        names |= set(re.findall(r"env(?:iron)?\.get\(\s*\"([A-Z][A-Z0-9_]+)\"", path.read_text()))
    return names


def test_the_environment_template_has_every_setting() -> None:
    template = (DEPLOY / "thb.env.example").read_text()
    present = set(re.findall(r"^#?([A-Z][A-Z0-9_]+)=", template, flags=re.M))
    wanted = settings_read_by_the_code()
    assert len(wanted) > 20
    assert wanted - present == set()


def test_the_environment_template_passes_the_production_checks(tmp_path: Path, monkeypatch) -> None:
    """With its placeholders filled in, the template is a configuration the app accepts for production."""
    values = {}
    for line in (DEPLOY / "thb.env.example").read_text().splitlines():
        m = re.match(r"^([A-Z][A-Z0-9_]+)=(.*)$", line)
        if m:
            values[m.group(1)] = m.group(2).strip('"')
    assert values["APP_ENV"] == "production" and values["TRUSTED_PROXIES"] == "1"
    for key, value in values.items():
        monkeypatch.setenv(key, value.replace("REPLACE-WITH-64-HEX-CHARACTERS", "ab" * 32))
    cfg = load_config(tmp_path)
    assert cfg["SESSION_COOKIE_SECURE"] is True
    assert cfg["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    # Limits shared by every process and host: the database by default (Redis when REDIS_URL is set).
    assert cfg["RATELIMIT_STORAGE_URI"] == "database"
    assert cfg["BASE_URL"] == "https://assess.police.example"


def test_nginx_refuses_exactly_what_the_app_refuses() -> None:
    site = (DEPLOY / "nginx" / "thb.conf").read_text()
    (size,) = re.findall(r"client_max_body_size\s+(\d+)([kKmMgG]?);", site)
    default = load_config(ROOT / "instance", {"APP_ENV": "test"})["MAX_CONTENT_LENGTH"]
    assert int(size[0]) * SIZE[size[1].lower()] == default


def _flask_commands(unit: Path) -> list[list[str]]:
    out = []
    for line in unit.read_text().splitlines():
        if line.startswith("ExecStart") and "/flask" in line:
            words = shlex.split(line.split("=", 1)[1])
            out.append(words[words.index("wsgi.py") + 1:])
    return out


@pytest.mark.parametrize("unit", ["thb-jobs.service", "thb.service"])
def test_the_systemd_units_call_commands_that_exist(unit: str, tmp_path: Path) -> None:
    app = create_app({"APP_ENV": "test", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite3'}",
                      "SECRET_KEY": "test-secret-deploy-files"})
    commands = _flask_commands(DEPLOY / "systemd" / unit)
    if unit == "thb-jobs.service":
        assert [c[0] for c in commands] == ["workshops", "backup"]
    for words in commands:
        group: click.Command = app.cli
        ctx = click.Context(group, info_name="flask")
        rest = list(words)
        while isinstance(group, click.Group):
            name = rest.pop(0)
            found = group.get_command(ctx, name)
            assert found is not None, f"{unit}: `flask {' '.join(words)}`: no command {name!r}"
            group = found
        group.make_context(words[-1], rest)  # options parse: raises on an unknown option or a bad value
    app.extensions["db_engine"].dispose()


def test_the_environment_template_reads_the_same_in_a_shell() -> None:
    """deploy/thb-flask sources the file: values with spaces must survive (systemd reads them the same way)."""
    out = subprocess.run(["sh", "-c", 'set -a; . "$1"; set +a; printf "%s|%s" "$ORGANISATION_NAME" "$APP_ENV"',
                          "sh", str(DEPLOY / "thb.env.example")], capture_output=True, text=True, check=True)
    assert out.stdout == "National Police - Gap assessment service|production"


def test_thb_flask_runs_a_command_with_the_service_settings(tmp_path: Path) -> None:
    env_file = tmp_path / "thb.env"
    env_file.write_text(f'APP_ENV=development\nDATABASE_URL=sqlite:///{tmp_path / "svc.sqlite3"}\n'
                        'ORGANISATION_NAME="Test Police"\n')
    env = {"PATH": os.environ["PATH"], "THB_HOME": str(ROOT), "THB_ENV": str(env_file),
           "THB_USER": getpass.getuser()}
    venv_flask = ROOT / ".venv" / "bin" / "flask"
    assert venv_flask.exists(), "thb-flask runs the checkout's .venv/bin/flask"
    out = subprocess.run([str(DEPLOY / "thb-flask"), "db-upgrade"], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "Database is up to date." in out.stdout
    assert (tmp_path / "svc.sqlite3").exists()


def test_gunicorn_keeps_no_access_log_of_its_own() -> None:
    """The app logs each request once (app/requestlog.py); gunicorn's access log would repeat it with the raw
    path and query string, which may carry tokens."""
    import runpy

    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert "accesslog" in settings and settings["accesslog"] is None
