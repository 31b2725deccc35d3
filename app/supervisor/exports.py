"""CSV, Excel and ZIP exports of assessments: answers, comments and scores, for one assessment or an agency.

Scores come from the scoring module (fed with SQL aggregates), answers are streamed from the database in
one query, and every text cell is neutralised against spreadsheet formula injection. Column names are
stable identifiers (documented in docs/export-format.md), not translated labels.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import groupby
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import case, select
from sqlalchemy.orm import Session

from ..models import Answer
from ..reports.context import special_value_labels, value_label
from ..scoring import PILLARS, Scores, level_of
from .analytics import ContentFor, Head
from .services import Dashboard

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def neutralise(text: str) -> str:
    """Stop a spreadsheet from reading user text as a formula (OWASP "CSV injection"): prefix a quote."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


ANSWER_COLUMNS = (
    "agency", "unit", "assessment_id", "assessment_title", "status", "submitted_at", "content_version",
    "recommendation_number", "recommendation_id", "recommendation_title", "recommendation_status",
    "current_level", "target_level", "gap", "priority", "question_id", "question", "answer", "answer_label",
    "counted_level", "comment", "evidence", "answer_updated_at",
    "overall_maturity", "exposure_fear", "exposure_want", "exposure_indignity",
)
SCORE_COLUMNS = (
    "agency", "unit", "assessment_id", "assessment_title", "status", "submitted_at", "content_version",
    "recommendation_number", "recommendation_id", "recommendation_title", "recommendation_status",
    "current_level", "target_level", "gap", "priority", "questions", "counted", "unknown", "not_applicable",
    "unanswered",
)
ASSESSMENT_COLUMNS = (
    "agency", "unit", "assessment_id", "assessment_title", "status", "submitted_at", "signed_off_at",
    "content_version", "answered", "total_questions", "overall_maturity", "overall_maturity_percent",
    "exposure_fear", "exposure_want", "exposure_indignity", "gap_ranking",
)


# Column titles people read (in the reader's language); the keys above stay the code's names for columns.
COLUMN_LABELS = {
    "agency": _l("Agency"), "unit": _l("Unit"), "assessment_id": _l("Assessment ID"),
    "assessment_title": _l("Assessment title"), "status": _l("Status"), "submitted_at": _l("Submitted at (UTC)"),
    "signed_off_at": _l("Signed off at (UTC)"), "content_version": _l("Content version"),
    "recommendation_number": _l("Recommendation number"), "recommendation_id": _l("Recommendation ID"),
    "recommendation_title": _l("Recommendation"), "recommendation_status": _l("Recommendation status"),
    "current_level": _l("Current level"), "target_level": _l("Target level"), "gap": _l("Gap"),
    "priority": _l("Priority"), "question_id": _l("Question ID"), "question": _l("Question"),
    "answer": _l("Answer (code)"), "answer_label": _l("Answer"), "counted_level": _l("Counted level"),
    "comment": _l("Comment"), "evidence": _l("Evidence"), "answer_updated_at": _l("Answer updated at (UTC)"),
    "overall_maturity": _l("Overall maturity (0–4)"), "overall_maturity_percent": _l("Overall maturity (%)"),
    "exposure_fear": _l("Exposure: freedom from fear (%)"), "exposure_want": _l("Exposure: freedom from want (%)"),
    "exposure_indignity": _l("Exposure: freedom from indignity (%)"), "questions": _l("Questions"),
    "counted": _l("Counted"), "unknown": _l("Don't know"), "not_applicable": _l("Not applicable"),
    "unanswered": _l("Unanswered"), "answered": _l("Answered"), "total_questions": _l("Questions in total"),
    "gap_ranking": _l("Gaps by priority"),
}


def localised(agency: str, heads: Sequence[Head], scores: dict[int, Scores], registry_get: Any,
              language: str) -> ExportData:
    """Export data whose texts (content, answer labels) are in ``language``, fixed now so that a body
    streamed after the request still writes them in the reader's language."""
    return ExportData(agency, heads, scores, lambda version: registry_get(version, language),
                      special_value_labels())


def column_labels(keys: Sequence[str]) -> list[str]:
    """The header row of a CSV or a sheet, in the reader's language."""
    return [str(COLUMN_LABELS[k]) for k in keys]


@dataclass(frozen=True)
class ExportData:
    """The assessments to export with their scores, computed once for every format."""

    agency: str
    heads: Sequence[Head]
    scores: dict[int, Scores]
    content_for: ContentFor
    # Labels of the answers that are not levels, taken in the request: a streamed body runs after it, where
    # no language is known any more (the content_for given is already in the reader's language).
    value_labels: dict[str | None, str] = field(default_factory=dict)


