"""Retrieval and answer metrics: pure functions, no I/O.

Conventions shared by every function here:

* A *rank* is the 1-based position of a result in a ranked list.
* A retrieved text *matches* a gold evidence string when one of these holds
  (see :func:`matches`):

  - the text contains the evidence, or the evidence contains the text;
  - their longest common substring covers at least
    :data:`MIN_OVERLAP` (half) of the evidence's characters, so an evidence
    split across two chunks still counts for the chunk holding most of it.

  Empty strings match nothing.
* Undefined averages (no values, or nothing relevant to find) are ``nan``,
  so callers can tell "no data" from a score of zero.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from difflib import SequenceMatcher
from functools import lru_cache

import numpy as np

# Share of an evidence string's characters a retrieved text must share with it
# (as one contiguous run) to count as relevant.
MIN_OVERLAP = 0.5
DEFAULT_K = 10


@lru_cache(maxsize=1 << 16)  # the same (chunk, evidence) pairs recur across modes and k
def matches(text: str, evidence: str) -> bool:
    """True when ``text`` contains, is contained in, or overlaps ``evidence``.

    Overlap means the longest common substring of the two is at least
    ``MIN_OVERLAP * len(evidence)`` characters long. Empty strings never match.
    """
    if not text or not evidence:
        return False
    if evidence in text or text in evidence:
        return True
    # With autojunk, difflib ignores characters frequent in an evidence of 200+
    # characters and can miss the true longest common substring.
    longest = SequenceMatcher(None, text, evidence, autojunk=False).find_longest_match()
    return longest.size >= MIN_OVERLAP * len(evidence)


def relevant_ranks(ranked_texts: Sequence[str], evidence: Sequence[str]) -> list[int]:
    """The ranks (ascending) of the results that match any gold evidence string.

    Each position is listed once however many evidence strings it matches;
    duplicate texts at different positions are each listed. No evidence gives
    an empty list.
    """
    return [
        rank
        for rank, text in enumerate(ranked_texts, start=1)
        if any(matches(text, gold) for gold in evidence)
    ]


def hit_at_k(relevant_ranks: Collection[int], k: int) -> float:
    """1.0 when some relevant rank is at most ``k``, else 0.0 (also when empty)."""
    return 1.0 if any(rank <= k for rank in relevant_ranks) else 0.0


def reciprocal_rank(relevant_ranks: Collection[int], k: int = DEFAULT_K) -> float:
    """``1 / r`` for the best (smallest) relevant rank ``r`` if ``r <= k``, else 0.0."""
    if not relevant_ranks:
        return 0.0
    best = min(relevant_ranks)
    return 1.0 / best if best <= k else 0.0


def recall_at_k(relevant_ranks: Collection[int], total_relevant: int, k: int) -> float:
    """Share of the ``total_relevant`` items found among the top ``k`` results.

    Counts distinct ranks ``<= k``, capped at 1.0 (several results may match
    the same item); ``nan`` when ``total_relevant`` is below 1.
    """
    if total_relevant < 1:
        return math.nan
    found = len({rank for rank in relevant_ranks if rank <= k})
    return min(1.0, found / total_relevant)


def evidence_recall_at_k(ranked_texts: Sequence[str], evidence: Sequence[str], k: int) -> float:
    """Share of the distinct gold evidence strings matched by some top-``k`` text.

    ``nan`` when there is no evidence.
    """
    gold = set(evidence)
    if not gold:
        return math.nan
    top = ranked_texts[:k]
    found = sum(1 for item in gold if any(matches(text, item) for text in top))
    return found / len(gold)


def ndcg_at_k(relevance: Sequence[int], k: int = DEFAULT_K, total_relevant: int | None = None) -> float:
    """Normalised discounted cumulative gain of the top ``k`` results.

    ``relevance[i]`` is the gain of the result at rank ``i + 1``; any non-zero
    value counts as 1 (binary gains). ``DCG = sum(gain_r / log2(r + 1))`` over
    ranks ``r <= k``; the ideal DCG puts ``min(total_relevant, k)`` gains
    first, ``total_relevant`` defaulting to the number of relevant results in
    ``relevance``. 0.0 when nothing is relevant.
    """
    gains = [1 if value else 0 for value in relevance]
    total = sum(gains) if total_relevant is None else total_relevant
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(total, k) + 1))
    if ideal == 0.0:
        return 0.0
    dcg = sum(gain / math.log2(rank + 1) for rank, gain in enumerate(gains[:k], start=1))
    return dcg / ideal


def evidence_in_quote(quotes: Sequence[str], evidence: Sequence[str]) -> bool:
    """True when some quote matches some gold evidence string (see :func:`matches`)."""
    return any(matches(quote, gold) for quote in quotes for gold in evidence)


def footnote_precision_recall(predicted: Collection[int], gold: Collection[int]) -> tuple[float, float]:
    """(precision, recall) of predicted footnote numbers against the gold ones.

    Precision is 1.0 when nothing is predicted (no wrong footnote was shown);
    recall is 1.0 when there is no gold footnote (nothing was missed).
    """
    predicted_set, gold_set = set(predicted), set(gold)
    correct = len(predicted_set & gold_set)
    precision = correct / len(predicted_set) if predicted_set else 1.0
    recall = correct / len(gold_set) if gold_set else 1.0
    return precision, recall


def mean(values: Sequence[float]) -> float:
    """Arithmetic mean; ``nan`` for no values."""
    return math.fsum(values) / len(values) if values else math.nan


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100), numpy's linear interpolation; ``nan`` for no values."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile q must be within 0..100, got {q}")
    return float(np.percentile(values, q)) if len(values) else math.nan
