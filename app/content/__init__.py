"""Questionnaire content: load recommendations.json, validate it, and expose frozen dataclasses.

Content is data: every assessment stores the content version it was answered against, so older
versions stay loadable from the archive folder and old reports render the same after a change.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA_PATH = Path(__file__).with_name("schema.json")
PILLARS = ("fear", "want", "indignity")  # human-security pillars, in display order


class ContentError(ValueError):
    """The content file is malformed or inconsistent; ``path`` names the bad field."""

    def __init__(self, source: str, path: str, message: str) -> None:
        self.source, self.path, self.message = source, path, message
        super().__init__(f"{source}: {path}: {message}")


@dataclass(frozen=True)
class Level:
    level: int
    label: str
    description: str


@dataclass(frozen=True)
class Pillar:
    id: str
    name: str
    short: str
    description: str
    sources: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Impact:
    id: int
    name: str
    # audience id -> pillar id -> threats
    threats: Mapping[str, Mapping[str, tuple[str, ...]]]
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Named:
    id: str
    name: str


@dataclass(frozen=True)
class Technology:
    id: str
    name: str
    stages: tuple[str, ...]
    future_trend: bool


@dataclass(frozen=True)
class Source:
    id: str
    kind: str
    citation: str
    url: str | None = None


@dataclass(frozen=True)
class Question:
    id: str
    recommendation_id: str
    text: str
    help: str | None
    levels: tuple[str, ...]


@dataclass(frozen=True, eq=False)  # identity hash: usable as a cache key
class Recommendation:
    number: int
    id: str
    title: str
    short_title: str
    rationale: str
    pillars: Mapping[str, int]
    impacts: tuple[int, ...]
    rights: tuple[str, ...]
    stages: tuple[str, ...]
    technologies: tuple[str, ...]
    questions: tuple[Question, ...]
    actions: Mapping[int, tuple[str, ...]]
    sources: tuple[str, ...]
    # The seed's English title, kept beside a translated title where a report cites the source.
    title_en: str = ""

    @property
    def weight_sum(self) -> int:
        return sum(self.pillars.values())


@dataclass(frozen=True, eq=False)
class Content:
    version: str
    title: str
    levels: tuple[Level, ...]
    na_text: str
    unknown_text: str
    pillars: tuple[Pillar, ...]
    audiences: tuple[Named, ...]
    impacts: tuple[Impact, ...]
    rights: tuple[Named, ...]
    stages: tuple[Named, ...]
    technologies: tuple[Technology, ...]
    sources: tuple[Source, ...]
    recommendations: tuple[Recommendation, ...]
    sha256: str = field(default="", compare=False)

    @cached_property
    def questions(self) -> dict[str, Question]:
        return {q.id: q for r in self.recommendations for q in r.questions}

    @cached_property
    def recommendation_by_id(self) -> dict[str, Recommendation]:
        return {r.id: r for r in self.recommendations}

    @cached_property
    def recommendation_by_number(self) -> dict[int, Recommendation]:
        return {r.number: r for r in self.recommendations}

    @cached_property
    def pillar_by_id(self) -> dict[str, Pillar]:
        return {p.id: p for p in self.pillars}

    @cached_property
    def impact_by_id(self) -> dict[int, Impact]:
        return {i.id: i for i in self.impacts}

    @cached_property
    def source_by_id(self) -> dict[str, Source]:
        return {s.id: s for s in self.sources}

    @cached_property
    def right_by_id(self) -> dict[str, Named]:
        return {r.id: r for r in self.rights}

    @cached_property
    def stage_by_id(self) -> dict[str, Named]:
        return {s.id: s for s in self.stages}

    @cached_property
    def technology_by_id(self) -> dict[str, Technology]:
        return {t.id: t for t in self.technologies}

    @cached_property
    def audience_by_id(self) -> dict[str, Named]:
        return {a.id: a for a in self.audiences}


def _json_path(parts: Iterable[Any]) -> str:
    out = "$"
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


_SCHEMA: dict[str, Any] | None = None


def _schema() -> dict[str, Any]:
    global _SCHEMA
    if _SCHEMA is None:
        _SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return _SCHEMA


def validate(data: Any, source: str = "content") -> None:
    """Raise ContentError for the first schema violation or cross-reference inconsistency."""
    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if errors:
        err = max(errors, key=lambda e: len(e.absolute_path))  # the deepest is the most precise
        raise ContentError(source, _json_path(err.absolute_path), err.message)
    _check_references(data, source)


def _check_references(d: dict[str, Any], src: str) -> None:
    def fail(parts: list[Any], msg: str) -> None:
        raise ContentError(src, _json_path(parts), msg)

    def unique(items: list[dict[str, Any]], key: str, where: str) -> set[Any]:
        seen: set[Any] = set()
        for i, item in enumerate(items):
            if item[key] in seen:
                fail([where, i, key], f"duplicate {key} {item[key]!r}")
            seen.add(item[key])
        return seen

    for i, lvl in enumerate(d["scale"]["levels"]):
        if lvl["level"] != i:
            fail(["scale", "levels", i, "level"], f"levels must be listed 0 to 4 in order, found {lvl['level']}")
    pillars = unique(d["pillars"], "id", "pillars")
    if pillars != set(PILLARS):
        fail(["pillars"], f"pillars must be exactly {', '.join(PILLARS)}")
    sources = unique(d["sources"], "id", "sources")
    audiences = unique(d["audiences"], "id", "audiences")
    impacts = unique(d["impacts"], "id", "impacts")
    rights = unique(d["rights"], "id", "rights")
    stages = unique(d["stages"], "id", "stages")
    techs = unique(d["technologies"], "id", "technologies")
    unique(d["recommendations"], "id", "recommendations")

    def refs(parts: list[Any], values: list[Any], known: set[Any], what: str) -> None:
        for j, v in enumerate(values):
            if v not in known:
                fail([*parts, j], f"unknown {what} {v!r}")

    for i, p in enumerate(d["pillars"]):
        refs(["pillars", i, "sources"], p["sources"], sources, "source")
    for i, imp in enumerate(d["impacts"]):
        refs(["impacts", i, "sources"], imp["sources"], sources, "source")
        for aud in imp["threats"]:
            if aud not in audiences:
                fail(["impacts", i, "threats", aud], f"unknown audience {aud!r}")
    for i, t in enumerate(d["technologies"]):
        refs(["technologies", i, "stages"], t["stages"], stages, "stage")
    question_ids: set[str] = set()
    for i, r in enumerate(d["recommendations"]):
        base = ["recommendations", i]
        if r["number"] != i + 1:
            fail([*base, "number"], f"recommendations must be numbered 1..n in order, found {r['number']}")
        for key, pid in ((k, k) for k in r["pillars"]):
            if pid not in pillars:
                fail([*base, "pillars", key], f"unknown pillar {pid!r}")
        if not any(r["pillars"].values()):
            fail([*base, "pillars"], "at least one pillar weight must be above 0")
        refs([*base, "impacts"], r["impacts"], impacts, "impact")
        refs([*base, "rights"], r.get("rights", []), rights, "right")
        refs([*base, "stages"], r["stages"], stages, "stage")
        refs([*base, "technologies"], r["technologies"], techs, "technology")
        refs([*base, "sources"], r["sources"], sources, "source")
        for j, q in enumerate(r["questions"]):
            if q["id"] in question_ids:
                fail([*base, "questions", j, "id"], f"duplicate question id {q['id']!r}")
            question_ids.add(q["id"])


def parse(data: dict[str, Any], sha256: str = "") -> Content:
    """Turn validated JSON into frozen dataclasses."""
    t = tuple
    recs = []
    for r in data["recommendations"]:
        questions = t(
            Question(q["id"], r["id"], q["text"], q.get("help"), t(q["levels"])) for q in r["questions"]
        )
        recs.append(
            Recommendation(
                number=r["number"], id=r["id"], title=r["title"], short_title=r["short_title"],
                rationale=r["rationale"], pillars={p: r["pillars"][p] for p in PILLARS},
                impacts=t(r["impacts"]), rights=t(r.get("rights", [])), stages=t(r["stages"]),
                technologies=t(r["technologies"]), questions=questions,
                actions={int(k): t(v) for k, v in r["actions"].items()}, sources=t(r["sources"]),
                title_en=r.get("title_en", r["title"]),
            )
        )
    pillar_order = {p: i for i, p in enumerate(PILLARS)}
    return Content(
        version=data["version"],
        title=data["title"],
        levels=t(Level(lv["level"], lv["label"], lv["description"]) for lv in data["scale"]["levels"]),
        na_text=data["scale"]["na"],
        unknown_text=data["scale"]["unknown"],
        pillars=t(
            sorted(
                (Pillar(p["id"], p["name"], p["short"], p["description"], t(p["sources"])) for p in data["pillars"]),
                key=lambda p: pillar_order[p.id],
            )
        ),
        audiences=t(Named(a["id"], a["name"]) for a in data["audiences"]),
        impacts=t(
            Impact(
                i["id"], i["name"],
                {aud: {p: t(v) for p, v in by_p.items()} for aud, by_p in i["threats"].items()},
                t(i["sources"]),
            )
            for i in data["impacts"]
        ),
        rights=t(Named(r["id"], r["name"]) for r in data["rights"]),
        stages=t(Named(s["id"], s["name"]) for s in data["stages"]),
        technologies=t(Technology(x["id"], x["name"], t(x["stages"]), x["future_trend"]) for x in data["technologies"]),
        sources=t(Source(s["id"], s["kind"], s["citation"], s.get("url")) for s in data["sources"]),
        recommendations=t(recs),
        sha256=sha256,
    )


def read_file(path: str | Path) -> tuple[dict[str, Any], str]:
    """Read and validate one content file: its data and SHA-256; raises ContentError naming the bad field."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ContentError(str(p), "$", f"cannot read file: {exc.strerror}") from exc
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ContentError(str(p), f"line {exc.lineno} column {exc.colno}", f"invalid JSON: {exc.msg}") from exc
    validate(data, str(p))
    return data, hashlib.sha256(raw).hexdigest()


