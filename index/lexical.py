"""The lexical side: BM25 over the chunks' search terms (bm25s).

bm25s was chosen over rank-bm25 because it saves and loads plain arrays and
JSON (no pickles), scores with sparse matrices, and is maintained. Chunks are
read with ``question.tokenize``, the same reader as questions; questions never
extend the vocabulary.

A question term the index does not hold is read, where it can be, as the index would write it:
a name in the other script (``across_scripts``), or, for a word in Latin letters, the Arabic index
terms the model places nearest to it (``translations``): an English question shares only names
with an Arabic body, and these readings let it share words too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import bm25s
import numpy as np

from iqtibas.question import designator_key, is_arabic_term, spelling_key, tokenize, written_forms
from iqtibas.records import IqtibasError

LATIN_WORD = re.compile(r"[a-z]+")
LATIN_DESIGNATOR = re.compile(r"([a-z]+)-(\d+)")  # "s-400", "su-35", "be-103" as search writes them


def arabic_terms(vocabulary) -> list[str]:
    """The index terms in Arabic letters, sorted: the terms a Latin word may translate to."""
    return sorted(term for term in vocabulary if term and is_arabic_term(term))

BM25_FILES = ("data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy", "vocab.index.json", "params.index.json")
# The model's vectors of the Arabic index terms, in ``arabic_terms`` order, for translating.
TERM_VECTORS = "term_vectors.npy"
LEXICAL_FILES = (*BM25_FILES, TERM_VECTORS)


class LexicalIndex:
    """BM25 over tokenized chunk texts; ``search`` returns (positions, scores), best first."""

    def __init__(self, bm25: bm25s.BM25, term_vectors: np.ndarray):
        self.bm25 = bm25
        vocabulary = bm25.vocab_dict
        self.arabic_terms = arabic_terms(vocabulary)
        if len(term_vectors) != len(self.arabic_terms) or (len(term_vectors) and term_vectors.ndim != 2):
            raise IqtibasError(f"the lexical index holds {len(term_vectors)} term vectors for "
                               f"{len(self.arabic_terms)} Arabic terms")
        self.term_vectors = term_vectors
        # Names across scripts: each indexed term by its script and spelling key (question/scripts.py).
        self._by_spelling: dict[tuple, list[str]] = {}
        self._by_merged_spelling: dict[tuple, list[str]] = {}  # repeated consonants counted once
        for term in vocabulary:
            for form in written_forms(term):  # "انغ" is also وانغ, Wang
                for spellings, key in ((self._by_spelling, spelling_key(form)),
                                       (self._by_merged_spelling, spelling_key(form, repeats_merged=True))):
                    if key:  # the two forms open differently, so never share a key
                        spellings.setdefault((is_arabic_term(term), key), []).append(term)
        # Models named in Latin letters, by what an Arabic spelling shares with them ("اس 400": s-400).
        self._by_designator: dict[tuple[str, str], list[str]] = {}
        for term in vocabulary:
            if (match := LATIN_DESIGNATOR.fullmatch(term)) and (key := designator_key(*match.groups())):
                self._by_designator.setdefault(key, []).append(term)
        # The parts of hyphenated terms, so "400" is known where "s-400" is.
        self._parts = {part for term in vocabulary if "-" in term for part in term.split("-")}

    @classmethod
    def build(cls, texts: list[str], embed_terms: Callable[[list[str]], np.ndarray]) -> LexicalIndex:
        """BM25 over ``texts``; ``embed_terms`` gives the model's vectors of the Arabic terms."""
        bm25 = bm25s.BM25()
        bm25.index([tokenize(t) or [""] for t in texts], show_progress=False)
        terms = arabic_terms(bm25.vocab_dict)
        return cls(bm25, embed_terms(terms) if terms else np.zeros((0, 0), dtype=np.float32))

    def __len__(self) -> int:
        return self.bm25.scores["num_docs"]

    def across_scripts(self, term: str, held_too: bool = False) -> list[str]:
        """The indexed terms that spell ``term`` in the other script ("vostok" -> "فوستوك"), for a
        term the index does not hold as written (for one it holds, such as a name in the English
        reference list, they cost English questions' search more than they gained on the tune
        split) unless ``held_too``, which also reads a repeated consonant as one ("kissinger" ->
        "كسنجر") when nothing else matches: callers pass it for a word read as a name."""
        key = spelling_key(term)
        if key is None or (term in self.bm25.vocab_dict and not held_too):
            return []
        found = self._by_spelling.get((not is_arabic_term(term), key), [])
        if not found and held_too:  # a name: "Kissinger" is also كسنجر
            return self._by_merged_spelling.get((not is_arabic_term(term), spelling_key(term, repeats_merged=True)), [])
        return found

    def designators_spelled(self, letters: str, digits: str) -> list[str]:
        """The models the index names in Latin letters that an Arabic word and a number spell ("اس",
        "400": ["s-400"]); [] for any other pair of terms."""
        return self._by_designator.get(designator_key(letters, digits), []) if is_arabic_term(letters) else []

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

    def untranslated(self, terms: tuple[str, ...]) -> list[str]:
        """The words in Latin letters among ``terms`` that the index holds in no script: the ones
        ``readings`` translates (numbers and names such as "s-400" are not words to translate)."""
        return list(dict.fromkeys(
            term for term in terms
            if LATIN_WORD.fullmatch(term) and term not in self.bm25.vocab_dict and not self.across_scripts(term)
        ))

    def translations(self, vector: np.ndarray, count: int, min_similarity: float) -> list[str]:
        """The ``count`` Arabic index terms nearest to a word's vector, those at least ``min_similarity``."""
        if count == 0 or not len(self.arabic_terms):
            return []
        similarities = self.term_vectors @ vector
        nearest = np.argsort(-similarities, kind="stable")[:count]
        return [self.arabic_terms[i] for i in nearest if similarities[i] >= min_similarity]

    def readings(self, terms: tuple[str, ...], also: dict[str, list[str]],
                 held_too: bool = False) -> tuple[tuple[str, ...], ...]:
        """Per term, the index terms it may be written as: itself, its other-script spellings (also for
        a term the index holds, with ``held_too``) and what ``also`` gives for it (a Latin word's
        Arabic translations, a name's other spellings)."""
        return tuple(tuple(dict.fromkeys((term, *self.across_scripts(term, held_too), *also.get(term, ()))))
                     for term in terms)

    def coverage(self, readings: tuple[tuple[str, ...], ...]) -> float:
        """Share of the question's terms the indexed texts hold in some reading (0 when there are none).

        This tells the fusion how far to trust the lexical ranking for a question.
        """
        if not readings:
            return 0.0
        return sum(any(r in self.bm25.vocab_dict for r in reading) for reading in readings) / len(readings)

    def has_all(self, terms, across_scripts: bool = True) -> bool:
        """Whether the indexed texts hold every one of these search terms (False for none)."""
        return bool(terms) and all(self.knows(term, across_scripts) for term in terms)

    def search(self, readings: tuple[tuple[str, ...], ...], count: int) -> tuple[np.ndarray, np.ndarray]:
        """The positions and BM25 scores of the ``count`` best chunks that share a reading of a term,
        best first."""
        ids = self.bm25.get_tokens_ids([r for reading in readings for r in reading])
        if not ids:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores = self.bm25.get_scores_from_ids(ids).astype(np.float32)
        matched = np.flatnonzero(scores > 0)
        top = matched[np.argsort(-scores[matched], kind="stable")][:count]
        return top, scores[top]

    def save(self, folder: Path) -> None:
        self.bm25.save(str(folder), show_progress=False)
        np.save(folder / TERM_VECTORS, self.term_vectors, allow_pickle=False)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        missing = [name for name in LEXICAL_FILES if not (folder / name).exists()]
        if missing:
            raise IqtibasError(f"lexical index in {folder} lacks {', '.join(missing)}")
        try:
            return cls(bm25s.BM25.load(str(folder), show_progress=False),
                       np.load(folder / TERM_VECTORS, allow_pickle=False))
        except (ValueError, OSError, json.JSONDecodeError, KeyError, IqtibasError) as error:
            raise IqtibasError(f"lexical index in {folder} is damaged ({error})") from None
