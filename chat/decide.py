"""Which sentences answer, and whether to answer at all.

The index retrieves passages and scores their sentences by similarity; this module
chooses among them: it scores each sentence as an answer, decides whether the article
answers the question, and picks the sentences to quote.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from importlib import resources

from iqtibas.config import Config
from iqtibas.index import Index
from iqtibas.question import designators, is_conclusion_heading, marker_numbers, tokenize, values_given
from iqtibas.records import Chunk, Footnote, Hit, Question, Quote, Sentence

# Per question term, the index terms it may be written as (Index.readings).
Readings = tuple[tuple[str, ...], ...]


@lru_cache(maxsize=4096)
def _terms_of(text: str) -> frozenset[str]:
    """A sentence's search terms, read once: the same sentences come back for question after question."""
    return frozenset(tokenize(text))


def candidates(question: Question, sentences: list[Sentence], hits: list[Hit],
               readings: Readings) -> tuple[list[Sentence], bool]:
    """The sentences that may answer, and whether they were chosen because they name what a
    name-only question names ("What is AUKUS?", "من هو شويغو؟"), in some reading of each term
    (``Index.readings``: "vostok" is فوستوك), however weakly a bare name embeds.

    A reference-list entry is a candidate only when the question asks for a source, and the
    author's bio not when it asks the author's view of something (the article gives that).
    """
    kinds = {hit.chunk.id: hit.chunk.kind for hit in hits}
    found = [s for s in sentences if (question.asks_for("source") or kinds[s.chunk_id] != "reference")
             and not (question.asks_for("view") and kinds[s.chunk_id] == "bio")]
    read_as = {reading[0]: frozenset(reading) for reading in readings}
    if question.names:
        naming = [s for s in found if any(not _terms_of(s.text).isdisjoint(read_as.get(name, {name}))
                                          for name in question.names)]
    elif question.defined:
        naming = [s for s in found if all(not _terms_of(s.text).isdisjoint(read_as.get(term, {term}))
                                          for term in question.defined)]
    else:
        naming = []
    return (naming, True) if naming else (found, False)


# The sentence ranker: per language, weights over the features below, fit on the tune split by
# `iqtibas eval --split tune --fit-sentence-ranker chat/sentence_ranker.json`.
SENTENCE_RANKER = "sentence_ranker.json"


def sentence_features(sentence: Sentence, hit: Hit, question: Question, readings: Readings) -> dict[str, float]:
    """What tells the sentence that answers from its neighbours: its meaning read within its
    passage, the share of the question's terms it holds in some reading (``Index.readings``:
    across scripts and languages), how well its latent terms and its whole passage match, how
    close it sits to every sentence (a hub), its length (a heading or a fragment says little),
    whether it names equipment the question asks for and does not name, and whether it is a
    reference-list entry. A count or a date it gives is not weighed: the sentence holding any
    number would then be quoted, and the rule that refuses when no quote gives the count or date
    asked for would be met by it."""
    return {
        "contextual": sentence.contextual,
        "overlap": _overlap(readings, sentence.text),
        "latent": sentence.latent,
        "passage": hit.dense or 0.0,
        "hubness": sentence.hubness,
        "length": math.log(max(len(sentence.text), 1)),
        "equipment": float(question.asks_for("equipment") and bool(designators(sentence.text) - set(question.designators))),
        "reference": float(hit.chunk.kind == "reference"),
    }


@lru_cache(maxsize=1)
def sentence_ranker() -> dict:
    return json.loads(resources.files("iqtibas.chat").joinpath(SENTENCE_RANKER).read_text(encoding="utf-8"))


def sentence_score(features: dict[str, float], language: str, ranker: dict | None = None) -> float:
    """How well one sentence answers, as the ranker weighs its features for the question's language."""
    ranker = ranker or sentence_ranker()
    return sum(weight * features[name] for name, weight in zip(ranker["features"], ranker["weights"][language]))


def _overlap(readings: Readings, text: str) -> float:
    """Share of the question's terms the text holds in some reading."""
    if not readings:
        return 0.0
    held = _terms_of(text)
    return sum(not held.isdisjoint(reading) for reading in readings) / len(readings)


def unknown_mentions(question: Question, index: Index) -> list[str]:
    """What the question names (a year, a model, a country) that no indexed text names."""
    return [m.text for m in question.mentions
            if not any(index.names(spelling, m.across_scripts) for spelling in m.spellings)]


# The answerability model: a logistic regression over the signals below, fit on the tune split
# by `iqtibas eval --split tune --fit-answerability chat/answerability.json`.
ANSWERABILITY_MODEL = "answerability.json"
# Chunk kinds whose sentences describe the article rather than say something in it.
META_KINDS = ("title", "bio", "disclaimer")


def signals(question: Question, readings: Readings, scored: list[tuple[float, Sentence]], hits: list[Hit],
            quotes: tuple[Quote, ...], naming: bool, value_given: bool) -> dict[str, float]:
    """General signals of whether the best quote answers: how similar it is and by what margin,
    how well its passage matches, how much of the question it covers, whether it is a hub, whether
    it gives the kind of value asked for."""
    similarities = sorted((s.dense for _, s in scored), reverse=True) + [0.0, 0.0]
    best = scored[0][1] if scored else None
    kinds = {hit.chunk.id: hit.chunk.kind for hit in hits}
    quoted = " ".join(q.text for q in quotes)
    return {
        "evidence": similarities[0],
        "margin": similarities[0] - similarities[1],
        "best": scored[0][0] if scored else 0.0,
        "contextual": best.contextual if best else 0.0,
        "passage": (hits[0].dense or 0.0) if hits else 0.0,
        "coverage": _overlap(readings, quoted),
        "hubness": best.hubness if best else 0.0,
        "english": float(question.language == "en"),
        "naming": float(naming),
        "meta": float(best is not None and kinds[best.chunk_id] in META_KINDS),
        "terms": float(len(set(question.terms))),
        "value": float(value_given),
    }


