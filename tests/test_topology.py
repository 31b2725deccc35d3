"""The production topology, for real: the shipped nginx site (deploy/nginx/thb.conf) with a self-signed
certificate in front of two gunicorn instances of the app on different ports, sharing one PostgreSQL
database, all on 127.0.0.1.

The site file is used as shipped; only what differs on a test machine is rewritten (ports, certificate,
static and access log paths, the two app addresses), and every rewrite must apply, so a change to the shipped
file that the test no longer matches fails here instead of passing untested. One line is added: a header naming the
instance that answered, so the test can see a request served by the other instance.

One step drives Chromium through nginx (the service's name mapped to nginx's test port); it is skipped without
Chromium, or fails under REQUIRE_BROWSER=1 as the other browser tests do.

Skipped when nginx is not installed (`apt-get install nginx`; .ci/run installs it and sets REQUIRE_NGINX=1,
which turns the skip into a failure).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

import psycopg
import pytest

from .conftest import CHROMIUM, CHROMIUM_ARGS, CSRF_RE

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "deploy" / "nginx" / "thb.conf"
NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
HOST = "assess.police.example"
FORGED = "evil.example"
SECTION_RULE = "/assessments/<int:assessment_id>/section/<int:number>"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sub(text: str, pattern: str, repl: str, count: int = 0) -> str:
    new, n = re.subn(pattern, repl, text, flags=re.M)
    assert n > 0, f"deploy/nginx/thb.conf no longer contains {pattern!r}: update this test with it"
    assert count == 0 or n == count, f"{pattern!r} matched {n} times, expected {count}"
    return new


def site_for_test(http_port: int, https_port: int, cert: Path, key: Path, apps: list[int], access_log: Path) -> str:
    conf = SITE.read_text()
    conf = _sub(conf, r"access_log /var/log/nginx/thb\.access\.log thb_main;", f"access_log {access_log} thb_main;", 2)
    conf = _sub(conf, r"^\s*listen \[::\]:.*\n", "")
    conf = _sub(conf, r"listen 80\b", f"listen 127.0.0.1:{http_port}", 2)
    conf = _sub(conf, r"listen 443\b", f"listen 127.0.0.1:{https_port}", 2)
    conf = _sub(conf, r"ssl_certificate\s+\S+;", f"ssl_certificate {cert};", 2)
    conf = _sub(conf, r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {key};", 2)
    conf = _sub(conf, r"alias /srv/thb/app/static/;", f"alias {ROOT / 'app' / 'static'}/;", 1)
    conf = _sub(conf, r"^\s*server \d+\.\d+\.\d+\.\d+:\d+.*;\n", "")
    servers = "".join(f"    server 127.0.0.1:{p};\n" for p in apps)
    conf = _sub(conf, r"(upstream thb_app \{\n)", r"\g<1>" + servers, 1)
    return _sub(conf, r"(proxy_pass http://thb_app;)", r"\1 add_header X-Served-By $upstream_addr always;", 1)


def nginx_main_conf(prefix: Path, site: Path) -> str:
    user = "user root root;\n" if os.geteuid() == 0 else ""  # workers read the checkout's static files
    temp = "".join(f"    {k}_temp_path {prefix / k};\n" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return (f"{user}worker_processes 1;\npid {prefix / 'nginx.pid'};\nerror_log {prefix / 'error.log'} info;\n"
            "events { worker_connections 128; }\n"
            f"http {{\n    include /etc/nginx/mime.types;\n    access_log {prefix / 'access.log'};\n{temp}"
            f"    include {site};\n}}\n")


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def served_by(self) -> str | None:
        return self.headers.get("X-Served-By")


@dataclass
class Client:
    """A minimal HTTPS client that keeps cookies and sends the Host name the site is configured for."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    set_cookie: list[str] = field(default_factory=list)
    csrf: str | None = None

    def request(self, method: str, path: str, form: dict[str, str] | None = None,
                headers: dict[str, str] | None = None, body: bytes | None = None) -> Answer:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # the test's self-signed certificate
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=30)
        h = {"Host": HOST, **(headers or {})}
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            h["Content-Type"] = "application/x-www-form-urlencoded"
            h.setdefault("Referer", f"https://{HOST}{path}")
        try:
            conn.request(method, path, body=body, headers=h)
            resp = conn.getresponse()
            answer = Answer(resp.status, resp.headers, resp.read())
        finally:
            conn.close()
        for raw in answer.headers.get_all("Set-Cookie") or []:
            self.set_cookie.append(raw)
            for name, morsel in SimpleCookie(raw).items():
                if morsel.value and "expires=thu, 01 jan 1970" not in raw.lower():
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        m = CSRF_RE.search(answer.text)
        if m:
            self.csrf = m.group(1)
        return answer

    def get(self, path: str, **kw: object) -> Answer:
        return self.request("GET", path, **kw)  # type: ignore[arg-type]

    def post(self, path: str, data: dict[str, str], **kw: object) -> Answer:
        return self.request("POST", path, form={**data, "csrf_token": self.csrf or ""}, **kw)  # type: ignore[arg-type]

    def login(self, email: str, password: str, **kw: object) -> Answer:
        self.get("/login")
        return self.post("/login", {"email": email, "password": password}, **kw)


