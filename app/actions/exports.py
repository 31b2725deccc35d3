"""The plan as CSV, Excel and a calendar file (RFC 5545). Column names are stable identifiers, not labels.

Every text a unit typed is neutralised against spreadsheet formula injection (supervisor.exports.neutralise);
the calendar file is written by hand, escaped and folded as RFC 5545 requires, so no dependency is added.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from openpyxl import Workbook
from openpyxl.styles import Font

from ..content import Content
from ..supervisor.exports import ILLEGAL_XML, neutralise
from .models import ActionItem

COLUMNS = ("action_id", "unit", "recommendation_id", "recommendation", "title", "description", "owner",
           "due_date", "status", "drop_reason", "progress_note", "evidence", "supervisor_remark", "overdue",
           "updated_at")


def _rec_title(content: Content, rec_id: str) -> str:
    rec = content.recommendation_by_id.get(rec_id)
    return f"{rec.number}. {rec.short_title}" if rec else rec_id


def rows(content: Content, unit_name: str, items: Sequence[ActionItem], today: date) -> list[list[str]]:
    out = []
    for a in items:
        out.append([str(a.id), unit_name, a.recommendation_id, _rec_title(content, a.recommendation_id), a.title,
                    a.description, a.owner_label, a.due_date.isoformat() if a.due_date else "", a.status,
                    a.drop_reason, a.progress_note, a.evidence, a.supervisor_remark,
                    "yes" if a.is_overdue(today) else "no", a.updated_at.isoformat(timespec="seconds")])
    return out


def csv_text(table: list[list[str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(COLUMNS)
    for r in table:
        w.writerow([neutralise(c) for c in r])
    return "\ufeff" + buf.getvalue()  # the BOM makes Excel read UTF-8


def xlsx_bytes(table: list[list[str]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "actions"
    ws.append(list(COLUMNS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in table:
        ws.append([neutralise(ILLEGAL_XML.sub("", c)) for c in r])
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def ical_escape(text: str) -> str:
    """TEXT value escaping (RFC 5545 §3.3.11): backslash, semicolon, comma and newlines."""
    text = ILLEGAL_XML.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> str:
    """Fold a content line at 75 octets (§3.1), never inside a UTF-8 character; continuations start with a space."""
    out, current, size = [], "", 0
    for ch in line:
        n = len(ch.encode())
        if size + n > 75:
            out.append(current)
            current, size = " ", 1
        current += ch
        size += n
    out.append(current)
    return "\r\n".join(out)


def ics_text(content: Content, unit_name: str, items: Sequence[ActionItem], now: datetime, host: str) -> str:
    """One all-day VEVENT per open action that has a due date, importable by Outlook and other calendars."""
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//selfassessment//action plan//EN", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", f"X-WR-CALNAME:{ical_escape(unit_name)}"]
    for a in items:
        if a.due_date is None or not a.is_open:
            continue
        desc = "\n".join(x for x in (_rec_title(content, a.recommendation_id), a.description,
                                     a.owner_label) if x)
        lines += ["BEGIN:VEVENT", f"UID:action-{a.id}@{host}", f"DTSTAMP:{stamp}",
                  f"DTSTART;VALUE=DATE:{a.due_date.strftime('%Y%m%d')}",
                  f"DTEND;VALUE=DATE:{(a.due_date + timedelta(days=1)).strftime('%Y%m%d')}",
                  f"SUMMARY:{ical_escape(a.title)}", f"DESCRIPTION:{ical_escape(desc)}",
                  f"SEQUENCE:{a.version_id}", "TRANSP:TRANSPARENT", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
