"""An editable Word version of the gap report, built from the same report context as the page and the PDF.

Supervisors paste parts of it into their own papers, so it uses Word's built-in styles (headings, lists,
"Table Grid") rather than fixed formatting, and tables instead of charts.
"""

from __future__ import annotations

import io
import re

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from flask_babel import gettext as _

from ..display import fmt_level, fmt_pct
from ..scoring import level_floor
from ..templating import fmt_date, fmt_dt, status_label
from .charts import _shade as shade_hex
from .charts_png import radar_png
from .context import GapSection, ReportContext

ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
MARKING_RED = RGBColor(0x8B, 0x1E, 0x1E)
LEVEL_FILLS = ("F6D5D2", "FBE2C8", "FFF1BF", "DCEFDC", "CFE6F5")


def _t(text: object) -> str:
    return ILLEGAL_XML.sub("", str(text))


def _shade(cell: _Cell, fill: str) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tc_pr.append(shd)


def _field(paragraph: Paragraph, instruction: str) -> None:
    """A Word field (PAGE, NUMPAGES) that Word fills in when it lays out the document."""
    run = paragraph.add_run()
    for kind, text in (("begin", None), ("instr", instruction), ("separate", None), ("text", "1"), ("end", None)):
        if kind == "instr":
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        elif kind == "text":
            el = OxmlElement("w:t")
            el.text = text
        else:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        run._r.append(el)


def _table(doc: DocumentObject, header: list[str], rows: list[list[str]], widths: list[float] | None = None,
           numeric: set[int] | None = None) -> Table:
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    numeric = numeric or set()
    for i, text in enumerate(header):
        cell = table.rows[0].cells[i]
        cell.text = ""
        run = cell.paragraphs[0].add_run(_t(text))
        run.bold = True
        _shade(cell, "E6E9EE")
    tr_pr = table.rows[0]._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    tr_pr.append(repeat)  # the header row repeats on every page
    for values in rows:
        cells = table.add_row().cells
        for i, text in enumerate(values):
            cells[i].text = _t(text)
            if i in numeric:
                cells[i].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    if widths:
        # Word reads the cell widths, LibreOffice the table grid: set both, and stop autofit from undoing them.
        table.autofit = False
        for i, w in enumerate(widths):
            table.columns[i].width = Cm(w)
        for row in table.rows:
            for i, w in enumerate(widths):
                row.cells[i].width = Cm(w)
    return table


def _bullets(doc: DocumentObject, items: list[str], style: str = "List Bullet") -> None:
    for item in items:
        doc.add_paragraph(_t(item), style=style)


def _label(doc: DocumentObject, label: str, text: str) -> None:
    p = doc.add_paragraph()
    p.add_run(_t(label) + ": ").bold = True
    p.add_run(_t(text))


def gap_report_docx(r: ReportContext) -> bytes:
    """The gap report as a .docx, section by section in the order of the page and the PDF (reports/_sections.html)."""
    doc = Document()
    _setup(doc, r)
    _title(doc, r)
    summary(doc, r)
    charts(doc, r)
    overview_table(doc, r)
    threats(doc, r)
    gap_sections(doc, r)
    sources(doc, r)
    comparison(doc, r)
    appendix(doc, r)
    method(doc, r)
    signoff(doc, r)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _setup(doc: DocumentObject, r: ReportContext) -> None:
    """Document properties, A4 page, and the handling marking in the header and footer of every page."""
    doc.core_properties.title = _t(f"{_('Gap report')}: {r.unit} – {r.title}")
    doc.core_properties.author = _t(f"{r.agency} – {r.unit}")
    doc.core_properties.subject = _t(_("Self-assessment against the ten recommendations on technology-facilitated "
                                       "human trafficking: gaps and human-security pillars exposed"))
    doc.core_properties.keywords = _t(f"human trafficking, human security, gap report, {r.content_version}")
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2))
    doc.styles["Normal"].font.size = Pt(10)

    head = section.header.paragraphs[0]
    head.text = _t(f"{r.unit} · {r.title}")
    marking = head.add_run("\t\t" + _t(r.marking))
    marking.bold, marking.font.color.rgb = True, MARKING_RED
    foot = section.footer.paragraphs[0]
    foot.add_run(_t(r.marking) + "\t\t").bold = True
    foot.add_run(_("Page") + " ")
    _field(foot, "PAGE")
    foot.add_run(" " + _("of") + " ")
    _field(foot, "NUMPAGES")


