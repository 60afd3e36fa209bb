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
ALPHABET = "abcdefghijklmnopqrstuvwxyz"


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
        # An edit is lower-case letters, a search term as it stands (and no stopword the index holds).
        indexed = sorted(edit for edit in _edits(word) if vocabulary.knows(edit, False))
        if len(indexed) > 1:
            return typed
        spelled = indexed[0] if indexed else english.correction(word)
        if not spelled or spelled == word:
            return typed
        return spelled[:1].upper() + spelled[1:] if typed[:1].isupper() else spelled

    return LATIN_WORD.sub(meant, text)


def _edits(word: str) -> set[str]:
    """The words one letter's insertion, deletion, change or swap of neighbours away."""
    edits = set()
    for i in range(len(word) + 1):
        head, tail = word[:i], word[i:]
        edits.update(head + letter + tail for letter in ALPHABET)
        if tail:
            edits.add(head + tail[1:])
            edits.update(head + letter + tail[1:] for letter in ALPHABET)
        if len(tail) > 1:
            edits.add(head + tail[1] + tail[0] + tail[2:])
    edits.discard(word)
    return edits