def _wait_http(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until gunicorn answers /healthz; fail with the end of its log when it exits or hangs."""
    deadline = time.monotonic() + 90
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz", headers={"Host": HOST})
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"gunicorn on port {port} exited with {proc.returncode}: {log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"gunicorn on port {port} did not answer within 90 s: {log.read_text()[-3000:]}")
            time.sleep(0.3)


@dataclass
class Topology:
    https: int
    http: int
    apps: list[int]
    pg_url: str
    redis: str | None  # why Redis is not used, or None when both instances share it
    logs: Path  # gunicorn-<port>.log (each instance's stdout and stderr) and nginx's thb.access.log

    def app_log(self, served_by: str | None) -> list[dict[str, object]]:
        """The JSON request lines the instance at ``served_by`` (nginx's upstream address) wrote to stderr."""
        assert served_by is not None
        text = (self.logs / f"gunicorn-{served_by.rsplit(':', 1)[1]}.log").read_text()
        return [json.loads(line) for line in text.splitlines() if line.startswith("{")]

    def all_logs(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.logs.glob("*.log")))


def _redis_unreachable() -> str | None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2).ping()
    except Exception as exc:  # any failure means "not available", with its reason
        return f"{type(exc).__name__}: {exc}"
    return None


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    if NGINX is None:
        if os.environ.get("REQUIRE_NGINX") == "1":
            pytest.fail("REQUIRE_NGINX=1 but nginx is not installed")
        pytest.skip("nginx not installed (apt-get install nginx): the proxy topology test needs it")
    from .conftest import PG_URL, _pg_reachable

    reason = _pg_reachable()
    if reason is not None:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"REQUIRE_POSTGRES=1 but PostgreSQL is not reachable at {PG_URL}: {reason}")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {reason}")

    tmp = tmp_path_factory.mktemp("topology")
    name = f"thb_topology_{secrets.token_hex(5)}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    pg_url = re.sub(r"/[^/]*$", f"/{name}", PG_URL)
    procs: list[subprocess.Popen[bytes]] = []
    logs = ExitStack()
    try:
        env = {**os.environ, "APP_ENV": "production", "SECRET_KEY": secrets.token_hex(32), "DATABASE_URL": pg_url,
               "TRUSTED_PROXIES": "1", "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "2", "FLASK_APP": "wsgi.py",
               "LOGIN_LIMIT": "3 per 15 minutes", "BASE_URL": f"https://{HOST}"}
        env.pop("RATELIMIT_STORAGE_URI", None)
        redis_reason = _redis_unreachable()
        env["REDIS_URL"] = REDIS_URL if redis_reason is None else "memory://"
        for cmd in (["db-upgrade"], ["demo", "load"]):
            subprocess.run([sys.executable, "-m", "flask", *cmd], cwd=ROOT, env=env, check=True, capture_output=True)

        apps = [_free_port(), _free_port()]
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        for port in apps:
            log = logs.enter_context((tmp / f"gunicorn-{port}.log").open("wb"))
            procs.append(subprocess.Popen([gunicorn, "wsgi:app"], cwd=ROOT, env={**env, "BIND": f"127.0.0.1:{port}"},
                                          stdout=log, stderr=subprocess.STDOUT))
        for port, proc in zip(apps, procs, strict=True):
            _wait_http(port, proc, tmp / f"gunicorn-{port}.log")

        key, cert = tmp / "tls.key", tmp / "tls.crt"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                        f"/CN={HOST}", "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
        http_port, https_port = _free_port(), _free_port()
        site = tmp / "thb.conf"
        site.write_text(site_for_test(http_port, https_port, cert, key, apps, tmp / "thb.access.log"))
        main = tmp / "nginx.conf"
        main.write_text(nginx_main_conf(tmp, site))
        check = subprocess.run([NGINX, "-t", "-p", str(tmp), "-c", str(main)], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        nginx = subprocess.Popen([NGINX, "-p", str(tmp), "-c", str(main), "-g", "daemon off;"],
                                 stdout=logs.enter_context((tmp / "nginx.out").open("wb")), stderr=subprocess.STDOUT)
        procs.append(nginx)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", https_port), timeout=2).close()
                break
            except OSError:
                assert nginx.poll() is None, (tmp / "error.log").read_text() if (tmp / "error.log").exists() else ""
                assert time.monotonic() < deadline, "nginx did not listen within 30 s"
                time.sleep(0.2)
        yield Topology(https_port, http_port, apps, pg_url, redis_reason, tmp)
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        logs.close()
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_http_redirects_to_https(topology: Topology) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", topology.http, timeout=10)
    conn.request("GET", "/login?next=%2Fassessments%2F", headers={"Host": HOST})
    resp = conn.getresponse()
    assert resp.status == 301
    assert resp.headers["Location"] == f"https://{HOST}/login?next=%2Fassessments%2F"
    conn.close()


def test_a_request_for_another_host_name_gets_no_answer(topology: Topology) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", topology.http, timeout=10)
    conn.request("GET", "/login", headers={"Host": FORGED})
    with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
        conn.getresponse()
    conn.close()


def test_static_files_come_from_nginx_with_cache_headers(topology: Topology) -> None:
    answer = Client(topology.https).get("/static/css/app.css")
    assert answer.status == 200
    assert answer.body == (ROOT / "app" / "static" / "css" / "app.css").read_bytes()
    assert answer.served_by is None  # no app instance was asked
    assert "max-age=3600" in answer.headers["Cache-Control"]
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_login_on_one_instance_holds_on_the_other(topology: Topology) -> None:
    c = Client(topology.https)
    login = c.login("member@demo.example", "demo-member-pass", headers={"X-Forwarded-For": "203.0.113.9"})
    assert login.status == 302, login.text[:500]
    first = login.served_by
    assert first in {f"127.0.0.1:{p}" for p in topology.apps}
    session_cookie = next(s for s in c.set_cookie if s.startswith("thb_session="))
    assert "Secure" in session_cookie and "HttpOnly" in session_cookie

    served = set()
    for _ in range(6):
        page = c.get("/assessments/")
        assert page.status == 200, (page.status, page.headers.get("Location"))
        assert "Annual self-assessment 2026" in page.text
        assert page.headers.get_all("Strict-Transport-Security") == ["max-age=31536000; includeSubDomains"]
        served.add(page.served_by)
    assert served - {first}, "every request went to the instance that handled the login"

    # The app saw nginx's client address, not the one the client put in X-Forwarded-For.
    with psycopg.connect(topology.pg_url) as conn:
        ips = [r[0] for r in conn.execute("SELECT ip FROM audit_event WHERE action = 'login' ORDER BY id")]
    assert ips and ips[-1] == "127.0.0.1"

    # Logging out on one instance ends the session on the other (the per-user epoch is in the database).
    old_cookie = dict(c.cookies)
    c.get("/assessments/")
    assert c.post("/logout", {}).status == 302
    replay = Client(topology.https, cookies=old_cookie)
    outcomes = {replay.get("/assessments/").status for _ in range(4)}
    assert outcomes == {302}


def test_a_forged_forwarded_host_is_ignored(topology: Topology) -> None:
    c = Client(topology.https)
    assert c.login("trainer@demo.example", "demo-trainer-pass").status == 302
    with psycopg.connect(topology.pg_url) as conn:
        workshop_id = conn.execute("SELECT id FROM workshop WHERE status = 'open' ORDER BY id").fetchone()[0]
    for _ in range(2):  # both instances
        page = c.get(f"/workshops/{workshop_id}/join-screen", headers={"X-Forwarded-Host": FORGED})
        assert page.status == 200
        assert f"https://{HOST}/w/" in page.text
        assert FORGED not in page.text



def test_pdf_download_and_workshop_join_through_the_proxy(topology: Topology) -> None:
    with psycopg.connect(topology.pg_url) as conn:
        assessment_id = conn.execute("SELECT a.id FROM assessment a JOIN unit u ON u.id = a.unit_id "
                                     "WHERE a.status = 'submitted' AND u.name = 'Anti-Trafficking Unit' "
                                     "ORDER BY a.id").fetchone()[0]
        workshop_id, code = conn.execute("SELECT id, code FROM workshop WHERE status = 'open'").fetchone()
    member = Client(topology.https)
    assert member.login("member@demo.example", "demo-member-pass").status == 302
    pdf = member.get(f"/assessments/{assessment_id}/report.pdf")
    assert pdf.status == 200 and pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.body.startswith(b"%PDF-")

    # A participant opens the join address of the QR code (HTTPS, the service's name) and joins.
    participant = Client(topology.https)
    page = participant.get(f"/w/j/{code}")
    assert page.status == 200
    joined = participant.post("/w/join", {"code": code, "role_label": "investigator"})
    assert joined.status == 302 and joined.headers["Location"].endswith(f"/w/{workshop_id}/")
    token_cookie = next(c for c in participant.set_cookie if c.lower().startswith("thb_w"))
    assert "Secure" in token_cookie and "HttpOnly" in token_cookie and "Path=/w/" in token_cookie
    served = set()
    for _ in range(2):  # the participant's page works on both instances
        home = participant.get(f"/w/{workshop_id}/")
        assert home.status == 200
        served.add(home.served_by)
    assert len(served) == 2

def test_one_request_id_in_nginx_log_app_log_and_answer(topology: Topology) -> None:
    """nginx replaces a client's X-Request-ID with its own, logs it, and the instance logs and returns the same."""
    c = Client(topology.https)
    answer = c.get("/login?next=%2Fassessments%2F", headers={"X-Request-ID": "chosen-by-the-client"})
    assert answer.status == 200
    rid = answer.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", rid), rid  # nginx's $request_id, not the client's
    access_log, wanted = topology.logs / "thb.access.log", f"request_id={rid} upstream={answer.served_by}"
    deadline = time.monotonic() + 10  # nginx logs a request after it has answered it
    while wanted not in access_log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert wanted in access_log.read_text()
    assert '"GET /login"' in access_log.read_text()  # no query string in nginx's log either
    (line,) = [x for x in topology.app_log(answer.served_by) if x["request_id"] == rid]
    assert (line["method"], line["path"], line["status"], line["user_id"]) == ("GET", "/login", 200, None)


def test_in_chromium_a_section_saved_on_one_instance_reads_back_on_the_other(topology: Topology) -> None:
    """A real browser through nginx (HTTPS, the service's name): log in, save a section on one instance, read it
    back from the other, download the PDF. Nothing typed reaches a log."""
    if CHROMIUM is None:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail("REQUIRE_BROWSER=1 but Chromium is not installed")
        pytest.skip("Chromium not found (apt-get install chromium): the browser step of the topology test needs it")
    from playwright.sync_api import Response, sync_playwright

    with psycopg.connect(topology.pg_url) as conn:
        aid, member_id = conn.execute(
            "SELECT a.id, m.id FROM assessment a JOIN unit u ON u.id = a.unit_id "
            "JOIN user_account m ON m.unit_id = u.id WHERE a.status <> 'submitted' "
            "AND u.name = 'Anti-Trafficking Unit' AND m.email = 'member@demo.example' "
            "ORDER BY a.id").fetchone()
    marker = secrets.token_hex(8)
    base = f"https://{HOST}"  # port 443 as users see it; Chromium is told that it is nginx's test port
    instances = {f"127.0.0.1:{p}" for p in topology.apps}

    def served_by(resp: Response | None) -> str | None:
        assert resp is not None
        return resp.headers.get("x-served-by")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            *CHROMIUM_ARGS, f"--host-resolver-rules=MAP {HOST}:443 127.0.0.1:{topology.https}"])
        ctx = browser.new_context(ignore_https_errors=True, accept_downloads=True)
        page = ctx.new_page()
        try:
            page.goto(f"{base}/login")
            page.fill("#email", "member@demo.example")
            page.fill("#password", "demo-member-pass")
            with page.expect_response(lambda r: r.request.method == "POST" and r.url == f"{base}/login") as login:
                page.click("main button[type=submit]")
            assert login.value.status == 302
            page.wait_for_load_state()
            (session,) = [c for c in ctx.cookies() if c["name"] == "thb_session"]
            assert session["secure"] and session["httpOnly"]

            url = f"{base}/assessments/{aid}/section/1"
            page.goto(url)
            question = page.locator("fieldset.question").first
            before = question.locator("input[type=radio]:checked")
            level = "1" if (before.get_attribute("value") if before.count() else None) != "1" else "4"
            question.locator(f"input[type=radio][value='{level}']").check()
            question.locator("textarea").first.fill(f"Seen in Chromium {marker}")
            with page.expect_response(lambda r: r.request.method == "POST" and r.url == url) as saved:
                page.click("button[value=save]")
            page.wait_for_load_state()
            assert saved.value.status == 302, saved.value.status
            saver, rid = served_by(saved.value), saved.value.headers["x-request-id"]
            assert saver in instances

            # nginx alternates between the instances: reload until the other one answers, then read it back.
            for _ in range(6):
                shown = page.goto(url)
                if served_by(shown) != saver:
                    break
            else:
                pytest.fail(f"every reload was served by {saver}")
            assert shown is not None and shown.status == 200 and served_by(shown) in instances - {saver}
            question = page.locator("fieldset.question").first
            assert question.locator(f"input[type=radio][value='{level}']").is_checked()
            assert question.locator("textarea").first.input_value() == f"Seen in Chromium {marker}"

            page.goto(f"{base}/assessments/{aid}/results")
            with page.expect_download() as download:
                page.click("text=Download PDF")
            assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")
        finally:
            ctx.close()
            browser.close()

    # The save is one line in the log of the instance that served it, under nginx's request id.
    (line,) = [x for x in topology.app_log(saver) if x["request_id"] == rid]
    assert (line["method"], line["path"], line["status"], line["user_id"]) == ("POST", SECTION_RULE, 302, member_id)
    logs = topology.all_logs()
    assert marker not in logs and "demo-member-pass" not in logs


