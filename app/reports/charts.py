"""Server-side SVG charts (radar, pillar matrix, exposure bars): identical in the page and in the PDF."""

from __future__ import annotations

import math
from xml.sax.saxutils import escape

from flask_babel import gettext as _
from markupsafe import Markup

from ..content import Content
from ..display import fmt_level, fmt_pct
from ..scoring import Scores

FONT = "font-family=\"'Liberation Sans', Arial, sans-serif\""
CURRENT = "#1f4e79"
TARGET = "#c55a11"
GRID = "#c8ccd2"
MUTED = "#767676"


def svg_escape(text: str) -> str:
    """Text for an SVG element or a double-quoted attribute (the charts are built as strings, not by Jinja)."""
    return escape(text, {'"': "&quot;"})


def level_bar(current: float | None, target: int, *, width: int = 200, height: int = 14,
              css_class: str = "levelbar") -> Markup:
    """A level (filled) against its target (orange mark) on the 0-4 scale: the gap sections of the report and
    the workshop board's recommendations."""
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}" class="{css_class}" aria-hidden="true"><rect width="{width}" height="{height}" '
           f'fill="#eef0f3"/>']
    if current is not None:
        out.append(f'<rect width="{current / 4 * width:.1f}" height="{height}" fill="{CURRENT}"/>')
    tx = target / 4 * width
    out.append(f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="0" y2="{height}" stroke="{TARGET}" stroke-width="3"/>')
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - numbers and a class name from the code, nothing typed by users


def radar(content: Content, scores: Scores) -> str:
    """Current vs target level for every recommendation on a 0-4 radar."""
    w, h, cx, cy, r = 820, 520, 410, 255, 170
    recs = content.recommendations
    n = len(recs)

    def pt(i: int, level: float) -> tuple[float, float]:
        ang = -math.pi / 2 + 2 * math.pi * i / n
        return cx + r * level / 4 * math.cos(ang), cy + r * level / 4 * math.sin(ang)

    def poly(levels: list[float]) -> str:
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in (pt(i, lv) for i, lv in enumerate(levels)))

    by_id = scores.by_id
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
           f'role="img" aria-labelledby="radar-title radar-desc" class="chart radar" {FONT}>',
           f'<title id="radar-title">{svg_escape(_("Current and target level per recommendation"))}</title>',
           '<desc id="radar-desc">' + svg_escape("; ".join(
               _("%(num)d: current %(current)s, target %(target)d", num=rec.number,
                 current=(_("not answered") if by_id[rec.id].status == "not_answered"
                          else fmt_level(by_id[rec.id].current)), target=by_id[rec.id].target)
               for rec in recs)) + "</desc>"]
    for level in range(1, 5):
        out.append(f'<polygon points="{poly([level] * n)}" fill="none" stroke="{GRID}" stroke-width="1"/>')
        x, y = pt(0, level)
        out.append(f'<text x="{x + 4:.1f}" y="{y + 4:.1f}" font-size="10" fill="{MUTED}">{level}</text>')
    for i, rec in enumerate(recs):
        x, y = pt(i, 4)
        out.append(f'<line x1="{cx}" y1="{cy}" x2="{x:.1f}" y2="{y:.1f}" stroke="{GRID}" stroke-width="1"/>')
        lx, ly = pt(i, 4.5)
        anchor = "middle" if abs(lx - cx) < 20 else ("start" if lx > cx else "end")
        rs = by_id[rec.id]
        muted = not rs.applicable
        label = f"{rec.number}. {rec.short_title}" + (f" ({_('n/a')})" if rs.status == "not_applicable" else
                                                       f" ({_('not answered')})" if rs.status == "not_answered" else "")
        lines = _wrap(label, 24)
        top = ly + 4 - (len(lines) - 1) * 7 if abs(ly - cy) < r * 0.9 else (ly + 4 - (len(lines) - 1) * 14 if ly < cy
                                                                           else ly + 4)
        tspans = "".join(f'<tspan x="{lx:.1f}" y="{top + k * 14:.1f}">{svg_escape(t)}</tspan>'
                         for k, t in enumerate(lines))
        out.append(f'<text font-size="12" text-anchor="{anchor}" fill="{MUTED if muted else "#222"}">{tspans}</text>')
    targets = [float(by_id[r.id].target) for r in recs]
    # Only scored recommendations have a current level: an unanswered one is not "level 0", so it gets no
    # point and the shape joins the scored spokes only (its label says "not answered").
    scored = [(i, by_id[r.id].current) for i, r in enumerate(recs) if by_id[r.id].current is not None]
    out.append(f'<polygon points="{poly(targets)}" fill="none" stroke="{TARGET}" stroke-width="2.5" '
               'stroke-dasharray="7 4"/>')
    if scored:
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in (pt(i, float(lv or 0)) for i, lv in scored))
        out.append(f'<polygon points="{points}" fill="{CURRENT}" fill-opacity="0.25" stroke="{CURRENT}" '
                   'stroke-width="2.5"/>')
    for i, lv in scored:
        x, y = pt(i, float(lv or 0))
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{CURRENT}"/>')
    ly = h - 18
    out.append(f'<rect x="{cx - 150}" y="{ly - 10}" width="22" height="12" fill="{CURRENT}" fill-opacity="0.25" '
               f'stroke="{CURRENT}" stroke-width="2"/>')
    out.append(f'<text x="{cx - 122}" y="{ly}" font-size="12" fill="#222">{svg_escape(_("Current level"))}</text>')
    out.append(f'<line x1="{cx + 20}" y1="{ly - 4}" x2="{cx + 44}" y2="{ly - 4}" stroke="{TARGET}" '
               'stroke-width="2.5" stroke-dasharray="7 4"/>')
    out.append(f'<text x="{cx + 50}" y="{ly}" font-size="12" fill="#222">{svg_escape(_("Target level"))}</text>')
    out.append("</svg>")
    return "".join(out)


