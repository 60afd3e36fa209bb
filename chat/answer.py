"""Extractive answers: retrieve passages, pick the sentences that answer, quote them verbatim."""

from __future__ import annotations

import re
import time
import unicodedata

from iqtibas.config import Config
from iqtibas.index import Index, asks_for_source, strip_diacritics, tokenize
from iqtibas.records import Answer, Chunk, Footnote, Hit, IqtibasError, Passage, Quote, Sentence
from iqtibas.text import usable_text

ARABIC_WORD = re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufefc]+")
LATIN_WORD = re.compile(r"[A-Za-z]+")
LATIN_TOKEN = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")
# Latin words that are names inside Arabic text (S-400, AUKUS) rather than English prose.
LATIN_NAME = re.compile(r"^[A-Z0-9]+$|\d")
DIGIT = re.compile(r"\d")
MARKER = re.compile(r"\[(\d+)\]")
# A question asking how many ("How many…", "كم عدد…") or when ("When…", "متى…") is answered only
# by a sentence that gives a count or a date the question does not already hold. A count is a
# number that is not a year, a footnote marker or part of a designator (Su-35), or a number word;
# a date is a year, a decade or a month.
ASKS_FOR_COUNT = re.compile(r"\bhow\s+many\b|(?:^|\s)كم\s+(?!دام|استمر)", re.IGNORECASE)
ASKS_FOR_DATE = re.compile(
    r"^\s*(?:since\s+)?when\b|\b(?:in\s+)?(?:what|which)\s+(?:year|years|month|decade|date)\b|\bdate\s+of\b"
    r"|متى|(?:أي|أيّ)\s+(?:عام|سنة|شهر)|تاريخ\s+(?:ميلاد|وفاة)",
    re.IGNORECASE,
)
NUMBER = re.compile(r"(?<![\w-])\d+(?:[.,]\d+)*(?![\w-])")
YEAR = r"(?:1[5-9]|20)\d\d"
DATE = re.compile(
    rf"(?<!\d){YEAR}(?:s)?(?!\d)"
    r"|\b(?:January|February|March|April|May|June|July|August|September|October|November|December)\b"
    r"|(?:عشر|ثلاث|أربع|خمس|ست|سبع|ثمان|تسع)ينيات"
    r"|يناير|فبراير|مارس|أبريل|إبريل|مايو|يونيو|يوليو|أغسطس|سبتمبر|أكتوبر|نوفمبر|ديسمبر"
)
NUMBER_WORDS = frozenset(tokenize(
    "one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty hundred hundreds "
    "thousand thousands million millions billion billions dozen dozens "
    "واحد واحدة اثنان اثنين اثنتان ثلاث ثلاثة أربع أربعة خمس خمسة ست ستة سبع سبعة ثمان ثماني ثمانية تسع تسعة "
    "عشر عشرة عشرات عشرين مئة مائة مئات ألف آلاف مليون ملايين مليار مليارات"
))
# Answer type. The embedding model reads topic, not what a question asks for: to "Which Russian
# weapons were sold to China?" it ranks "Russian arms exports to China declined" above "Su-35
# fighters and S-400 systems … that Russia sold to China". A question asking which equipment
# is answered by a sentence naming some, and the article names equipment by designator.
EQUIPMENT_EN = r"weapons?|arms|systems?|aircraft|jets?|fighters?|planes?|missiles?|engines?|equipment|hardware|ships?|submarines?"
EQUIPMENT_AR = r"أسلحة|سلاح|منظومات|منظومة|أنظمة|طائرات|طائرة|مقاتلات|صواريخ|صاروخ|محركات|محرك|معدات|سفن|غواصات"
AUXILIARY = r"did|does|do|is|are|was|were|has|have|had|can|could|will|would|should"
ASKS_FOR_EQUIPMENT = re.compile(
    rf"\b(?:which|what)\s+(?:(?!(?:{AUXILIARY})\b)[\w-]+\s+){{0,3}}(?:{EQUIPMENT_EN})\b"
    rf"|(?:^|\s)(?:ما|ما هي|ما هو|أي|أيّ|ما أبرز|ما اسم)\s+(?:ال)?(?:{EQUIPMENT_AR})(?=\s|$|[؟?])",
    re.IGNORECASE,
)
# "Who is X?" / "What is X?" in Arabic, X of one to three words.
ARABIC_DEFINITION = re.compile(r"^\s*(?:من|ما)\s+(?:هو|هي)\s+(\S+(?:\s+\S+){0,2}?)\s*[؟?]?\s*$")
# Words that frame a question about the article rather than ask about something in it.
FRAME_TERMS = frozenset(tokenize(
    "article say says said tell me mention mentions mentioned write writes wrote written "
    "المقال يقول يذكر ذكر يقوله"
))
# Control characters separate words; format characters (zero-width, bidi marks) sit inside
# them and are dropped.
CONTROL, FORMAT = "Cc", "Cf"

FRAMING = {
    "ar": {"answer": "بحسب المقال:", "abstain": "لا يذكر المقال ذلك."},
    "en": {"answer": "According to the article:", "abstain": "The article does not say."},
}


