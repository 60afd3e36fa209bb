"""Reading text as search reads it: visible characters, Arabic spelling folded, search terms.

``tokenize`` is applied identically to chunks and questions. ``TOKENIZER_VERSION`` names
its rules; the index records it, and an index built under other rules is stale.
"""

from __future__ import annotations

import re
import unicodedata

from iqtibas.records import IqtibasError

# Bump when a rule below changes what ``tokenize`` returns.
TOKENIZER_VERSION = 4

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
# An Arabic word as written (letters of the Arabic blocks and presentation forms).
ARABIC_WORD = re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufefc]+")
LATIN_WORD = re.compile(r"[A-Za-z]+")
# A Latin word or name, hyphens kept: "S-400", "Su-35", "Okean".
LATIN_TOKEN = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")
# A search token is a run of Arabic letters, or of other letters and digits possibly joined by
# hyphens ("s-400", "su-35"); the scripts are split apart, as in "AUKUSو" (AUKUS + "and").
NON_ARABIC_WORD = r"[^\W_\u0600-\u06ff]+"
# A model name with a plural s ("S-400s", "Su-35s"): a letter first, a digit before the s.
PLURAL_DESIGNATOR = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*\ds")
TOKEN = re.compile(rf"{NON_ARABIC_WORD}(?:-{NON_ARABIC_WORD})*|[\u0621-\u064a]+")
ARABIC_LETTER = re.compile("[\u0621-\u064a]")
# Clitics stripped from the front of an Arabic word (longest first), keeping a stem of 3+ letters.
ARABIC_PREFIXES = ("وال", "بال", "كال", "فال", "لل", "ال", "و")
MIN_STEM = 3
# Function words, with the dialect question words people type (شو، ليش، مين، امتى، قديش، اللي…);
# folded as tokens are (normalize_arabic, below), so that على and متى, read as علي and متي, are dropped.
_FUNCTION_WORDS = (
    """
    في من على الى عن ان او ما لا هل هو هي هم ذلك هذه هذا التي الذي الذين كان كانت مع بين عند
    قد لم لن ثم كل اي حيث لقد وقد كما بعد قبل حتى منذ اما ماذا متى كيف لماذا اين اذا الا غير
    ماهو ماهي ليش ليه شو ايش وش شنو امتى ايمتى مين وين فين قديش كام ازاي ده دي اللي هاد هاي هيك
    the a an of to in on and or is are was were be been by for with as at from that this these
    those it its what which who whom whose when where why how did do does has have had not no
    about into than then there their they he she we you i
    """.split()
)
# Control characters separate words; format characters (zero-width, bidi marks) sit inside
# them and are dropped.
CONTROL, FORMAT = "Cc", "Cf"


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


STOPWORDS = frozenset(normalize_arabic(word) for word in _FUNCTION_WORDS)


def singular(word: str) -> str:
    """A model name in the plural as its name: "S-400s", "Su-35s" and "F-16s" are S-400, Su-35 and F-16
    (a decade, "1990s", starts with its digit and stays)."""
    return word[:-1] if PLURAL_DESIGNATOR.fullmatch(word) else word


def _stem(word: str) -> str:
    if ARABIC_LETTER.match(word):
        for prefix in ARABIC_PREFIXES:
            if word.startswith(prefix) and len(word) - len(prefix) >= MIN_STEM:
                return word[len(prefix):]
    return word


def tokenize(text: str) -> list[str]:
    """Normalised search terms of a text; hyphenated names also match unhyphenated ("s-400", "s400")."""
    terms = []
    for token in map(singular, TOKEN.findall(normalize_arabic(text))):
        if token in STOPWORDS or (len(token) < 2 and not token.isdigit()):
            continue
        terms.append(_stem(token))
        if "-" in token:
            terms.append(token.replace("-", ""))
    return terms


def visible_text(text: str) -> str:
    """The text as search reads it: controls become spaces, format characters and
    tashkeel go, white space is folded. Empty when nothing readable is left."""
    visible = "".join(
        " " if unicodedata.category(c) == CONTROL else "" if unicodedata.category(c) == FORMAT else c
        for c in text
    )
    # The article carries no tashkeel; a fully vowelled question should meet it as written.
    return " ".join(strip_diacritics(visible).split())


# Text that may not be text: a command-line argument holding bytes that are not UTF-8 arrives as
# lone surrogates (U+DC80..U+DCFF, Python's ``surrogateescape``); so does a JSON string with an
# escaped "\ud800", or a browser textbox holding half an emoji. No tokenizer or JSON encoder can
# take them, so a question holding one is refused before anything else reads it.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# surrogateescape maps an undecodable byte b (0x80..0xff) to U+DC00 + b.
ESCAPED_BYTES = range(0xDC80, 0xDD00)
REPLACEMENT = "\ufffd"


def usable_text(text: str, what: str = "the question") -> str:
    """``text`` itself when it is all Unicode text; else IqtibasError naming the first bad character."""
    found = LONE_SURROGATE.search(text)
    if found is None:
        return text
    codepoint = ord(found.group())
    if codepoint in ESCAPED_BYTES:
        bad = f"byte 0x{codepoint - 0xDC00:02x} at character {found.start() + 1}, which is not UTF-8"
    else:
        bad = f"a lone surrogate U+{codepoint:04X} at character {found.start() + 1}"
    raise IqtibasError(f"{what} is not valid text ({bad}): retype it, or save it as UTF-8")


def printable_text(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD, so it can be shown and sent as JSON."""
    return LONE_SURROGATE.sub(REPLACEMENT, text)
