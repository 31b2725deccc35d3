"""A participant's side of a workshop, without Flask: the cookie that recognises them, the token that binds
their answer forms to them, and their progress through the workshop's recommendations.

Participants are recognised by a random token in an HttpOnly cookie scoped to /w/; its hash is all the
server keeps. Their answer forms carry an HMAC of that token instead of the session CSRF token, so a page
left open through a long session still saves, and a forged cross-site form (no cookie, no token) cannot.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

from ..content import Content, Recommendation
from .models import Participant, Workshop
from .services import answerable_rec_ids

COOKIE_PREFIX = "thb_wp"
COOKIE_PATH = "/w/"
COOKIE_MAX_AGE = timedelta(days=7)  # a course week; answers themselves follow the retention period


def cookie_name(workshop_id: int) -> str:
    """One cookie per workshop, so a browser can take part in two workshops without mixing their answers."""
    return f"{COOKIE_PREFIX}{workshop_id}"


def form_token(p: Participant, secret_key: str) -> str:
    """Binds an answer form to its participant; cannot be made without the cookie token's hash and the key."""
    return hmac.new(secret_key.encode("utf-8"), f"workshop-form:{p.id}:{p.token_hash}".encode(),
                    hashlib.sha256).hexdigest()


def form_token_ok(given: str, p: Participant, secret_key: str) -> bool:
    """Whether a submitted form token is this participant's (compared in constant time)."""
    return hmac.compare_digest(given, form_token(p, secret_key))


@dataclass(frozen=True)
class RecProgress:
    rec: Recommendation
    answered: int
    total: int
    open: bool


def progress(w: Workshop, content: Content, mine: dict[str, str]) -> list[RecProgress]:
    """Per recommendation of the workshop: how many of its questions this participant answered, and whether
    it can be answered now (pacing, closed workshop)."""
    can = set(answerable_rec_ids(w))
    out = []
    for rid in w.rec_ids:
        rec = content.recommendation_by_id[rid]
        out.append(RecProgress(rec, sum(1 for q in rec.questions if q.id in mine), len(rec.questions), rid in can))
    return out
