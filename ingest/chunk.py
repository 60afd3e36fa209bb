"""Cut a parsed article into chunks that can be indexed and quoted verbatim.

Each paragraph is split on its own (a chunk never spans two paragraphs or
sections), at the largest natural boundary that keeps pieces within
``config.chunk_size``: line break, sentence end, comma, word. Each
reference-list entry is one chunk of kind ``"reference"``.
"""

from __future__ import annotations

import re

from langchain_text_splitters import RecursiveCharacterTextSplitter

from iqtibas.config import Config
from iqtibas.question import MARKER
from iqtibas.records import Article, Chunk, Footnote, Marker, Paragraph

# Split points, tried in order. With keep_separator="end" the separator stays
# at the end of the piece before it, so a sentence keeps its full stop.
SEPARATORS = [
    "\n\n",  # paragraph break
    "\n",  # line break inside a block
    ". ",
    "؟ ",  # Arabic question mark
    "! ",
    "؛ ",  # Arabic semicolon
    "? ",
    "، ",  # Arabic comma
    ", ",
    " ",
    "",
]

REFERENCE_KIND = "reference"
# Reference chunks belong to no paragraph or section; their footnote number
# is in their id and their ``footnotes``.
REFERENCE_PARAGRAPH = -1
REFERENCE_SECTION = ""

# Footnote markers (with punctuation glued after them, as in "[7].") at the
# start of a piece: they close the previous sentence. Group 1 ends after the
# markers; the match ends where the piece's own text begins.
LEADING_MARKERS = re.compile(rf"((?:\s*{MARKER.pattern}[.,،؛;:!?؟]*)+)\s*")

Span = tuple[int, int]


def chunk_article(article: Article, config: Config) -> list[Chunk]:
    """All chunks of ``article`` in article order: paragraph pieces, then reference entries."""
    splitter = RecursiveCharacterTextSplitter(
        separators=SEPARATORS,
        keep_separator="end",
        chunk_size=config.chunk_size,
        chunk_overlap=config.chunk_overlap,
        strip_whitespace=True,
    )
    chunks = [
        paragraph_chunk(article, paragraph, n, span)
        for paragraph in article.paragraphs
        for n, span in enumerate(paragraph_spans(paragraph, splitter, config.chunk_overlap))
    ]
    chunks += [reference_chunk(article, footnote) for footnote in article.footnotes]
    return sorted(chunks, key=lambda chunk: chunk.start)


def paragraph_spans(
    paragraph: Paragraph, splitter: RecursiveCharacterTextSplitter, overlap: int
) -> list[Span]:
    """Article spans of the paragraph's pieces, with footnote markers kept whole."""
    text = paragraph.text
    markers = [
        (marker.start - paragraph.start, marker.end - paragraph.start)
        for marker in paragraph.markers
    ]
    spans = locate_pieces(text, splitter.split_text(text), overlap)
    spans = [widen_over_markers(span, markers) for span in spans]
    spans = reattach_leading_markers(text, spans)
    return [(paragraph.start + start, paragraph.start + end) for start, end in spans]


def locate_pieces(text: str, pieces: list[str], overlap: int) -> list[Span]:
    """Spans of the splitter's (whitespace-stripped) pieces in ``text``.

    Pieces come in order and a piece starts at most ``overlap`` characters
    before the previous one ends, so searching from there finds the right
    occurrence of text that repeats.
    """
    spans: list[Span] = []
    search_from = 0
    for piece in pieces:
        start = text.index(piece, search_from)
        end = start + len(piece)
        spans.append((start, end))
        search_from = max(start + 1, end - overlap)
    return spans


def widen_over_markers(span: Span, markers: list[Span]) -> Span:
    """Move a span edge that falls inside a marker such as "[12]" to the marker's edge."""
    start, end = span
    for marker_start, marker_end in markers:
        if marker_start < start < marker_end:
            start = marker_start
        if marker_start < end < marker_end:
            end = marker_end
    return start, end


def reattach_leading_markers(text: str, spans: list[Span]) -> list[Span]:
    """Give markers that open a piece ("... للصين. | [2]") to the sentence before them.

    Only when the previous piece ends right before them (nothing but
    whitespace between); a piece left empty is dropped.
    """
    result: list[Span] = []
    for start, end in spans:
        leading = LEADING_MARKERS.match(text, start)
        if leading and result and follows_directly(text, result[-1], start):
            result[-1] = (result[-1][0], leading.end(1))
            start = leading.end()
        if start < end:
            result.append((start, end))
    return result


def follows_directly(text: str, previous: Span, start: int) -> bool:
    """True if ``previous`` ends before ``start`` with only whitespace between."""
    return previous[1] <= start and not text[previous[1] : start].strip()


def paragraph_chunk(article: Article, paragraph: Paragraph, n: int, span: Span) -> Chunk:
    start, end = span
    return Chunk(
        id=f"{article.id}:p{paragraph.index:03d}:c{n:02d}",
        article=article.id,
        kind=paragraph.kind,
        section=paragraph.section,
        paragraph=paragraph.index,
        start=start,
        end=end,
        text=article.text[start:end],
        footnotes=marker_numbers_within(paragraph.markers, start, end),
    )


def marker_numbers_within(markers: tuple[Marker, ...], start: int, end: int) -> tuple[int, ...]:
    """Sorted unique numbers of the markers lying wholly inside [start, end)."""
    return tuple(sorted({m.number for m in markers if start <= m.start and m.end <= end}))


def reference_chunk(article: Article, footnote: Footnote) -> Chunk:
    return Chunk(
        id=f"{article.id}:ref{footnote.number:02d}",
        article=article.id,
        kind=REFERENCE_KIND,
        section=REFERENCE_SECTION,
        paragraph=REFERENCE_PARAGRAPH,
        start=footnote.start,
        end=footnote.end,
        text=footnote.text,
        footnotes=(footnote.number,),
    )