def _title(doc: DocumentObject, r: ReportContext) -> None:
    """Marking, title and the facts table (the PDF's cover)."""
    m = doc.add_paragraph()
    run = m.add_run(_t(r.marking))
    run.bold, run.font.color.rgb = True, MARKING_RED
    doc.add_heading(_t(f"{_('Gap report')}: {r.title}"), level=0)
    status = status_label(r.status, report=True)
    _table(doc, [_("Field"), _("Value")], [
        [_("Agency"), r.agency], [_("Unit"), r.unit], [_("Period"), r.title],
        [_("Status"), status + (f", {fmt_date(r.submitted_at)}" if r.submitted_at else "")],
        [_("Content version"), r.content_version], [_("Generated"), fmt_dt(r.generated_at)],
    ], widths=[4.5, 12.5])


def summary(doc: DocumentObject, r: ReportContext) -> None:
    """Executive summary: maturity, coverage, top priorities and pillar exposure (a table, not a chart)."""
    doc.add_heading(_("Executive summary"), level=1)
    if r.provisional:
        doc.add_paragraph(_("Provisional: this assessment is not submitted. Unanswered questions are left out of "
                            "the scores; %(pct)s of questions are answered.", pct=fmt_pct(r.scores.coverage * 100)))
    _label(doc, _("Overall maturity"), f"{fmt_level(r.scores.maturity)} / 4 ({fmt_pct(r.scores.maturity_percent)} "
                                       f"{_('of the scale')})")
    _label(doc, _("Coverage"), f"{r.scores.answered} / {r.scores.total_questions} {_('questions answered')}"
           + (f"; {len(r.unconfirmed)} {_('unconfirmed')}" if r.unconfirmed else ""))
    _label(doc, _("Gaps"), f"{len(r.gaps)} / {len(r.content.recommendations)} "
                           f"{_('recommendations below target')}")
    doc.add_heading(_("Top priorities"), level=2)
    if r.brief_priorities:
        for g in r.brief_priorities:
            para = doc.add_paragraph(style="List Number")
            para.add_run(_t(f"{g.rec.number}. {g.rec.title}")).bold = True
            para.add_run(" – " + _("current %(c)s, target %(t)d, gap %(g)s, priority %(p)s",
                                   c=fmt_level(g.score.current), t=g.score.target, g=fmt_level(g.score.gap),
                                   p=fmt_level(g.score.priority)))
            if g.actions:
                para.add_run("\n" + _("First action") + ": ").bold = True
                para.add_run(_t(g.actions[0]))
    else:
        doc.add_paragraph(_("No recommendation is below its target."))
    doc.add_heading(_("Pillar exposure"), level=2)
    doc.add_paragraph(_("Share of the targeted capability that is missing, per human-security pillar."))
    _table(doc, [_("Pillar"), _("Exposure")], [[name, fmt_pct(val)] for _pid, name, val in r.pillars],
           widths=[8, 3], numeric={1})


def charts(doc: DocumentObject, r: ReportContext) -> None:
    """The radar as a picture (drawn with Pillow) and the pillar matrix as a shaded table, as on page 2 of the PDF."""
    doc.add_heading(_("Current level against target"), level=1)
    doc.add_picture(io.BytesIO(radar_png(r.content, r.scores)), width=Cm(16))
    doc.add_heading(_("Pillar matrix"), level=1)
    doc.add_paragraph(_("Each cell is the gap of a recommendation multiplied by its weight on the pillar: where the "
                        "unit's shortfall leaves freedom from fear, want or indignity exposed."))
    rows: list[list[str]] = []
    fills: list[list[str | None]] = []
    for rec in r.content.recommendations:
        rs = r.scores.by_id[rec.id]
        cells: list[str] = [f"{rec.number}. {rec.short_title}"]
        shades: list[str | None] = [None]
        for p in r.content.pillars:
            w = rec.pillars[p.id]
            if not rs.applicable:
                cells.append(_("n/a") if rs.status == "not_applicable" else "–")
                shades.append(None)
            elif w == 0:
                cells.append("·")
                shades.append(None)
            else:
                val = (rs.gap or 0.0) * w
                cells.append(f"{fmt_level(val)} (w{w})")
                shades.append(shade_hex(val, 8).lstrip("#").upper())
        rows.append(cells)
        fills.append(shades)
    header = [_("Recommendation")] + [f"{p.short} ({fmt_pct(r.scores.exposure[p.id])})" for p in r.content.pillars]
    table = _table(doc, header, rows, widths=[8.0] + [3.0] * len(r.content.pillars),
                   numeric=set(range(1, len(header))))
    for i, shades in enumerate(fills, start=1):
        for j, fill in enumerate(shades):
            if fill:
                _shade(table.rows[i].cells[j], fill)


