"""Run question–answer pairs through the chat's own answer path and measure it."""

from __future__ import annotations

import hashlib
import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from iqtibas.chat import answer
from iqtibas.config import Config
from iqtibas.eval import metrics
from iqtibas.eval.machine import machine_info
from iqtibas.eval.pairs import LANGUAGES, SPLITS, Pair, select_split, unknown_evidence
from iqtibas.eval.variants import KINDS, machine_typed
from iqtibas.index import Index
from iqtibas.question import analyse
from iqtibas.records import Answer, IqtibasError, Question

RETRIEVAL_MODES = ("dense", "lexical", "hybrid")
RANKED_DEPTH = 10  # recall@1..10, MRR@10 and nDCG@10 look this deep
HIT_KS = (1, 3, 5)
LATENCY_PERCENTILES = (50, 95)
BREAKDOWNS = ("lang", "type", "style")  # the free labels the report's tables are broken down by


@dataclass
class Report:
    """Every figure and every question's outcome of one evaluation run."""

    figures: dict
    questions: list[dict]
    settings: dict
    machine: dict
    created: str
    sweep: list[dict] = field(default_factory=list)
    split: str = "all"  # which pairs: "tune", "test" or "all"
    variants: list[dict] = field(default_factory=list)  # each machine-typed variant's outcome, when asked


def _retrieval_outcome(pair: Pair, question: Question, index: Index, mode: str) -> dict:
    texts = [hit.chunk.text for hit in index.search(question, RANKED_DEPTH, mode)]
    ranks = metrics.relevant_ranks(texts, pair.evidence)
    relevance = [1 if rank in ranks else 0 for rank in range(1, len(texts) + 1)]
    outcome = {f"hit@{k}": metrics.hit_at_k(ranks, k) for k in HIT_KS}
    outcome["mrr@10"] = metrics.reciprocal_rank(ranks, RANKED_DEPTH)
    outcome["ndcg@10"] = metrics.ndcg_at_k(relevance, RANKED_DEPTH)
    outcome["recall"] = [metrics.evidence_recall_at_k(texts, pair.evidence, k) for k in range(1, RANKED_DEPTH + 1)]
    outcome["first_relevant_rank"] = ranks[0] if ranks else None
    return outcome


def _answer_outcome(pair: Pair, result: Answer) -> dict:
    predicted = [f.number for f in result.footnotes]
    outcome = {
        "abstained": result.abstained,
        "level": result.level,
        "decided_by": result.decided_by,
        "score": result.score,
        "signals": result.signals,
        "latency_ms": result.timing_ms["total"],
        "quotes": [q.text for q in result.quotes],
        "footnotes": predicted,
    }
    if pair.answerable:
        precision, recall = metrics.footnote_precision_recall(predicted, pair.footnotes)
        outcome.update(
            evidence_in_quote=metrics.evidence_in_quote(outcome["quotes"], pair.evidence),
            evidence_in_passage=bool(result.passages)
            and bool(metrics.relevant_ranks([result.passages[0].text], pair.evidence)),
            footnote_precision=precision if not result.abstained else math.nan,
            footnote_recall=recall if not result.abstained else math.nan,
        )
    return outcome


def evaluate(pairs: list[Pair], index: Index, config: Config, progress=None, split: str = "all",
             variants: bool = False) -> Report:
    """Measure retrieval (dense, lexical, hybrid) and answers on the pairs of ``split``; with
    ``variants``, also each question's machine-typed variants (hybrid retrieval and answers), for
    the figures' ``robustness``.

    ``progress`` wraps the pair iterable (e.g. ``tqdm``) when given. Before anything runs, an
    evidence string that is not in the indexed articles is an IqtibasError naming its line.
    """
    if split not in ("all", *SPLITS):
        raise IqtibasError(f"split must be all, {' or '.join(SPLITS)}, not {split!r}")
    chosen = select_split(pairs, split)
    if not chosen:
        raise IqtibasError(f"no pairs to evaluate{'' if split == 'all' else f' in the {split} split'}: "
                           f"add some to the pairs file, or choose another --split")
    unknown = unknown_evidence(chosen, article_texts(index))
    if unknown:
        raise IqtibasError(f"{len(unknown)} evidence string(s) are not in the indexed article(s), first "
                           f"{unknown[0]}: copy evidence from the article exactly")
    questions = []
    for pair in progress(chosen) if progress else chosen:
        record = {"id": pair.id, "lang": pair.lang, "type": pair.type, "style": pair.style, "split": pair.split,
                  "answerable": pair.answerable, "question": pair.question, "evidence": list(pair.evidence),
                  "gold_footnotes": list(pair.footnotes)}
        # The answer comes first, so its latency includes embedding the question.
        record["answer"] = _answer_outcome(pair, answer(pair.question, index, config))
        if pair.answerable:
            question = analyse(pair.question, config, index)
            record["retrieval"] = {mode: _retrieval_outcome(pair, question, index, mode) for mode in RETRIEVAL_MODES}
        questions.append(record)
    typed = [(kind, variant) for pair in chosen for kind, variant in machine_typed(pair)] if variants else []
    asked = [_variant_outcome(kind, variant, index, config) for kind, variant in (progress(typed) if progress else typed)]
    figures = summarise(questions, config)
    if variants:
        figures["robustness"] = robustness(questions, asked)
    return Report(
        figures=figures,
        questions=questions,
        variants=asked,
        settings={name: str(value) for name, value in vars(config).items()},
        machine=machine_info(),
        created=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        split=split,
    )


