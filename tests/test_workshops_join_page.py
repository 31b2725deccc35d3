"""The QR-code join page is kept once rendered (app/workshops/join_page.py): each visitor still gets a CSRF
token of their own, the copy equals a fresh render, and signed-in users or pending messages never reach
or fill the copy."""

from __future__ import annotations

import re

from .conftest import CSRF_RE, Browser
from .test_workshops import open_workshop, trainer_browser

KEPT = "workshop_join_pages"


def _link(code: str) -> str:
    return "/w/j/" + code.replace("-", "")


def _without_token(html: str) -> str:
    return CSRF_RE.sub('name="csrf_token" value="…"', html)


def test_the_kept_join_page_gives_every_visitor_a_token_of_their_own(app, world):
    wid, code = open_workshop(trainer_browser(app), title="Course kept")
    first, second = Browser(app.test_client()), Browser(app.test_client())
    page1 = first.get(_link(code)).data.decode()
    assert len(app.extensions[KEPT]) == 1  # kept after the first visit
    page2 = second.get(_link(code)).data.decode()
    token1, token2 = CSRF_RE.search(page1).group(1), CSRF_RE.search(page2).group(1)
    assert token1 != token2
    assert "Course kept" in page2 and code in page2
    # The copy is the page a fresh render gives, apart from the token.
    app.extensions[KEPT].clear()
    fresh = Browser(app.test_client()).get(_link(code)).data.decode()
    assert _without_token(page2) == _without_token(fresh)
    # Each token works in its own session only.
    crossed = second.client.post("/w/join", data={"csrf_token": token1, "code": code})
    assert crossed.status_code == 400
    for b in (first, second):
        resp = b.post("/w/join", {"code": code})
        assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/w/{wid}/")


def test_signed_in_users_and_pending_messages_never_use_or_fill_the_copy(app, world):
    trainer = trainer_browser(app)
    _wid, code = open_workshop(trainer, title="Course nav")
    app.extensions.get(KEPT, {}).clear()
    own = trainer.get(_link(code)).data.decode()
    assert "Log out" in own  # the trainer's own navigation
    assert not app.extensions.get(KEPT)  # not kept: it holds the trainer's name and menu
    anonymous = Browser(app.test_client()).get(_link(code)).data.decode()
    assert "Log out" not in anonymous and len(app.extensions[KEPT]) == 1
    assert "Log out" in trainer.get(_link(code)).data.decode()  # the copy is not served to the trainer

    # A visitor with a message waiting sees it (rendered, not the copy), and the copy stays without it.
    visitor = Browser(app.test_client())
    with visitor.client.session_transaction() as session:
        session["_flashes"] = [("success", "A message for this visitor only")]
    assert "A message for this visitor only" in visitor.get(_link(code)).data.decode()
    assert "A message for this visitor only" not in Browser(app.test_client()).get(_link(code)).data.decode()


def test_closed_and_reopened_workshops_are_not_served_an_old_copy(app, world):
    trainer = trainer_browser(app)
    wid, code = open_workshop(trainer, title="Course closing")
    assert Browser(app.test_client()).get(_link(code)).status_code == 200
    trainer.get(f"/workshops/{wid}")
    assert trainer.post(f"/workshops/{wid}/close").status_code == 302
    closed = Browser(app.test_client()).get(_link(code))
    assert closed.status_code == 410 and "This workshop is closed" in closed.data.decode()
    trainer.get(f"/workshops/{wid}")
    assert trainer.post(f"/workshops/{wid}/reopen").status_code == 302
    board = trainer.get(f"/workshops/{wid}").data.decode()
    new_code = re.search(r'class="ws-code[^"]*">([A-Z0-9]{3}-[A-Z0-9]{3})<', board).group(1)
    reopened = Browser(app.test_client()).get(_link(new_code))
    assert reopened.status_code == 200 and new_code in reopened.data.decode()
