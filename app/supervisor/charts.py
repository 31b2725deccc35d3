"""Server-side SVG for progress over time: identical in the page and the PDF, no JavaScript, no CSP issue.

Colours are SVG attributes (the CSP forbids inline style attributes); every chart carries a title and a
description listing its values for screen readers, and the page shows the same numbers as a table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask_babel import gettext as _

from ..display import fmt_level, fmt_pct
from ..reports.charts import CURRENT, FONT, GRID, MUTED, TARGET, svg_escape
from ..scoring import PILLARS

if TYPE_CHECKING:
    from .services import Trend

PILLAR_COLOURS = {"fear": "#7b2d8b", "want": "#1f6f8b", "indignity": "#a0522d"}
DASH = {"fear": "", "want": "8 4", "indignity": "2 3"}


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float | None]
    colour: str
    dash: str = ""
    width: float = 2.5


def _label(when: datetime | None) -> str:
    return when.strftime("%Y-%m") if when else "?"


def line_chart(chart_id: str, title: str, dates: list[datetime | None], series: list[Series], *, y_max: float,
               y_ticks: list[float], percent: bool = False, width: int = 760, height: int = 280) -> str:
    """Values over successive assessments (equally spaced, labelled with the month of submission)."""
    left, right, top, bottom = 52, 170, 16, 46
    pw, ph = width - left - right, height - top - bottom
    n = len(dates)

    def x(i: int) -> float:
        return left + (pw / 2 if n == 1 else pw * i / (n - 1))

    def y(v: float) -> float:
        return top + ph * (1 - v / y_max)

    fmt = fmt_pct if percent else fmt_level
    desc = "; ".join(f"{s.name}: " + ", ".join(f"{_label(d)} {fmt(v)}" for d, v in zip(dates, s.values, strict=True))
                     for s in series)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" class="chart trend" {FONT}>',
           f'<title id="{chart_id}-t">{svg_escape(title)}</title><desc id="{chart_id}-d">{svg_escape(desc)}</desc>']
    for t in y_ticks:
        out.append(f'<line x1="{left}" y1="{y(t):.1f}" x2="{left + pw}" y2="{y(t):.1f}" stroke="{GRID}" '
                   'stroke-width="1"/>')
        out.append(f'<text x="{left - 8}" y="{y(t) + 4:.1f}" font-size="13" text-anchor="end" fill="{MUTED}">'
                   f'{svg_escape(fmt_pct(t) if percent else str(int(t)))}</text>')
    step = max(1, -(-n // 10))  # at most about ten date labels
    for i, d in enumerate(dates):
        if i % step == 0 or i == n - 1:
            out.append(f'<text x="{x(i):.1f}" y="{top + ph + 18}" font-size="13" text-anchor="middle" '
                       f'fill="{MUTED}">{svg_escape(_label(d))}</text>')
    for s in series:
        segment: list[str] = []
        segments: list[list[str]] = []
        for i, v in enumerate(s.values):
            if v is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            segment.append(f"{x(i):.1f},{y(v):.1f}")
        if segment:
            segments.append(segment)
        dash = f' stroke-dasharray="{s.dash}"' if s.dash else ""
        for seg in segments:
            if len(seg) > 1:
                out.append(f'<polyline points="{" ".join(seg)}" fill="none" stroke="{s.colour}" '
                           f'stroke-width="{s.width}"{dash}/>')
        for i, v in enumerate(s.values):
            if v is not None:
                out.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3.5" fill="{s.colour}"/>')
    for k, s in enumerate(series):
        ly = top + 10 + k * 20
        last = next((v for v in reversed(s.values) if v is not None), None)
        dash = f' stroke-dasharray="{s.dash}"' if s.dash else ""
        out.append(f'<line x1="{left + pw + 14}" y1="{ly}" x2="{left + pw + 38}" y2="{ly}" stroke="{s.colour}" '
                   f'stroke-width="{s.width}"{dash}/>')
        out.append(f'<text x="{left + pw + 44}" y="{ly + 4}" font-size="12" fill="#222">{svg_escape(s.name)} '
                   f'<tspan font-weight="bold">{svg_escape(fmt(last))}</tspan></text>')
    out.append(f'<text x="{left}" y="{height - 6}" font-size="13" fill="{MUTED}">'
               f'{svg_escape(_("Submitted assessments, oldest on the left (month of submission)"))}</text>')
    out.append("</svg>")
    return "".join(out)


def small_multiple(chart_id: str, title: str, dates: list[datetime | None], current: list[float | None],
                   target: list[float | None]) -> str:
    """One recommendation's current level (line) and target (dashed) across assessments, on 0-4."""
    width, height, left, right, top, bottom = 250, 130, 26, 40, 8, 22
    pw, ph = width - left - right, height - top - bottom
    n = len(dates)

    def x(i: int) -> float:
        return left + (pw / 2 if n == 1 else pw * i / (n - 1))

    def y(v: float) -> float:
        return top + ph * (1 - v / 4)

    desc = ", ".join(f"{_label(d)}: {fmt_level(c)} ({_('target')} {fmt_level(t)})"
                     for d, c, t in zip(dates, current, target, strict=True))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" class="chart spark" {FONT}>',
           f'<title id="{chart_id}-t">{svg_escape(title)}</title><desc id="{chart_id}-d">{svg_escape(desc)}</desc>']
    for t in (0, 2, 4):
        out.append(f'<line x1="{left}" y1="{y(t):.1f}" x2="{left + pw}" y2="{y(t):.1f}" stroke="{GRID}" '
                   'stroke-width="1"/>')
        out.append(f'<text x="{left - 6}" y="{y(t) + 4:.1f}" font-size="13" text-anchor="end" fill="{MUTED}">'
                   f"{t}</text>")
    if n:
        anchor = "middle" if n == 1 else "start"
        out.append(f'<text x="{x(0):.1f}" y="{height - 6}" font-size="13" text-anchor="{anchor}" fill="{MUTED}">'
                   f"{svg_escape(_label(dates[0]))}</text>")
        if n > 1:
            out.append(f'<text x="{x(n - 1):.1f}" y="{height - 6}" font-size="13" text-anchor="end" '
                       f'fill="{MUTED}">{svg_escape(_label(dates[-1]))}</text>')
    for values, colour, dash, w in ((target, TARGET, ' stroke-dasharray="5 3"', 1.8), (current, CURRENT, "", 2.5)):
        pts = [f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values) if v is not None]
        if len(pts) > 1:
            out.append(f'<polyline points="{" ".join(pts)}" fill="none" stroke="{colour}" stroke-width="{w}"{dash}/>')
    for i, v in enumerate(current):
        if v is not None:
            out.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{CURRENT}"/>')
    last = next((v for v in reversed(current) if v is not None), None)
    if last is not None:
        out.append(f'<text x="{left + pw + 6}" y="{y(last) + 4:.1f}" font-size="12" font-weight="bold" '
                   f'fill="{CURRENT}">{svg_escape(fmt_level(last))}</text>')
    else:
        out.append(f'<text x="{left + pw / 2:.0f}" y="{top + ph / 2:.0f}" font-size="13" text-anchor="middle" '
                   f'fill="{MUTED}">{svg_escape(_("n/a"))}</text>')
    out.append("</svg>")
    return "".join(out)


