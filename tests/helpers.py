"""Helpers for driving the questionnaire through the test client as a browser would."""

from __future__ import annotations

import re
from typing import Any

from app.config import ROOT
from app.content import Content, load_file

CONTENT: Content = load_file(ROOT / "recommendations.json")
HIDDEN_RE = re.compile(r'<input[^>]*name="((?:rev_|target_orig)[^"]*)"[^>]*value="([^"]*)"')
HIDDEN_RE2 = re.compile(r'<input[^>]*value="([^"]*)"[^>]*name="((?:rev_|target_orig)[^"]*)"')


def hidden_fields(html: str) -> dict[str, str]:
    """The revision fields a section page carries (what a browser would send back)."""
    out = {m.group(1): m.group(2) for m in HIDDEN_RE.finditer(html)}
    out.update({m.group(2): m.group(1) for m in HIDDEN_RE2.finditer(html)})
    return out


def section_data(number: int, values: list[str | None], *, target: int = 3, comments: list[str] | None = None,
                 evidence: list[str] | None = None, base: dict[str, str] | None = None) -> dict[str, Any]:
    rec = CONTENT.recommendation_by_number[number]
    data: dict[str, Any] = dict(base or {})
    data["target"] = str(target)
    for i, q in enumerate(rec.questions):
        if i < len(values) and values[i] is not None:
            data[f"q_{q.id}"] = values[i]
        data[f"c_{q.id}"] = (comments or [""] * 5)[i] if comments and i < len(comments) else ""
        data[f"e_{q.id}"] = (evidence or [""] * 5)[i] if evidence and i < len(evidence) else ""
    return data


def save_section(browser: Any, assessment_id: int, number: int, values: list[str | None], *,
                 action: str = "save", **kw: Any) -> Any:
    """Open the section page, then post it back with the given answers (like pressing Save)."""
    url = f"/assessments/{assessment_id}/section/{number}"
    page = browser.get(url)
    assert page.status_code == 200, page.status_code
    data = section_data(number, values, base=hidden_fields(page.data.decode()), **kw)
    data["action"] = action
    return browser.post(url, data)


def start_assessment(browser: Any, unit_id: int, title: str = "Self-assessment 2026") -> int:
    browser.get("/assessments/")
    resp = browser.post("/assessments/new", {"title": title, "unit": str(unit_id)})
    assert resp.status_code == 302, resp.data[:800]
    m = re.search(r"/assessments/(\d+)/section/1", resp.headers["Location"])
    assert m, resp.headers["Location"]
    return int(m.group(1))


def agency_pdf(browser: Any) -> Any:
    """The agency report: prepared off the request ("being prepared" page, 202), then served from the cache."""
    from app import background

    resp = browser.get("/agency/report.pdf")
    if resp.status_code == 202:
        assert background.wait_idle()
        resp = browser.get("/agency/report.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf", resp.status_code
    return resp
