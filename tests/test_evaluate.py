"""The evaluation suite end to end on a few pairs: figures, report files, the quality floor."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from iqtibas.cli import cli
from iqtibas.eval import DEFAULT_PAIRS, calibrate_threshold, evaluate, load_pairs, write_report

FEW = ("ar-01", "ar-02", "en-01", "en-05", "un-ar-01", "un-en-03")


@pytest.fixture(scope="module")
def few_pairs():
    pairs = [p for p in load_pairs(DEFAULT_PAIRS) if p.id in FEW]
    assert len(pairs) == len(FEW)
    return pairs


def test_report_holds_the_figures_and_every_outcome(few_pairs, loaded_index, session_config, tmp_path):
    report = evaluate(few_pairs, loaded_index, session_config)
    figures = report.figures
    assert figures["counts"] == {"pairs": 6, "answerable": 4, "unanswerable": 2, "ar": 3, "en": 3}
    for mode in ("dense", "lexical", "hybrid"):
        for metric in ("hit@1", "hit@3", "hit@5", "mrr@10", "ndcg@10"):
            assert 0.0 <= figures["retrieval"][mode]["all"][metric] <= 1.0
        assert len(figures["retrieval"][mode]["lang:ar"]["recall@k"]) == 10
    assert {"evidence_in_quote", "footnote_precision", "footnote_recall", "false_abstention"} <= set(figures["answers"]["all"])
    assert set(figures["abstention"]["ar"]) >= {"threshold", "calibrated_threshold", "rate_on_unanswerable"}
    assert figures["latency_ms"]["p50"] > 0
    assert [q["id"] for q in report.questions] == [p.id for p in few_pairs]

    paths = write_report(report, tmp_path / "report")
    assert [p.name for p in paths] == ["report.json", "report.md", "report.png"]
    saved = json.loads(paths[0].read_text(encoding="utf-8"))
    assert saved["figures"]["counts"]["pairs"] == 6 and len(saved["questions"]) == 6
    assert "## Retrieval" in paths[1].read_text(encoding="utf-8")
    assert paths[2].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_calibration_separates_known_scores():
    questions = [{"answerable": True, "answer": {"score": s}} for s in (0.9, 0.85, 0.8)]
    questions += [{"answerable": False, "answer": {"score": s}} for s in (0.7, 0.82)]
    threshold, accuracy = calibrate_threshold(questions)
    assert threshold == 0.85 and accuracy == pytest.approx((2 / 3 + 1) / 2)


def test_calibration_keeps_abstentions_and_answers_that_the_threshold_did_not_decide():
    # At the configured 0.8: the unanswerable 0.83 abstained for another reason (say, a count the
    # article does not give), and the answerable 0.75 was answered for another (it only names something).
    questions = [{"answerable": True, "answer": {"score": s, "abstained": a}} for s, a in ((0.9, False), (0.75, False))]
    questions += [{"answerable": False, "answer": {"score": s, "abstained": True}} for s in (0.7, 0.83)]
    assert calibrate_threshold(questions, configured=0.8) == (0.75, 1.0)
    assert calibrate_threshold(questions)[1] < 1.0


def test_eval_command_writes_the_report_and_enforces_the_floor(few_pairs, built_index, session_config, tmp_path):
    data = tmp_path / "few.jsonl"
    data.write_text("".join(line for line in DEFAULT_PAIRS.read_text(encoding="utf-8").splitlines(keepends=True)
                            if json.loads(line)["id"] in FEW), encoding="utf-8")
    args = ["eval", "--index", str(session_config.index), "--eval-data", str(data), "--report-dir", str(tmp_path / "r")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "| all | hybrid |" in result.output and (tmp_path / "r" / "report.md").exists()
    strict = CliRunner().invoke(cli, [*args, "--min-hit3", "1.01"])
    assert strict.exit_code == 1 and "below --min-hit3" in strict.stderr


def test_the_answerability_fit_reports_what_it_does_on_questions_it_was_not_fit_on(loaded_index, session_config):
    import dataclasses

    from iqtibas.chat.decide import confidence
    from iqtibas.eval.answerability import THRESHOLDS, fit_answerability

    pairs = [p for p in load_pairs(DEFAULT_PAIRS, session_config) if p.split == "tune"][:60]
    keep_all = dataclasses.replace(session_config, confident_answer=0.0, related_answer=0.0)
    model = fit_answerability(evaluate(pairs, loaded_index, keep_all).questions, "tune")
    rows = model["held_out_thresholds"]
    assert [row["threshold"] for row in rows] == list(THRESHOLDS)
    # Quoting less as the threshold rises: never more evidence, never fewer refusals, never more wrong quotes.
    # So too in each language, which the targets are set by.
    assert set(rows[0]["by_language"]) == {p.lang for p in pairs}
    views = [rows] + [[row["by_language"][lang] for row in rows] for lang in rows[0]["by_language"]]
    for view in views:
        for lower, higher in zip(view, view[1:]):
            assert higher["evidence_in_quote"] <= lower["evidence_in_quote"]
            # None where the language has no unanswerable question among these pairs.
            assert higher["unanswerable_refused"] is None or higher["unanswerable_refused"] >= lower["unanswerable_refused"]
            assert higher["confidently_wrong"] <= lower["confidently_wrong"]
    # Held out, the model does worse than on the questions it was fit on, and better than chance.
    assert 0.5 < model["fitted_on"]["held_out_auc"] < model["fitted_on"]["auc"]
    values = {name: mean for name, mean in zip(model["signals"], model["mean"])}
    assert 0.0 < confidence(values, model) < 1.0


def test_the_sentence_ranker_fit_puts_the_answering_sentence_first_on_questions_it_was_not_fit_on(loaded_index,
                                                                                                  session_config):
    from iqtibas.chat.decide import sentence_score
    from iqtibas.eval.ranker import fit_sentence_ranker, ranker_rows

    pairs = [p for p in load_pairs(DEFAULT_PAIRS, session_config) if p.split == "tune"][:80]
    rows = ranker_rows(pairs, loaded_index, session_config)
    assert {row["question"] for row in rows} <= {p.id for p in pairs if p.answerable}
    ranker = fit_sentence_ranker(rows, "tune")
    assert set(ranker["weights"]) == {"ar", "en"}
    assert all(len(weights) == len(ranker["features"]) for weights in ranker["weights"].values())
    # Held out, the first sentence holds the evidence far more often than one of a question's
    # candidates chosen at random (about one in ten) would.
    for lang, figures in ranker["fitted_on"]["held_out"].items():
        chance = np.mean([np.mean([r["answers"] for r in rows if r["question"] == q])
                          for q in {r["question"] for r in rows if r["lang"] == lang}])
        assert figures["first"] > 3 * chance and figures["first_two"] >= figures["first"]
    # More of a sentence's similarity in context scores it higher, in either language.
    features = dict(rows[0]["features"])
    for lang in ("ar", "en"):
        assert sentence_score({**features, "contextual": features["contextual"] + 0.05}, lang, ranker) > \
            sentence_score(features, lang, ranker)


def test_fitting_the_sentence_ranker_on_no_answerable_pair_says_what_to_do(session_config, tmp_path):
    data = tmp_path / "unanswerable.jsonl"
    data.write_text("".join(line for line in DEFAULT_PAIRS.read_text(encoding="utf-8").splitlines(keepends=True)
                            if json.loads(line)["id"] in ("un-ar-01", "un-en-03")), encoding="utf-8")
    result = CliRunner().invoke(cli, ["eval", "--index", str(session_config.index), "--eval-data", str(data),
                                      "--fit-sentence-ranker", str(tmp_path / "ranker.json")])
    assert result.exit_code != 0 and "needs answerable pairs" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "ranker.json").exists()
