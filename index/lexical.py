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

from iqtibas.question import is_arabic_term, spelling_key, tokenize
from iqtibas.records import IqtibasError

BM25_FILES = ("data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy", "vocab.index.json", "params.index.json")


class LexicalIndex:
    """BM25 over tokenized chunk texts; ``search`` returns (positions, scores), best first."""

    def __init__(self, bm25: bm25s.BM25):
        self.bm25 = bm25
        vocabulary = bm25.vocab_dict
        # Names across scripts: each indexed term by its script and spelling key (question/scripts.py).
        self._by_spelling: dict[tuple, list[str]] = {}
        for term in vocabulary:
            key = spelling_key(term)
            if key:
                self._by_spelling.setdefault((is_arabic_term(term), key), []).append(term)
        # The parts of hyphenated terms, so "400" is known where "s-400" is.
        self._parts = {part for term in vocabulary if "-" in term for part in term.split("-")}

    @classmethod
    def build(cls, texts: list[str]) -> LexicalIndex:
        bm25 = bm25s.BM25()
        bm25.index([tokenize(t) or [""] for t in texts], show_progress=False)
        return cls(bm25)

    def __len__(self) -> int:
        return self.bm25.scores["num_docs"]

    def across_scripts(self, term: str) -> list[str]:
        """The indexed terms that spell ``term`` in the other script ("vostok" -> "فوستوك"), for a
        term the index does not hold as written (measured on the tune split: adding them for terms
        it holds, such as names in the English reference list, lowered English hit@3 0.75 -> 0.73)."""
        key = spelling_key(term)
        if key is None or term in self.bm25.vocab_dict:
            return []
        return self._by_spelling.get((not is_arabic_term(term), key), [])

    def knows(self, term: str, across_scripts: bool = True) -> bool:
        """Whether the indexed texts hold the term: as written, or (``across_scripts``) in the other
        script, as part of a hyphenated name ("400" of "s-400"), or, for a hyphenated term, in
        every part of it."""
        if term in self.bm25.vocab_dict:
            return True
        if not across_scripts:
            return False
        if term in self._parts or self.across_scripts(term):
            return True
        parts = [part for part in term.split("-") if part]
        return len(parts) > 1 and all(self.knows(part) for part in parts)

    def expanded(self, terms: tuple[str, ...]) -> tuple[str, ...]:
        """The terms, and the other script's spellings of those the index does not hold as written."""
        return terms + tuple(other for term in terms for other in self.across_scripts(term))

    def coverage(self, terms: tuple[str, ...]) -> float:
        """Share of the terms that occur in the indexed texts (0 when there are none).

        An English question shares only Latin names with an Arabic body; this
        tells the fusion how far to trust the lexical ranking for it.
        """
        if not terms:
            return 0.0
        return sum(term in self.bm25.vocab_dict for term in terms) / len(terms)

    def has_all(self, terms, across_scripts: bool = True) -> bool:
        """Whether the indexed texts hold every one of these search terms (False for none)."""
        return bool(terms) and all(self.knows(term, across_scripts) for term in terms)

    def search(self, terms: tuple[str, ...], count: int) -> tuple[np.ndarray, np.ndarray]:
        """The positions and BM25 scores of the ``count`` best chunks that share a term, best first."""
        ids = self.bm25.get_tokens_ids(list(self.expanded(terms)))
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
