"""English words typed wrong, read as the words meant: "Beijnig" as Beijing, "cooperaiton" as
cooperation, "shouldnt" as shouldn't.

The embedding model reads a mistyped word as other pieces of text, and a lexical search does not
find it at all. A word is respelled only when it is no English word and no word of the index in
either script: "okean" and "aukus" are how people type names the Arabic body writes, and stay.
The index's own Latin words come first ("beijng" is Beijing, not "being"), then English's commonest
word a letter's insertion, deletion, change or swap away (pyspellchecker's dictionary).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Protocol

from iqtibas.question.text import LATIN_WORD, tokenize

# Shorter words have too many English words one letter away to tell which was meant.
MIN_LETTERS = 5


class Vocabulary(Protocol):
    """What a text collection holds: the index's ``knows``."""

    def knows(self, term: str, across_scripts: bool = True) -> bool: ...


@lru_cache(maxsize=1)
def _english():
    from spellchecker import SpellChecker  # its dictionary of some 160,000 words loads in about 0.2 s: on first use

    return SpellChecker(language="en", distance=1)


def respelled(text: str, vocabulary: Vocabulary) -> str:
    """An English text with its mistyped words spelled as meant, in the case typed."""
    english = _english()

    def held(word: str) -> bool:  # in either script
        terms = tokenize(word)
        return bool(terms) and all(vocabulary.knows(term) for term in terms)

    def meant(match) -> str:
        typed = match.group()
        word = typed.lower()
        if len(word) < MIN_LETTERS or english.known([word]) or held(word):
            return typed
        # The words a letter's insertion, deletion, change or swap of neighbours away; each is a search
        # term as it stands (lower case, and no stopword the index holds).
        indexed = sorted(edit for edit in english.edit_distance_1(word) if vocabulary.knows(edit, False))
        if len(indexed) > 1:
            return typed
        spelled = indexed[0] if indexed else english.correction(word)
        if not spelled or spelled == word:
            return typed
        return spelled[:1].upper() + spelled[1:] if typed[:1].isupper() else spelled

    return LATIN_WORD.sub(meant, text)
