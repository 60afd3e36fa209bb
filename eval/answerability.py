"""Fitting the answerability model: a logistic regression over an answer's signals.

``iqtibas eval --split tune --fit-answerability chat/answerability.json`` runs the tune split with
every quote kept (confidence thresholds at 0), labels each answer by whether its quote holds the
gold evidence (an unanswerable question's never does), and writes the fitted model that
``chat.decide.confidence`` reads. Questions a rule already decides (a name the article never
names, a count or date no quote gives) are left out: the model does not decide them.
"""

from __future__ import annotations

import time

import numpy as np

# Inverse regularisation strength; 0.3–3 gave the same ranking (AUC within 0.01) on the tune split.
REGULARISATION = 1.0


def fit_answerability(questions: list[dict], split: str) -> dict:
    """The fitted model as JSON-ready data; ``questions`` come from a report run with thresholds at 0."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    kept = [q for q in questions if q["answer"]["level"] != "none"]
    names = list(kept[0]["answer"]["signals"]) if kept else []
    values = np.array([[q["answer"]["signals"][name] for name in names] for q in kept], dtype=np.float64)
    labels = np.array([bool(q["answer"].get("evidence_in_quote")) for q in kept])
    if len(set(labels.tolist())) < 2:
        raise ValueError("fitting needs questions whose quote answers and questions whose quote does not")
    mean, scale = values.mean(axis=0), values.std(axis=0)
    scale[scale == 0] = 1.0
    standard = (values - mean) / scale
    model = LogisticRegression(C=REGULARISATION, class_weight="balanced", max_iter=1000).fit(standard, labels)
    return {
        "signals": names,
        "mean": mean.round(6).tolist(),
        "scale": scale.round(6).tolist(),
        "coefficients": model.coef_[0].round(6).tolist(),
        "intercept": round(float(model.intercept_[0]), 6),
        "fitted_on": {"split": split, "questions": len(kept), "answering": int(labels.sum()),
                      "auc": round(float(roc_auc_score(labels, model.predict_proba(standard)[:, 1])), 4),
                      "date": time.strftime("%Y-%m-%d")},
    }