def threats(doc: DocumentObject, r: ReportContext) -> None:
    """The threats of all gaps, once per pillar (the gap sections refer here instead of repeating them)."""
    if not r.threats:
        return
    doc.add_heading(_("Pillars and threats"), level=1)
    doc.add_paragraph(_("What the gaps below leave open, per human-security pillar. The numbers in brackets are "
                        "the recommendations whose gaps leave the threat open."))
    for p in r.threats:
        doc.add_heading(_t(p.pillar_name), level=2)
        if p.description:
            doc.add_paragraph(_t(p.description))
        for audience, lines in p.by_audience:
            doc.add_paragraph(_t(audience)).runs[0].italic = True
            _bullets(doc, [f"{t.text} ({', '.join(map(str, t.recs))})" for t in lines])
        if p.rights:
            doc.add_paragraph(_("Rights whose violation technology facilitates")).runs[0].italic = True
            _bullets(doc, [f"{t.text} ({', '.join(map(str, t.recs))})" for t in p.rights])


def overview_table(doc: DocumentObject, r: ReportContext) -> None:
    """Every recommendation's current level (shaded by level), target, gap and priority."""
    doc.add_heading(_("All recommendations"), level=1)
    rows = []
    fills = []
    for row in r.recs:
        s = row.score
        na = "–"
        current = (fmt_level(s.current) if s.applicable else
                   _("n/a") if s.status == "not_applicable" else _("not yet answered"))
        rows.append([str(row.rec.number), row.rec.short_title, current, str(s.target),
                     fmt_level(s.gap) if s.applicable else na, fmt_level(s.priority) if s.applicable else na])
        fills.append(LEVEL_FILLS[level_floor(s.current)] if s.applicable and s.current is not None
                     else None)
    table = _table(doc, ["#", _("Recommendation"), _("Current"), _("Target"), _("Gap"), _("Priority")], rows,
                   widths=[0.8, 8.4, 2.0, 1.9, 1.6, 2.1], numeric={2, 3, 4, 5})
    for i, fill in enumerate(fills, start=1):
        if fill:
            _shade(table.rows[i].cells[2], fill)


def gap_sections(doc: DocumentObject, r: ReportContext) -> None:
    """One section per gap, by priority: pillars and threats, impacts, weakest answers, next actions."""
    doc.add_heading(_("Gaps, by priority"), level=1)
    if not r.gaps:
        doc.add_paragraph(_("No gaps: every applicable recommendation meets its target."))
    for g in r.gaps:
        _gap(doc, g)


def _gap(doc: DocumentObject, g: GapSection) -> None:
    # The rank goes in the figures line: "Priority 1: 4. Develop…" read as two numberings.
    doc.add_heading(_t(f"{g.rec.number}. {g.rec.title}"), level=2)
    doc.add_paragraph(" · ".join([
        f"{_('Rank')} {g.rank}", f"{_('Current')} {fmt_level(g.score.current)}", f"{_('Target')} {g.score.target}",
        f"{_('Gap')} {fmt_level(g.score.gap)}", f"{_('Priority')} {fmt_level(g.score.priority)}"]))
    _label(doc, _("Pillars exposed"), ", ".join(
        f"{p.pillar_name} ({_('primary') if p.weight == 2 else _('secondary')})" for p in g.pillars)
        + " – " + _("threats: see “Pillars and threats”"))
    _label(doc, _("Impacts countered"), "; ".join(g.impacts))
    _label(doc, _("Trafficking stages"), ", ".join(g.stages))
    _label(doc, _("Technologies"), ", ".join(g.technologies))
    doc.add_heading(_("Weakest answers"), level=3)
    for w in g.weakest:
        para = doc.add_paragraph(style="List Bullet")
        para.add_run(_t(w.value_label)).bold = True
        para.add_run(" – " + _t(w.text))
        if w.comment:
            para.add_run("\n" + _t(f"{_('Comment')}: {w.comment}")).italic = True
    doc.add_heading(_("Suggested next actions (level reached: %(l)d)", l=g.level_reached), level=3)
    _bullets(doc, g.actions)
    if g.sources:
        _label(doc, _("Sources"), " ".join(f"[{n}]" for n in g.sources))


