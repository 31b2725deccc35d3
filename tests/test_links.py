"""Links given to other people are built on BASE_URL; requests for unknown hosts are refused (issue 11, item 3)."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
import segno
from sqlalchemy import select

from app import create_app
from app.config import ConfigError, load_config
from app.db import db
from app.workshops.models import Workshop

from .conftest import Browser, email
from .test_admin import new_user
from .test_workshops import open_workshop

BASE = "https://assess.police.example/thb"
ALIAS = "http://alias.example"  # another name the service answers to (TRUSTED_HOSTS), not the one in links


@pytest.fixture
def app_config(app_config):
    return {**app_config, "BASE_URL": BASE, "TRUSTED_HOSTS": "alias.example", "TRUSTED_PROXIES": 1}


class AliasBrowser(Browser):
    """A browser that opened the service under the alias host."""

    def get(self, url: str, **kw: Any) -> Any:
        return super().get(url, base_url=ALIAS, **kw)

    def post(self, url: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
        return super().post(url, data, base_url=ALIAS, **kw)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("path", ["/login", "/w/", "/healthz", "/w/j/ABC234"])
def test_unknown_host_is_refused(app, world, path):
    client = app.test_client()
    assert client.get(path, headers={"Host": "evil.example"}).status_code == 400
    assert client.get(path, headers={"Host": "assess.police.example"}).status_code != 400
    assert client.get(path, headers={"Host": "alias.example:8080"}).status_code != 400


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_forwarded_host_is_not_believed(app, world):
    """Behind a trusted proxy, X-Forwarded-Host is still the client's word: it is neither used nor echoed."""
    b = Browser(app.test_client())
    b.login(email("trainer_a"))
    wid, _code = open_workshop(b)
    forged = {"X-Forwarded-Host": "evil.example", "X-Forwarded-For": "192.0.2.1", "X-Forwarded-Proto": "https"}
    for path in (f"/workshops/{wid}", f"/workshops/{wid}/join-screen", f"/workshops/{wid}/qr.svg", "/w/"):
        resp = b.get(path, headers=forged)
        assert resp.status_code == 200, path
        assert b"evil.example" not in resp.data, path


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_set_password_link_is_built_on_base_url(app, world):
    admin = AliasBrowser(app.test_client())
    admin.login(email("admin"))
    resp = new_user(admin, agency=str(world.agency_a), unit=str(world.unit_a1))
    assert resp.status_code == 200
    page = resp.data.decode()
    assert re.search(r'value="https://assess\.police\.example/thb/set-password/[A-Za-z0-9_-]{43}"', page), page
    assert "alias.example" not in page
    resp = admin.post(f"/admin/users/{world.users['member_a2']}/reset-password", {})
    assert f'value="{BASE}/set-password/' in resp.data.decode()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_workshop_join_address_and_qr_code_are_built_on_base_url(app, world):
    trainer = AliasBrowser(app.test_client())
    trainer.login(email("trainer_a"))
    wid, _code = open_workshop(trainer)
    with app.app_context():
        code = db.session.scalars(select(Workshop.code).where(Workshop.id == wid)).one()
    join_url = f"{BASE}/w/j/{code}"
    for path in (f"/workshops/{wid}", f"/workshops/{wid}/join-screen"):
        page = trainer.get(path).data.decode()
        assert f"{BASE}/w/" in page, path
        assert "alias.example" not in page and "localhost" not in page, path
    assert "alias.example" not in trainer.get(f"/workshops/{wid}/board/fragment").data.decode()
    expected = io.BytesIO()
    segno.make(join_url, error="m").save(expected, kind="svg", scale=8, border=2, xmldecl=False, title="Join code QR")
    assert trainer.get(f"/workshops/{wid}/qr.svg").data == expected.getvalue()


def test_production_requires_base_url(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "x" * 64)
    monkeypatch.delenv("BASE_URL", raising=False)
    with pytest.raises(ConfigError, match="BASE_URL"):
        create_app({"APP_ENV": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    for bad in ("assess.police.example", "ftp://assess.police.example", "https://", "https://a.example/?x=1"):
        monkeypatch.setenv("BASE_URL", bad)
        with pytest.raises(ConfigError, match="BASE_URL"):
            load_config(tmp_path, {"APP_ENV": "production"})


def test_trusted_hosts_follow_base_url(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "x" * 64)
    monkeypatch.setenv("BASE_URL", "https://assess.police.example:8443/")
    monkeypatch.setenv("TRUSTED_HOSTS", "thb-1.internal, Thb-2.internal")
    cfg = load_config(tmp_path, {"APP_ENV": "production"})
    assert cfg["BASE_URL"] == "https://assess.police.example:8443"
    assert cfg["TRUSTED_HOSTS"] == ["assess.police.example", "thb-1.internal", "thb-2.internal"]
    monkeypatch.delenv("TRUSTED_HOSTS")
    assert load_config(tmp_path, {"APP_ENV": "production"})["TRUSTED_HOSTS"] == ["assess.police.example"]


def test_production_refuses_per_process_rate_limits(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "x" * 64)
    monkeypatch.setenv("BASE_URL", "https://assess.police.example")
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "memory://")
    with pytest.raises(ConfigError, match="memory"):
        create_app({"APP_ENV": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    monkeypatch.delenv("RATELIMIT_STORAGE_URI")
    assert load_config(tmp_path, {"APP_ENV": "production"})["RATELIMIT_STORAGE_URI"] == "database"
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    assert load_config(tmp_path, {"APP_ENV": "production"})["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"
