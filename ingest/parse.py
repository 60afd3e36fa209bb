"""Parse one article text file into an :class:`~iqtibas.records.Article`.

The expected shape (Arabic or English)::

    Title line

    Body paragraph, separated from the next by a blank line.[1]

    Short heading line

    More body paragraphs ...

    Author bio paragraph ("X is a professor ..." / "X هو أستاذ ...")

    Disclaimer:                       <- label line ("إخلاء المسؤولية:")

    Disclaimer paragraph.

    [1] Authors, "Title", Publisher, Date, https://url
    ...
    page debris (dropped)

Every text and span refers to the file's text verbatim; nothing is rewritten.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from pathlib import Path

from iqtibas.question import MARKER
from iqtibas.records import Article, Footnote, IqtibasError, Marker, Paragraph

# Page debris scraped along with the article: whole lines matching one of
# these are dropped wherever they appear.
DEBRIS_LINE_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"أرسل منشورك"),  # the site's "submit your post" button
    re.compile(r"An error has occurred.*"),  # the web app's crash banner
)

# The line that introduces the disclaimer paragraph.
DISCLAIMER_LABEL = re.compile(r"(?:إخلاء المسؤولية|Disclaimer)\s*:?", re.IGNORECASE)

# An author bio says who the author is ("... is a professor", "... هو باحث")
# or gives a social-media handle.
BIO_PATTERN = re.compile(
    r"\b(?:is|was)\s+(?:an?\s+|the\s+)?(?:\w+\s+)?"
    r"(?:professor|researcher|fellow|lecturer|analyst|scholar|director)"
    r"|(?:هو|هي)\s+(?:أستاذ|أستاذة|باحث|باحثة|زميل|زميلة|محاضر|محاضرة)"
    r"|(?<![\w.])@[A-Za-z_]\w*",
    re.IGNORECASE,
)

# A heading is a short single line that does not end like a sentence or a
# clause (it may end with a question mark). Short body lines that end
# without punctuation would be misread as headings; the articles we ingest
# punctuate their paragraphs.
MAX_HEADING_WORDS = 10
NON_HEADING_ENDINGS = (".", "،", ",", "؛", ";", ":")

REFERENCE_START = re.compile(rf"{MARKER.pattern}\s")  # a reference-list entry starts with its number
# The title of a reference is in curly or straight double quotes.
QUOTED_TITLE = re.compile(r"“(?P<curly>[^”]+)”|\"(?P<straight>[^\"]+)\"")
URL_PATTERN = re.compile(r"https?://\S+")
# Sentence punctuation right after a URL is not part of it.
URL_TRAILING_PUNCTUATION = ".,;"

ARTICLE_ID_FALLBACK = "article"


@dataclass(frozen=True)
class Line:
    """A non-blank line: its 1-based number and its span without surrounding whitespace."""

    number: int
    start: int
    end: int


@dataclass(frozen=True)
class Block:
    """Consecutive non-blank lines: a paragraph, heading, label or reference group."""

    lines: tuple[Line, ...]
    text: str

    @property
    def start(self) -> int:
        return self.lines[0].start

    @property
    def end(self) -> int:
        return self.lines[-1].end

    @property
    def line(self) -> int:
        return self.lines[0].number


def parse_article(path: Path) -> Article:
    """Read and parse the article at ``path``; raise IqtibasError on a malformed file."""
    path = Path(path)
    raw = read_bytes(path)
    text = decode_utf8(raw, path)
    blocks = [block for block in split_blocks(text) if not is_debris(block)]
    if not blocks:
        raise IqtibasError(
            f"{path}:1: the article is empty; expected a title line, body paragraphs "
            f"and a reference list"
        )
    article_id = slugify(path.stem)
    prose, reference_lines = split_off_reference_list(blocks)
    footnotes = parse_reference_list(text, reference_lines, article_id, path)
    paragraphs, sections = classify_blocks(prose)
    if not any(p.kind == "body" for p in paragraphs):
        raise IqtibasError(
            f"{path}:{prose[0].line}: no body paragraph follows the title; "
            f"separate paragraphs with blank lines"
        )
    paragraphs = attach_markers(text, paragraphs, footnotes, path)
    return Article(
        id=article_id,
        path=str(path),
        sha256=hashlib.sha256(raw).hexdigest(),
        text=text,
        title=paragraphs[0].text,
        sections=sections,
        paragraphs=paragraphs,
        footnotes=footnotes,
        author_bio=text_of_kind(paragraphs, "bio"),
        disclaimer=text_of_kind(paragraphs, "disclaimer"),
    )


def read_bytes(path: Path) -> bytes:
    """The file's bytes, or IqtibasError naming it."""
    try:
        return path.read_bytes()
    except OSError as error:
        raise IqtibasError(f"{path}: cannot read the article: {error.strerror}") from None


