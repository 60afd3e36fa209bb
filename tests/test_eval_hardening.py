"""Issue #15, findings 13-17, and its sister issue: odd pair files run to a whole report or stop at
once naming the line; types and styles are free labels; a fixed tune/test split by id."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from iqtibas.cli import cli
from iqtibas.config import load_config
from iqtibas.eval import DEFAULT_PAIRS, evaluate, load_pairs
from iqtibas.records import IqtibasError

REPORT_FILES = ("report.json", "report.md", "report.png")
GOLD = [json.loads(line) for line in DEFAULT_PAIRS.read_text(encoding="utf-8").splitlines() if line.strip()]
BY_ID = {pair["id"]: pair for pair in GOLD}


def write_pairs(path: Path, records: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n"
                            for r in records), encoding="utf-8")
    return path


def run_eval(index, pairs: Path, report: Path, *extra):
    return CliRunner().invoke(cli, ["eval", "--index", str(index), "--eval-data", str(pairs),
                                    "--report-dir", str(report), *map(str, extra)])


ODD_SETS = {
    "english-only": ["en-01", "en-05", "un-en-03"],
    "arabic-only": ["ar-01", "ar-02"],
    "only-unanswerable": ["un-ar-01", "un-en-03"],
    "a-single-pair": ["en-05"],
}


@pytest.mark.parametrize("ids", ODD_SETS.values(), ids=ODD_SETS)
def test_an_odd_pair_set_gives_a_whole_report(ids, built_index, session_config, tmp_path):
    pairs = write_pairs(tmp_path / "pairs.jsonl", [BY_ID[i] for i in ids])
    result = run_eval(session_config.index, pairs, tmp_path / "report")
    assert result.exit_code == 0, (result.output, result.exception)
    assert "Traceback" not in result.output and "%|" not in result.stderr  # no progress bar off a terminal
    assert all((tmp_path / "report" / name).stat().st_size > 0 for name in REPORT_FILES)
    saved = json.loads((tmp_path / "report" / "report.json").read_text(encoding="utf-8"))
    assert [q["id"] for q in saved["questions"]] == ids
    assert {"lang:ar", "lang:en"} <= set(saved["figures"]["answers"])


def test_no_pairs_is_one_clear_line(built_index, session_config, tmp_path, assert_one_clear_line):
    pairs = write_pairs(tmp_path / "pairs.jsonl", [])
    result = run_eval(session_config.index, pairs, tmp_path / "report")
    assert_one_clear_line(result, "no pairs")
    assert not (tmp_path / "report" / "report.json").exists()


BAD_QUESTIONS = {
    "over-the-limit": ("x" * 3000, "characters long"),
    "empty": ("\u200b \u200c", "empty"),
    "lone-surrogate": ("\ud800 S-400?", "surrogate"),
}


@pytest.mark.parametrize(("question", "problem"), BAD_QUESTIONS.values(), ids=BAD_QUESTIONS)
def test_a_bad_question_is_refused_at_load_naming_file_and_line(question, problem, tmp_path, assert_one_clear_line):
    pairs = write_pairs(tmp_path / "pairs.jsonl", [BY_ID["en-01"], BY_ID["en-05"] | {"question": question}])
    with pytest.raises(IqtibasError, match=f"{pairs}:2: .*{problem}"):
        load_pairs(pairs, load_config(environ={}))
    result = run_eval(tmp_path / "no-index", pairs, tmp_path / "report")  # refused before the index is opened
    assert_one_clear_line(result, f"{pairs}:2:")


def test_a_pairs_file_that_is_not_utf8_names_the_line(tmp_path):
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_bytes(json.dumps(BY_ID["en-01"]).encode() + b"\n\xff\xfe{}\n")
    with pytest.raises(IqtibasError, match=f"{pairs}:2: not UTF-8"):
        load_pairs(pairs)


def test_evidence_that_is_not_in_the_article_is_refused_before_the_run(built_index, session_config, tmp_path,
                                                                        assert_one_clear_line):
    forged = BY_ID["en-05"] | {"evidence": ["Russia sold China a fleet of zeppelins."]}
    pairs = write_pairs(tmp_path / "pairs.jsonl", [BY_ID["en-01"], forged])
    result = run_eval(session_config.index, pairs, tmp_path / "report")
    assert_one_clear_line(result, f"{pairs}:2:")
    assert "zeppelins" in result.stderr
    assert not (tmp_path / "report" / "report.json").exists()


def test_types_and_styles_are_free_labels_broken_down_in_the_report(loaded_index, session_config, tmp_path):
    dialect = BY_ID["ar-02"] | {"id": "ar-x1", "type": "dialect", "style": "dialect"}
    typo = BY_ID["en-05"] | {"id": "en-x1", "style": "typo"}
    pairs = load_pairs(write_pairs(tmp_path / "pairs.jsonl", [BY_ID["en-01"], dialect, typo]))
    assert [p.style for p in pairs] == ["standard", "dialect", "typo"] and pairs[1].type == "dialect"
    report = evaluate(pairs, loaded_index, session_config)
    answers = report.figures["answers"]
    assert {"type:dialect", "style:dialect", "style:typo", "style:standard"} <= set(answers)
    assert answers["style:typo"]["n"] == 1
    from iqtibas.eval import write_report

    markdown = (write_report(report, tmp_path / "r")[1]).read_text(encoding="utf-8")
    assert "### By style" in markdown and "| style:dialect |" in markdown and "### By type" in markdown


def test_a_pair_is_answerable_exactly_when_it_has_evidence(tmp_path):
    no_evidence = BY_ID["en-05"] | {"evidence": [], "footnotes": [], "type": "factoid"}
    labelled_unanswerable = BY_ID["en-01"] | {"id": "en-x2", "type": "unanswerable-but-not"}
    pairs = load_pairs(write_pairs(tmp_path / "pairs.jsonl", [no_evidence, labelled_unanswerable]))
    assert [p.answerable for p in pairs] == [False, True]


def test_the_split_is_fixed_by_the_id_and_can_be_overridden(tmp_path):
    def expected(pair_id: str) -> str:
        return "tune" if int(hashlib.sha256(pair_id.encode()).hexdigest()[:8], 16) % 100 < 60 else "test"

    from iqtibas.eval.pairs import derived_split

    gold = load_pairs(DEFAULT_PAIRS)
    assert all(p.split == expected(p.id) == derived_split(p.id) for p in gold)
    tune_share = sum(p.split == "tune" for p in gold) / len(gold)
    assert 0.45 < tune_share < 0.75
    moved = BY_ID["en-05"] | {"split": "test" if expected("en-05") == "tune" else "tune"}
    assert load_pairs(write_pairs(tmp_path / "p.jsonl", [moved]))[0].split == moved["split"]


@pytest.mark.parametrize("split", ["tune", "test"])
def test_eval_split_evaluates_only_that_split_and_says_so(split, built_index, session_config, tmp_path):
    ids = ["ar-01", "ar-02", "en-01", "en-05", "un-ar-01", "un-en-03", "en-10", "ar-10"]
    records = [BY_ID[i] | {"split": "tune" if n % 2 else "test"} for n, i in enumerate(ids)]
    pairs = write_pairs(tmp_path / "pairs.jsonl", records)
    result = run_eval(session_config.index, pairs, tmp_path / "report", "--split", split)
    assert result.exit_code == 0, (result.output, result.exception)
    saved = json.loads((tmp_path / "report" / "report.json").read_text(encoding="utf-8"))
    assert saved["split"] == split
    assert [q["id"] for q in saved["questions"]] == [r["id"] for r in records if r["split"] == split]
    assert f"Split: {split}" in (tmp_path / "report" / "report.md").read_text(encoding="utf-8")
