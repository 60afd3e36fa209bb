"""question/: everything that reads language.

Normalising and tokenising (with the version the index records), language and direction,
the footnote-marker and sentence patterns, country names, and what a question asks for:
``analyse(text, config, vocabulary) -> Question`` is the only reader of a raw question.
"""

from iqtibas.question.analyse import (
    analyse,
    designators,
    detect_language,
    is_conclusion_heading,
    values_given,
    written_language,
)
from iqtibas.question.scripts import designator_key, is_arabic_term, spelling_key, written_forms
from iqtibas.question.sentences import MARKER, marker_numbers, sentence_spans
from iqtibas.question.text import (
    TOKENIZER_VERSION,
    normalize_arabic,
    printable_text,
    tokenize,
    usable_text,
    visible_text,
)

__all__ = [
    "MARKER",
    "TOKENIZER_VERSION",
    "analyse",
    "designator_key",
    "designators",
    "is_arabic_term",
    "is_conclusion_heading",
    "spelling_key",
    "detect_language",
    "marker_numbers",
    "normalize_arabic",
    "printable_text",
    "sentence_spans",
    "tokenize",
    "usable_text",
    "values_given",
    "visible_text",
    "written_forms",
    "written_language",
]
