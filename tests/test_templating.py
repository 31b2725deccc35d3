"""Template helpers that trade CPU for memory on the busiest pages must give exactly what they replace."""

from __future__ import annotations

import re
from typing import Any

import flask_babel
from flask import Flask

from app import templating

from .helpers import CONTENT
from .test_workshops import FT_RE, R1, open_workshop, participant, trainer_browser


def _checked(html: str, qid: str) -> list[str]:
    return re.findall(rf'name="q_{re.escape(qid)}" value="([^"]+)" checked', html)


def test_template_gettext_matches_flask_babel(app: Flask) -> None:
    with app.test_request_context("/"):
        assert templating.template_gettext("Save") == flask_babel.gettext("Save")
        assert (templating.template_gettext("Recommendation %(n)d", n=3)
                == flask_babel.gettext("Recommendation %(n)d", n=3) == "Recommendation 3")
        assert (templating.template_ngettext("%(num)d answer", "%(num)d answers", 2)
                == flask_babel.ngettext("%(num)d answer", "%(num)d answers", 2) == "2 answers")
        assert templating.template_ngettext("%(num)d answer", "%(num)d answers", 1) == "1 answer"


def test_kept_choices_follow_each_answer_and_each_page(app: Flask, world: Any) -> None:
    """Kept HTML must never show one participant's or one page's choice on another."""
    trainer = trainer_browser(app)
    wid, code = open_workshop(trainer)
    a, b = participant(app, code, addr="10.9.0.1"), participant(app, code, addr="10.9.0.2")
    q1, q2 = R1.questions[0].id, R1.questions[1].id
    for who, values in ((a, {q1: "1", q2: "na"}), (b, {q1: "4"})):
        page = who.get(f"/w/{wid}/r/1").data.decode()
        ft = FT_RE.search(page).group(1)
        resp = who.post(f"/w/{wid}/r/1", {"ft": ft, **{f"q_{k}": v for k, v in values.items()}}, csrf=False)
        assert resp.status_code == 302
    page_a, page_b = a.get(f"/w/{wid}/r/1").data.decode(), b.get(f"/w/{wid}/r/1").data.decode()
    assert _checked(page_a, q1) == ["1"] and _checked(page_a, q2) == ["na"]
    assert _checked(page_b, q1) == ["4"] and _checked(page_b, q2) == []
    # The questionnaire uses the same radio group with the explanations of "not applicable" / "don't know".
    assert "Not applicable</strong> –" not in page_a


def test_rejected_values_are_shown_but_never_kept(app: Flask, world: Any) -> None:
    trainer = trainer_browser(app)
    wid, code = open_workshop(trainer)
    p = participant(app, code, addr="10.9.0.3")
    ft = FT_RE.search(p.get(f"/w/{wid}/r/1").data.decode()).group(1)
    before = len(templating._CHOICES)
    for bogus in ("7", "x" * 50, "<script>"):
        resp = p.post(f"/w/{wid}/r/1", {"ft": ft, f"q_{R1.questions[0].id}": bogus}, csrf=False)
        assert resp.status_code == 422
        assert "<script>" not in resp.data.decode().split("<main", 1)[1]
    assert not any(key[2] in ("7", "x" * 50, "<script>") for key in templating._CHOICES)
    assert len(templating._CHOICES) - before <= 8  # only valid combinations (here: unanswered ones)


def test_saving_says_so_without_writing_the_session_cookie(app: Flask, world: Any) -> None:
    """The "saved" notice travels in the address; a participant's save and next page set no session cookie."""
    trainer = trainer_browser(app)
    wid, code = open_workshop(trainer)
    p = participant(app, code, addr="10.9.0.4")
    page = p.client.get(f"/w/{wid}/r/1")
    assert "thb_session" not in " ".join(page.headers.getlist("Set-Cookie"))
    ft = FT_RE.search(page.data.decode()).group(1)
    resp = p.client.post(f"/w/{wid}/r/1", data={"ft": ft, "action": "next", f"q_{R1.questions[0].id}": "2"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/w/{wid}/r/2?saved=1")
    assert "thb_session" not in " ".join(resp.headers.getlist("Set-Cookie"))
    following = p.client.get(resp.headers["Location"])
    assert "Your answers to recommendation 1 are saved" in following.data.decode()
    assert "thb_session" not in " ".join(following.headers.getlist("Set-Cookie"))
    # Save on the last page: back to the workshop's page, with the notice.
    ft = FT_RE.search(following.data.decode()).group(1)
    r2 = CONTENT.recommendation_by_number[2]
    resp = p.client.post(f"/w/{wid}/r/2", data={"ft": ft, "action": "next", f"q_{r2.questions[0].id}": "1"})
    assert resp.headers["Location"].endswith(f"/w/{wid}/?saved=2")
    assert "recommendation 2 are saved" in p.client.get(resp.headers["Location"]).data.decode()
    # A number that is not one of this workshop's recommendations, or no number, shows nothing.
    for query in ("?saved=9", "?saved=x", ""):
        assert "are saved" not in p.client.get(f"/w/{wid}/r/1{query}").data.decode()


def test_page_titles_carry_user_text_isolated_not_as_markup(app: Flask, world: Any) -> None:
    """<title> is plain text: a title typed by a user is isolated with Unicode marks there, never with a <bdi>
    element, which the browser tab would show literally (as "Results – <bdi dir="auto">…")."""
    from .conftest import Browser, email
    from .helpers import start_assessment

    member = Browser(app.test_client())
    member.login(email("member_a1"))
    aid = start_assessment(member, world.unit_a1, title="Plan <2026> & more")
    page = member.get(f"/assessments/{aid}/results").data.decode()
    title = page[page.index("<title>"):page.index("</title>")]
    assert "bdi" not in title
    assert "\u2068Plan &lt;2026&gt; &amp; more\u2069" in title