def detect_language(question: str) -> str:
    """"ar" when Arabic words are at least as many as English ones, else "en".

    Latin names inside an Arabic question ("ما هو S-400؟") do not count as English.
    """
    arabic = len(ARABIC_WORD.findall(question))
    english = sum(1 for word in LATIN_TOKEN.findall(question)
                  if LATIN_WORD.search(word) and not LATIN_NAME.search(word))
    return "ar" if arabic and arabic >= english else "en"


def named_terms(question: str) -> set[str]:
    """Search terms of the words the question writes as names: capitals or digits with a
    Latin letter (AUKUS, S-400), as an Arabic text quotes them."""
    return {term for word in LATIN_TOKEN.findall(question)
            if LATIN_WORD.search(word) and LATIN_NAME.search(word) for term in tokenize(word)}


def designators(text: str) -> set[str]:
    """Equipment names as the article writes them: Latin letters with digits (Su-35, S-400, 3M-54E)."""
    return {word for word in LATIN_TOKEN.findall(text) if LATIN_WORD.search(word) and DIGIT.search(word)}


def wanted_designators(question: str) -> set[str] | None:
    """For a question asking which equipment, the designators it already names (an answer must
    name others); None for any other question."""
    return designators(question) if ASKS_FOR_EQUIPMENT.search(question) else None


def counts(text: str) -> set[str]:
    """The counts a text gives: numbers other than years, footnote markers and designators'
    digits, and number words."""
    numbers = {n for n in NUMBER.findall(MARKER.sub(" ", text)) if not re.fullmatch(YEAR, n)}
    return numbers | (set(tokenize(text.replace("-", " "))) & NUMBER_WORDS)  # "twenty-four" is two words


def dates(text: str) -> set[str]:
    """The years, decades and months a text names."""
    return set(DATE.findall(MARKER.sub(" ", text)))


# What a question can ask for that a quote must then give.
ASKED_VALUES = ((ASKS_FOR_COUNT, counts), (ASKS_FOR_DATE, dates))


def gives_asked_values(question: str, quotes: tuple[Quote, ...]) -> bool:
    """False when the question asks how many or when and no quote gives a count or a date it
    does not already hold."""
    for asks, values in ASKED_VALUES:
        if asks.search(question):
            known = values(question)
            if not any(values(quote.text) - known for quote in quotes):
                return False
    return True


def defined_terms(question: str) -> set[str]:
    """The terms of X in an Arabic "who/what is X?" ("من هو شويغو؟", "ما هي منظمة شنغهاي للتعاون؟")."""
    match = ARABIC_DEFINITION.match(question)
    return set(tokenize(match.group(1))) if match else set()


def _sentences_naming(question: str, terms: set[str], candidates: list[Sentence]) -> list[Sentence]:
    """For a question that only names something, the candidate sentences that name it; else none."""
    names, defined = named_terms(question), defined_terms(question)
    if names and terms - FRAME_TERMS <= names:
        return [s for s in candidates if names & set(tokenize(s.text))]
    if defined and terms <= defined:
        return [s for s in candidates if defined <= set(tokenize(s.text))]
    return []


def visible_text(question: str) -> str:
    """The question as search reads it: controls become spaces, format characters and
    tashkeel go, white space is folded. Empty when nothing readable is left."""
    visible = "".join(
        " " if unicodedata.category(c) == CONTROL else "" if unicodedata.category(c) == FORMAT else c
        for c in question
    )
    # The article carries no tashkeel; a fully vowelled question should meet it as written.
    return " ".join(strip_diacritics(visible).split())


def clean_question(question: str, config: Config) -> str:
    """The question as search sees it; IqtibasError when it cannot be used."""
    if not isinstance(question, str):
        raise IqtibasError("the question must be text")
    cleaned = visible_text(usable_text(question))
    if not cleaned:
        raise IqtibasError("the question is empty: ask something about the article")
    if len(cleaned) > config.max_question_chars:
        raise IqtibasError(
            f"the question is {len(cleaned)} characters long; the limit is {config.max_question_chars}: ask it shorter"
        )
    return cleaned


def _overlap(question_terms: set[str], text: str) -> float:
    """Share of the question's terms found in the text."""
    if not question_terms:
        return 0.0
    return len(question_terms & set(tokenize(text))) / len(question_terms)


def sentence_score(sentence: Sentence, hit: Hit, question_terms: set[str], config: Config,
                   known_designators: set[str] | None = None) -> float:
    """How well one sentence answers: its meaning read within its passage, the question's
    words it shares, how well its whole passage matches, and, when the question asks which
    equipment (``known_designators`` is not None), whether it names equipment the question does not."""
    supplies_equipment = known_designators is not None and bool(designators(sentence.text) - known_designators)
    return (
        sentence.contextual
        + config.overlap_weight * _overlap(question_terms, sentence.text)
        + config.passage_weight * (hit.dense or 0.0)
        + config.answer_type_weight * supplies_equipment
    )