def _answers_by_assessment(session: Session, heads: Sequence[Head]) -> Iterator[tuple[int, dict[str, Any]]]:
    """One streamed query for every answer, in the order of ``heads``; memory holds one assessment at a time."""
    if not heads:
        return
    position = case({h.id: i for i, h in enumerate(heads)}, value=Answer.assessment_id)
    stmt = (select(Answer.assessment_id, Answer.question_id, Answer.value, Answer.comment, Answer.evidence,
                   Answer.updated_at)
            .where(Answer.assessment_id.in_([h.id for h in heads])).order_by(position, Answer.question_id)
            .execution_options(yield_per=2000))
    for aid, rows in groupby(session.execute(stmt), key=lambda r: r[0]):
        yield aid, {r[1]: r for r in rows}


def _head_cells(data: ExportData, h: Head) -> list[Any]:
    return [data.agency, h.unit, h.id, h.title, h.status, h.submitted_at, h.content_version]


def answer_rows(session: Session, data: ExportData) -> Iterator[list[Any]]:
    """One row per question of every assessment (unanswered ones too), with its recommendation's scores."""
    answers = _answers_by_assessment(session, data.heads)
    pending = next(answers, None)
    for h in data.heads:
        found: dict[str, Any] = {}
        if pending is not None and pending[0] == h.id:
            found = pending[1]
            pending = next(answers, None)
        content, s = data.content_for(h.content_version), data.scores[h.id]
        overall = [s.maturity, *(s.exposure[p] for p in PILLARS)]
        for rec in content.recommendations:
            rs = s.by_id[rec.id]
            for q in rec.questions:
                row = found.get(q.id)
                value = row[2] if row else None
                counted = level_of(value) if value is not None else None
                yield [*_head_cells(data, h), rec.number, rec.id, rec.title, rs.status, rs.current, rs.target,
                       rs.gap, rs.priority, q.id, q.text, value or "",
                       data.value_labels[value] if value in data.value_labels else value_label(content, value),
                       counted, row[3] if row else "", row[4] if row else "", row[5] if row else None, *overall]


def score_rows(data: ExportData) -> Iterator[list[Any]]:
    for h in data.heads:
        content, s = data.content_for(h.content_version), data.scores[h.id]
        for rec in content.recommendations:
            rs = s.by_id[rec.id]
            yield [*_head_cells(data, h), rec.number, rec.id, rec.title, rs.status, rs.current, rs.target, rs.gap,
                   rs.priority, rs.total, rs.counted, rs.unknown, rs.na, rs.unanswered]


def assessment_rows(data: ExportData) -> Iterator[list[Any]]:
    for h in data.heads:
        s = data.scores[h.id]
        yield [data.agency, h.unit, h.id, h.title, h.status, h.submitted_at, h.signed_off_at,
               h.content_version, s.answered, s.total_questions, s.maturity, s.maturity_percent,
               *(s.exposure[p] for p in PILLARS), " ".join(s.ranking)]


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)  # full precision: round for display yourself
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    return neutralise(str(value))


