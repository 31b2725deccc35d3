"""The rough edges a first-time user hit (issue 14 items 3 onwards): each page says what is true."""

from __future__ import annotations

from typing import Any

from .conftest import email
from .helpers import start_assessment
from .test_workshops import FT_RE, open_workshop, participant, trainer_browser


def _member(make_browser: Any, key: str = "member_a1") -> Any:
    b = make_browser()
    b.login(email(key))
    return b


def test_new_assessment_error_keeps_the_list(app, make_browser, world):
    """Item 3: a blank title shows the error and the unit's assessments, not "No assessments yet"."""
    b = _member(make_browser)
    start_assessment(b, world.unit_a1, title="Existing annual review")
    resp = b.post("/assessments/new", {"title": "", "unit": str(world.unit_a1)})
    assert resp.status_code == 422
    body = resp.data.decode()
    assert "This field is required." in body
    assert "Existing annual review" in body
    assert "No assessments yet" not in body


def test_participant_finish_with_nothing_chosen_does_not_claim_saved(app, world):
    """Item 4: "Save and finish" with no answer chosen says nothing was saved."""
    trainer = trainer_browser(app)
    wid, code = open_workshop(trainer)
    p = participant(app, code, addr="10.9.0.5")
    page = p.client.get(f"/w/{wid}/r/2")
    ft = FT_RE.search(page.data.decode()).group(1)
    resp = p.client.post(f"/w/{wid}/r/2", data={"ft": ft, "action": "next"})
    assert resp.status_code == 302
    after = p.client.get(resp.headers["Location"]).data.decode()
    assert "are saved" not in after
    assert "You chose no answer for recommendation 2, so nothing was saved for it." in after