def _variant_outcome(kind: str, variant: Pair, index: Index, config: Config) -> dict:
    """What a variant's question got, through the same answer path as the original's."""
    result = answer(variant.question, index, config)
    record = {"id": variant.id, "kind": kind, "lang": variant.lang, "answerable": variant.answerable,
              "question": variant.question, "level": result.level, "abstained": result.abstained}
    if variant.answerable:
        record["evidence_in_quote"] = metrics.evidence_in_quote([q.text for q in result.quotes], variant.evidence)
        record["hit@3"] = _retrieval_outcome(variant, analyse(variant.question, config, index), index, "hybrid")["hit@3"]
    return record


def _headline(outcomes: list[dict]) -> dict:
    """The headline figures of a set of outcomes, each {answerable, abstained, level,
    evidence_in_quote, hit@3}: an original's or a variant's."""
    answerable = [o for o in outcomes if o["answerable"]]
    return {
        "hit@3": metrics.mean([o["hit@3"] for o in answerable]),
        "evidence_in_quote": metrics.mean([float(o["evidence_in_quote"]) for o in answerable]),
        "unanswerable_refused": metrics.mean([float(o["abstained"]) for o in outcomes if not o["answerable"]]),
        "answerable_refused": metrics.mean([float(o["abstained"]) for o in answerable]),
        "confidently_wrong": metrics.mean([float(o["level"] == "quote" and not o.get("evidence_in_quote"))
                                           for o in outcomes]),
    }


def robustness(questions: list[dict], variants: list[dict]) -> dict:
    """Per language and variant kind: the headline figures of the originals that have that
    variant, the variants' own, and the drop (variant minus original), so each kind is compared
    on the same questions."""
    originals = {q["id"]: {"answerable": q["answerable"], "abstained": q["answer"]["abstained"],
                           "level": q["answer"]["level"], "evidence_in_quote": q["answer"].get("evidence_in_quote"),
                           "hit@3": q.get("retrieval", {}).get("hybrid", {}).get("hit@3")} for q in questions}
    figures = {}
    for language, kinds in KINDS.items():
        figures[language] = {}
        for kind in kinds:
            asked = [v for v in variants if v["lang"] == language and v["kind"] == kind]
            before = _headline([originals[v["id"]] for v in asked])
            after = _headline(asked)
            figures[language][kind] = {
                "answerable": sum(v["answerable"] for v in asked),
                "unanswerable": sum(not v["answerable"] for v in asked),
                "original": before,
                "variant": after,
                "drop": {name: after[name] - before[name] for name in before},
            }
    return figures


def article_texts(index: Index) -> list[str]:
    """The texts of the articles the index was built from: each file as it was indexed, or, where the
    file is gone or changed, its indexed chunks."""
    texts = []
    for article in index.info()["articles"]:
        try:
            raw = Path(article["path"]).read_bytes()
            if hashlib.sha256(raw).hexdigest() == article["sha256"]:
                texts.append(raw.decode("utf-8"))
                continue
        except (OSError, UnicodeDecodeError):
            pass
        texts += [chunk.text for chunk in index.chunks if chunk.article == article["id"]]
    return texts


def summarise(questions: list[dict], config: Config) -> dict:
    """Aggregate figures: retrieval by mode × language × type, answers, abstention, latency."""
    answerable = [q for q in questions if q["answerable"]]
    unanswerable = [q for q in questions if not q["answerable"]]
    # Every language has its row, with n = 0 when the pairs hold none of it.
    groups = {"all": answerable, **{f"lang:{language}": [] for language in LANGUAGES}}
    for key in BREAKDOWNS:  # languages first: the printed summary shows all, ar, en
        for q in answerable:
            groups.setdefault(f"{key}:{q[key]}", []).append(q)
    retrieval = {
        mode: {
            group: {"n": len(members), **_retrieval_means(members, mode)} for group, members in groups.items()
        }
        for mode in RETRIEVAL_MODES
    }
    answers = {group: {"n": len(members), **_answer_means(members)} for group, members in groups.items()}
    latencies = [q["answer"]["latency_ms"] for q in questions]
    return {
        "counts": {"pairs": len(questions), "answerable": len(answerable), "unanswerable": len(unanswerable),
                   "ar": sum(q["lang"] == "ar" for q in questions), "en": sum(q["lang"] == "en" for q in questions)},
        "retrieval": retrieval,
        "answers": answers,
        "abstention": {
            "rate_on_unanswerable": metrics.mean([float(q["answer"]["abstained"]) for q in unanswerable]),
            "false_rate_on_answerable": metrics.mean([float(q["answer"]["abstained"]) for q in answerable]),
            **{language: _abstention(questions, language, config) for language in LANGUAGES},
        },
        "levels": _levels(answerable, unanswerable),
        "latency_ms": {f"p{p}": metrics.percentile(latencies, p) for p in LATENCY_PERCENTILES},
    }


