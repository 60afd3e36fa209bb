"""Fusing rankings: one pure function, its weights arguments."""

from __future__ import annotations

from collections.abc import Sequence


def reciprocal_rank_fusion(rankings: Sequence[tuple[Sequence[int], float]], rrf_k: int) -> dict[int, float]:
    """Each item's fused score: the sum over rankings of ``weight / (rrf_k + rank)``, rank from 1.

    ``rankings`` holds (items best first, weight) pairs; an item absent from a ranking gets
    nothing from it.
    """
    fused: dict[int, float] = {}
    for items, weight in rankings:
        for rank, item in enumerate(items, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (rrf_k + rank)
    return fused
