"""The records the stages hand to each other, defined once.

article.txt -> Article (+Footnote) -> Chunk -> Hit -> Answer (+Quote)
question text -> Question (+Mention) -> Hit -> Answer

Every record is a frozen dataclass; dicts appear only at the JSON edge
(``dataclasses.asdict``).
"""

from __future__ import annotations

from dataclasses import dataclass, field


class IqtibasError(Exception):
    """The one error type the stages raise.

    Its message says what went wrong and what to do next; the CLI prints it
    as one line and exits with status 2.
    """


class BackendFallback(UserWarning):
    """The model runs on torch because OpenVINO could not export or load it.

    A warning, not an error: everything still works, only slower. The CLI prints
    its message as one line on stderr.
    """


@dataclass(frozen=True)
class Footnote:
    """One entry of an article's reference list, e.g. ``[4] "Title", Publisher, Date, URL``."""

    article: str
    number: int
    title: str
    publisher: str = ""
    date: str = ""
    url: str = ""
    authors: str = ""
    text: str = ""  # the whole reference line, verbatim
    start: int = 0  # character span of that line in the article text
    end: int = 0


@dataclass(frozen=True)
class Marker:
    """A footnote marker such as ``[4]`` found in the article, with its span."""

    number: int
    start: int
    end: int


@dataclass(frozen=True)
class Paragraph:
    """A block of the article, verbatim, with its span in the article text.

    ``kind`` is ``"title"``, ``"body"``, ``"bio"`` or ``"disclaimer"``.
    """

    index: int
    kind: str
    section: str
    text: str
    start: int
    end: int
    markers: tuple[Marker, ...] = ()


@dataclass(frozen=True)
class Article:
    """A parsed article: its verbatim text, blocks in order and reference list."""

    id: str
    path: str
    sha256: str
    text: str
    title: str
    sections: tuple[str, ...]
    paragraphs: tuple[Paragraph, ...]
    footnotes: tuple[Footnote, ...]
    author_bio: str = ""
    disclaimer: str = ""

    def footnote(self, number: int) -> Footnote | None:
        return next((f for f in self.footnotes if f.number == number), None)


@dataclass(frozen=True)
class Chunk:
    """A piece of an article that is indexed and can be quoted.

    ``text`` is always ``article.text[start:end]``. ``kind`` is the kind of
    block it came from, or ``"reference"`` for a reference-list entry.
    """

    id: str
    article: str
    kind: str
    section: str
    paragraph: int
    start: int
    end: int
    text: str
    footnotes: tuple[int, ...] = ()


@dataclass(frozen=True)
class Mention:
    """Something a question names that the articles must name too for it to be answerable:
    a year, a model, a country. ``spellings`` holds the search terms of each way of writing
    it; the articles name it when all the terms of one spelling occur in them."""

    text: str
    spellings: tuple[tuple[str, ...], ...]
    # Whether another script's spelling of a term counts ("vostok" for فوستوك); a country's
    # spellings already hold both scripts, and a loose match would name countries the article does not.
    across_scripts: bool = True


@dataclass(frozen=True)
class Question:
    """A question as iqtibas reads it; ``question.analyse`` is the only maker.

    ``terms`` are its search terms. ``names`` are the terms of the words it writes as names
    (AUKUS, S-400); ``defined`` those of X in "who/what is X?". ``asks`` says what it asks for
    ("count", "date", "equipment", "source", "ending" (whether or why something stopped, was
    withdrawn, refused, cancelled), the article's "title", "author", "subject", "conclusion",
    "disclaimer" or "references", an "author detail", or the author's "view" of something, which
    the article, not its author's bio, gives);
    ``designators``, ``counts`` and ``dates`` are the values of those kinds it already holds,
    which an answer must add to.
    ``footnotes`` are the footnote numbers it names ("reference 5", "المرجع رقم 5", "[5]").
    """

    text: str  # as asked
    cleaned: str  # as search reads it: visible characters, no tashkeel, white space folded; in English,
    # rule words typed with two letters swapped spelled as meant, and a question typed in lower case
    # given its capitals back (with_rule_words_spelled, written_with_capitals)
    language: str  # "ar" or "en"
    terms: tuple[str, ...]
    names: tuple[str, ...] = ()
    defined: tuple[str, ...] = ()
    asks: tuple[str, ...] = ()
    designators: tuple[str, ...] = ()
    counts: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    mentions: tuple[Mention, ...] = ()
    footnotes: tuple[int, ...] = ()

    def asks_for(self, kind: str) -> bool:
        return kind in self.asks


@dataclass(frozen=True)
class Hit:
    """A chunk retrieved for a question, with the scores that ranked it.

    ``score`` is the fused score used for ranking; ``dense`` is the cosine
    similarity to the question (None when the dense side did not return it);
    ``lexical`` the BM25 score (None likewise).
    """

    chunk: Chunk
    score: float
    rank: int
    dense: float | None = None
    lexical: float | None = None


@dataclass(frozen=True)
class Sentence:
    """A sentence of a retrieved chunk, scored against the question.

    ``start``/``end`` are offsets in the article text; ``dense`` is the
    cosine similarity of the sentence, read alone, to the question;
    ``contextual`` that of the sentence read within its passage; ``hubness`` its cosine to
    the centroid of every indexed sentence: a sentence close to everything (a bio, a
    disclaimer) is close to every question too, nonsense included; ``latent`` how well its
    latent terms match the question's (0 for a model without the sparse head).
    """

    chunk_id: str
    article: str
    start: int
    end: int
    text: str
    dense: float
    contextual: float
    hubness: float = 0.0
    latent: float = 0.0


@dataclass(frozen=True)
class Quote:
    """A verbatim span of the article given as (part of) an answer."""

    text: str
    chunk_id: str
    article: str
    start: int
    end: int
    score: float
    footnotes: tuple[int, ...] = ()


@dataclass(frozen=True)
class Passage:
    """A retrieved passage as shown to the user, with the quoted part marked."""

    chunk_id: str
    article: str
    section: str
    kind: str
    text: str
    score: float
    footnotes: tuple[int, ...] = ()
    highlights: tuple[tuple[int, int], ...] = ()  # spans of the quotes inside ``text``, in order


@dataclass(frozen=True)
class Answer:
    """Everything the chat page, the CLI and the evaluation render."""

    question: str
    language: str  # "ar" or "en"
    abstained: bool
    quotes: tuple[Quote, ...]
    passages: tuple[Passage, ...]
    footnotes: tuple[Footnote, ...]
    timing_ms: dict[str, float] = field(default_factory=dict)
    message: str = ""  # the framing line: "According to the article:" / "لا يذكر المقال ذلك."
    score: float = 0.0  # confidence that the quote answers (0..1), compared with confident_answer
    level: str = "none"  # "quote" (confident), "related" (the closest passage, not a direct answer), "none"
    signals: dict[str, float] = field(default_factory=dict)  # what the confidence was computed from
    # The rule that set the level instead of the confidence: "unknown name", "value not given",
    # "footnote number" or "article part"; "" when the confidence did.
    decided_by: str = ""
