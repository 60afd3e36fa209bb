"""Fitting the sentence ranker: which of a question's candidate sentences answers it.

``iqtibas eval --split tune --fit-sentence-ranker chat/sentence_ranker.json`` takes, for each
answerable pair, every sentence that may answer it (``chat.sentence_candidates``) with its
features, labels each by whether it holds the pair's evidence, and fits a logistic regression on
the differences between a question's answering and other sentences (pairwise: what matters is
which sentence of the same question ranks first, not how close a sentence is in general). An
English question reads an Arabic body through weaker signals than an Arabic one, so each feature
has an English weight too, fit as the shared weight plus a difference.

The fit also reports, with 5 folds grouped by question, how often the first sentence, and the
first two, of questions it was not fit on hold the evidence, beside the ranker shipped.
"""

from __future__ import annotations

import time
from collections import defaultdict

import numpy as np

from iqtibas.eval.metrics import matches
from iqtibas.records import IqtibasError

# Inverse regularisation strength, the best of 0.03–1 on the tune split held out.
REGULARISATION = 0.1
FOLDS = 5
LANGUAGES = ("ar", "en")


def ranker_rows(pairs, index, config, progress=None) -> list[dict]:
    """Per candidate sentence of each answerable pair: its question, language, features and whether it
    holds the evidence."""
    from iqtibas.chat import sentence_candidates

    rows = []
    for pair in (progress or (lambda items: items))([p for p in pairs if p.answerable]):
        language, found = sentence_candidates(pair.question, index, config)
        rows += [{"question": pair.id, "lang": language, "features": features,
                  "answers": any(matches(sentence.text, evidence) for evidence in pair.evidence)}
                 for sentence, features in found]
    return rows


def fit_sentence_ranker(rows: list[dict], split: str) -> dict:
    """The fitted ranker as JSON-ready data, and its held-out figures beside the shipped ranker's."""
    from iqtibas.chat.decide import sentence_ranker, sentence_score

    if not rows:
        raise IqtibasError("fitting the sentence ranker needs answerable pairs: add some, or choose another --split")
    names = list(rows[0]["features"])
    columns, scale = _columns(rows, names)
    questions = np.array([row["question"] for row in rows])
    weights = _fit(columns / scale, rows, np.arange(len(rows)))
    held_out = np.zeros(len(rows))
    ids = sorted(set(questions.tolist()))
    for fold in range(FOLDS):
        held = np.isin(questions, ids[fold::FOLDS])
        held_out[held] = (columns[held] / scale) @ _fit(columns / scale, rows, np.flatnonzero(~held))
    shipped = sentence_ranker()
    now = [sentence_score(row["features"], row["lang"], shipped) if shipped["features"] == names else np.nan
           for row in rows]
    shared, english = np.split(weights / scale, 2)  # an English question's weight: shared plus its difference
    return {
        "features": names,
        "weights": {lang: [round(float(w), 6) for w in by_language]
                    for lang, by_language in zip(LANGUAGES, (shared, shared + english))},
        "fitted_on": {"split": split, "questions": len(ids), "sentences": len(rows), "date": time.strftime("%Y-%m-%d"),
                      "held_out": _first_sentences(rows, held_out), "shipped": _first_sentences(rows, np.array(now))},
    }


def _columns(rows: list[dict], names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each row's features, then the same again for an English question (0 for an Arabic one), and
    each column's spread."""
    values = np.array([[row["features"][name] for name in names] for row in rows], dtype=np.float64)
    english = np.array([[row["lang"] == "en"] for row in rows], dtype=np.float64)
    columns = np.hstack([values, values * english])
    scale = columns.std(axis=0)
    scale[scale == 0] = 1.0
    return columns, scale


def _fit(standard: np.ndarray, rows: list[dict], fit_rows: np.ndarray) -> np.ndarray:
    """Weights over the standardised columns from the differences of each question's answering and
    other sentences, both ways round (no intercept: a difference has no side)."""
    from sklearn.linear_model import LogisticRegression

    by_question = defaultdict(list)
    for row in fit_rows.tolist():
        by_question[rows[row]["question"]].append(row)
    differences = [standard[good] - standard[bad]
                   for members in by_question.values()
                   for good in members if rows[good]["answers"]
                   for bad in members if not rows[bad]["answers"]]
    if not differences:
        raise IqtibasError("fitting the sentence ranker needs questions among whose sentences one holds the "
                           "evidence and another does not: add such pairs")
    differences = np.array(differences)
    x = np.vstack([differences, -differences])
    y = np.r_[np.ones(len(differences)), np.zeros(len(differences))]
    return LogisticRegression(C=REGULARISATION, fit_intercept=False, max_iter=5000).fit(x, y).coef_[0]


def _first_sentences(rows: list[dict], scores: np.ndarray) -> dict:
    """Per language, the share of questions whose best-scored sentence, and best two, hold the evidence."""
    if np.isnan(scores).any():
        return {}
    by_question = defaultdict(list)
    for row, score in zip(rows, scores.tolist()):
        by_question[(row["lang"], row["question"])].append((score, row["answers"]))
    figures = {}
    for lang in LANGUAGES:
        ranked = [sorted(members, key=lambda pair: -pair[0]) for (language, _), members in by_question.items()
                  if language == lang]
        if ranked:
            figures[lang] = {"first": round(float(np.mean([r[0][1] for r in ranked])), 4),
                             "first_two": round(float(np.mean([any(a for _, a in r[:2]) for r in ranked])), 4),
                             "questions": len(ranked)}
    return figures
