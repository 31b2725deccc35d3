"""Numbers and dates for people to read, in the reader's language.

Rounding is half-up (DESIGN.md section 3), so 2.25 shows as 2.3 and 12.5% as 13%; the rounded value is
then written with the locale's symbols (1,8 in es, ca, fr and de; 1.8 in English). Dates follow the
locale's medium format, except in English, which keeps ISO 8601 (an international readership: no
month/day ambiguity). Machine exports (JSON, CSV, XLSX cells) never come through here: they stay
locale-neutral.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel.dates import format_date, format_time
from babel.numbers import format_decimal
from flask import has_app_context
from flask_babel import get_locale


def round_half_up(value: float, places: int = 0) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def locale_code() -> str:
    """The request's language (or the one forced with ``flask_babel.force_locale``); English outside the app."""
    if has_app_context():
        return str(get_locale() or "en")
    return "en"


@lru_cache(maxsize=4096)
def _decimal_text(rounded: Decimal, pattern: str, lang: str) -> str:
    """Babel's formatting of an already rounded number, remembered: a page of 1,000 heat-map cells shows a few
    dozen distinct levels, and each formatting parses the locale's pattern again (most of the dashboard's time)."""
    return format_decimal(rounded, format=pattern, locale=lang)


def fmt_level(value: float | None) -> str:
    if value is None:
        return "–"
    return _decimal_text(round_half_up(value, 1), "#,##0.0", locale_code())


def fmt_pct(value: float | None) -> str:
    if value is None:
        return "–"
    rounded = round_half_up(value, 0)
    lang = locale_code()
    if lang == "en":
        return f"{rounded}%"
    # CLDR: "13 %" with a no-break space in es, ca, fr and de.
    return _decimal_text(rounded, "#,##0", lang) + "\u00a0%"


def fmt_dt(value: datetime | None) -> str:
    if value is None:
        return ""
    lang = locale_code()
    if lang == "en":
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return f"{format_date(value, 'medium', locale=lang)} {format_time(value, 'HH:mm', locale=lang)} UTC"


def fmt_date(value: datetime | None) -> str:
    if value is None:
        return ""
    lang = locale_code()
    if lang == "en":
        return value.strftime("%Y-%m-%d")
    return format_date(value, "medium", locale=lang)