def _wrap(text: str, width: int) -> list[str]:
    """Break a label into lines of at most ``width`` characters at spaces."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def _shade(value: float, maximum: float) -> str:
    """White to deep red, by share of the largest possible G·w."""
    t = 0.0 if maximum <= 0 else max(0.0, min(1.0, value / maximum))
    r0, g0, b0 = 255, 255, 255
    r1, g1, b1 = 165, 28, 28
    return "#{:02x}{:02x}{:02x}".format(*(round(a + (b - a) * t) for a, b in
                                          ((r0, r1), (g0, g1), (b0, b1))))


def pillar_matrix(content: Content, scores: Scores) -> str:
    """Recommendation × pillar, each cell shaded by G_r·w_rp (the gap's weight on that pillar)."""
    label_w, cell_w, cell_h, head_h = 300, 110, 28, 44
    cols = content.pillars
    w = label_w + cell_w * len(cols) + 8
    h = head_h + cell_h * len(content.recommendations) + 34 + 13 * 2  # room for a caption of up to 3 lines
    max_val = 4 * 2
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
           f'role="img" aria-labelledby="matrix-title" class="chart matrix" {FONT}>',
           '<title id="matrix-title">'
           f'{svg_escape(_("Pillar matrix: gap times pillar weight per recommendation"))}</title>']
    for j, p in enumerate(cols):
        x = label_w + cell_w * j + cell_w / 2
        out.append(f'<text x="{x:.0f}" y="18" font-size="12" font-weight="bold" text-anchor="middle" '
                   f'fill="#222">{svg_escape(p.short)}</text>')
        out.append(f'<text x="{x:.0f}" y="34" font-size="10" text-anchor="middle" fill="{MUTED}">'
                   f'{svg_escape(_("exposure %(pct)s", pct=fmt_pct(scores.exposure[p.id])))}</text>')
    by_id = scores.by_id
    for i, rec in enumerate(content.recommendations):
        y = head_h + cell_h * i
        rs = by_id[rec.id]
        title = f"{rec.number}. {rec.short_title}"
        out.append(f'<text x="4" y="{y + 18}" font-size="12" fill="{"#222" if rs.applicable else MUTED}">'
                   f"{svg_escape(title)}</text>")
        for j, p in enumerate(cols):
            x = label_w + cell_w * j
            wgt = rec.pillars[p.id]
            if not rs.applicable:
                fill, txt, colour = "#f1f2f4", _("n/a") if rs.status == "not_applicable" else "–", MUTED
            elif wgt == 0:
                fill, txt, colour = "#f7f7f7", "·", MUTED
            else:
                val = (rs.gap or 0.0) * wgt
                fill = _shade(val, max_val)
                txt = fmt_level(val)
                colour = "#fff" if val / max_val > 0.55 else "#222"
            out.append(f'<rect x="{x + 1}" y="{y + 1}" width="{cell_w - 2}" height="{cell_h - 2}" fill="{fill}" '
                       f'stroke="#dde0e4"/>')
            wmark = "" if wgt == 0 or not rs.applicable else f" (w{wgt})"
            out.append(f'<text x="{x + cell_w / 2:.0f}" y="{y + 18}" font-size="12" text-anchor="middle" '
                       f'fill="{colour}">{svg_escape(txt)}{wmark}</text>')
    caption = _wrap(_("Cell = gap × pillar weight (w2 primary, w1 secondary; · = pillar not linked). Darker = "
                      "larger share of the targeted capability missing."), 120)
    ly = head_h + cell_h * len(content.recommendations) + 22
    for k, line in enumerate(caption):
        out.append(f'<text x="4" y="{ly + 13 * k}" font-size="10" fill="{MUTED}">{svg_escape(line)}</text>')
    out.append("</svg>")
    return "".join(out)


def exposure_bars(content: Content, scores: Scores) -> str:
    """One horizontal bar per pillar: E_p in percent."""
    w, bar_h, gap, label_w = 520, 24, 14, 170
    h = len(content.pillars) * (bar_h + gap) + 10
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
           f'role="img" aria-labelledby="exposure-title" class="chart exposure" {FONT}>',
           f'<title id="exposure-title">{svg_escape(_("Pillar exposure in percent"))}</title>']
    track = w - label_w - 60
    for i, p in enumerate(content.pillars):
        y = 5 + i * (bar_h + gap)
        val = scores.exposure[p.id]
        # Pillar names run long in some languages ("Llibertat per viure amb dignitat"): up to two lines.
        lines = _wrap(p.name, 24)[:2]
        first = y + 16 if len(lines) == 1 else y + 9
        tspans = "".join(f'<tspan x="0" y="{first + k * 14}">{svg_escape(t)}</tspan>' for k, t in enumerate(lines))
        out.append(f'<text font-size="12.5" fill="#222">{tspans}</text>')
        out.append(f'<rect x="{label_w}" y="{y}" width="{track}" height="{bar_h}" fill="#eef0f3"/>')
        out.append(f'<rect x="{label_w}" y="{y}" width="{track * val / 100:.1f}" height="{bar_h}" '
                   f'fill="{_shade(val, 100) if val else "#eef0f3"}"/>')
        out.append(f'<text x="{label_w + track + 8}" y="{y + 17}" font-size="13" font-weight="bold" '
                   f'fill="#222">{svg_escape(fmt_pct(val))}</text>')
    out.append("</svg>")
    return "".join(out)