def _levels(answerable: list[dict], unanswerable: list[dict]) -> dict:
    """How often each level is given, and how often it is right: a confident quote that holds the
    evidence; a closest passage that holds it; "does not say" to a question the article cannot answer."""
    everyone = answerable + unanswerable
    right = {
        "quote": lambda q: bool(q["answer"].get("evidence_in_quote")),
        "related": lambda q: bool(q["answer"].get("evidence_in_passage")),
        "none": lambda q: not q["answerable"],
    }
    figures = {}
    for name, is_right in right.items():
        given = [q for q in everyone if q["answer"]["level"] == name]
        figures[name] = {"share": len(given) / len(everyone) if everyone else float("nan"),
                         "precision": metrics.mean([float(is_right(q)) for q in given])}
    wrong = [q for q in everyone if q["answer"]["level"] == "quote" and not right["quote"](q)]
    figures["confidently_wrong"] = len(wrong) / len(everyone) if everyone else float("nan")
    return figures


def _abstention(questions: list[dict], language: str, config: Config) -> dict:
    mine = [q for q in questions if q["lang"] == language]
    threshold, accuracy = calibrate_threshold(mine, config.confident_answer)
    refused = metrics.mean([float(q["answer"]["abstained"]) for q in mine if not q["answerable"]])
    false_rate = metrics.mean([float(q["answer"]["abstained"]) for q in mine if q["answerable"]])
    return {
        "threshold": config.confident_answer,
        "rate_on_unanswerable": refused,
        "false_rate_on_answerable": false_rate,
        "balanced_accuracy": (refused + 1 - false_rate) / 2,
        "calibrated_threshold": threshold,
        "calibrated_balanced_accuracy": accuracy,
    }


def _retrieval_means(members: list[dict], mode: str) -> dict:
    outcomes = [m["retrieval"][mode] for m in members]
    means = {name: metrics.mean([o[name] for o in outcomes]) for name in (*(f"hit@{k}" for k in HIT_KS), "mrr@10", "ndcg@10")}
    means["recall@k"] = [metrics.mean([o["recall"][k] for o in outcomes]) for k in range(RANKED_DEPTH)]
    return means


def _answer_means(members: list[dict]) -> dict:
    outcomes = [m["answer"] for m in members]
    answered = [o for o in outcomes if not o["abstained"]]
    return {
        "evidence_in_quote": metrics.mean([float(o["evidence_in_quote"]) for o in outcomes]),
        "footnote_precision": metrics.mean([o["footnote_precision"] for o in answered]),
        "footnote_recall": metrics.mean([o["footnote_recall"] for o in answered]),
        "false_abstention": metrics.mean([float(o["abstained"]) for o in outcomes]),
    }


def calibrate_threshold(questions: list[dict], configured: float | None = None) -> tuple[float, float]:
    """The abstention threshold that best separates answerable from unanswerable scores.

    Maximises balanced accuracy: the mean of the answered share of answerable
    questions and the abstained share of unanswerable ones. Against the ``configured``
    threshold, a question that abstained although its score reached it did so for another
    reason (a count or a date the article does not give, a year or model it never names) and
    abstains at any threshold; one answered although its score fell short was answered for
    another reason (it only names something the article names) and is answered at any threshold.
    Returns (threshold, balanced accuracy); the lowest such threshold on ties.
    """
    scored = defaultdict(list)
    for q in questions:
        score, abstained = q["answer"]["score"], q["answer"].get("abstained")
        # None: the threshold decides; True / False: abstains / answers whatever the threshold.
        fixed = None if configured is None or abstained == (score < configured) else abstained
        scored[not q["answerable"]].append((score, fixed))
    answerable, unanswerable = scored[False], scored[True]
    if not answerable or not unanswerable:
        return math.nan, math.nan

    def abstains(score: float, fixed: bool | None, threshold: float) -> bool:
        return score < threshold if fixed is None else fixed

    best = (math.nan, -1.0)
    for threshold in sorted({score for score, _ in answerable + unanswerable}):
        kept = sum(not abstains(*q, threshold) for q in answerable) / len(answerable)
        refused = sum(abstains(*q, threshold) for q in unanswerable) / len(unanswerable)
        accuracy = (kept + refused) / 2
        if accuracy > best[1]:
            best = (threshold, accuracy)
    return best