@lru_cache(maxsize=1)
def answerability_model() -> dict:
    return json.loads(resources.files("iqtibas.chat").joinpath(ANSWERABILITY_MODEL).read_text(encoding="utf-8"))


def confidence(values: dict[str, float], model: dict | None = None) -> float:
    """The model's probability that the quote answers the question."""
    model = model or answerability_model()
    z = model["intercept"] + sum(
        weight * (values[name] - mean) / scale
        for name, weight, mean, scale in zip(model["signals"], model["coefficients"], model["mean"], model["scale"])
    )
    return 1.0 / (1.0 + math.exp(-z))


def level(confident: float, blocked: bool, naming: bool, of_author: bool, config: Config) -> str:
    """"quote" when confident, "related" (the closest passage, not a direct answer) when less so,
    "none" below that or when a rule says the article cannot answer. A question that only names
    something ("من هو شويغو؟") is quoted where the article names it: those sentences are what it
    says of the name, however weakly a bare name embeds. A question about the author whose closest
    sentence is the author's bio (``of_author``: "where does the author work?") is shown the bio at
    least: it is all the article says of its author."""
    if blocked:
        return "none"
    if naming or confident >= config.confident_answer:
        return "quote"
    return "related" if confident >= config.related_answer or of_author else "none"


def _gives_new(kind: str, question: Question, quote: Quote) -> bool:
    """Whether the quote gives a value of this kind that the question does not already hold: a
    count, a date, equipment, a source (a footnote), or something ending."""
    if kind == "source":
        return bool(quote.footnotes)
    if kind == "equipment":
        return bool(designators(quote.text) - set(question.designators))
    held = {"count": question.counts, "date": question.dates}.get(kind, ())
    return bool(values_given(kind, quote.text) - set(held))


# The kinds of value a question can ask for that a sentence can be seen to give; a count, a date or
# an ending that no quote gives means the article cannot answer ("how many jets?" quoted without a
# number, "why did X withdraw?" quoted with a sentence that does not say X did).
VALUE_KINDS = ("count", "date", "equipment", "source", "ending")
REQUIRED_VALUE_KINDS = ("count", "date", "ending")


def asked_values_given(question: Question, quotes: tuple[Quote, ...]) -> dict[str, bool]:
    """Per kind of value the question asks for, whether a quote gives one: what it asks for is
    seen in the answer, not only its words."""
    return {kind: any(_gives_new(kind, question, quote) for quote in quotes)
            for kind in VALUE_KINDS if question.asks_for(kind)}


def choose_quotes(scored: list[tuple[float, Sentence]], chunks: dict[str, Chunk], config: Config) -> tuple[Quote, ...]:
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
            else marker_numbers(s.text),
        )
        for score, s in chosen
    )


def reference_quotes(quotes: tuple[Quote, ...], index: Index) -> tuple[Quote, ...]:
    """For a question about sources: the reference-list entries the quoted sentences cite."""
    quoted = {(q.article, q.start) for q in quotes}
    entries = []
    for quote in quotes:
        for number in quote.footnotes:
            footnote = index.footnote(quote.article, number)
            if footnote is not None and (footnote.article, footnote.start) not in quoted:
                quoted.add((footnote.article, footnote.start))
                entries.append(_entry_quote(footnote, quote.score))
    return tuple(entries)


def named_footnote_quotes(question: Question, index: Index) -> tuple[Quote, ...]:
    """For a question naming footnotes by number ("what is reference 5?"): those reference-list
    entries, in every article that has them."""
    return tuple(_entry_quote(footnote, 1.0) for number in question.footnotes
                 for footnote in index.footnotes_numbered(number))


# What a question about the article itself asks for, and the kind of chunk that gives it.
# What a subject is given by: the title, and the opening sentence, which in a policy article or a
# news story states what the article argues.
ARTICLE_PARTS = {"title": ("title",), "author": ("bio",), "subject": ("title", "body"), "disclaimer": ("disclaimer",)}


def article_part_quotes(question: Question, index: Index) -> tuple[Quote, ...]:
    """For a question asking only the article's title, author, subject, disclaimer, conclusion or
    sources: each article's title, the opening sentence of its author's bio, its title and opening
    sentence, its disclaimer, the first and last sentence of its conclusion, or its reference list;
    in article order."""
    quotes = [_entry_quote(index.footnotes[key], 1.0) for key in sorted(index.footnotes)] \
        if question.asks_for("references") else []
    spans = [span for asked, kinds in ARTICLE_PARTS.items() if question.asks_for(asked)
             for kind in kinds for span in index.opening_sentences(kind)]
    if question.asks_for("conclusion"):
        spans += index.closing_sentences(is_conclusion_heading)
    for chunk, start, end in spans:
        text = chunk.text[start - chunk.start:end - chunk.start]
        quotes.append(Quote(text, chunk.id, chunk.article, start, end, 1.0, marker_numbers(text)))
    return tuple(sorted(quotes, key=lambda q: (q.article, q.start)))


def _entry_quote(footnote: Footnote, score: float) -> Quote:
    """A reference-list entry quoted whole: it is itself footnote number N."""
    return Quote(footnote.text, f"{footnote.article}:ref{footnote.number:02d}", footnote.article,
                 footnote.start, footnote.end, score, (footnote.number,))
