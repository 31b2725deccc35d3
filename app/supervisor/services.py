"""Plain values for the supervisors' pages, assembled from SQL aggregates (see analytics.py).

Templates get dataclasses, never ORM objects, so the dashboard page, the agency PDF and the spreadsheet
exports render the very same numbers.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field, replace
from datetime import datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..content import Content, Recommendation
from ..models import Agency, User, utcnow
from ..scoring import NOT_APPLICABLE, PILLARS, SCORED, RecScore, Scores, level_floor
from . import analytics
from .analytics import ContentFor, Head

NO_DATA = "no_data"  # the unit has no submitted assessment
MISSING = "missing"  # the assessment's content version has no such recommendation


def months_before(moment: datetime, months: int) -> datetime:
    """The same day ``months`` calendar months earlier (clamped to the month's last day)."""
    years, month0 = divmod(moment.month - 1 - months, 12)
    year, month = moment.year + years, month0 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Cell:
    """One heat-map cell: a unit's current level and gap on one recommendation."""

    rec_id: str
    number: int
    status: str  # scored | not_applicable | not_answered | missing | no_data
    current: float | None
    target: int | None
    gap: float | None
    assessment_id: int | None

    @property
    def css(self) -> str:
        if self.status == SCORED and self.current is not None:
            return f"heat-{level_floor(self.current)}"
        return "heat-na" if self.status == NOT_APPLICABLE else "heat-none"

    @property
    def anchor(self) -> str:
        """Where the results page explains this cell: the gap section if there is a gap, else the row."""
        return f"gap-{self.rec_id}" if self.gap else f"rec-{self.rec_id}"


@dataclass(frozen=True)
class UnitRow:
    unit_id: int
    name: str
    latest: Head | None
    scores: Scores | None
    drafts: list[Head]
    overdue: bool
    cells: list[Cell]

    @property
    def maturity(self) -> float | None:
        return self.scores.maturity if self.scores else None

    def exposure(self, pillar: str) -> float | None:
        return self.scores.exposure[pillar] if self.scores else None

    @property
    def gap_count(self) -> int:
        return len(self.scores.ranking) if self.scores else 0


@dataclass(frozen=True)
class GapStat:
    """How common one recommendation's gap is across the agency's latest assessments."""

    rec: Recommendation
    units_with_gap: int
    units_scored: int
    mean_gap: float | None
    mean_current: float | None
    mean_priority: float | None


@dataclass
class Dashboard:
    agency: str
    content: Content
    rows: list[UnitRow]
    interval_months: int
    cutoff: datetime
    generated_at: datetime
    sort: str = "unit"
    order: str = "asc"
    common_gaps: list[GapStat] = field(default_factory=list)

    @property
    def assessed(self) -> list[UnitRow]:
        return [r for r in self.rows if r.latest is not None]

    @property
    def overdue(self) -> list[UnitRow]:
        return [r for r in self.rows if r.overdue]

    @property
    def drafts(self) -> list[Head]:
        return [d for r in self.rows for d in r.drafts]

    @property
    def mean_maturity(self) -> float | None:
        values = [r.maturity for r in self.rows if r.maturity is not None]
        return sum(values) / len(values) if values else None

    @property
    def mean_exposure(self) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        for p in PILLARS:
            values = [e for r in self.assessed if (e := r.exposure(p)) is not None]
            out[p] = sum(values) / len(values) if values else None
        return out


def _cells(content: Content, head: Head | None, scores: Scores | None) -> list[Cell]:
    by_id: dict[str, RecScore] = scores.by_id if scores else {}
    cells = []
    for rec in content.recommendations:
        rs = by_id.get(rec.id)
        if head is None or scores is None:
            cells.append(Cell(rec.id, rec.number, NO_DATA, None, None, None, None))
        elif rs is None:
            cells.append(Cell(rec.id, rec.number, MISSING, None, None, None, head.id))
        else:
            cells.append(Cell(rec.id, rec.number, rs.status, rs.current, rs.target,
                              rs.gap if rs.applicable else None, head.id))
    return cells


def common_gaps(content: Content, rows: list[UnitRow]) -> list[GapStat]:
    """Recommendations ranked by how many units fall short of their target, then by the mean gap."""
    stats = []
    for rec in content.recommendations:
        scored = [rs for r in rows if r.scores and (rs := r.scores.by_id.get(rec.id)) and rs.applicable]
        with_gap = [rs for rs in scored if rs.gap and rs.gap > 0]
        n = len(scored)
        stats.append(GapStat(
            rec, len(with_gap), n,
            sum(rs.gap or 0.0 for rs in scored) / n if n else None,
            sum(rs.current or 0.0 for rs in scored) / n if n else None,
            sum(rs.priority or 0.0 for rs in scored) / n if n else None))
    return sorted(stats, key=lambda s: (-s.units_with_gap, -(s.mean_gap or 0.0), s.rec.number))


SORT_KEYS = ("unit", "date", "status", "maturity", *PILLARS)
DEFAULT_ORDER = {"unit": "asc", "date": "asc", "status": "desc", "maturity": "asc"}


def default_order(key: str) -> str:
    """Worst first: lowest maturity, highest exposure or gap, oldest assessment."""
    return DEFAULT_ORDER.get(key, "desc")


def _sort_value(row: UnitRow, key: str) -> tuple[int, object]:
    """(missing?, value): rows without a value always go last, whatever the order."""
    value: object
    if key == "unit":
        return (0, row.name.casefold())
    if key == "date":
        value = row.latest.submitted_at if row.latest else None
    elif key == "status":
        value = (row.overdue, len(row.drafts))
    elif key == "maturity":
        value = row.maturity
    elif key in PILLARS:
        value = row.exposure(key)
    else:
        cell = next((c for c in row.cells if c.rec_id == key), None)
        value = None if cell is None or cell.current is None else (cell.gap or 0.0, -cell.current)
    return (1, 0) if value is None else (0, value)


def sort_rows(rows: list[UnitRow], key: str, order: str) -> list[UnitRow]:
    by_name = sorted(rows, key=lambda r: r.name.casefold())
    present = [r for r in by_name if _sort_value(r, key)[0] == 0]
    absent = [r for r in by_name if _sort_value(r, key)[0] == 1]
    present.sort(key=lambda r: _sort_value(r, key)[1], reverse=order == "desc")  # type: ignore[arg-type, return-value]
    return present + absent


def overdue_cutoff(now: datetime, interval_months: int) -> datetime:
    """Midnight (of ``now``'s day) ``interval_months`` months back: a unit that submitted nothing since is overdue.

    A day, not an instant, so what the dashboard shows depends on the date only and can be kept for the day.
    """
    return months_before(datetime.combine(now.date(), time.min, tzinfo=now.tzinfo), interval_months)


def normalise_sort(content: Content, sort: str, order: str) -> tuple[str, str]:
    """A known sort key (else "unit") and "asc"/"desc" (else the key's default order)."""
    valid = {*SORT_KEYS, *(r.id for r in content.recommendations)}
    sort = sort if sort in valid else "unit"
    return sort, order if order in ("asc", "desc") else default_order(sort)


def dashboard(session: Session, user: User, content: Content, content_for: ContentFor, *, interval_months: int,
              sort: str = "unit", order: str = "asc", now: datetime | None = None) -> Dashboard:
    """The agency at a glance, in a fixed number of queries whatever the number of units."""
    now = now or utcnow()
    cutoff = overdue_cutoff(now, interval_months)
    agency = session.scalar(select(Agency.name).where(Agency.id == user.agency_id)) or ""
    unit_list = analytics.units(session, user)
    latest = {h.unit_id: h for h in analytics.latest_submitted(session, user)}
    drafts: dict[int, list[Head]] = {}
    for d in analytics.in_progress(session, user):
        total = len(content_for(d.content_version).questions)
        drafts.setdefault(d.unit_id, []).append(replace(d, total_questions=total))
    scores = analytics.scores(session, list(latest.values()), content_for)
    rows = []
    for unit_id, name in unit_list:
        head = latest.get(unit_id)
        s = scores.get(head.id) if head else None
        overdue = head is None or head.submitted_at is None or head.submitted_at < cutoff
        rows.append(UnitRow(unit_id, name, head, s, drafts.get(unit_id, []), overdue, _cells(content, head, s)))
    sort, order = normalise_sort(content, sort, order)
    return Dashboard(agency, content, sort_rows(rows, sort, order), interval_months, cutoff, now, sort, order,
                     common_gaps(content, rows))


@dataclass(frozen=True)
class TrendPoint:
    head: Head
    scores: Scores


@dataclass
class Trend:
    unit_id: int
    unit: str
    content: Content
    points: list[TrendPoint]
    drafts: list[Head]
    recommendations: list[Recommendation]  # every recommendation seen in any point's content version, by number


def maturity_trends(session: Session, user: User, content_for: ContentFor) -> dict[int, list[float]]:
    """Each visible unit's overall maturity in every submitted assessment, oldest first (agency report's
    sparklines): two aggregate queries for the whole agency, scored like every other figure."""
    heads = analytics.submitted(session, user)
    scored = analytics.scores(session, heads, content_for)
    out: dict[int, list[float]] = {}
    for h in heads:
        m = scored[h.id].maturity
        if m is not None:
            out.setdefault(h.unit_id, []).append(m)
    return out


def trend(session: Session, user: User, unit_id: int, unit_name: str, content: Content,
          content_for: ContentFor) -> Trend:
    """Every submitted assessment of one unit, scored from SQL aggregates, oldest first."""
    heads = analytics.submitted(session, user, unit_id)
    scores = analytics.scores(session, heads, content_for)
    recs: dict[str, Recommendation] = {r.id: r for r in content.recommendations}
    for h in heads:
        for r in content_for(h.content_version).recommendations:
            recs.setdefault(r.id, r)
    drafts = [replace(d, total_questions=len(content_for(d.content_version).questions))
              for d in analytics.in_progress(session, user, unit_id)]
    return Trend(unit_id, unit_name, content, [TrendPoint(h, scores[h.id]) for h in heads], drafts,
                 sorted(recs.values(), key=lambda r: r.number))
