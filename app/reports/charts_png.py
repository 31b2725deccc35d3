"""PNG charts for the Word report: the radar drawn with Pillow (already installed as a WeasyPrint dependency).

Word cannot show our SVG charts, and converting SVG needs a library we do not ship (cairosvg). The radar's
geometry is simple, so it is drawn here from the same scores with the same colours and labels as the SVG in
reports/charts.py. The pillar matrix goes into Word as a shaded table instead (reports/docx_report.py).
"""

from __future__ import annotations

import io
import math
from pathlib import Path

from flask_babel import gettext as _
from PIL import Image, ImageDraw, ImageFont

from ..content import Content
from ..scoring import Scores
from .charts import CURRENT, GRID, MUTED, TARGET, _wrap

FONTS = Path(__file__).resolve().parent.parent / "static" / "fonts"
SCALE = 2  # drawn at twice the size for a sharp print at 16 cm


def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    name = "LiberationSans-Bold.ttf" if bold else "LiberationSans-Regular.ttf"
    return ImageFont.truetype(str(FONTS / name), size * SCALE)


def radar_png(content: Content, scores: Scores) -> bytes:
    """Current (blue, filled) against target (orange outline) per recommendation on the 0-4 scale."""
    s = SCALE
    w, h, cx, cy, r = 820 * s, 560 * s, 410 * s, 270 * s, 170 * s
    recs = content.recommendations
    n = len(recs)
    by_id = scores.by_id
    img = Image.new("RGB", (w, h), "white")
    draw = ImageDraw.Draw(img, "RGBA")

    def pt(i: int, level: float) -> tuple[float, float]:
        ang = -math.pi / 2 + 2 * math.pi * i / n
        return cx + r * level / 4 * math.cos(ang), cy + r * level / 4 * math.sin(ang)

    small, label_font = _font(10), _font(12)
    for level in range(1, 5):
        draw.polygon([pt(i, level) for i in range(n)], outline=GRID, width=s)
        x, y = pt(0, level)
        draw.text((x + 4 * s, y - 6 * s), str(level), fill=MUTED, font=small)
    for i, rec in enumerate(recs):
        draw.line([(cx, cy), pt(i, 4)], fill=GRID, width=s)
        lx, ly = pt(i, 4.55)
        rs = by_id[rec.id]
        label = f"{rec.number}. {rec.short_title}" + (f" ({_('n/a')})" if rs.status == "not_applicable" else "")
        lines = _wrap(label, 24)
        anchor = "m" if abs(lx - cx) < 20 * s else ("l" if lx > cx else "r")
        top = ly - len(lines) * 7 * s if abs(ly - cy) < r * 0.9 else (ly - len(lines) * 14 * s if ly < cy else ly)
        for k, line in enumerate(lines):
            draw.text((lx, top + k * 14 * s), line, fill=MUTED if not rs.applicable else "#222222",
                      font=label_font, anchor=anchor + "t")
    current = [pt(i, by_id[rec.id].current or 0.0) for i, rec in enumerate(recs)]
    target = [pt(i, float(by_id[rec.id].target)) for i, rec in enumerate(recs)]
    draw.polygon(current, fill=(31, 78, 121, 70), outline=CURRENT, width=2 * s)
    draw.polygon(target, outline=TARGET, width=2 * s)
    legend_y = h - 22 * s
    draw.rectangle([20 * s, legend_y, 34 * s, legend_y + 12 * s], fill=CURRENT)
    draw.text((40 * s, legend_y - s), _("Current"), fill="#222222", font=label_font)
    draw.line([(140 * s, legend_y + 6 * s), (154 * s, legend_y + 6 * s)], fill=TARGET, width=3 * s)
    draw.text((160 * s, legend_y - s), _("Target"), fill="#222222", font=label_font)
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()
