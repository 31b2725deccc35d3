"""Questionnaire content (app/content): the real file, malformed variants and the version archive.

Every malformed variant must raise ContentError naming the exact JSON path of the bad field, so an
operator can fix the file without guessing (DESIGN.md section 1: "fail fast, with the path of the bad
field").
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from app import create_app
from app.config import ROOT
from app.content import ContentError, ContentRegistry, load_file, parse, validate

REAL_PATH = ROOT / "recommendations.json"
RAW: dict[str, Any] = json.loads(REAL_PATH.read_text(encoding="utf-8"))

# The seed's numbering and wording (DOMAIN.md section 5), without the closing full stop.
SEED_TITLES = {
    1: "Clearly understand the problem of technology-facilitated human trafficking and the purpose of "
       "technology-based solutions",
    2: "Keep abreast of changes and consider victims' experience",
    3: "Establish formalized communication channels with stakeholders",
    4: "Develop partnerships with online platforms providers",
    5: "Collect representative statistical data",
    6: "Provide hotlines for emergencies",
    7: "Improve online victims identification capabilities",
    8: "Organize prevention campaigns",
    9: "Use digital evidences to prevent victims from difficult experiences",
    10: "Include initiatives to remove victims' fear of technologies",
}


def fresh() -> dict[str, Any]:
    return copy.deepcopy(RAW)


def write(tmp_path: Path, data: Any, name: str = "content.json") -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(data), encoding="utf-8")
    return p


# --------------------------------------------------------------------------------------------------
# The real file
# --------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real():
    return load_file(REAL_PATH)


def test_real_file_loads_with_ten_numbered_recommendations(real):
    assert real.version == RAW["version"] and real.version
    assert len(real.sha256) == 64
    assert [r.number for r in real.recommendations] == list(range(1, 11))
    assert {n: r.title for n, r in real.recommendation_by_number.items()} == SEED_TITLES
    assert real.recommendation_by_number[4].title == "Develop partnerships with online platforms providers"
    assert real.recommendation_by_number[10].title == "Include initiatives to remove victims' fear of technologies"
    assert len({r.id for r in real.recommendations}) == 10


def test_real_questions_are_unique_and_complete(real):
    all_ids = [q.id for r in real.recommendations for q in r.questions]
    assert len(all_ids) == len(set(all_ids)) == len(real.questions)
    for r in real.recommendations:
        assert 3 <= len(r.questions) <= 5, r.id
        for q in r.questions:
            assert q.recommendation_id == r.id
            assert q.text.strip()
            assert len(q.levels) == 5, q.id
            assert all(isinstance(d, str) and d.strip() for d in q.levels), q.id
            assert len(set(q.levels)) == 5, q.id  # five distinct descriptors, not one copied
        assert sorted(r.actions) == [0, 1, 2, 3, 4]
        assert all(r.actions[k] for k in r.actions)
    assert [lv.level for lv in real.levels] == [0, 1, 2, 3, 4]
    assert real.na_text and real.unknown_text


def test_real_weights_are_0_to_2_with_at_least_one_primary_or_secondary(real):
    for r in real.recommendations:
        assert set(r.pillars) == {"fear", "want", "indignity"}
        assert all(w in (0, 1, 2) for w in r.pillars.values()), r.id
        assert r.weight_sum >= 1
    assert [p.id for p in real.pillars] == ["fear", "want", "indignity"]


def test_every_reference_in_the_real_file_resolves(real):
    for p in real.pillars:
        assert all(s in real.source_by_id for s in p.sources)
    for imp in real.impacts:
        assert all(s in real.source_by_id for s in imp.sources)
        assert all(a in real.audience_by_id for a in imp.threats)
        assert all(set(by_p) <= {"fear", "want"} for by_p in imp.threats.values())
    for t in real.technologies:
        assert all(s in real.stage_by_id for s in t.stages)
    for r in real.recommendations:
        assert r.impacts and all(i in real.impact_by_id for i in r.impacts)
        assert all(x in real.right_by_id for x in r.rights)
        assert all(s in real.stage_by_id for s in r.stages)
        assert all(t in real.technology_by_id for t in r.technologies)
        assert r.sources and all(s in real.source_by_id for s in r.sources)


def test_parse_of_validated_data_equals_load_file(real):
    data = fresh()
    validate(data, "x")
    parsed = parse(data)
    assert [r.title for r in parsed.recommendations] == [r.title for r in real.recommendations]
    assert parsed.questions.keys() == real.questions.keys()


# --------------------------------------------------------------------------------------------------
# Malformed variants: each names the exact path of the bad field
# --------------------------------------------------------------------------------------------------

def set_weight_3(d):
    d["recommendations"][3]["pillars"]["fear"] = 3


def set_weight_minus_1(d):
    d["recommendations"][5]["pillars"]["want"] = -1


def set_weight_string(d):
    d["recommendations"][3]["pillars"]["indignity"] = "2"


def duplicate_question_across_recommendations(d):
    d["recommendations"][2]["questions"][1]["id"] = d["recommendations"][0]["questions"][0]["id"]


def duplicate_question_within_recommendation(d):
    d["recommendations"][7]["questions"][3]["id"] = d["recommendations"][7]["questions"][0]["id"]


def missing_title(d):
    del d["recommendations"][2]["title"]


def missing_question_levels(d):
    del d["recommendations"][1]["questions"][2]["levels"]


def missing_version(d):
    del d["version"]


def four_levels(d):
    d["recommendations"][6]["questions"][1]["levels"].pop()


def six_levels(d):
    d["recommendations"][0]["questions"][0]["levels"].append("Beyond excellent.")


def empty_level_descriptor(d):
    d["recommendations"][8]["questions"][2]["levels"][3] = ""


def unknown_source(d):
    d["recommendations"][4]["sources"][1] = "no_such_source"


def unknown_pillar_source(d):
    d["pillars"][2]["sources"].append("no_such_source")


def unknown_impact(d):
    d["recommendations"][4]["impacts"][0] = 99


def unknown_technology(d):
    d["recommendations"][1]["technologies"][2] = "telepathy"


def unknown_right(d):
    d["recommendations"][0]["rights"][1] = "no_such_right"


def unknown_technology_stage(d):
    d["technologies"][1]["stages"][2] = "Z"


def out_of_order(d):
    recs = d["recommendations"]
    recs[1], recs[2] = recs[2], recs[1]


def all_weights_zero(d):
    d["recommendations"][0]["pillars"] = {"fear": 0, "want": 0, "indignity": 0}


def duplicate_recommendation_id(d):
    d["recommendations"][5]["id"] = d["recommendations"][4]["id"]


def unknown_audience(d):
    d["impacts"][0]["threats"]["aliens"] = {"fear": ["x"]}


def levels_out_of_order(d):
    levels = d["scale"]["levels"]
    levels[1], levels[2] = levels[2], levels[1]


def too_many_questions(d):
    qs = d["recommendations"][9]["questions"]
    qs.extend(copy.deepcopy(qs[:2]))
    qs[-2]["id"], qs[-1]["id"] = "r10_extra_a", "r10_extra_b"


def bad_question_id(d):
    d["recommendations"][3]["questions"][0]["id"] = "Has Spaces"


MALFORMED = [
    # (mutation, exact path, words the message must contain)
    (set_weight_3, "$.recommendations[3].pillars.fear", ["3", "maximum"]),
    (set_weight_minus_1, "$.recommendations[5].pillars.want", ["-1", "minimum"]),
    (set_weight_string, "$.recommendations[3].pillars.indignity", ["integer"]),
    (duplicate_question_across_recommendations, "$.recommendations[2].questions[1].id",
     ["duplicate", RAW["recommendations"][0]["questions"][0]["id"]]),
    (duplicate_question_within_recommendation, "$.recommendations[7].questions[3].id",
     ["duplicate", RAW["recommendations"][7]["questions"][0]["id"]]),
    # a missing field does not exist: the path names the object that lacks it, the message names the field
    (missing_title, "$.recommendations[2]", ["'title'", "required"]),
    (missing_question_levels, "$.recommendations[1].questions[2]", ["'levels'", "required"]),
    (missing_version, "$", ["'version'", "required"]),
    (four_levels, "$.recommendations[6].questions[1].levels", ["too short"]),
    (six_levels, "$.recommendations[0].questions[0].levels", ["too long"]),
    (empty_level_descriptor, "$.recommendations[8].questions[2].levels[3]", ["empty"]),
    (unknown_source, "$.recommendations[4].sources[1]", ["unknown source", "no_such_source"]),
    (unknown_pillar_source, f"$.pillars[2].sources[{len(RAW['pillars'][2]['sources'])}]",
     ["unknown source", "no_such_source"]),
    (unknown_impact, "$.recommendations[4].impacts[0]", ["unknown impact", "99"]),
    (unknown_technology, "$.recommendations[1].technologies[2]", ["unknown technology", "telepathy"]),
    (unknown_right, "$.recommendations[0].rights[1]", ["unknown right", "no_such_right"]),
    (unknown_technology_stage, "$.technologies[1].stages[2]", ["unknown stage", "'Z'"]),
    (out_of_order, "$.recommendations[1].number", ["numbered", "3"]),
    (all_weights_zero, "$.recommendations[0].pillars", ["at least one pillar weight"]),
    (duplicate_recommendation_id, "$.recommendations[5].id", ["duplicate", RAW["recommendations"][4]["id"]]),
    (unknown_audience, "$.impacts[0].threats.aliens", ["unknown audience", "aliens"]),
    (levels_out_of_order, "$.scale.levels[1].level", ["order"]),
    (too_many_questions, "$.recommendations[9].questions", ["too long"]),
    (bad_question_id, "$.recommendations[3].questions[0].id", ["does not match"]),
]


@pytest.mark.parametrize(("mutate", "path", "words"), MALFORMED, ids=[m[0].__name__ for m in MALFORMED])
def test_malformed_content_names_the_exact_path(mutate, path, words):
    data = fresh()
    mutate(data)
    with pytest.raises(ContentError) as info:
        validate(data, "variant.json")
    err = info.value
    assert err.path == path, err
    assert err.source == "variant.json"
    for w in words:
        assert w in err.message, err.message
    assert str(err) == f"variant.json: {path}: {err.message}"


def test_with_several_problems_the_deepest_path_is_reported():
    data = fresh()
    missing_title(data)  # $.recommendations[2] (depth 2)
    set_weight_3(data)  # $.recommendations[3].pillars.fear (depth 4)
    with pytest.raises(ContentError) as info:
        validate(data, "variant.json")
    assert info.value.path == "$.recommendations[3].pillars.fear"


def test_the_unmodified_copy_is_valid():
    validate(fresh(), "copy")  # the variants above fail because of their mutation, not the base


def test_unknown_pillar_key_is_rejected_and_named():
    data = fresh()
    data["recommendations"][3]["pillars"]["bogus"] = 1
    with pytest.raises(ContentError) as info:
        validate(data, "variant.json")
    assert "bogus" in info.value.message
    assert info.value.path.startswith("$.recommendations[3].pillars")


def test_unknown_pillar_key_path_is_the_bad_key():
    data = fresh()
    data["recommendations"][3]["pillars"]["bogus"] = 1
    with pytest.raises(ContentError) as info:
        validate(data, "variant.json")
    assert info.value.path == "$.recommendations[3].pillars.bogus"


def test_malformed_file_on_disk_names_the_file_and_path(tmp_path):
    data = fresh()
    set_weight_3(data)
    bad = write(tmp_path, data)
    with pytest.raises(ContentError) as info:
        load_file(bad)
    assert info.value.source == str(bad)
    assert info.value.path == "$.recommendations[3].pillars.fear"


@pytest.mark.parametrize(("text", "path", "words"), [
    ('{\n  "version": "x",\n  oops\n}', "line 3 column 3", ["invalid JSON", "property name"]),
    ('{"version": "x",}', "line 1 column 17", ["invalid JSON"]),
    ("", "line 1 column 1", ["invalid JSON", "Expecting value"]),
])
def test_invalid_json_names_line_and_column(tmp_path, text, path, words):
    bad = tmp_path / "broken.json"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ContentError) as info:
        load_file(bad)
    assert info.value.path == path
    assert info.value.source == str(bad)
    for w in words:
        assert w in info.value.message


def test_truncated_real_file_is_invalid_json(tmp_path):
    raw = REAL_PATH.read_text(encoding="utf-8")
    bad = tmp_path / "truncated.json"
    bad.write_text(raw[: len(raw) // 2], encoding="utf-8")
    with pytest.raises(ContentError) as info:
        load_file(bad)
    assert info.value.path.startswith("line ") and "invalid JSON" in info.value.message


def test_missing_file_is_a_content_error(tmp_path):
    with pytest.raises(ContentError) as info:
        load_file(tmp_path / "nope.json")
    assert info.value.path == "$"
    assert "cannot read file" in info.value.message


def test_json_that_is_not_an_object_is_rejected():
    with pytest.raises(ContentError) as info:
        validate([1, 2, 3], "list.json")
    assert info.value.path == "$"
    assert "object" in info.value.message


# --------------------------------------------------------------------------------------------------
# Archived versions
# --------------------------------------------------------------------------------------------------

def archived_variant(version: str) -> dict[str, Any]:
    data = fresh()
    data["version"] = version
    data["recommendations"][0]["title"] = f"Older wording ({version})"
    return data


def test_registry_returns_archived_versions(tmp_path, real):
    archive = tmp_path / "archive"
    archive.mkdir()
    write(archive, archived_variant("2024.1"), "2024.1.json")
    write(archive, archived_variant("2025.2"), "2025.2.json")
    (archive / "README.txt").write_text("not content")  # only *.json files are read
    reg = ContentRegistry.from_paths(REAL_PATH, archive)
    assert reg.current.version == real.version
    assert reg.versions == sorted(["2024.1", "2025.2", real.version])
    assert reg.get("2024.1").recommendation_by_number[1].title == "Older wording (2024.1)"
    assert reg.get("2025.2").recommendation_by_number[1].title == "Older wording (2025.2)"
    assert reg.get(real.version) is reg.current
    assert reg.current.recommendation_by_number[1].title == SEED_TITLES[1]
    with pytest.raises(LookupError, match=r"'1999\.9' is not installed"):
        reg.get("1999.9")


def test_registry_without_archive_dir_has_only_current(tmp_path, real):
    reg = ContentRegistry.from_paths(REAL_PATH, tmp_path / "does-not-exist")
    assert reg.versions == [real.version]
    with pytest.raises(LookupError):
        reg.get("2024.1")
    direct = ContentRegistry(real, [parse(archived_variant("2020.1"))])
    assert direct.get("2020.1").version == "2020.1" and direct.get(real.version) is real


def test_registry_rejects_a_bad_archived_file(tmp_path):
    archive = tmp_path / "archive"
    archive.mkdir()
    data = archived_variant("2024.1")
    set_weight_minus_1(data)
    bad = write(archive, data, "2024.1.json")
    with pytest.raises(ContentError) as info:
        ContentRegistry.from_paths(REAL_PATH, archive)
    assert info.value.source == str(bad)
    assert info.value.path == "$.recommendations[5].pillars.want"


# --------------------------------------------------------------------------------------------------
# The app refuses to start with bad content
# --------------------------------------------------------------------------------------------------

def test_app_factory_refuses_a_bad_content_file(tmp_path):
    data = fresh()
    set_weight_3(data)
    bad = write(tmp_path, data, "bad.json")
    with pytest.raises(ContentError) as info:
        create_app({"APP_ENV": "test", "CONTENT_FILE": str(bad), "CONTENT_ARCHIVE_DIR": str(tmp_path / "none")})
    assert info.value.path == "$.recommendations[3].pillars.fear"
    assert info.value.source == str(bad)
    assert "$.recommendations[3].pillars.fear" in str(info.value)


def test_app_factory_refuses_an_unreadable_content_file(tmp_path):
    with pytest.raises(ContentError) as info:
        create_app({"APP_ENV": "test", "CONTENT_FILE": str(tmp_path / "missing.json"),
                    "CONTENT_ARCHIVE_DIR": str(tmp_path / "none")})
    assert info.value.path == "$"


def test_app_factory_loads_good_content_and_its_archive(tmp_path, real):
    archive = tmp_path / "archive"
    archive.mkdir()
    write(archive, archived_variant("2024.1"), "2024.1.json")
    app = create_app({"APP_ENV": "test", "CONTENT_FILE": str(REAL_PATH), "CONTENT_ARCHIVE_DIR": str(archive),
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite3'}"})
    reg = app.extensions["content"]
    assert reg.current.version == real.version
    assert reg.get("2024.1").recommendation_by_number[1].title == "Older wording (2024.1)"