def load_file(path: str | Path) -> Content:
    """Read, validate and parse one content file; raises ContentError naming the bad field."""
    return parse(*read_file(path))


def _localised(path: Path, data: dict[str, Any], sha: str, languages: Iterable[str]) -> dict[str, Content]:
    """The content of ``path`` in each language that has a translation file beside it."""
    from . import translation

    out = {}
    for lang in languages:
        try:
            t = translation.load(path, lang)
        except (ValueError, OSError) as exc:
            raise ContentError(str(translation.path_for(path, lang)), "$", str(exc)) from exc
        if t is not None:
            out[lang] = parse(translation.apply(data, t.strings), f"{sha}:{lang}")
    return out


_TRANSLATION_NAME = re.compile(r".+\.[a-z]{2,3}\.json$")


class ContentRegistry:
    """The current content plus every archived version, so old assessments keep their wording, each in
    English and in every language with a translation file (a text missing from a translation of an
    archived version stays English)."""

    def __init__(self, current: Content, archived: Iterable[Content] = (),
                 localised: Mapping[str, Mapping[str, Content]] | None = None) -> None:
        self.current = current
        self._by_version = {c.version: c for c in archived}
        self._by_version[current.version] = current
        self._localised = {v: dict(by_lang) for v, by_lang in (localised or {}).items()}

    @classmethod
    def from_paths(cls, current: str | Path, archive_dir: str | Path | None,
                   languages: Iterable[str] = ()) -> ContentRegistry:
        languages = [lang for lang in languages if lang != "en"]
        files = [Path(current)]
        if archive_dir and Path(archive_dir).is_dir():
            # ``2025.1.json`` is a version; ``2025.1.es.json`` its Spanish translation, loaded with it.
            files += [f for f in sorted(Path(archive_dir).glob("*.json")) if not _TRANSLATION_NAME.match(f.name)]
        loaded, localised = [], {}
        for f in files:
            data, sha = read_file(f)
            c = parse(data, sha)
            loaded.append(c)
            localised[c.version] = _localised(f, data, sha, languages)
        return cls(loaded[0], loaded[1:], localised)

    def get(self, version: str, language: str | None = None) -> Content:
        """One version of the content, in ``language`` where translated (English otherwise)."""
        try:
            english = self._by_version[version]
        except KeyError:
            raise LookupError(f"content version {version!r} is not installed") from None
        if language and language != "en":
            return self._localised.get(version, {}).get(language, english)
        return english

    def languages(self, version: str) -> list[str]:
        """The languages ``version`` reads in: English and every translation installed for it."""
        return ["en", *sorted(self._localised.get(version, {}))]

    @property
    def versions(self) -> list[str]:
        return sorted(self._by_version)
