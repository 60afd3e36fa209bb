"""Footnote markers and sentences: the one definition of each, for ingest and the answers."""

from __future__ import annotations

import re

# A footnote marker as the articles write it: "[4]".
MARKER = re.compile(r"\[(\d+)\]")
# A sentence ends at . ! ? ؟ ؛ — together with the footnote markers and stray full stop
# that follow it ("الجانبين.[7]." , "للصين. [2]") — before white space or the end.
SENTENCE_END = re.compile(rf"[.!?؟؛](?:\s*{MARKER.pattern})*\.?(?=\s|$)")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of ``text``, stripped of surrounding white space."""
    spans, start = [], 0
    for end_mark in SENTENCE_END.finditer(text):
        spans.append((start, end_mark.end()))
        start = end_mark.end()
    spans.append((start, len(text)))
    stripped = []
    for start, end in spans:
        piece = text[start:end]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            stripped.append((start + lead, start + len(piece.rstrip())))
    return stripped


def marker_numbers(text: str) -> tuple[int, ...]:
    """The footnote numbers a text's markers point to, in order, each once."""
    return tuple(sorted({int(n) for n in MARKER.findall(text)}))
