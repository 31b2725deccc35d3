"""Server-drawn SVG for the board and the report: a small histogram per question (the level bar per
recommendation is reports.charts.level_bar, shared with the gap report).

Drawn on the server so the projector page, the report page and the PDF look the same, and because the
content security policy allows no inline style (SVG presentation attributes are not styles).
"""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext as _

from ..display import fmt_level
from ..reports.charts import svg_escape
from .board import QuestionStats

FONT = "font-family=\"'Liberation Sans', Arial, sans-serif\""
COLUMNS = (("0", "0"), ("1", "1"), ("2", "2"), ("3", "3"), ("4", "4"), ("unknown", "?"), ("na", "n/a"))
COLOURS = {"0": "#b8433f", "1": "#d9822b", "2": "#c9a227", "3": "#4e9a5a", "4": "#1f4e79", "unknown": "#8d939c",
           "na": "#c3c7cd"}


def histograms(questions: Iterable[QuestionStats]) -> dict[str, str]:
    """Question id -> its histogram, drawn before rendering so templates only place them."""
    return {q.question.id: histogram(q) for q in questions}


def histogram(q: QuestionStats, *, col_w: int = 30, bar_h: int = 40) -> str:
    """Counts per value as columns; a triangle marks the median level. Empty when the question is hidden (k)."""
    if not q.shown:
        return ""
    top, label_h = 14, 16
    w = col_w * len(COLUMNS)
    h = top + bar_h + label_h + 8
    biggest = max(q.counts.values()) or 1
    desc = ", ".join(f"{_('n/a') if v == 'na' else lbl}: {q.counts.get(v, 0)}" for v, lbl in COLUMNS)
    med = "" if q.median is None else "; " + _("median %(level)s", level=fmt_level(q.median))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
           f'class="hist" {FONT}><title>{svg_escape(f"{q.label}: {desc}{med}")}</title>']
    base = top + bar_h
    out.append(f'<line x1="0" y1="{base + 0.5}" x2="{w}" y2="{base + 0.5}" stroke="#c8ccd2" stroke-width="1"/>')
    for i, (value, label) in enumerate(COLUMNS):
        n = q.counts.get(value, 0)
        x = i * col_w
        bh = round(bar_h * n / biggest, 1)
        if n:
            out.append(f'<rect x="{x + 3}" y="{base - bh:.1f}" width="{col_w - 6}" height="{bh}" '
                       f'fill="{COLOURS[value]}"/>')
        out.append(f'<text x="{x + col_w / 2:.1f}" y="{base - bh - 3:.1f}" font-size="11" text-anchor="middle" '
                   f'fill="{"#222" if n else "#9aa0a8"}">{n}</text>')
        out.append(f'<text x="{x + col_w / 2:.1f}" y="{base + 13}" font-size="11" text-anchor="middle" '
                   f'fill="#444">{svg_escape(_("n/a") if value == "na" else label)}</text>')
    if q.median is not None:
        mx = q.median * col_w + col_w / 2
        y = base + label_h + 1
        out.append(f'<polygon points="{mx:.1f},{y - 4} {mx - 5:.1f},{y + 4} {mx + 5:.1f},{y + 4}" fill="#14253d"/>')
    out.append("</svg>")
    return "".join(out)