def trend_charts(t: Trend) -> dict[str, Any]:
    """The trend page's charts: overall maturity, pillar exposure, and one small chart per recommendation."""
    if not t.points:
        return {}
    dates = [p.head.submitted_at for p in t.points]
    content = t.content
    maturity = line_chart("trend-maturity", _("Overall maturity across submitted assessments"), dates,
                          [Series(_("Overall maturity"), [p.scores.maturity for p in t.points], CURRENT)],
                          y_max=4, y_ticks=[0, 1, 2, 3, 4])
    exposure = line_chart("trend-exposure", _("Pillar exposure across submitted assessments"), dates,
                          [Series(content.pillar_by_id[p].short, [pt.scores.exposure[p] for pt in t.points],
                                  PILLAR_COLOURS[p]) for p in PILLARS],
                          y_max=100, y_ticks=[0, 25, 50, 75, 100], percent=True)
    recs = []
    for rec in t.recommendations:
        current, target = [], []
        for pt in t.points:
            rs = pt.scores.by_id.get(rec.id)
            current.append(rs.current if rs and rs.applicable else None)
            target.append(float(rs.target) if rs and rs.applicable else None)
        recs.append((rec, small_multiple(f"trend-{rec.id}", f"{rec.number}. {rec.short_title}", dates, current,
                                         target)))
    return {"maturity": maturity, "exposure": exposure, "recs": recs}


def sparkline(values: list[float], *, width: int = 90, height: int = 18) -> str:
    """A unit's overall maturity over its submitted assessments (0-4), for a table cell of the agency report.

    The last value is marked; one assessment is a single dot. The figures themselves are in the cell's text.
    """
    if not values:
        return ""
    pad = 3
    step = (width - 2 * pad) / max(1, len(values) - 1)
    pts = [(pad + i * step if len(values) > 1 else width / 2, height - pad - v / 4 * (height - 2 * pad))
           for i, v in enumerate(values)]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
    lx, ly = pts[-1]
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" class="sparkline" aria-hidden="true">'
            f'<line x1="0" x2="{width}" y1="{height - pad}" y2="{height - pad}" stroke="{GRID}" stroke-width="1"/>'
            + (f'<polyline points="{line}" fill="none" stroke="{CURRENT}" stroke-width="1.6"/>'
               if len(values) > 1 else "")
            + f'<circle cx="{lx:.1f}" cy="{ly:.1f}" r="2.4" fill="{CURRENT}"/></svg>')
