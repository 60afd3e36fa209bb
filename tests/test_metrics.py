"""Evaluation metrics on hand-made cases whose answers are worked out by hand."""

from __future__ import annotations

import math

import pytest

from iqtibas.eval.metrics import (
    evidence_in_quote,
    evidence_recall_at_k,
    footnote_precision_recall,
    hit_at_k,
    matches,
    mean,
    ndcg_at_k,
    percentile,
    recall_at_k,
    reciprocal_rank,
    relevant_ranks,
)

EVIDENCE = "وفي عام 2016 تم التوصل إلى اتفاقيات إضافية لبيع محركات الطائرات"  # 61 characters
HALF = len(EVIDENCE) // 2


# --- matches / relevant_ranks -------------------------------------------------

def test_matches_containment_both_ways():
    assert matches(f"قبله. {EVIDENCE}. بعده", EVIDENCE)
    assert matches(EVIDENCE[5:20], EVIDENCE)
    assert not matches("نص لا علاقة له", EVIDENCE)


def test_matches_overlap_threshold_is_half_the_evidence():
    # A chunk ending with the evidence's first part: overlap == that part's length.
    at_half = "مقدمة طويلة " + EVIDENCE[: math.ceil(len(EVIDENCE) / 2)]
    below_half = "مقدمة طويلة " + EVIDENCE[: HALF - 1]
    assert matches(at_half, EVIDENCE)
    assert not matches(below_half, EVIDENCE)


def test_matches_long_evidence_made_of_frequent_characters():
    # difflib's autojunk would ignore every character of this 240-character
    # evidence (each is frequent) and find no common substring at all.
    evidence = "ab " * 80
    chunk = "zz" + evidence[:150]
    assert matches(chunk, evidence)
    assert not matches("zz" + evidence[:110], evidence)


def test_empty_strings_match_nothing():
    assert not matches("", EVIDENCE)
    assert not matches("نص", "")


def test_relevant_ranks_are_one_based_and_count_each_position_once():
    first, second = "الجزء الأول من الدليل", "الجزء الثاني من الدليل"
    ranked = ["لا شيء", f"{first} و{second}", "لا شيء آخر", first, first]
    # Position 2 holds both evidence strings but is listed once; duplicates at 4 and 5 both count.
    assert relevant_ranks(ranked, [first, second]) == [2, 4, 5]


def test_relevant_ranks_with_no_results_or_no_evidence():
    assert relevant_ranks([], [EVIDENCE]) == []
    assert relevant_ranks([EVIDENCE], []) == []


# --- rank metrics ---------------------------------------------------------------

def test_hit_at_k():
    assert hit_at_k([3, 7], 3) == 1.0
    assert hit_at_k([3, 7], 2) == 0.0
    assert hit_at_k([], 10) == 0.0


def test_reciprocal_rank_uses_the_best_rank_within_k():
    assert reciprocal_rank([4, 2]) == 0.5
    assert reciprocal_rank([1, 1]) == 1.0
    assert reciprocal_rank([4], k=3) == 0.0
    assert reciprocal_rank([]) == 0.0


def test_recall_at_k_counts_distinct_ranks_and_caps_at_one():
    assert recall_at_k([1, 4, 9], total_relevant=3, k=5) == pytest.approx(2 / 3)
    assert recall_at_k([2, 2], total_relevant=2, k=5) == 0.5
    assert recall_at_k([1, 2, 3], total_relevant=2, k=5) == 1.0
    assert recall_at_k([], total_relevant=2, k=5) == 0.0
    assert math.isnan(recall_at_k([1], total_relevant=0, k=5))


def test_evidence_recall_at_k_counts_gold_strings_found():
    first, second = "الجزء الأول من الدليل", "الجزء الثاني من الدليل"
    ranked = [first, "لا شيء", second]
    assert evidence_recall_at_k(ranked, [first, second], k=2) == 0.5
    assert evidence_recall_at_k(ranked, [first, second], k=3) == 1.0
    assert evidence_recall_at_k(ranked, [first, first], k=1) == 1.0  # duplicate gold counts once
    assert evidence_recall_at_k([], [first], k=3) == 0.0
    assert math.isnan(evidence_recall_at_k(ranked, [], k=3))


def test_ndcg_perfect_and_single_hits():
    assert ndcg_at_k([1, 1, 0]) == pytest.approx(1.0)
    assert ndcg_at_k([0, 1]) == pytest.approx(1 / math.log2(3))
    assert ndcg_at_k([0, 0, 1], k=2) == 0.0


def test_ndcg_with_total_relevant_beyond_the_list_and_capped_at_k():
    # One hit at rank 1, two relevant in all: DCG 1, ideal 1 + 1/log2(3).
    assert ndcg_at_k([1, 0], total_relevant=2) == pytest.approx(1 / (1 + 1 / math.log2(3)))
    # Five relevant but k = 1: the ideal counts one gain, so a top hit is perfect.
    assert ndcg_at_k([1], k=1, total_relevant=5) == pytest.approx(1.0)


def test_ndcg_gains_are_binary_and_nothing_relevant_is_zero():
    assert ndcg_at_k([3, 0]) == pytest.approx(1.0)
    assert ndcg_at_k([0, 0, 0]) == 0.0
    assert ndcg_at_k([]) == 0.0


# --- quotes and footnotes ---------------------------------------------------------

def test_evidence_in_quote():
    assert evidence_in_quote(["لا شيء", EVIDENCE[:40]], [EVIDENCE])
    assert not evidence_in_quote(["لا شيء"], [EVIDENCE])
    assert not evidence_in_quote([], [EVIDENCE])
    assert not evidence_in_quote([EVIDENCE], [])


@pytest.mark.parametrize(
    ("predicted", "gold", "expected"),
    [
        ({4, 5}, {4}, (0.5, 1.0)),
        ({4}, {4, 5}, (1.0, 0.5)),
        ({1}, {2}, (0.0, 0.0)),
        (set(), set(), (1.0, 1.0)),
        (set(), {3}, (1.0, 0.0)),
        ({3}, set(), (0.0, 1.0)),
    ],
)
def test_footnote_precision_recall(predicted, gold, expected):
    assert footnote_precision_recall(predicted, gold) == pytest.approx(expected)


# --- aggregates -------------------------------------------------------------------

def test_mean():
    assert mean([1.0, 2.0, 4.0]) == pytest.approx(7 / 3)
    assert math.isnan(mean([]))


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([1, 2, 3, 4], 50, 2.5),
        ([4, 1, 3, 2], 90, 3.7),  # unsorted input; position 2.7
        ([10, 20], 0, 10),
        ([10, 20], 100, 20),
        ([7], 95, 7),
    ],
)
def test_percentile_interpolates_like_numpy(values, q, expected):
    assert percentile(values, q) == pytest.approx(expected)


def test_percentile_edge_cases():
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError):
        percentile([1.0], 101)
