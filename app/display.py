"""Rounding for display only (DESIGN.md section 3): half-up, so 2.25 shows as 2.3 and 12.5% as 13%."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def round_half_up(value: float, places: int = 0) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def fmt_level(value: float | None) -> str:
    return "–" if value is None else str(round_half_up(value, 1))


def fmt_pct(value: float | None) -> str:
    return "–" if value is None else f"{round_half_up(value, 0)}%"
