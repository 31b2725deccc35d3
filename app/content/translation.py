"""Translations of the content file: ``recommendations.<lang>.json`` beside ``recommendations.json``.

A translation is a flat mapping from a language-neutral key to the translated text, for example
``questions.r1_threat_assessment.levels.2`` or ``pillars.fear.name``. Keys are built from the content's
own ids (positions only inside lists that have no ids: level descriptors, threats, actions), so a
translation can be checked key by key against the English file: ``flask content check`` refuses one
that misses or adds a key and names it. Only text is translated; ids, numbers, weights and references
come from the English file, which is why scores do not depend on the language.

File format::

    {"language": "es", "content_version": "2026.1", "strings": {"title": "…", …}}
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Translation:
    language: str
    content_version: str
    strings: dict[str, str]
    path: str


def _entries(d: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """Every translatable text of ``d`` as (key, container, index-or-field), in file order."""
    out: list[tuple[str, Any, Any]] = [("title", d, "title")]
    for lv in d["scale"]["levels"]:
        out += [(f"scale.levels.{lv['level']}.label", lv, "label"),
                (f"scale.levels.{lv['level']}.description", lv, "description")]
    out += [("scale.na", d["scale"], "na"), ("scale.unknown", d["scale"], "unknown")]
    for p in d["pillars"]:
        out += [(f"pillars.{p['id']}.{f}", p, f) for f in ("name", "short", "description")]
    for a in d["audiences"]:
        out.append((f"audiences.{a['id']}.name", a, "name"))
    for im in d["impacts"]:
        out.append((f"impacts.{im['id']}.name", im, "name"))
        for aud, by_pillar in im["threats"].items():
            for pillar, threats in by_pillar.items():
                out += [(f"impacts.{im['id']}.threats.{aud}.{pillar}.{i}", threats, i) for i in range(len(threats))]
    for kind in ("rights", "stages", "technologies"):
        for x in d[kind]:
            out.append((f"{kind}.{x['id']}.name", x, "name"))
    for s in d["sources"]:
        out.append((f"sources.{s['id']}.citation", s, "citation"))
    for r in d["recommendations"]:
        out += [(f"recommendations.{r['id']}.{f}", r, f) for f in ("title", "short_title", "rationale")]
        for q in r["questions"]:
            out += [(f"questions.{q['id']}.text", q, "text")]
            if q.get("help") is not None:
                out.append((f"questions.{q['id']}.help", q, "help"))
            out += [(f"questions.{q['id']}.levels.{i}", q["levels"], i) for i in range(len(q["levels"]))]
        actions = r["actions"]
        for level in (actions if isinstance(actions, dict) else range(len(actions))):
            acts = actions[level]
            out += [(f"recommendations.{r['id']}.actions.{level}.{j}", acts, j) for j in range(len(acts))]
    return out


def flatten(data: dict[str, Any]) -> dict[str, str]:
    """The English text of a content file, keyed as translations key it (the translator's source)."""
    return {key: container[field] for key, container, field in _entries(data)}


def apply(data: dict[str, Any], strings: dict[str, str]) -> dict[str, Any]:
    """A copy of ``data`` with every text that ``strings`` translates replaced; the rest stays English.

    Recommendation titles keep their English wording in ``title_en``: reports cite the source document
    by its own title next to the translation.
    """
    out = copy.deepcopy(data)
    for r in out["recommendations"]:
        r["title_en"] = r["title"]
    for key, container, field in _entries(out):
        text = strings.get(key)
        if text:
            container[field] = text
    return out


def problems(data: dict[str, Any], t: Translation) -> list[str]:
    """What is wrong with a translation of the current content: missing, extra or empty keys, version."""
    expected = flatten(data)
    out = []
    if t.content_version != data["version"]:
        out.append(f"{t.path}: translates content version {t.content_version!r}, the file is {data['version']!r}")
    out += [f"{t.path}: missing {k}" for k in expected if k not in t.strings]
    out += [f"{t.path}: unknown key {k} (no such id in the content file)" for k in t.strings if k not in expected]
    out += [f"{t.path}: empty {k}" for k, v in t.strings.items() if k in expected and not str(v).strip()]
    return out


def path_for(content_path: str | Path, language: str) -> Path:
    p = Path(content_path)
    return p.with_name(f"{p.stem}.{language}{p.suffix}")


def load(content_path: str | Path, language: str) -> Translation | None:
    """The translation of ``content_path`` into ``language``, or None if there is no such file."""
    path = path_for(content_path, language)
    if not path.is_file():
        return None
    raw = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not isinstance(raw.get("strings"), dict):
        raise ValueError(f"{path}: expected an object with a 'strings' mapping")
    if raw.get("language") != language:
        raise ValueError(f"{path}: says language {raw.get('language')!r}, its name says {language!r}")
    return Translation(language, str(raw.get("content_version", "")), raw["strings"], str(path))
