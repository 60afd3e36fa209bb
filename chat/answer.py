"""Extractive answers: retrieve passages, pick the sentences that answer, quote them verbatim."""

from __future__ import annotations

import time

from iqtibas.chat.decide import (
    REQUIRED_VALUE_KINDS,
    Readings,
    article_part_quotes,
    asked_values_given,
    candidates,
    choose_quotes,
    confidence,
    level,
    named_footnote_quotes,
    reference_quotes,
    sentence_features,
    sentence_score,
    signals,
    unknown_mentions,
)
from iqtibas.config import Config
from iqtibas.index import Index
from iqtibas.question import analyse
from iqtibas.records import Answer, Footnote, Hit, Passage, Question, Quote, Sentence

FRAMING = {
    "ar": {"quote": "بحسب المقال:", "related": "لا يجيب المقال عن هذا مباشرةً؛ أقرب ما فيه:",
           "none": "لا يذكر المقال ذلك."},
    "en": {"quote": "According to the article:", "related": "The article does not answer this directly; the closest it comes:",
           "none": "The article does not say."},
}


def answer(text: str, index: Index, config: Config) -> Answer:
    """Answer a question from the index with verbatim quotes, or abstain."""
    started = time.perf_counter()
    question = analyse(text, config, index)
    timing: dict[str, float] = {}
    hits = index.search(question, config.k, timing=timing)
    searched = time.perf_counter()
    by_chunk = {hit.chunk.id: hit for hit in hits}
    found, naming, readings = _candidates(question, hits, index)
    scored = sorted(((sentence_score(features, question.language), s) for s, features in found),
                    key=lambda pair: -pair[0])
    quotes = choose_quotes(scored, {hit.chunk.id: hit.chunk for hit in hits}, config) if scored else ()
    if question.asks_for("source"):
        quotes += reference_quotes(quotes, index)
    given = asked_values_given(question, quotes)
    values = signals(question, readings, scored, hits, quotes, naming, any(given.values()))
    confident = confidence(values)
    # A question naming what the article never names, or asking a count, a date or an ending no quote
    # gives, cannot be answered from it, however close its nearest sentence.
    rule = ("unknown name" if unknown_mentions(question, index)
            else "value not given" if not all(given.get(kind, True) for kind in REQUIRED_VALUE_KINDS) else "")
    closest_is_bio = bool(scored) and by_chunk[scored[0][1].chunk_id].chunk.kind == "bio"
    answered = level(confident, bool(rule), naming, question.asks_for("author detail") and closest_is_bio, config)
    if question.footnotes:  # "what is reference 5?" is answered by that entry, or not at all
        quotes, rule = named_footnote_quotes(question, index), "footnote number"
        answered = "quote" if quotes else "none"
    elif parts := article_part_quotes(question, index):  # "who wrote this?": the author's bio
        quotes, answered, rule = parts, "quote", "article part"
        # The passages quoted lead, in article order, retrieved or not.
        lead = [by_chunk.get(chunk_id) or Hit(index.chunk(chunk_id), 0.0, 0)
                for chunk_id in dict.fromkeys(q.chunk_id for q in quotes)]
        hits = (lead + [hit for hit in hits if hit not in lead])[:max(config.k, len(lead))]
    if answered != "quote":
        quotes = ()
    footnotes = _footnotes(quotes, index)
    passages = tuple(_passage(hit, quotes) for hit in hits)
    if answered == "related":
        # The closest passage is the one holding the best sentence, shown first.
        closest = scored[0][1].chunk_id
        passages = tuple(sorted(passages, key=lambda p: p.chunk_id != closest))
    else:  # the passages a quote comes from, first
        passages = tuple(sorted(passages, key=lambda p: not p.highlights))
    done = time.perf_counter()
    return Answer(
        question=text,
        language=question.language,
        abstained=answered != "quote",
        quotes=quotes,
        passages=passages,
        footnotes=footnotes,
        timing_ms={
            **timing,
            "retrieval": round((searched - started) * 1000, 3),
            "sentences": round((done - searched) * 1000, 3),
            "total": round((done - started) * 1000, 3),
        },
        message=FRAMING[question.language][answered],
        score=round(confident, 4),
        level=answered,
        signals={name: round(value, 4) for name, value in values.items()},
        decided_by=rule,
    )


def sentence_candidates(text: str, index: Index, config: Config) -> tuple[str, list[tuple[Sentence, dict[str, float]]]]:
    """The question's language, and each sentence that may answer it with the features the
    sentence ranker weighs: what `iqtibas eval --fit-sentence-ranker` learns from."""
    question = analyse(text, config, index)
    found, _, _ = _candidates(question, index.search(question, config.k), index)
    return question.language, found


def _candidates(question: Question, hits: list[Hit], index: Index
                ) -> tuple[list[tuple[Sentence, dict[str, float]]], bool, Readings]:
    """The sentences of the hits that may answer, each with its features; whether they were chosen
    because they name what a name-only question names; the question's readings."""
    by_chunk = {hit.chunk.id: hit for hit in hits}
    readings = index.readings(question)
    # What a name-only question names is looked for in every script ("who is shoigu": شويغو).
    spellings = index.readings(question, every_script=True) if question.names or question.defined else readings
    found, naming = candidates(question, index.sentences(question, hits), hits, spellings)
    return [(s, sentence_features(s, by_chunk[s.chunk_id], question, readings)) for s in found], naming, readings


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
