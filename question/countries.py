"""Country names in Arabic and English (CLDR, through Babel), to tell when a question asks about
a country the articles never name ("Did India buy the S-400?", "ما رأي تركيا؟")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from babel import Locale

from iqtibas.question.text import tokenize

# Two-letter CLDR territories that are not countries.
NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"})
# Countries whose Arabic name is also an everyday word: "مالي" financial, "قطر" diameter or region,
# "عمان" also the capital Amman, "البحرين" the two seas, "الجزائر" the islands, "المغرب" the west.
# Their Arabic names are not read as countries; their English ones still are.
AMBIGUOUS_IN_ARABIC = frozenset({"ML", "QA", "OM", "BH", "DZ", "MA"})


@dataclass(frozen=True)
class Gazetteer:
    by_arabic_terms: dict[tuple[str, ...], str]  # search terms of an Arabic name -> code
    by_english_name: dict[str, str]  # English name as written -> code
    english_names: re.Pattern  # any English name, as written
    lowercase_names: re.Pattern  # any English name, in lower case
    name_terms: dict[str, tuple[tuple[str, ...], ...]]  # code -> search terms of its Arabic and English names
    capitalised: dict[str, str]  # English name in lower case -> as written
    longest: int  # most search terms in an Arabic name


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """Every country's Arabic and English names, read once."""
    arabic, english = Locale.parse("ar").territories, Locale.parse("en").territories
    codes = [c for c in arabic if len(c) == 2 and c.isalpha() and c in english and c not in NOT_COUNTRIES]
    name_terms = {c: (tuple(tokenize(arabic[c])), tuple(tokenize(english[c]))) for c in codes}
    by_arabic_terms = {name_terms[c][0]: c for c in codes if c not in AMBIGUOUS_IN_ARABIC}
    written = sorted((english[c] for c in codes), key=len, reverse=True)
    # A name, or its possessive typed with or without the apostrophe ("India's", "Indias").
    alternatives = r"\b(" + "|".join(re.escape(name) for name in written) + r")(?:['’]?s)?\b"
    return Gazetteer(
        by_arabic_terms=by_arabic_terms,
        by_english_name={english[c]: c for c in codes} | {english[c].lower(): c for c in codes},
        english_names=re.compile(alternatives),
        lowercase_names=re.compile(alternatives.lower()),
        name_terms=name_terms,
        capitalised={english[c].lower(): english[c] for c in codes},
        longest=max(len(terms) for terms in by_arabic_terms),
    )


def countries_in(text: str) -> set[str]:
    """Codes of the countries a text names: in Arabic as search reads it ("الهند", "والهند"), or
    in English as written ("India", and "china" is porcelain), except in a text typed all in lower
    case, where case says nothing ("what about india")."""
    names = gazetteer()
    terms = tokenize(text)
    found = {
        names.by_arabic_terms[tuple(terms[start:end])]
        for start in range(len(terms))
        for end in range(start + 1, min(start + names.longest, len(terms)) + 1)
        if tuple(terms[start:end]) in names.by_arabic_terms
    }
    english = names.lowercase_names if text == text.lower() else names.english_names
    return found | {names.by_english_name[name] for name in english.findall(text)}


def capitalise_countries(text: str) -> str:
    """A text typed in lower case with the countries it names written as English writes them
    ("why does russia rely on china" -> "why does Russia rely on China")."""
    names = gazetteer()
    return names.lowercase_names.sub(lambda m: names.capitalised[m.group(1)] + m.group(0)[len(m.group(1)):], text)


def name_terms(code: str) -> tuple[tuple[str, ...], ...]:
    """The search terms of a country's Arabic and English names."""
    return gazetteer().name_terms[code]