def csv_stream(header: Sequence[str], rows: Iterable[Sequence[Any]], chunk_rows: int = 500) -> Iterator[str]:
    """CSV text in chunks, with a byte-order mark so that spreadsheet programs read it as UTF-8."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    buf.write("\ufeff")
    writer.writerow(header)
    for i, row in enumerate(rows, start=1):
        writer.writerow([_csv_value(v) for v in row])
        if i % chunk_rows == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


# --- Excel -------------------------------------------------------------------------------------------------------

LEVEL_FORMAT = "0.0"
PCT_FORMAT = '0"%"'
HEAT_FILLS = {"heat-0": "F6D5D2", "heat-1": "FBE2C8", "heat-2": "FFF1BF", "heat-3": "DCEFDC", "heat-4": "CFE6F5",
              "heat-na": "ECEEF1", "heat-none": "FFFFFF"}
LEVEL_COLUMNS = {"current_level", "target_level", "gap", "priority", "overall_maturity", "counted_level"}
PCT_COLUMNS = {"exposure_fear", "exposure_want", "exposure_indignity", "overall_maturity_percent"}
WIDE_COLUMNS = {"question": 60, "comment": 50, "evidence": 40, "recommendation_title": 45, "assessment_title": 30,
                "unit": 28, "agency": 24, "answer_label": 26}


def _xlsx_text(value: str) -> str:
    return neutralise(ILLEGAL_XML.sub("", value))


class _Sheet:
    """A write-only worksheet with a bold, frozen header row, sensible widths and display formats."""

    def __init__(self, wb: Workbook, title: str, header: Sequence[str], *, keys: Sequence[str] | None = None) -> None:
        self.ws = wb.create_sheet(title[:31])
        self.keys = list(keys or header)
        self.formats = [LEVEL_FORMAT if k in LEVEL_COLUMNS else PCT_FORMAT if k in PCT_COLUMNS else None
                        for k in self.keys]
        for i, k in enumerate(self.keys, start=1):
            self.ws.column_dimensions[get_column_letter(i)].width = WIDE_COLUMNS.get(k, max(10, min(24, len(k) + 2)))
        self.ws.freeze_panes = "A2"
        bold = Font(bold=True)
        cells = []
        for name in header:
            c = WriteOnlyCell(self.ws, value=_xlsx_text(str(name)))
            c.font = bold
            cells.append(c)
        self.ws.append(cells)
        self.rows = 1

    def append(self, row: Sequence[Any], fills: Sequence[str | None] | None = None) -> None:
        cells = []
        for i, value in enumerate(row):
            if isinstance(value, str):
                value = _xlsx_text(value)
            elif isinstance(value, datetime):  # Excel has no time zones: write UTC, say so in the format
                value = value.astimezone(UTC).replace(tzinfo=None)
            c = WriteOnlyCell(self.ws, value=value)
            if isinstance(value, datetime):
                c.number_format = 'yyyy-mm-dd hh:mm "UTC"'

            fmt = self.formats[i] if i < len(self.formats) else None
            if fmt and isinstance(value, float | int) and not isinstance(value, bool):
                c.number_format = fmt
            if fills and i < len(fills) and fills[i]:
                c.fill = PatternFill("solid", fgColor=fills[i])
                c.alignment = Alignment(horizontal="center")
            cells.append(c)
        self.ws.append(cells)
        self.rows += 1

    def finish(self) -> None:
        self.ws.auto_filter.ref = f"A1:{get_column_letter(len(self.keys))}{max(self.rows, 1)}"


def workbook(session: Session, data: ExportData, dashboard: Dashboard | None = None) -> bytes:
    """The Excel file: (for an agency) units and heat map, then assessments, scores and every answer."""
    wb = Workbook(write_only=True)
    if dashboard is not None:
        _units_sheet(wb, dashboard)
        _heat_sheet(wb, dashboard)
    sheets: list[tuple[str, Sequence[str], Iterable[Sequence[Any]]]] = [  # (title, column keys, rows)
        (_("Assessments"), ASSESSMENT_COLUMNS, assessment_rows(data)),
        (_("Scores"), SCORE_COLUMNS, score_rows(data)),
        (_("Answers"), ANSWER_COLUMNS, answer_rows(session, data)),
    ]
    for title, keys, rows in sheets:
        sheet = _Sheet(wb, title, column_labels(keys), keys=keys)
        for row in rows:
            sheet.append(row)
        sheet.finish()
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _units_sheet(wb: Workbook, d: Dashboard) -> None:
    keys = ["unit", "assessment_title", "submitted_at", "overdue", "drafts", "overall_maturity",
            "exposure_fear", "exposure_want", "exposure_indignity", "gaps"]
    header = [_("Unit"), _("Latest submitted assessment"), _("Submitted"), _("Overdue"), _("Drafts in progress"),
              _("Overall maturity (0–4)"), *(_("%(pillar)s exposure", pillar=p.name) for p in d.content.pillars),
              _("Recommendations below target")]
    sheet = _Sheet(wb, _("Units"), header, keys=keys)
    for r in d.rows:
        sheet.append([r.name, r.latest.title if r.latest else "", r.latest.submitted_at if r.latest else None,
                      _("yes") if r.overdue else _("no"), len(r.drafts), r.maturity,
                      *(r.exposure(p.id) for p in d.content.pillars), r.gap_count if r.scores else None])
    sheet.finish()


def _heat_sheet(wb: Workbook, d: Dashboard) -> None:
    recs = d.content.recommendations
    keys = ["unit", *(["current_level"] * len(recs))]
    header = [_("Unit"), *(f"{r.number}. {r.short_title}" for r in recs)]
    sheet = _Sheet(wb, _("Heat map"), header, keys=keys)
    for r in d.rows:
        sheet.append([r.name, *(c.current for c in r.cells)], fills=[None, *(HEAT_FILLS[c.css] for c in r.cells)])
    sheet.finish()


# --- ZIP of PDF reports, streamed ---------------------------------------------------------------------------------


class _Sink:
    """A write-only, unseekable buffer: zipfile then writes data descriptors and never seeks back."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def write(self, data: bytes) -> int:
        self.buf += data
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        out = bytes(self.buf)
        self.buf.clear()
        return out


def zip_stream(entries: Iterable[tuple[str, Callable[[], bytes]]]) -> Iterator[bytes]:
    """Yield a ZIP archive piece by piece: each entry is produced, compressed and sent before the next."""
    sink = _Sink()
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, produce in entries:
            zf.writestr(name, produce())
            chunk = sink.take()
            if chunk:
                yield chunk
    yield sink.take()


def safe_name(*parts: str, ext: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", "-".join(parts)).strip("-.")[:120] or "export"
    return f"{stem}.{ext}"
