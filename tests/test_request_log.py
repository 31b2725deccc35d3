"""One JSON line per request (app/requestlog.py): the URL rule, never what was typed or sent; a request id
that a user can quote from the 500 page, taken from the proxy when sane."""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Iterator

import pytest
from flask import Flask

from app import create_app
from app.access import public
from app.requestlog import LOGGER_NAME, JsonFormatter, _StderrHandler

from .conftest import PASSWORD, World, email
from .helpers import save_section, start_assessment

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # nothing here depends on the database

HEX32 = re.compile(r"[0-9a-f]{32}")
SECTION_RULE = "/assessments/<int:assessment_id>/section/<int:number>"


class Lines(logging.Handler):
    """The request log as a collector would read it: each record through the app's JSON formatter."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def take(self) -> list[dict[str, object]]:
        """Every line logged since the last call, each checked to be one line of JSON."""
        out = []
        for line in self.lines:
            assert "\n" not in line
            out.append(json.loads(line))
        self.lines.clear()
        return out


@pytest.fixture
def log(app: Flask) -> Iterator[Lines]:
    handler = Lines()
    logger = logging.getLogger(LOGGER_NAME)
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def test_one_json_line_per_request_with_the_url_rule(app, world: World, make_browser, log: Lines) -> None:
    member = make_browser()
    member.login(email("member_a1"))
    aid = start_assessment(member, world.unit_a1)
    log.take()

    page = member.get(f"/assessments/{aid}/section/2?from=overview")
    assert page.status_code == 200
    (line,) = log.take()
    assert set(line) == {"ts", "level", "event", "method", "path", "status", "duration_ms", "request_id", "user_id"}
    assert line["event"] == "request" and line["level"] == "info"
    assert line["method"] == "GET"
    assert line["path"] == SECTION_RULE  # the rule, not /assessments/1/section/2?from=overview
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert HEX32.fullmatch(str(line["request_id"]))
    assert page.headers["X-Request-ID"] == line["request_id"]
    assert line["user_id"] == world.users["member_a1"]

    anonymous = make_browser()
    assert anonymous.get("/healthz").status_code == 200
    (line,) = log.take()
    assert (line["path"], line["status"], line["user_id"]) == ("/healthz", 200, None)

    # A refused request is logged too, with the rule it was refused on.
    assert anonymous.get(f"/assessments/{aid}/review").status_code == 302
    (line,) = log.take()
    assert (line["path"], line["status"]) == ("/assessments/<int:assessment_id>/review", 302)
    assert isinstance(line["duration_ms"], float)  # timed from before the access check that refused it

    # No rule matched: no path at all (what was asked for may be anything, secrets included).
    assert anonymous.get("/no-such-page/abc").status_code == 404
    (line,) = log.take()
    assert (line["path"], line["status"]) == (None, 404)

    # Each request gets its own id.
    ids = {anonymous.get("/healthz").headers["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3


def test_answers_comments_passwords_tokens_and_cookies_never_reach_the_log(app, world: World, make_browser,
                                                                          log: Lines) -> None:
    marker = secrets.token_hex(8)
    member = make_browser()
    member.get("/login")
    failed = member.post("/login", {"email": email("member_a1"), "password": f"pw-{marker}-wrong"})
    assert failed.status_code == 401
    member.login(email("member_a1"))
    aid = start_assessment(member, world.unit_a1)
    saved = save_section(member, aid, 1, ["3", "2"], comments=[f"comment-{marker}", "plain"],
                         evidence=[f"evidence-{marker}"])
    assert saved.status_code == 302
    assert member.get(f"/assessments/{aid}/section/1").data.decode().count(f"comment-{marker}") == 1

    anonymous = make_browser()
    anonymous.get(f"/set-password/token-{marker}?token=query-{marker}")
    anonymous.client.set_cookie("thb_wp1", f"cookie-{marker}", path="/w/")
    anonymous.get("/w/1/")
    anonymous.get(f"/w/j/code{marker[:6]}")

    lines = log.take()
    assert len(lines) >= 10  # every one of those requests was logged...
    text = "\n".join(json.dumps(line) for line in lines)
    assert marker not in text and marker[:6] not in text  # ...and none of what was typed or sent
    assert PASSWORD not in text
    paths = {line["path"] for line in lines}
    assert {"/login", SECTION_RULE, "/set-password/<token>", "/w/j/<code>"} <= paths


@pytest.fixture
def app_with_boom(app: Flask) -> Flask:
    @app.route("/boom/<int:n>")
    @public
    def boom(n: int):  # a view that fails
        raise RuntimeError("internal detail")

    return app


def test_a_500_page_shows_the_request_id_of_its_log_line(app_with_boom, world, make_browser, log: Lines,
                                                         caplog) -> None:
    anonymous = make_browser()
    resp = anonymous.get("/boom/7")
    assert resp.status_code == 500
    rid = resp.headers["X-Request-ID"]
    assert HEX32.fullmatch(rid)
    assert f"Quote this reference: {rid}" in resp.data.decode()
    (line,) = log.take()
    assert (line["path"], line["status"], line["request_id"]) == ("/boom/<int:n>", 500, rid)
    # The traceback in the error log carries the same reference.
    (error,) = [r for r in caplog.records if r.name == app_with_boom.logger.name and r.exc_info]
    assert rid in error.getMessage() and "/boom/<int:n>" in error.getMessage()

    # A proxy's id is the one quoted; pages below 500 carry no reference.
    resp = anonymous.get("/boom/8", headers={"X-Request-ID": "edge-42.a_B"})
    assert "Quote this reference: edge-42.a_B" in resp.data.decode()
    assert "Quote this reference" not in anonymous.get("/no-such-page").data.decode()


@pytest.mark.parametrize("incoming, kept", [
    ("0123456789abcdef0123456789abcdef", True),  # nginx's $request_id
    ("edge-42.a_B", True),
    ("x" * 64, True),
    ("x" * 65, False),
    ("has space", False),
    ("<script>alert(1)</script>", False),
    ("id\u00e9", False),
    ("", False),
])
def test_an_incoming_request_id_is_kept_only_when_sane(app, log: Lines, incoming: str, kept: bool) -> None:
    resp = app.test_client().get("/healthz", headers={"X-Request-ID": incoming})
    (line,) = log.take()
    assert resp.headers["X-Request-ID"] == line["request_id"]
    if kept:
        assert line["request_id"] == incoming
    else:
        assert HEX32.fullmatch(str(line["request_id"]))


def test_request_log_off(app_config, log: Lines) -> None:
    quiet = create_app({**app_config, "REQUEST_LOG": False})
    try:
        resp = quiet.test_client().get("/healthz")
        assert HEX32.fullmatch(resp.headers["X-Request-ID"])  # the id stays, for error pages and the proxy
        assert log.take() == []
    finally:
        quiet.extensions["db_engine"].dispose()


def test_outside_tests_the_lines_go_to_stderr_as_json(app_config, capsys) -> None:
    running = create_app({**app_config, "APP_ENV": "development", "TESTING": False})
    logger = logging.getLogger(LOGGER_NAME)
    try:
        capsys.readouterr()
        running.test_client().get("/healthz", headers={"X-Request-ID": "from-the-proxy"})
        err = capsys.readouterr().err.splitlines()
        lines = [json.loads(x) for x in err if x.startswith("{")]
        assert [(x["path"], x["request_id"]) for x in lines] == [("/healthz", "from-the-proxy")]
    finally:
        for handler in [h for h in logger.handlers if isinstance(h, _StderrHandler)]:
            logger.removeHandler(handler)
        logger.propagate = True
        running.extensions["db_engine"].dispose()
