"""The lexical side: Arabic-normalised BM25 over the chunks (bm25s).

bm25s was chosen over rank-bm25 because it saves and loads plain arrays and
JSON (no pickles), scores with sparse matrices, and is maintained.
``normalize_arabic`` and ``tokenize`` are applied identically to chunks and
questions; questions never extend the vocabulary.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import bm25s
import numpy as np

from iqtibas.records import IqtibasError

TASHKEEL = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
TATWEEL = "\u0640"
LETTER_FOLDS = str.maketrans(
    {
        "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا",
        "ة": "ه",
        "ى": "ي",
        "ؤ": "و", "ئ": "ي",
        **{chr(0x0660 + d): str(d) for d in range(10)},  # Arabic-Indic digits
        **{chr(0x06F0 + d): str(d) for d in range(10)},  # Extended (Persian) digits
    }
)
# A token is a run of Arabic letters, or of other letters and digits possibly joined by
# hyphens ("s-400", "su-35"); the scripts are split apart, as in "AUKUSو" (AUKUS + "and").
NON_ARABIC_WORD = r"[^\W_\u0600-\u06ff]+"
TOKEN = re.compile(rf"{NON_ARABIC_WORD}(?:-{NON_ARABIC_WORD})*|[\u0621-\u064a]+")
ARABIC_LETTER = re.compile("[\u0621-\u064a]")
# Clitics stripped from the front of an Arabic word (longest first), keeping a stem of 3+ letters.
ARABIC_PREFIXES = ("وال", "بال", "كال", "فال", "لل", "ال", "و")
MIN_STEM = 3
STOPWORDS = frozenset(
    """
    في من على الى عن ان او ما لا هل هو هي هم ذلك هذه هذا التي الذي الذين كان كانت مع بين عند
    قد لم لن ثم كل اي حيث لقد وقد كما بعد قبل حتى منذ اما ماذا متى كيف لماذا اين اذا الا غير
    the a an of to in on and or is are was were be been by for with as at from that this these
    those it its what which who whom whose when where why how did do does has have had not no
    about into than then there their they he she we you i
    """.split()
)

BM25_FILES = ("data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy", "vocab.index.json", "params.index.json")


def strip_diacritics(text: str) -> str:
    """Arabic text without tashkeel and tatweel, otherwise as written."""
    return TASHKEEL.sub("", text).replace(TATWEEL, "")


def normalize_arabic(text: str) -> str:
    """Fold the spellings a reader treats as the same word.

    Removes tashkeel and tatweel, unifies alef forms, ta marbuta -> ha,
    alef maqsura -> ya, hamza carriers; NFKC folds presentation forms and
    full-width Latin; Latin is lower-cased.
    """
    return strip_diacritics(unicodedata.normalize("NFKC", text)).translate(LETTER_FOLDS).lower()


def _stem(word: str) -> str:
    if ARABIC_LETTER.match(word):
        for prefix in ARABIC_PREFIXES:
            if word.startswith(prefix) and len(word) - len(prefix) >= MIN_STEM:
                return word[len(prefix):]
    return word


def tokenize(text: str) -> list[str]:
    """Normalised search terms of a text; hyphenated names also match unhyphenated ("s-400", "s400")."""
    terms = []
    for token in TOKEN.findall(normalize_arabic(text)):
        if token in STOPWORDS or (len(token) < 2 and not token.isdigit()):
            continue
        terms.append(_stem(token))
        if "-" in token:
            terms.append(token.replace("-", ""))
    return terms


class LexicalIndex:
    """BM25 over tokenized chunk texts; scores come back for every chunk."""

    def __init__(self, bm25: bm25s.BM25):
        self.bm25 = bm25

    @classmethod
    def build(cls, texts: list[str]) -> LexicalIndex:
        bm25 = bm25s.BM25()
        bm25.index([tokenize(t) or [""] for t in texts], show_progress=False)
        return cls(bm25)

    def coverage(self, question: str) -> float:
        """Share of the question's terms that occur in the indexed texts (0 when it has none).

        An English question shares only Latin names with an Arabic body; this
        tells the fusion how far to trust the lexical ranking for it.
        """
        terms = tokenize(question)
        if not terms:
            return 0.0
        return sum(term in self.bm25.vocab_dict for term in terms) / len(terms)

    def unknown_identifiers(self, question: str) -> list[str]:
        """Terms of the question with a digit in them (years, "su-57", "j-20") that no indexed text has.

        A question about a year or a model the articles never name cannot be answered from them.
        """
        return [term for term in tokenize(question)
                if any(c.isdigit() for c in term) and term not in self.bm25.vocab_dict
                and term.replace("-", "") not in self.bm25.vocab_dict]

    def has_all(self, terms) -> bool:
        """Whether every one of these search terms occurs in the indexed texts (False for none)."""
        return bool(terms) and all(term in self.bm25.vocab_dict for term in terms)

    def scores(self, question: str) -> np.ndarray:
        """BM25 score of every chunk (zeros when no term of the question is indexed)."""
        ids = self.bm25.get_tokens_ids(tokenize(question))
        if not ids:
            return np.zeros(self.bm25.scores["num_docs"], dtype=np.float32)
        return self.bm25.get_scores_from_ids(ids).astype(np.float32)

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
