"""Machine-typed variants of a pair's question: the same question as people type it in a hurry.

Issue #13's robustness view asks each question again with one typing habit applied, keeping its
evidence and answerability, and reports how much the figures drop. Arabic: hamzas dropped, ة typed
as ه, word-final ى typed as ي and the reverse (two kinds: each direction is how some people type,
the two at once is how nobody does), "ما هو" / "ما هي" joined. English: all lowercase,
punctuation dropped, two adjacent letters swapped once. A variant that leaves the question as it
was (a question already typed that way) is no variant and is left out.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import unicodedata
from collections.abc import Callable

from iqtibas.eval.pairs import Pair

# The hamza forms typed as their bare carrier; a standalone ء, or a hamza mark over or under a
# letter (U+0654, U+0655), is not typed at all.
_HAMZA = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ؤ": "و", "ئ": "ي", "ء": None, "\u0654": None, "\u0655": None})
_JOINED = re.compile(r"(?<!\w)ما\s+(ه[وىي])(?!\w)")
_FINAL_ALEF_MAQSURA = re.compile(r"ى(?!\w)")
_FINAL_YA = re.compile(r"ي(?!\w)")
_LONG_WORD = re.compile(r"[^\W\d_]{4,}")
_INNER_HYPHEN = re.compile(r"(?<=\w)-(?=\w)")


def _no_punctuation(text: str) -> str:
    """Every punctuation mark dropped, apostrophes too ("what's" → "whats"); a hyphen inside a
    word (S-400, China-Russia) stays, since dropping it fuses two words that nobody types fused."""
    kept = _INNER_HYPHEN.sub("\0", text)
    dropped = "".join(ch for ch in kept if not unicodedata.category(ch).startswith("P"))
    return re.sub(r"\s+", " ", dropped).strip().replace("\0", "-")


def _swap(text: str, seed: str) -> str:
    """Two neighbouring, different letters of a word of four or more letters swapped, never the
    word's first letter; which pair is fixed by ``seed`` (the pair's id). Unchanged when no word has one."""
    places = [match.start() + i for match in _LONG_WORD.finditer(text)
              for i in range(1, len(match.group()) - 1) if match.group()[i] != match.group()[i + 1]]
    if not places:
        return text
    at = places[int(hashlib.sha256(seed.encode("utf-8")).hexdigest()[:8], 16) % len(places)]
    return text[:at] + text[at + 1] + text[at] + text[at + 2:]


# Each language's kinds, in the report's order: name → how the question is retyped (text, pair id).
KINDS: dict[str, dict[str, Callable[[str, str], str]]] = {
    "ar": {
        "no hamza": lambda text, _: text.translate(_HAMZA),
        "ة→ه": lambda text, _: text.replace("ة", "ه"),
        "ى→ي": lambda text, _: _FINAL_ALEF_MAQSURA.sub("ي", text),
        "ي→ى": lambda text, _: _FINAL_YA.sub("ى", text),
        "ما هو→ماهو": lambda text, _: _JOINED.sub(r"ما\1", text),
    },
    "en": {
        "lowercase": lambda text, _: text.lower(),
        "no punctuation": lambda text, _: _no_punctuation(text),
        "adjacent swap": _swap,
    },
}


def machine_typed(pair: Pair) -> list[tuple[str, Pair]]:
    """(kind, the pair asked that way) for each kind of the pair's language that changes its
    question; the evidence, footnotes and answerability stay the pair's."""
    variants = []
    for kind, retype in KINDS[pair.lang].items():
        text = retype(pair.question, pair.id)
        if text != pair.question and text.strip():
            variants.append((kind, dataclasses.replace(pair, question=text)))
    return variants
