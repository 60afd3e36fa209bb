"""Issue #13's robustness view: machine-typed variants of each question, and the report's drop."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from iqtibas.cli import cli
from iqtibas.eval import DEFAULT_PAIRS, Pair, evaluate, load_pairs, write_report
from iqtibas.eval.variants import machine_typed

SOME = ("ar-04", "en-01", "un-ar-01", "un-en-03")


def asked(lang: str, question: str, pair_id: str = "x-01") -> dict[str, str]:
    pair = Pair(id=pair_id, lang=lang, question=question, evidence=("e",), answer="a", footnotes=(4,), type="factoid")
    return {kind: variant.question for kind, variant in machine_typed(pair)}


def test_arabic_variants_are_the_issues_typing_habits():
    assert asked("ar", "ما هي أهداف مناورات فوستوك؟") == {
        "no hamza": "ما هي اهداف مناورات فوستوك؟",
        "ي→ى": "ما هى أهداف مناورات فوستوك؟",
        "ما هو→ماهو": "ماهي أهداف مناورات فوستوك؟",
    }
    assert asked("ar", "إلى أين وصلت العلاقات الصينية، وما هو دور آسيا؟") == {
        "no hamza": "الى اين وصلت العلاقات الصينية، وما هو دور اسيا؟",
        "ة→ه": "إلى أين وصلت العلاقات الصينيه، وما هو دور آسيا؟",
        "ى→ي": "إلي أين وصلت العلاقات الصينية، وما هو دور آسيا؟",
        # "وما هو" stays: only a standalone ما is joined to هو.
    }
    assert asked("ar", "هل تؤثر الرئاسة على الأعداء؟")["no hamza"] == "هل توثر الرياسة على الاعدا؟"


def test_english_variants_are_lowercase_no_punctuation_and_one_swap():
    variants = asked("en", "What's Russia's role in the S-400 deal?")
    assert variants["lowercase"] == "what's russia's role in the s-400 deal?"
    assert variants["no punctuation"] == "Whats Russias role in the S-400 deal"  # a hyphen inside a word stays
    swapped = variants["adjacent swap"]
    original = "What's Russia's role in the S-400 deal?"
    changed = [i for i, (a, b) in enumerate(zip(original, swapped)) if a != b]
    assert len(swapped) == len(original) and len(changed) == 2 and changed[1] == changed[0] + 1
    assert swapped[changed[0]] == original[changed[1]] and swapped[changed[1]] == original[changed[0]]
    word = next(w for w in re.finditer(r"[^\W\d_]+", original) if w.start() <= changed[0] < w.end())
    assert len(word.group()) >= 4 and word.start() < changed[0] and changed[1] < word.end()  # never its first letter


def test_the_swap_is_fixed_by_the_pair_id():
    question = "Which Russian aircraft engines did China agree to buy?"
    assert asked("en", question, "en-07")["adjacent swap"] == asked("en", question, "en-07")["adjacent swap"]
    assert len({asked("en", question, f"en-{n:02}")["adjacent swap"] for n in range(20)}) > 3


def test_a_variant_that_changes_nothing_is_left_out():
    assert asked("en", "who is he") == {}  # lowercase already, no punctuation, no word of four letters
    assert asked("en", "aaaa bbbb?") == {"no punctuation": "aaaa bbbb"}  # no two different neighbours to swap
    assert asked("ar", "من كاتب هذا المقال وما عمله؟") == {}


def test_a_variant_keeps_the_pairs_evidence_and_answerability():
    pair = next(p for p in load_pairs(DEFAULT_PAIRS) if p.id == "ar-04")
    for _, variant in machine_typed(pair):
        assert (variant.id, variant.evidence, variant.footnotes, variant.split, variant.answerable) == (
            pair.id, pair.evidence, pair.footnotes, pair.split, True)
        assert variant.question != pair.question


@pytest.fixture(scope="module")
def some_pairs():
    pairs = [p for p in load_pairs(DEFAULT_PAIRS) if p.id in SOME]
    assert len(pairs) == len(SOME)
    return pairs


def test_the_report_shows_each_kinds_drop_on_the_questions_it_changes(some_pairs, loaded_index, session_config,
                                                                     tmp_path):
    report = evaluate(some_pairs, loaded_index, session_config, variants=True)
    expected = [(kind, pair.id) for pair in some_pairs for kind, _ in machine_typed(pair)]
    assert [(v["kind"], v["id"]) for v in report.variants] == expected
    robustness = report.figures["robustness"]
    assert list(robustness["ar"]) == ["no hamza", "ة→ه", "ى→ي", "ي→ى", "ما هو→ماهو"]
    assert list(robustness["en"]) == ["lowercase", "no punctuation", "adjacent swap"]
    taha = robustness["ar"]["ة→ه"]
    assert (taha["answerable"], taha["unanswerable"]) == (1, 1)  # ar-04 and un-ar-01
    assert (robustness["ar"]["ى→ي"]["answerable"], robustness["ar"]["ى→ي"]["unanswerable"]) == (0, 0)
    # The original side is the same questions' own figures: en-01's hit@3 and un-en-03's refusal.
    by_id = {q["id"]: q for q in report.questions}
    lowercase = robustness["en"]["lowercase"]
    assert lowercase["original"]["hit@3"] == by_id["en-01"]["retrieval"]["hybrid"]["hit@3"]
    assert lowercase["original"]["unanswerable_refused"] == float(by_id["un-en-03"]["answer"]["abstained"])
    for kinds in robustness.values():
        for figures in kinds.values():
            for name, drop in figures["drop"].items():
                if figures["original"][name] == figures["original"][name]:  # not nan
                    assert drop == pytest.approx(figures["variant"][name] - figures["original"][name])

    write_report(report, tmp_path / "r")
    text = (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    section = text[text.index("## Robustness: machine-typed variants"):]
    assert "| language | variant | answerable / unanswerable | hit@3 hybrid |" in section
    row = next(line for line in section.splitlines() if line.startswith("| en | lowercase | 1 / 1 |"))
    hit3 = lowercase["original"]["hit@3"], lowercase["variant"]["hit@3"], lowercase["drop"]["hit@3"]
    assert f"{hit3[0]:.2f} → {hit3[1]:.2f} ({hit3[2]:+.2f})" in row
    assert "- ة→ه: `ar-04` في أي عام ضمّت روسيا شبه جزيرة القرم؟ → في أي عام ضمّت روسيا شبه جزيره القرم؟" in section
    saved = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    assert len(saved["variants"]) == len(expected) and "robustness" in saved["figures"]


def test_eval_asks_the_variants_unless_told_not_to(built_index, session_config, tmp_path):
    data = tmp_path / "some.jsonl"
    data.write_text("".join(line for line in DEFAULT_PAIRS.read_text(encoding="utf-8").splitlines(keepends=True)
                            if json.loads(line)["id"] in ("en-01", "un-en-03")), encoding="utf-8")
    args = ["eval", "--index", str(session_config.index), "--eval-data", str(data)]
    plain = CliRunner().invoke(cli, [*args, "--report-dir", str(tmp_path / "plain"), "--no-variants"])
    assert plain.exit_code == 0, plain.output
    assert "Robustness" not in (tmp_path / "plain" / "report.md").read_text(encoding="utf-8")
    assert json.loads((tmp_path / "plain" / "report.json").read_text(encoding="utf-8"))["variants"] == []
    typed = CliRunner().invoke(cli, [*args, "--report-dir", str(tmp_path / "typed")])
    assert typed.exit_code == 0, typed.output
    assert "| en | adjacent swap | 1 / 1 |" in typed.output
    assert "## Robustness: machine-typed variants" in (tmp_path / "typed" / "report.md").read_text(encoding="utf-8")
