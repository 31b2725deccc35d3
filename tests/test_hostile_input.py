"""Hostile input in every text field: a clear 4xx, or stored and shown escaped; never a 500."""

from __future__ import annotations

import pytest

from .conftest import email
from .helpers import hidden_fields, section_data, start_assessment
from .test_questionnaire_flow import fill_all

HOSTILE = {
    "html": '<script>alert("x")</script><img src=x onerror=alert(1)>',
    "nul": "before\x00after",
    "rtl": "abc\u202eevil.exe\u202c",
    "zero-width": "in\u200bvisible\u200d",
    "1mb": "A" * 1_000_000,
    "sql": "'; DROP TABLE answer; --",
}


def check(resp, value):
    assert resp.status_code < 500, resp.status_code
    body = resp.data.decode("utf-8", "replace")
    assert "<script>alert" not in body and "<img src=x" not in body
    if resp.status_code >= 400:
        assert "Traceback" not in body


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_hostile_text_everywhere(app, world, make_browser, kind):
    value = HOSTILE[kind]
    anon = make_browser()
    anon.get("/login")
    check(anon.post("/login", {"email": value, "password": value}), value)

    member = make_browser()
    member.login(email("member_a1"))
    member.get("/assessments/")
    resp = member.post("/assessments/new", {"title": value, "unit": str(world.unit_a1)})
    check(resp, value)
    if resp.status_code == 302:
        listing = member.get("/assessments/")
        check(listing, value)
    aid = start_assessment(member, world.unit_a1)
    url = f"/assessments/{aid}/section/1"
    page = member.get(url).data.decode()
    data = section_data(1, ["1", "1", "1", "1"], comments=[value], evidence=[value], base=hidden_fields(page))
    check(member.post(url, data), value)
    check(member.get(url), value)
    check(member.get(f"/assessments/{aid}/results"), value)

    fill_all(member, aid)
    member.post(f"/assessments/{aid}/submit")
    sup = make_browser()
    sup.login(email("supervisor_a"))
    sup.get(f"/assessments/{aid}")
    check(sup.post(f"/assessments/{aid}/signoff", {"remark": value}), value)
    check(sup.get(f"/assessments/{aid}/results"), value)
    check(sup.post(f"/assessments/{aid}/reopen", {"reason": value}), value)
    check(sup.get(f"/assessments/{aid}"), value)
    check(sup.get("/audit/", query_string={"user": value[:300], "action": value[:300], "from": value[:50]}), value)
    check(sup.get("/audit/export.csv", query_string={"user": value[:300]}), value)
