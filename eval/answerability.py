"""Fitting the answerability model: a logistic regression over an answer's signals.

``iqtibas eval --split tune --fit-answerability chat/answerability.json`` runs the tune split with
every quote kept (confidence thresholds at 0), labels each answer by whether its quote holds the
gold evidence (an unanswerable question's never does), and writes the fitted model that
``chat.decide.confidence`` reads. Questions a rule already decides (a name the article never
names, a count, a date or an ending no quote gives, a footnote named by number, the article's title or
author: ``Answer.decided_by``) are left out: the model does not decide them.

A model scored on the questions it was fit on looks better than it is, so the fit also reports, per
confidence threshold, what the model does on questions it was not fit on: cross-validated
probabilities (5 folds, 20 shuffles), from which ``confident_answer`` is chosen.
"""

from __future__ import annotations

import time

import numpy as np

# Inverse regularisation strength; 0.3–3 gave the same ranking (AUC within 0.01) on the tune split.
REGULARISATION = 1.0
FOLDS, SHUFFLES = 5, 20
# 0 (every question quoted), then 0.30 … 0.80.
THRESHOLDS = (0.0, *(round(0.3 + 0.05 * step, 2) for step in range(11)))


def fit_answerability(questions: list[dict], split: str) -> dict:
    """The fitted model as JSON-ready data; ``questions`` come from a report run with thresholds at 0."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    kept = [q for q in questions if not q["answer"]["decided_by"]]
    names = list(kept[0]["answer"]["signals"]) if kept else []
    values = np.array([[q["answer"]["signals"][name] for name in names] for q in kept], dtype=np.float64)
    labels = np.array([bool(q["answer"].get("evidence_in_quote")) for q in kept])
    if len(set(labels.tolist())) < 2:
        raise ValueError("fitting needs questions whose quote answers and questions whose quote does not")
    mean, scale = values.mean(axis=0), values.std(axis=0)
    scale[scale == 0] = 1.0
    standard = (values - mean) / scale
    model = LogisticRegression(C=REGULARISATION, class_weight="balanced", max_iter=1000).fit(standard, labels)
    held_out = _held_out_probabilities(standard, labels)
    return {
        "signals": names,
        "mean": mean.round(6).tolist(),
        "scale": scale.round(6).tolist(),
        "coefficients": model.coef_[0].round(6).tolist(),
        "intercept": round(float(model.intercept_[0]), 6),
        "fitted_on": {"split": split, "questions": len(kept), "answering": int(labels.sum()),
                      "auc": round(float(roc_auc_score(labels, model.predict_proba(standard)[:, 1])), 4),
                      "held_out_auc": round(float(roc_auc_score(labels, held_out)), 4),
                      "date": time.strftime("%Y-%m-%d")},
        "held_out_thresholds": _threshold_figures(questions, kept, held_out),
    }


def _held_out_probabilities(standard: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each question's probability from models fit without it, averaged over shuffles of the folds."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    folds = min(FOLDS, int(labels.sum()), int((~labels).sum()))
    if folds < 2:
        return np.full(len(labels), np.nan)
    probabilities = np.zeros(len(labels))
    for seed in range(SHUFFLES):
        for fit_rows, held_rows in StratifiedKFold(folds, shuffle=True, random_state=seed).split(standard, labels):
            model = LogisticRegression(C=REGULARISATION, class_weight="balanced", max_iter=1000)
            model.fit(standard[fit_rows], labels[fit_rows])
            probabilities[held_rows] += model.predict_proba(standard[held_rows])[:, 1] / SHUFFLES
    return probabilities


def _threshold_figures(questions: list[dict], kept: list[dict], held_out: np.ndarray) -> list[dict]:
    """Per threshold, over every question and per language: the share of answerable ones quoted with
    their evidence, of unanswerable ones not quoted, and of all quoted with a quote that does not
    answer. A rule's quote is given at every threshold. At 0 every question is quoted: its evidence is
    the most any threshold can give, what the ranking of sentences allows."""
    ruled = [q for q in questions if q["answer"]["decided_by"] and q["answer"]["level"] == "quote"]
    languages = sorted({q["lang"] for q in questions})
    rows = []
    for threshold in THRESHOLDS:
        quoted = ruled + [q for q, p in zip(kept, held_out) if p >= threshold]
        rows.append({"threshold": threshold, **_figures(questions, quoted),
                     "by_language": {lang: _figures([q for q in questions if q["lang"] == lang],
                                                    [q for q in quoted if q["lang"] == lang])
                                     for lang in languages}})
    return rows


def _figures(questions: list[dict], quoted: list[dict]) -> dict:
    answerable = sum(q["answerable"] for q in questions)
    unanswerable = len(questions) - answerable
    right = sum(bool(q["answer"].get("evidence_in_quote")) for q in quoted)
    return {"evidence_in_quote": round(right / answerable, 4) if answerable else None,
            "unanswerable_refused": round(1 - sum(not q["answerable"] for q in quoted) / unanswerable, 4)
            if unanswerable else None,
            "confidently_wrong": round((len(quoted) - right) / len(questions), 4) if questions else None}