def sources(doc: DocumentObject, r: ReportContext) -> None:
    """The numbered sources the gap sections cite."""
    if r.sources:
        doc.add_heading(_("Sources"), level=1)
        for n, citation, url in r.sources:
            doc.add_paragraph(_t(f"[{n}] {citation}" + (f" {url}" if url else "")))


def comparison(doc: DocumentObject, r: ReportContext) -> None:
    """Change since the previous submitted assessment of the unit, when there is one."""
    if not r.comparison:
        return
    c = r.comparison
    doc.add_heading(_("Since the previous assessment"), level=1)
    doc.add_paragraph(_("Compared with “%(t)s” (submitted %(d)s, content version %(v)s). Overall maturity "
                        "%(b)s → %(a)s.", t=c.previous_title, d=fmt_date(c.previous_submitted_at),
                        v=c.previous_version, b=fmt_level(c.maturity_before), a=fmt_level(c.maturity_after)))
    _table(doc, ["#", _("Recommendation"), _("Before"), _("Now"), _("Change")], [
        [str(x.number), x.title, fmt_level(x.before), fmt_level(x.after),
         (("+" if x.delta > 0 else "") + fmt_level(x.delta)) if x.delta is not None else x.change]
        for x in c.rows], widths=[0.9, 9.6, 2.2, 2.2, 2.2], numeric={2, 3, 4})
    _label(doc, _("New gaps"), "; ".join(c.new_gaps) or _("None"))
    _label(doc, _("Closed gaps"), "; ".join(c.closed_gaps) or _("None"))
    if c.questions_added or c.questions_removed:
        doc.add_paragraph(_("Questions added since: %(a)s. Questions removed: %(r)s.",
                            a=", ".join(c.questions_added) or "–", r=", ".join(c.questions_removed) or "–"))


def appendix(doc: DocumentObject, r: ReportContext) -> None:
    """Every answer with its comment and evidence, recommendation by recommendation."""
    doc.add_heading(_("Appendix: every answer"), level=1)
    for row in r.recs:
        doc.add_heading(_t(f"{row.rec.number}. {row.rec.title}"), level=2)
        _table(doc, [_("Question"), _("Answer"), _("Comment and evidence")], [
            [a.text, a.value_label, "\n".join(x for x in (a.comment, f"{_('Evidence')}: {a.evidence}"
                                                           if a.evidence else "") if x)]
            for a in row.answers], widths=[8.5, 3.5, 5])


def method(doc: DocumentObject, r: ReportContext) -> None:
    """The answer scale and the formulas behind every number of the report."""
    doc.add_heading(_("Method"), level=1)
    _table(doc, [_("Level"), _("Meaning")],
           [[f"{lvl.level} – {lvl.label}", lvl.description] for lvl in r.content.levels]
           + [[_("Not applicable"), f"{r.content.na_text} {_('Left out of every score.')}"],
              [_("Don't know"), f"{r.content.unknown_text} {_('Counted as level 0 and listed as unconfirmed.')}"]],
           widths=[4.5, 12.5])
    _bullets(doc, [
        "C_r = " + _("mean of the counted question levels of recommendation r (a recommendation whose questions "
                     "are all “not applicable” is left out of every aggregate)"),
        "G_r = max(0, T_r − C_r), " + _("where T_r is the unit's target (1–4, default 3)"),
        "M = " + _("mean of C_r over applicable recommendations; also shown as M/4 in percent"),
        "E_p = 100 × Σ_r G_r·w_rp / Σ_r T_r·w_rp " + _("with pillar weights w in {0, 1, 2} (2 primary, 1 secondary): "
                                                        "the share of the targeted capability missing per pillar"),
        "P_r = G_r × Σ_p w_rp; " + _("gaps are ranked by priority, then gap, then recommendation number"),
    ])


def signoff(doc: DocumentObject, r: ReportContext) -> None:
    """Who submitted and who signed off, when, with the supervisor's remark."""
    doc.add_heading(_("Sign-off"), level=1)
    _table(doc, [_("Field"), _("Value")], [
        [_("Submitted by"), f"{r.submitted_by or '–'}, {fmt_date(r.submitted_at) or '–'}"],
        [_("Signed off by"), f"{r.signed_off_by}{', ' + fmt_date(r.signed_off_at) if r.signed_off_at else ''}"],
        [_("Remark"), r.sign_off_remark],
    ], widths=[4.5, 12.5])
