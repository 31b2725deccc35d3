"""Pure aggregation of the live board (no app, no database): k=3, medians, spread, ranking, group scoring."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.scoring import VALID_VALUES, score
from app.workshops import board
from app.workshops.services import CODE_ALPHABET, format_code, is_well_formed, normalise_code

from .helpers import CONTENT

R1 = CONTENT.recommendation_by_number[1]
Q = R1.questions[0]


def stats(counts: dict[str, int]) -> board.QuestionStats:
    return board.question_stats(Q, 1, 1, counts)


def test_fewer_than_three_answers_show_only_the_count():
    for counts in ({}, {"2": 1}, {"0": 1, "4": 1}, {"na": 2}):
        s = stats(counts)
        assert not s.shown and s.counts == {} and s.median is None and s.iqr is None and s.group_value is None
        assert s.n == sum(counts.values())
        assert not s.disputed
    s = stats({"0": 1, "4": 1, "na": 1})
    assert s.shown and s.n == 3 and s.counts["0"] == 1 and s.counts["unknown"] == 0


def test_median_spread_and_dispute_flag():
    s = stats({"1": 1, "3": 1, "4": 1})
    assert (s.median, s.q1, s.q3, s.low, s.high) == (3, 2.0, 3.5, 1, 4)
    assert s.iqr == 1.5 and s.range == 3 and s.disputed
    calm = stats({"2": 4, "3": 1})
    assert calm.median == 2 and calm.iqr == 0 and not calm.disputed
    # "don't know" counts as level 0 (DESIGN.md section 3); "not applicable" is left out.
    s = stats({"unknown": 2, "4": 1, "na": 5})
    assert s.n == 8 and s.median == 0 and s.low == 0 and s.high == 4


def test_group_value_is_the_lower_median_or_the_majority_special_answer():
    gv = board.group_value
    assert gv({"1": 1, "2": 1, "3": 1, "4": 1}) == "2"  # lower median for an even count
    assert gv({"3": 3}) == "3"
    assert gv({"na": 3, "2": 2}) == "na"  # most said "not applicable"
    assert gv({"na": 2, "2": 2}) == "2"  # half is not most
    assert gv({"unknown": 2, "0": 1, "3": 1}) == "unknown"
    assert gv({"unknown": 1, "0": 2, "3": 1}) == "0"
    assert gv({}) is None


def test_build_scores_the_group_with_app_scoring_on_the_subset():
    counts = {q.id: {"1": 2, "3": 2} for q in R1.questions}
    counts[R1.questions[0].id] = {"4": 1}  # below k: left out of the group values
    b = board.build_board(CONTENT, ["r1", "r5"], counts)
    assert [r.rec.id for r in b.recs] == ["r1", "r5"]
    expected = score(board.subset(CONTENT, ["r1", "r5"]), b.group_values)
    assert b.scores == expected
    assert b.group_values == {q.id: "1" for q in R1.questions[1:]}
    assert b.scores.by_id["r1"].current == 1.0 and b.scores.by_id["r1"].gap == 2.0
    assert b.scores.by_id["r5"].status == "not_answered"
    assert set(b.scores.by_id) == {"r1", "r5"}  # pillar exposure covers the workshop's recommendations only


def test_hotspots_rank_by_interquartile_range_then_range():
    qs = R1.questions
    counts = {qs[0].id: {"2": 3}, qs[1].id: {"0": 2, "4": 2}, qs[2].id: {"1": 1, "2": 2, "4": 1},
              qs[3].id: {"3": 2}}
    b = board.build_board(CONTENT, ["r1"], counts)
    assert [q.question.id for q in b.hotspots] == [qs[1].id, qs[2].id, qs[0].id]
    assert [q.question.id for q in b.disagreements] == [qs[1].id, qs[2].id]


@given(st.dictionaries(st.sampled_from(VALID_VALUES), st.integers(min_value=0, max_value=60)))
def test_any_counts_give_consistent_statistics(counts):
    s = stats(counts)
    n = sum(counts.values())
    assert s.n == n and s.shown == (n >= board.K_MIN)
    if s.median is not None:
        assert s.low <= s.q1 <= s.median <= s.q3 <= s.high
    if s.shown:
        assert s.group_value in VALID_VALUES
        assert sum(s.counts.values()) == n


@given(st.text(max_size=12))
def test_code_normalisation_never_yields_ambiguous_characters(raw):
    code = normalise_code(raw)
    assert (code == code.upper() and code.isalnum()) or code == ""
    if is_well_formed(code):
        assert not set(code) & set("01OIL")
        assert format_code(code).replace("-", "") == code


def test_code_alphabet():
    assert len(CODE_ALPHABET) == 31 and not set(CODE_ALPHABET) & set("01OIL")
    assert format_code("ABC234") == "ABC-234" and normalise_code(" abc-234 ") == "ABC234"
