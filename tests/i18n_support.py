"""A pseudo-locale for the "no hard-coded text" tests: every catalog string and every content text is
rewritten with accented letters, so any plain ASCII word left on a rendered page was not translated
(unless it is user data). Built fresh from messages.pot and recommendations.json for each test session."""

from __future__ import annotations

import json
import re
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from app.config import ROOT
from app.content.translation import flatten
from app.i18n_tools import POT

# A real CLDR locale that no catalog of ours uses, with a non-Latin script, so that dates and numbers
# formatted for it hold no ASCII words either; it stands in for "any other language".
PSEUDO = "el"
_LOWER = "ȧƀçďéƒĝĥíĵķĺḿñóṗʠŕšťúṽŵẋýž"
_UPPER = "ȦƁÇĎÉƑĜĤÍĴĶĹḾÑÓṖɊŔŠŤÚṼŴẊÝŽ"
_TABLE = str.maketrans("abcdefghijklmnopqrstuvwxyz" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ", _LOWER + _UPPER)
# Left as they are: printf and format placeholders, HTML tags and entities, JS's %n.
_KEEP = re.compile(r"%\(\w+\)[sdfr]|%[sdfrn]|\{\w*\}|<[^>]*>|&\w+;|&#\d+;")


def pseudo(text: str) -> str:
    out, pos = [], 0
    for m in _KEEP.finditer(text):
        out.append(text[pos:m.start()].translate(_TABLE))
        out.append(m.group(0))
        pos = m.end()
    out.append(text[pos:].translate(_TABLE))
    return "".join(out)


def build(target: Path) -> tuple[Path, Path]:
    """Write a pseudo catalog (``<target>/translations``) and a content file with its pseudo translation;
    returns (translations dir, content file)."""
    with POT.open("rb") as f:
        template = read_po(f)
    cat = Catalog(locale=PSEUDO, charset="utf-8")
    for m in template:
        if not m.id:
            continue
        if isinstance(m.id, tuple):
            cat.add(m.id, tuple(pseudo(s) for s in m.id) + (pseudo(m.id[1]),) * (cat.num_plurals - 2))
        else:
            cat.add(m.id, pseudo(m.id))
    mo = target / "translations" / PSEUDO / "LC_MESSAGES" / "messages.mo"
    mo.parent.mkdir(parents=True, exist_ok=True)
    with mo.open("wb") as f:
        write_mo(f, cat)
    data = json.loads((ROOT / "recommendations.json").read_text(encoding="utf-8"))
    content = target / "recommendations.json"
    content.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    strings = {k: pseudo(v) for k, v in flatten(data).items()}
    (target / f"recommendations.{PSEUDO}.json").write_text(json.dumps(
        {"language": PSEUDO, "content_version": data["version"], "strings": strings}, ensure_ascii=False),
        encoding="utf-8")
    return target / "translations", content
