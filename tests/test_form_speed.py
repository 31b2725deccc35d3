"""The cheaper WTForms attribute rendering and the per-process WTForms catalogue give what the originals gave."""

from __future__ import annotations

import pytest
from markupsafe import Markup

from app import form_speed

from .conftest import email
from .helpers import start_assessment

CASES = [
    {},
    {"name": "text1", "id": "f", "class_": "text"},
    {"checked": True, "readonly": False, "name": "text1", "abc": "hello"},
    {"data_attr": "user.name", "aria_labeledby": "name", "for_": "x"},
    {"value": 'a "quoted" <b>&amp; \'single\'', "title": Markup('safe "html" <i>x</i>')},
    {"value": 3, "maxlength": 4000, "placeholder": "Dokument, Register oder Akte, die dies belegt – ä"},
    {"value": None, "weird key<": "v"},
]


@pytest.mark.parametrize("kwargs", CASES)
def test_html_params_gives_the_originals_output(kwargs):
    mine, theirs = form_speed.html_params(**kwargs), form_speed.ORIGINAL_HTML_PARAMS(**kwargs)
    assert isinstance(mine, Markup) and str(mine) == str(theirs)


def test_wtforms_catalogue_is_loaded_once_per_language(app, world, browser, monkeypatch):
    from babel import support

    loads: list[object] = []
    real = support.Translations.load

    def counted(*args, **kw):
        loads.append(args)
        return real(*args, **kw)

    monkeypatch.setattr(support.Translations, "load", counted)
    form_speed._wtforms_catalogue.cache_clear()
    browser.login(email("member_a1"))
    aid = start_assessment(browser, world.unit_a1)
    assert browser.post("/language", {"language": "de", "next": "/assessments/"}).status_code == 302
    for _ in range(3):
        assert browser.get(f"/assessments/{aid}/section/2").status_code == 200
    wtforms_loads = [a for a in loads if "wtforms" in repr(a)]
    assert len(wtforms_loads) <= 2, wtforms_loads  # English (the start) and German, not once per request
    # And the messages are still WTForms' own, in the reader's language.
    with app.test_request_context("/"):
        from flask_babel import force_locale

        with force_locale("de"):
            assert form_speed.wtforms_translations().ugettext("Not a valid choice.") != "Not a valid choice."
            assert form_speed.wtforms_translations().ugettext("Not a valid choice.") == \
                form_speed.ORIGINAL_GET_TRANSLATIONS().ugettext("Not a valid choice.")