def test_a_request_larger_than_max_content_length_is_refused_by_nginx(topology: Topology) -> None:
    c = Client(topology.https)
    answer = c.request("POST", "/w/join", body=b"x" * (1024 * 1024 + 1),
                       headers={"Content-Type": "application/octet-stream"})
    assert answer.status == 413
    assert answer.served_by is None


def test_backup_while_serving_restores_to_the_same_data(topology: Topology, tmp_path: Path) -> None:
    """`flask backup` against the live shared database, `flask restore` into a fresh one: every table equal."""
    from sqlalchemy import create_engine

    from app.config import normalise_database_url
    from app.ops.copy import checksum, tables

    from .conftest import PG_URL

    env = {**os.environ, "APP_ENV": "development", "DATABASE_URL": topology.pg_url, "FLASK_APP": "wsgi.py"}
    dump = tmp_path / "live.dump"
    c = Client(topology.https)
    assert c.login("member@demo.example", "demo-member-pass").status == 302  # the service is in use
    out = subprocess.run([sys.executable, "-m", "flask", "backup", "--output", str(dump)], cwd=ROOT, env=env,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert c.get("/assessments/").status == 200

    name = f"thb_restored_{secrets.token_hex(5)}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    restored = re.sub(r"/[^/]*$", f"/{name}", PG_URL)
    try:
        out = subprocess.run([sys.executable, "-m", "flask", "restore", str(dump)], cwd=ROOT,
                             env={**env, "DATABASE_URL": restored}, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr

        def sums(url: str) -> dict[str, tuple[int, str]]:
            engine = create_engine(normalise_database_url(url))
            with engine.connect() as conn:
                result = {t.name: checksum(conn, t) for t in tables()}
            engine.dispose()
            return result

        live, copy = sums(topology.pg_url), sums(restored)
        assert live["answer"][0] > 100
        # The login above was audited before the backup; nothing wrote since, so every table is identical.
        assert copy == live
        # And what the service makes of them: the JSON export of every assessment, as downloaded.
        before, after = exports(topology.pg_url), exports(restored)
        assert len(before) == live["assessment"][0] and before
        assert after == before
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def exports(url: str) -> dict[int, str]:
    """The JSON export (GET /assessments/<id>/export.json) of every assessment in the database at ``url``, made
    the way that view makes it, at one fixed time so that two databases' exports compare equal when their
    data is."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from app import create_app
    from app.content.current import for_version
    from app.db import db
    from app.models import Assessment
    from app.reports import context as report_context
    from app.reports.export import to_json

    app = create_app({"APP_ENV": "test", "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secrets.token_hex(32),
                      "RATELIMIT_STORAGE_URI": "memory://"})
    at = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        with app.app_context():
            return {a.id: json.dumps(to_json(report_context.build_report_context(
                db.session, a, for_version(a.content_version), marking=app.config["HANDLING_MARKING"],
                organisation=app.config["ORGANISATION_NAME"], content_for=for_version, now=at)),
                ensure_ascii=False, indent=2) for a in db.session.scalars(select(Assessment).order_by(Assessment.id))}
    finally:
        app.extensions["db_engine"].dispose()


def test_the_login_limit_is_shared_by_both_instances(topology: Topology) -> None:
    """Failed logins counted on either instance add up (Redis): the fourth attempt is refused wherever it lands."""
    if topology.redis is not None:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(f"REQUIRE_REDIS=1 but Redis is not reachable at {REDIS_URL}: {topology.redis}")
        pytest.skip(f"Redis not reachable at {REDIS_URL} ({topology.redis}): the shared limit needs it")
    target = f"nobody-{secrets.token_hex(6)}@demo.example"  # a key of its own, whatever else uses this Redis
    c = Client(topology.https)
    c.get("/login")
    served = set()
    for _ in range(3):  # nginx alternates: consecutive attempts land on both instances
        answer = c.post("/login", {"email": target, "password": "wrong password, wrong account"})
        assert answer.status == 401
        served.add(answer.served_by)
    assert len(served) == 2, "the failed attempts did not reach both instances"
    for _ in range(2):  # refused on both instances
        refused = c.post("/login", {"email": target, "password": "wrong password, wrong account"})
        assert refused.status == 429
