"""The lexical side: BM25 over the chunks' search terms (bm25s).

bm25s was chosen over rank-bm25 because it saves and loads plain arrays and
JSON (no pickles), scores with sparse matrices, and is maintained. Chunks are
read with ``question.tokenize``, the same reader as questions; questions never
extend the vocabulary.
"""

from __future__ import annotations

import json
from pathlib import Path

import bm25s
import numpy as np

from iqtibas.question import tokenize
from iqtibas.records import IqtibasError

BM25_FILES = ("data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy", "vocab.index.json", "params.index.json")


class LexicalIndex:
    """BM25 over tokenized chunk texts; ``search`` returns (positions, scores), best first."""

    def __init__(self, bm25: bm25s.BM25):
        self.bm25 = bm25

    @classmethod
    def build(cls, texts: list[str]) -> LexicalIndex:
        bm25 = bm25s.BM25()
        bm25.index([tokenize(t) or [""] for t in texts], show_progress=False)
        return cls(bm25)

    def __len__(self) -> int:
        return self.bm25.scores["num_docs"]

    def coverage(self, terms: tuple[str, ...]) -> float:
        """Share of the terms that occur in the indexed texts (0 when there are none).

        An English question shares only Latin names with an Arabic body; this
        tells the fusion how far to trust the lexical ranking for it.
        """
        if not terms:
            return 0.0
        return sum(term in self.bm25.vocab_dict for term in terms) / len(terms)

    def has_all(self, terms) -> bool:
        """Whether every one of these search terms occurs in the indexed texts (False for none)."""
        return bool(terms) and all(term in self.bm25.vocab_dict for term in terms)

    def search(self, terms: tuple[str, ...], count: int) -> tuple[np.ndarray, np.ndarray]:
        """The positions and BM25 scores of the ``count`` best chunks that share a term, best first."""
        ids = self.bm25.get_tokens_ids(list(terms))
        if not ids:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores = self.bm25.get_scores_from_ids(ids).astype(np.float32)
        matched = np.flatnonzero(scores > 0)
        top = matched[np.argsort(-scores[matched], kind="stable")][:count]
        return top, scores[top]

    def save(self, folder: Path) -> None:
        self.bm25.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        missing = [name for name in BM25_FILES if not (folder / name).exists()]
        if missing:
            raise IqtibasError(f"lexical index in {folder} lacks {', '.join(missing)}")
        try:
            return cls(bm25s.BM25.load(str(folder), show_progress=False))
        except (ValueError, OSError, json.JSONDecodeError, KeyError) as error:
            raise IqtibasError(f"lexical index in {folder} is damaged ({error})") from None
