"""Every export opened with its own library (csv, openpyxl, python-docx, zipfile, pypdf), its numbers checked
against app.scoring, formula injection neutralised, downloads audited, and never another agency's data."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import timedelta

import pytest
from docx import Document
from openpyxl import load_workbook
from pypdf import PdfReader, PdfWriter
from sqlalchemy import select

from app.db import db
from app.display import fmt_level, fmt_pct
from app.models import Assessment, AuditEvent, ReportCache, Status, utcnow
from app.reports import services as report_services
from app.supervisor import exports
from app.supervisor.exports import neutralise

from .conftest import email
from .helpers import CONTENT, agency_pdf
from .supervisor_data import add_assessment, expected_scores, level_plan, uniform_plan

PLAN = level_plan({"r1": ["2", "3", "1", "unknown"], "r2": ["1", "1", "0", "2"], "r3": ["4", "3", "3", "4"],
                   "r4": ["0", "0", "1", "na"], "r5": ["2", "2", "2", "2"], "r6": ["na", "na", "na", "na"],
                   "r7": ["1", "unknown", "0", "1"], "r8": ["3", "2", "2", "1"], "r9": ["2", "1", "2", "3"],
                   "r10": ["0", "1", "unknown", "0"]})
TARGETS = {"r1": 3, "r2": 4, "r4": 4, "r5": 2, "r7": 4, "r10": 2}
EVIL = {"r1_threat_assessment": '=HYPERLINK("http://evil.example","click")',
        "r2_empact": "+1+1", "r3_agreements": "@SUM(A1)", "r4_dsa_instruments": "-2+3"}


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


@pytest.fixture
def assessed(app, world):
    """A1: an older and the latest submitted assessment (with hostile comments); A2: one; B1: one (foreign)."""
    now = utcnow()
    with app.app_context(), db.writing():
        old = add_assessment(world.unit_a1, uniform_plan("1"), title="A1 last year",
                             submitted_at=now - timedelta(days=380))
        latest = add_assessment(world.unit_a1, PLAN, targets=TARGETS, title="A1 this year", comments=EVIL,
                                submitted_at=now - timedelta(days=5))
        a2 = add_assessment(world.unit_a2, uniform_plan("3"), title="A2 baseline",
                            submitted_at=now - timedelta(days=40))
        draft = add_assessment(world.unit_a2, {"r1_threat_assessment": None}, title="A2 draft",
                               status=Status.DRAFT.value, comments={"r1_threat_assessment": "only a comment"})
        b1 = add_assessment(world.unit_b1, uniform_plan("2"), title="B1 secret assessment")
    return {"old": old, "latest": latest, "a2": a2, "draft": draft, "b1": b1}


def streamed(browser, url: str):
    """GET a streamed download, read it whole and close it, as a WSGI server does (ends its transaction)."""
    resp = browser.get(url)
    resp.was_streamed = resp.is_streamed  # reading the body buffers it
    _ = resp.data
    resp.close()
    return resp


# Column titles are for people (and translated); the tests read columns by the code's keys.
KEY_OF = {str(label): key for key, label in exports.COLUMN_LABELS.items()}


def _keyed(header) -> list[str]:
    return [KEY_OF.get(h, h) for h in header]


def _csv_rows(resp) -> list[dict[str, str]]:
    assert resp.data.startswith("\ufeff".encode())
    reader = csv.reader(io.StringIO(resp.data.decode("utf-8-sig")))
    header = _keyed(next(reader))
    return [dict(zip(header, row, strict=True)) for row in reader]


def _audits(app) -> list[tuple[str, str, str]]:
    with app.app_context():
        return [(e.object_type, e.object_id, e.detail) for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "export_downloaded").order_by(AuditEvent.id))]


def test_neutralise():
    assert [neutralise(v) for v in ("=1+1", "+1", "-1", "@x", "\tx", "\rx", "ok = fine", "", "1-2")] == [
        "'=1+1", "'+1", "'-1", "'@x", "'\tx", "'\rx", "ok = fine", "", "1-2"]


def test_assessment_csv_numbers_match_scoring(app, world, browser, assessed):
    browser.login(email("member_a1"))  # a member exports its own unit's assessment
    resp = browser.get(f"/assessments/{assessed['latest']}/export.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"] and resp.headers["Cache-Control"] == "no-store"
    rows = _csv_rows(resp)
    expected = expected_scores(PLAN, TARGETS)
    assert len(rows) == len(CONTENT.questions)
    for row in rows:
        rs = expected.by_id[row["recommendation_id"]]
        assert row["assessment_title"] == "A1 this year" and row["unit"] == "Unit A1" and row["agency"] == "Agency A"
        assert row["recommendation_status"] == rs.status and int(row["target_level"]) == rs.target
        if rs.applicable:
            assert float(row["current_level"]) == rs.current  # full precision, exactly
            assert float(row["gap"]) == rs.gap and float(row["priority"]) == rs.priority
        else:
            assert row["current_level"] == row["gap"] == ""
        assert row["answer"] == PLAN[row["question_id"]]
        assert float(row["overall_maturity"]) == expected.maturity
        for p in ("fear", "want", "indignity"):
            assert float(row[f"exposure_{p}"]) == expected.exposure[p]
    comments = {r["question_id"]: r["comment"] for r in rows}
    for qid, text in EVIL.items():
        assert comments[qid] == "'" + text  # a spreadsheet will not run it
    assert _audits(app) == [("assessment", str(assessed["latest"]), "csv")]


def test_draft_csv_lists_unanswered_questions(app, world, browser, assessed):
    browser.login(email("member_a2"))
    rows = _csv_rows(browser.get(f"/assessments/{assessed['draft']}/export.csv"))
    assert len(rows) == len(CONTENT.questions)
    first = next(r for r in rows if r["question_id"] == "r1_threat_assessment")
    assert (first["answer"], first["answer_label"], first["comment"]) == ("", "Unanswered", "only a comment")
    assert all(r["recommendation_status"] == "not_answered" and r["overall_maturity"] == "" for r in rows)


def test_assessment_xlsx_opens_and_matches_scoring(app, world, browser, assessed):
    browser.login(email("supervisor_a"))
    resp = browser.get(f"/assessments/{assessed['latest']}/export.xlsx")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    wb = load_workbook(io.BytesIO(resp.data))
    assert wb.sheetnames == ["Assessments", "Scores", "Answers"]
    expected = expected_scores(PLAN, TARGETS)
    summary = list(wb["Assessments"].iter_rows(values_only=True))
    head = _keyed(summary[0])
    top = dict(zip(head, summary[1], strict=True))
    assert top["overall_maturity"] == pytest.approx(expected.maturity, rel=1e-15)
    assert top["exposure_want"] == pytest.approx(expected.exposure["want"], rel=1e-15)
    assert top["gap_ranking"] == " ".join(expected.ranking)
    scores = list(wb["Scores"].iter_rows(values_only=True))
    assert len(scores) == 1 + len(CONTENT.recommendations)
    for values in scores[1:]:
        row = dict(zip(_keyed(scores[0]), values, strict=True))
        rs = expected.by_id[row["recommendation_id"]]
        assert row["current_level"] == (pytest.approx(rs.current, rel=1e-15) if rs.applicable else None)
        assert row["gap"] == (pytest.approx(rs.gap, abs=1e-15) if rs.applicable else None)
        assert (row["counted"], row["unknown"], row["not_applicable"]) == (rs.counted, rs.unknown, rs.na)
    sheet = wb["Answers"]
    header = _keyed([c.value for c in sheet[1]])
    col = header.index("comment") + 1
    found = {}
    for r in range(2, sheet.max_row + 1):
        cell = sheet.cell(row=r, column=col)
        if cell.value:
            found[sheet.cell(row=r, column=header.index("question_id") + 1).value] = (cell.value, cell.data_type)
    assert found == {qid: ("'" + text, "s") for qid, text in EVIL.items()}
    assert sheet.freeze_panes == "A2"
    assert _audits(app) == [("assessment", str(assessed["latest"]), "xlsx")]


def test_assessment_docx_is_the_gap_report(app, world, browser, assessed):
    browser.login(email("member_a1"))
    resp = browser.get(f"/assessments/{assessed['latest']}/report.docx")
    assert resp.status_code == 200 and resp.mimetype.endswith("wordprocessingml.document")
    doc = Document(io.BytesIO(resp.data))
    text = "\n".join(p.text for p in doc.paragraphs)
    expected = expected_scores(PLAN, TARGETS)
    assert "Gap report: A1 this year" in text and doc.core_properties.author == "Agency A – Unit A1"
    assert f"Overall maturity: {fmt_level(expected.maturity)} / 4" in text
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    paragraphs = [p.text for p in doc.paragraphs]
    gaps_at = paragraphs.index("Gaps, by priority")
    for rank, rid in enumerate(expected.ranking, start=1):
        rec = CONTENT.recommendation_by_id[rid]
        # One numbering in the heading (issue 15: was "Priority 1: 4. …"); the rank opens the figures line.
        at = paragraphs.index(f"{rec.number}. {rec.title}", gaps_at)
        assert paragraphs[at + 1].startswith(f"Rank {rank} · "), paragraphs[at + 1]
    assert "Since the previous assessment" in headings  # A1 has an earlier submitted assessment
    assert {"Executive summary", "All recommendations", "Gaps, by priority", "Appendix: every answer", "Method",
            "Sign-off"} <= set(headings)
    overview = next(t for t in doc.tables if t.rows[0].cells[1].text == "Recommendation")
    for row in overview.rows[1:]:
        rs = expected.by_id[CONTENT.recommendation_by_number[int(row.cells[0].text)].id]
        assert row.cells[2].text == (fmt_level(rs.current) if rs.applicable else "n/a")
    exposure = next(t for t in doc.tables if t.rows[0].cells[0].text == "Pillar")
    assert [r.cells[1].text for r in exposure.rows[1:]] == [fmt_pct(expected.exposure[p.id]) for p in CONTENT.pillars]
    assert any(EVIL["r1_threat_assessment"] in c.text for t in doc.tables for r in t.rows for c in r.cells)
    assert _audits(app) == [("assessment", str(assessed["latest"]), "docx")]


def test_member_exports_only_its_own_unit(app, world, browser, assessed):
    browser.login(email("member_a1"))
    for path in ("export.csv", "export.xlsx", "report.docx"):
        assert browser.get(f"/assessments/{assessed['a2']}/{path}").status_code == 404
        assert browser.get(f"/assessments/{assessed['b1']}/{path}").status_code == 404
    for path in ("/agency/export.csv", "/agency/export.xlsx", "/agency/reports.zip", "/agency/report.pdf"):
        assert streamed(browser, path).status_code == 403
    assert _audits(app) == []


def test_agency_csv_streams_latest_of_every_unit(app, world, browser, assessed):
    browser.login(email("supervisor_a"))
    resp = streamed(browser, "/agency/export.csv")
    assert resp.status_code == 200 and resp.was_streamed
    rows = _csv_rows(resp)
    by_title = {}
    for r in rows:
        by_title.setdefault(r["assessment_title"], []).append(r)
    assert set(by_title) == {"A1 this year", "A2 baseline"}  # latest per unit; no draft, no other agency
    assert all(len(v) == len(CONTENT.questions) for v in by_title.values())
    assert {r["agency"] for r in rows} == {"Agency A"}
    a2 = expected_scores(uniform_plan("3"))
    assert float(by_title["A2 baseline"][0]["overall_maturity"]) == a2.maturity
    everything = _csv_rows(streamed(browser, "/agency/export.csv?all=1"))
    assert {r["assessment_title"] for r in everything} == {"A1 last year", "A1 this year", "A2 baseline"}
    assert "B1 secret" not in resp.data.decode("utf-8-sig")
    assert [d for _t, _i, d in _audits(app)] == ["csv (2 assessments)", "csv (3 assessments)"]


def test_agency_xlsx_units_heatmap_and_scores(app, world, browser, assessed):
    browser.login(email("supervisor_a"))
    resp = browser.get("/agency/export.xlsx")
    wb = load_workbook(io.BytesIO(resp.data))
    assert wb.sheetnames == ["Units", "Heat map", "Assessments", "Scores", "Answers"]
    units = list(wb["Units"].iter_rows(values_only=True))
    assert [u[0] for u in units[1:]] == ["Unit A1", "Unit A2"]
    expected = expected_scores(PLAN, TARGETS)
    assert units[1][5] == pytest.approx(expected.maturity, rel=1e-15) and units[1][3] == "no"
    heat = list(wb["Heat map"].iter_rows(values_only=True))
    assert heat[0][1].startswith("1. ")
    for rec, value in zip(CONTENT.recommendations, heat[1][1:], strict=True):
        rs = expected.by_id[rec.id]
        assert value == (pytest.approx(rs.current, rel=1e-15) if rs.applicable else None)
    fill = wb["Heat map"].cell(row=2, column=2).fill.fgColor.rgb
    assert fill.endswith("FBE2C8") or fill.endswith("FFF1BF")  # r1: 1.5 -> level band 1
    titles = {r[3] for r in wb["Assessments"].iter_rows(min_row=2, values_only=True)}
    assert titles == {"A1 this year", "A2 baseline"}
    all_text = " ".join(str(c) for ws in wb for row in ws.iter_rows(values_only=True) for c in row if c)
    assert "B1" not in all_text and "Agency B" not in all_text


def _marker_pdf() -> bytes:
    w = PdfWriter()
    w.add_blank_page(width=200, height=200)
    w.add_metadata({"/Title": "cached marker"})
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def test_agency_zip_streams_every_units_latest_pdf_using_the_cache(app, world, browser, assessed):
    marker = _marker_pdf()
    with app.app_context(), db.writing():
        a = db.session.get(Assessment, assessed["latest"])
        key = report_services.pdf_key(db.session, a)  # the version and the unit's plan it shows
        db.session.add(ReportCache(assessment_id=a.id, language="en", assessment_version=key.version,
                                   plan_key=key.plan, pdf=marker))
    browser.login(email("supervisor_a"))
    resp = streamed(browser, "/agency/reports.zip")
    assert resp.status_code == 200 and resp.was_streamed and resp.mimetype == "application/zip"
    zf = zipfile.ZipFile(io.BytesIO(resp.data))
    assert zf.testzip() is None
    names = zf.namelist()
    assert len(names) == 3 and names[-1] == "index.csv"
    a1 = next(n for n in names if n.startswith("Unit-A1"))
    a2 = next(n for n in names if n.startswith("Unit-A2"))
    assert zf.read(a1) == marker  # taken from the cache, not rendered again
    text = pdf_text(zf.read(a2))
    a2_scores = expected_scores(uniform_plan("3"))
    assert "A2 baseline" in text and "Unit A2" in text and fmt_level(a2_scores.maturity) in text
    index = list(csv.DictReader(io.StringIO(zf.read("index.csv").decode("utf-8-sig"))))
    assert [(r["Unit"], r["File"]) for r in index] == [("Unit A1", a1), ("Unit A2", a2)]
    assert "B1" not in zf.read("index.csv").decode()
    with app.app_context():  # the rendered one is cached now
        cached = db.session.get(ReportCache, (assessed["a2"], "en"))
        assert cached is not None and cached.pdf == zf.read(a2)
    assert _audits(app) == [("agency", str(world.agency_a), "zip (2 pdf reports)")]


def test_agency_pdf_rolls_up_the_agency(app, world, browser, assessed):
    browser.login(email("supervisor_a"))
    resp = agency_pdf(browser)  # prepared off the request, then served from the cache
    reader = PdfReader(io.BytesIO(resp.data))
    assert reader.metadata.title == "Agency report: Agency A"
    text = pdf_text(resp.data)
    a1, a2 = expected_scores(PLAN, TARGETS), expected_scores(uniform_plan("3"))
    mean = (a1.maturity + a2.maturity) / 2
    assert "Unit A1" in text and "Unit A2" in text and fmt_level(mean) in text
    assert "Heat map" in text and "Pillar exposure per unit" in text and "The most common gaps" in text
    assert "Units not assessed within the interval" in text and "Every unit has submitted" in text
    for p in CONTENT.pillars:
        assert fmt_pct(a1.exposure[p.id]) in text
    assert "B1" not in text and "Agency B" not in text
    assert "RESTRICTED" in text and "Page 2 of" in text
    assert _audits(app) == [("agency", str(world.agency_a), "pdf (agency report)")]


def test_agency_exports_of_another_agency(app, world, make_browser, assessed):
    browser = make_browser()
    browser.login(email("supervisor_b"))
    rows = _csv_rows(streamed(browser, "/agency/export.csv"))
    assert {r["assessment_title"] for r in rows} == {"B1 secret assessment"}
    zf = zipfile.ZipFile(io.BytesIO(streamed(browser, "/agency/reports.zip").data))
    assert next(n for n in zf.namelist() if n.endswith(".pdf")).startswith("Unit-B1")
    assert browser.get(f"/assessments/{assessed['latest']}/export.xlsx").status_code == 404


def test_results_page_links_the_exports(app, world, browser, assessed):
    browser.login(email("member_a1"))
    page = browser.get(f"/assessments/{assessed['latest']}/results").data.decode()
    for path in ("export.csv", "export.xlsx", "report.docx", "export.json", "report.pdf"):
        assert f"/assessments/{assessed['latest']}/{path}" in page
    assert f"/units/{world.unit_a1}/trend" in page