def answer(question: str, index: Index, config: Config) -> Answer:
    """Answer ``question`` from the index with verbatim quotes, or abstain."""
    started = time.perf_counter()
    cleaned = clean_question(question, config)
    language = detect_language(cleaned)
    timing: dict[str, float] = {}
    hits = index.search(cleaned, config.k, timing=timing)
    searched = time.perf_counter()
    terms = set(tokenize(cleaned))
    source_wanted = asks_for_source(cleaned)
    by_chunk = {hit.chunk.id: hit for hit in hits}
    # A reference-list entry is quoted only when the question asks for a source.
    candidates = [s for s in index.sentences_for(cleaned, hits)
                  if source_wanted or by_chunk[s.chunk_id].chunk.kind != "reference"]
    # A question that only names something ("What is AUKUS?", "من هو شويغو؟") is answered by the
    # sentences that name it, however weakly a bare name embeds.
    naming = _sentences_naming(cleaned, terms, candidates)
    candidates = naming or candidates
    known_designators = wanted_designators(cleaned)
    scored = sorted(
        ((sentence_score(s, by_chunk[s.chunk_id], terms, config, known_designators), s) for s in candidates),
        key=lambda pair: -pair[0],
    )
    # Whether to answer rests on the plainest evidence: the best sentence's similarity.
    evidence = max((s.dense for _, s in scored), default=0.0)
    abstained = (evidence < config.abstain_threshold(language) and not naming) or bool(index.unknown_names(cleaned))
    quotes = () if abstained else _quotes(scored, {hit.chunk.id: hit.chunk for hit in hits}, config)
    if source_wanted:
        quotes += _reference_quotes(quotes, index)
    if not gives_asked_values(cleaned, quotes):
        abstained, quotes = True, ()
    footnotes = _footnotes(quotes, index)
    passages = tuple(_passage(hit, quotes) for hit in hits)
    done = time.perf_counter()
    return Answer(
        question=question,
        language=language,
        abstained=abstained,
        quotes=quotes,
        passages=passages,
        footnotes=footnotes,
        timing_ms={
            **timing,
            "retrieval": round((searched - started) * 1000, 3),
            "sentences": round((done - searched) * 1000, 3),
            "total": round((done - started) * 1000, 3),
        },
        message=FRAMING[language]["abstain" if abstained else "answer"],
        score=round(evidence, 4),
    )


def _quotes(scored: list[tuple[float, Sentence]], chunks: dict[str, Chunk], config: Config) -> tuple[Quote, ...]:
    """The best sentence, and the next ones within the margin, in article order.

    A body sentence carries the footnotes whose markers it contains; a
    reference-list entry is itself footnote number N.
    """
    best = scored[0][0]
    chosen: list[tuple[float, Sentence]] = []
    for score, sentence in scored:
        if len(chosen) == config.quote_sentences or best - score > config.quote_margin:
            break
        if any(s.article == sentence.article and s.start < sentence.end and sentence.start < s.end for _, s in chosen):
            continue  # the same words from overlapping chunks
        chosen.append((score, sentence))
    chosen.sort(key=lambda pair: (pair[1].article, pair[1].start))
    return tuple(
        Quote(
            text=s.text,
            chunk_id=s.chunk_id,
            article=s.article,
            start=s.start,
            end=s.end,
            score=round(score, 4),
            footnotes=chunks[s.chunk_id].footnotes if chunks[s.chunk_id].kind == "reference"
            else tuple(sorted({int(n) for n in MARKER.findall(s.text)})),
        )
        for score, s in chosen
    )


def _reference_quotes(quotes: tuple[Quote, ...], index: Index) -> tuple[Quote, ...]:
    """For a question about sources: the reference-list entries the quoted sentences cite."""
    quoted = {(q.article, q.start) for q in quotes}
    entries = []
    for quote in quotes:
        for number in quote.footnotes:
            footnote = index.footnote(quote.article, number)
            if footnote is not None and (footnote.article, footnote.start) not in quoted:
                quoted.add((footnote.article, footnote.start))
                entries.append(Quote(footnote.text, f"{footnote.article}:ref{number:02d}", footnote.article,
                                     footnote.start, footnote.end, quote.score, (number,)))
    return tuple(entries)


def _footnotes(quotes: tuple[Quote, ...], index: Index) -> tuple[Footnote, ...]:
    found = {}
    for quote in quotes:
        for number in quote.footnotes:
            footnote = index.footnote(quote.article, number)
            if footnote is not None:
                found[(quote.article, number)] = footnote
    return tuple(found[key] for key in sorted(found))


def _passage(hit: Hit, quotes: tuple[Quote, ...]) -> Passage:
    chunk = hit.chunk
    highlights = tuple(
        (q.start - chunk.start, q.end - chunk.start) for q in quotes
        if q.article == chunk.article and chunk.start <= q.start and q.end <= chunk.end
    )
    return Passage(
        chunk_id=chunk.id,
        article=chunk.article,
        section=chunk.section,
        kind=chunk.kind,
        text=chunk.text,
        score=round(hit.score, 6),
        footnotes=chunk.footnotes,
        highlights=highlights,
    )
