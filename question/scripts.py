"""Names across scripts: a Latin and an Arabic spelling of one name share a consonant skeleton.

Foreign names reach Arabic by sound, consonant for consonant, with long vowels written as
alef, waw and ya ("Shoigu" شويغو, "Vostok" فوستوك, "Zhuhai" تشوهاى). Both spellings are
reduced to the same coarse classes of consonants, vowels (and the letters Arabic uses for
them) dropped, so the two meet: ``skeleton("shoigu") == skeleton("شويغو")``.
"""

from __future__ import annotations

import re
from functools import lru_cache

from iqtibas.question.text import ARABIC_LETTER

# Latin letter groups, longest first, and the class each is written as.
LATIN_GROUPS = (
    ("sch", "S"), ("tch", "TS"), ("sh", "S"), ("ch", "TS"), ("zh", "TS"), ("ts", "TS"), ("tz", "TS"),
    ("kh", "X"), ("gh", "G"), ("th", "T"), ("ph", "F"), ("ck", "K"), ("ng", "NG"), ("x", "KS"),
    ("b", "B"), ("p", "B"), ("f", "F"), ("v", "F"), ("t", "T"), ("d", "D"), ("s", "S"), ("c", "K"),
    ("z", "Z"), ("k", "K"), ("q", "K"), ("g", "G"), ("j", "G"), ("h", "H"), ("l", "L"), ("m", "M"),
    ("n", "N"), ("r", "R"),
)
# The groups in that order: at each place the first that matches is read, anything else skipped.
LATIN_GROUP = re.compile("|".join(group for group, _ in LATIN_GROUPS))
LATIN_CLASSES = dict(LATIN_GROUPS)
# Arabic consonants and their classes; alef, waw, ya, alef maqsura, ta marbuta, ain and the
# hamzas are read as vowels, as transliteration writes them. ج writes both j and a hard g
# (جينبينغ Jinping, سيرجي Sergei, جورجيا Georgia), so j, g, غ and ج are one class.
ARABIC_CLASSES = {
    "ب": "B", "پ": "B", "ف": "F", "ڤ": "F", "ت": "T", "ط": "T", "ث": "S", "د": "D", "ض": "D",
    "ذ": "Z", "ز": "Z", "ظ": "Z", "س": "S", "ص": "S", "ش": "S", "ك": "K", "ق": "K", "غ": "G",
    "ج": "G", "خ": "X", "ه": "H", "ح": "H", "ل": "L", "م": "M", "ن": "N", "ر": "R",
}
# How a word opens when not on a consonant: a vowel (written alef or ain in Arabic), w (waw) or y (ya).
LATIN_OPENINGS = {**dict.fromkeys("aeiou", "A"), "w": "W", "y": "Y"}
ARABIC_OPENINGS = {"ا": "A", "ع": "A", "و": "W", "ي": "Y", "ى": "Y"}
REPEATED_CLASS = re.compile(r"(.)\1+")
# A name of fewer letters than this is too short to be told apart by its consonants.
MIN_NAME_LETTERS = 4


@lru_cache(maxsize=8192)  # the same words come back in question after question
def spelling_key(word: str, repeats_merged: bool = False) -> tuple[str, str] | None:
    """What two spellings of one name share: how it opens (a vowel, w, y, or a consonant: ""),
    and its consonant skeleton; None for a word too short to tell apart so ("Xi", "Su").

    With ``repeats_merged``, a consonant written twice counts once, as Arabic writes it once
    ("Kissinger" كسنجر); English words meet other Arabic words so ("supply" سبيل), so this is for
    a word known to be a name."""
    word = word.lower()
    if len(word) < MIN_NAME_LETTERS or not word.isalpha():
        return None
    arabic = bool(ARABIC_LETTER.search(word))
    opening = (ARABIC_OPENINGS if arabic else LATIN_OPENINGS).get(word[0], "")
    shape = skeleton(word)
    if repeats_merged:
        shape = REPEATED_CLASS.sub(r"\1", shape)
    return (opening, shape) if shape else None


def skeleton(word: str) -> str:
    """The consonant classes of a word in either script ("" for one with no letters)."""
    word = word.lower()
    if ARABIC_LETTER.search(word):
        word = word[:-1] if word.endswith("ه") else word  # a ta marbuta, folded to ha by search
        return "".join(ARABIC_CLASSES.get(letter, "") for letter in word)
    return "".join(LATIN_CLASSES[group] for group in LATIN_GROUP.findall(word))  # vowels, digits, signs skipped


def is_arabic_term(term: str) -> bool:
    return bool(ARABIC_LETTER.search(term))


def written_forms(term: str) -> tuple[str, ...]:
    """The words an index term may stand for, for matching its spelling. Search strips a leading و
    as "and" (``tokenize``), and و also opens names, where it writes a w (وانغ Wang is searched as
    انغ): an Arabic term opening on a vowel letter may also be itself with that و."""
    if is_arabic_term(term) and term[:1] in ("ا", "ي"):
        return (term, "و" + term)
    return (term,)


def too_short_to_spell(term: str) -> bool:
    """A Latin word too short to be matched by its spelling in the other script ("Yi" of Wang Yi,
    "Xi"): a name's other parts must name it."""
    return not is_arabic_term(term) and term.isalpha() and spelling_key(term) is None


def designator_key(letters: str, digits: str) -> tuple[str, str] | None:
    """What a model's name shares across scripts: the consonants of its letters and its number
    ("S-400" and "اس 400", as Arabic spells the letter: ("S", "400"); "Su-35" and "سو 35")."""
    shape = skeleton(letters)
    return (shape, digits) if shape and digits.isdigit() else None