def decode_utf8(raw: bytes, path: Path) -> str:
    """The file's text; a file that is not UTF-8 is an error naming the offending line."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise IqtibasError(
            f"{path}:{line}: not UTF-8 text (byte {error.start}); save the article as UTF-8"
        ) from None


def slugify(stem: str) -> str:
    """A stable id from a file name: lower case, runs of other characters become '-'."""
    return re.sub(r"[\W_]+", "-", stem.lower()).strip("-") or ARTICLE_ID_FALLBACK


def split_blocks(text: str) -> list[Block]:
    """Group the non-blank lines of ``text`` into blocks separated by blank lines."""
    blocks: list[Block] = []
    current: list[Line] = []
    for number, match in enumerate(re.finditer(r"^.*$", text, re.MULTILINE), start=1):
        content = match.group()
        if content.strip():
            start = match.start() + len(content) - len(content.lstrip())
            end = match.end() - (len(content) - len(content.rstrip()))
            current.append(Line(number, start, end))
        elif current:
            blocks.append(make_block(text, current))
            current = []
    if current:
        blocks.append(make_block(text, current))
    return blocks


def make_block(text: str, lines: list[Line]) -> Block:
    return Block(tuple(lines), text[lines[0].start : lines[-1].end])


def is_debris(block: Block) -> bool:
    """True if every line of the block is known page debris."""
    return all(
        any(pattern.fullmatch(line) for pattern in DEBRIS_LINE_PATTERNS)
        for line in block.text.splitlines()
    )


def split_off_reference_list(blocks: list[Block]) -> tuple[list[Block], list[Line]]:
    """Split blocks into the prose before the reference list and the list's lines.

    The list starts at the first block after the title that begins with "[n] ";
    from there on every line must be a reference.
    """
    start = next(
        (i for i, block in enumerate(blocks) if i > 0 and REFERENCE_START.match(block.text)),
        len(blocks),
    )
    reference_lines = [line for block in blocks[start:] for line in block.lines]
    return blocks[:start], reference_lines


def parse_reference_list(
    text: str, lines: list[Line], article_id: str, path: Path
) -> tuple[Footnote, ...]:
    """Parse each reference line; numbers must be unique."""
    footnotes: list[Footnote] = []
    for line in lines:
        footnote = parse_reference(text, line, article_id, path)
        if any(f.number == footnote.number for f in footnotes):
            raise IqtibasError(
                f"{path}:{line.number}: reference [{footnote.number}] is listed twice"
            )
        footnotes.append(footnote)
    return tuple(footnotes)


def parse_reference(text: str, line: Line, article_id: str, path: Path) -> Footnote:
    """Parse ``[n] Authors, "Title", Publisher, Date, URL`` (authors optional)."""
    entry = text[line.start : line.end]
    where = f"{path}:{line.number}"
    number_match = REFERENCE_START.match(entry)
    if not number_match:
        raise IqtibasError(
            f"{where}: a line in the reference list does not start with '[n] ': {entry[:60]!r}"
        )
    title_match = QUOTED_TITLE.search(entry, number_match.end())
    if not title_match:
        raise IqtibasError(f"{where}: reference has no title in double quotes")
    url_match = URL_PATTERN.search(entry, title_match.end())
    if not url_match:
        raise IqtibasError(f"{where}: reference has no http(s) URL after its title")
    authors = entry[number_match.end() : title_match.start()].strip().rstrip(",").strip()
    # Between title and URL: "Publisher, Date". A publisher's name rarely has
    # a comma, a date often does ("September 18, 2024"), so split at the first.
    publisher, _, date = entry[title_match.end() : url_match.start()].strip(" ,").partition(",")
    return Footnote(
        article=article_id,
        number=int(number_match.group(1)),
        title=title_match.group("curly") or title_match.group("straight"),
        publisher=publisher.strip(),
        date=date.strip(),
        url=url_match.group().rstrip(URL_TRAILING_PUNCTUATION),
        authors=authors,
        text=entry,
        start=line.start,
        end=line.end,
    )


def classify_blocks(blocks: list[Block]) -> tuple[tuple[Paragraph, ...], tuple[str, ...]]:
    """Turn prose blocks into paragraphs (title, body, bio, disclaimer) and section headings.

    The first block is the title and names the section until the first heading.
    A disclaimer label line is not a paragraph: it names the section of the
    disclaimer paragraph that follows it.
    """
    bio_index = find_bio_index(blocks)
    paragraphs: list[Paragraph] = []
    sections: list[str] = []
    section = blocks[0].text
    after_label = False
    for i, block in enumerate(blocks):
        if i == 0:
            kind = "title"
        elif is_disclaimer_label(block):
            section, after_label = block.text, True
            continue
        elif after_label:
            kind, after_label = "disclaimer", False
        elif i == bio_index:
            kind = "bio"
        elif is_heading(block):
            section = block.text
            sections.append(section)
            continue
        else:
            kind = "body"
        paragraphs.append(
            Paragraph(len(paragraphs), kind, section, block.text, block.start, block.end)
        )
    return tuple(paragraphs), tuple(sections)


def find_bio_index(blocks: list[Block]) -> int | None:
    """Index of the author bio: the block just before the disclaimer label (or,
    without a label, the last prose block) if it reads like a bio."""
    label_index = next(
        (i for i, block in enumerate(blocks) if i > 0 and is_disclaimer_label(block)),
        len(blocks),
    )
    candidate = label_index - 1
    if candidate > 0 and BIO_PATTERN.search(blocks[candidate].text):
        return candidate
    return None


def is_disclaimer_label(block: Block) -> bool:
    return DISCLAIMER_LABEL.fullmatch(block.text) is not None


def is_heading(block: Block) -> bool:
    """A short single line without sentence-ending punctuation or markers."""
    return (
        len(block.lines) == 1
        and len(block.text.split()) <= MAX_HEADING_WORDS
        and not block.text.endswith(NON_HEADING_ENDINGS)
        and not MARKER.search(block.text)
    )


def attach_markers(
    text: str,
    paragraphs: tuple[Paragraph, ...],
    footnotes: tuple[Footnote, ...],
    path: Path,
) -> tuple[Paragraph, ...]:
    """Give each paragraph its ``[n]`` markers; every marker must have a reference."""
    numbers = {footnote.number for footnote in footnotes}
    with_markers = []
    for paragraph in paragraphs:
        markers = tuple(
            Marker(int(m.group(1)), paragraph.start + m.start(), paragraph.start + m.end())
            for m in MARKER.finditer(paragraph.text)
        )
        for marker in markers:
            if marker.number not in numbers:
                line = text.count("\n", 0, marker.start) + 1
                raise IqtibasError(
                    f"{path}:{line}: footnote marker [{marker.number}] has no entry "
                    f"[{marker.number}] in the reference list"
                )
        with_markers.append(replace(paragraph, markers=markers))
    return tuple(with_markers)


def text_of_kind(paragraphs: tuple[Paragraph, ...], kind: str) -> str:
    """The text of the first paragraph of ``kind``, or "" if there is none."""
    return next((p.text for p in paragraphs if p.kind == kind), "")
