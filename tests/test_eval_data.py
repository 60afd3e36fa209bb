"""The gold question–answer pairs: they load, quote the article exactly and cover what they should."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from iqtibas.config import PROJECT_ROOT
from iqtibas.eval.pairs import DEFAULT_PAIRS, Pair, load_pairs
from iqtibas.records import IqtibasError

ARTICLE_TEXT = (PROJECT_ROOT / "data" / "article.txt").read_text(encoding="utf-8")
PAIRS = load_pairs(DEFAULT_PAIRS)
ANSWERABLE = [pair for pair in PAIRS if pair.answerable]

MIN_PAIRS = 60
MIN_ANSWERABLE_PER_LANGUAGE = 25
MIN_UNANSWERABLE = 10
MIN_PER_TYPE = 4
# The types this project's own pairs use; others are welcome (a type is a free label).
PAIR_TYPES = ("factoid", "number-date", "entity", "why-how", "multi-passage", "paraphrase", "reference-list",
              "unanswerable")
FOOTNOTE_NUMBERS = range(1, 15)  # the article's reference list runs [1]..[14]
MARKER = re.compile(r"\[(\d+)\]")
BLANK_LINE = re.compile(r"\n[ \t]*\n")
REFERENCE_LINE = re.compile(r"^\[\d+\] ")

VALID = {
    "id": "en-01", "lang": "en", "question": "Who wrote it?", "evidence": ["x"],
    "answer": "Someone", "footnotes": [], "type": "entity",
}


def paragraphs_containing(evidence: str) -> list[str]:
    """Every blank-line separated block of the article that contains ``evidence``."""
    blocks = BLANK_LINE.split(ARTICLE_TEXT)
    return [block for block in blocks if evidence in block]


def markers_around(pair: Pair) -> set[int]:
    """The footnote numbers written in the paragraphs holding the pair's evidence."""
    return {
        int(number)
        for evidence in pair.evidence
        for block in paragraphs_containing(evidence)
        for number in MARKER.findall(block)
    }


def test_every_evidence_is_an_exact_substring_of_the_article():
    missing = [(pair.id, e) for pair in PAIRS for e in pair.evidence if e not in ARTICLE_TEXT]
    assert missing == []


def test_evidence_never_crosses_a_paragraph_break():
    crossing = [(pair.id, e) for pair in PAIRS for e in pair.evidence if not paragraphs_containing(e)]
    assert crossing == []


def test_counts_by_language_and_answerability():
    answerable = Counter(pair.lang for pair in ANSWERABLE)
    assert len(PAIRS) >= MIN_PAIRS
    assert answerable["ar"] >= MIN_ANSWERABLE_PER_LANGUAGE
    assert answerable["en"] >= MIN_ANSWERABLE_PER_LANGUAGE
    assert len(PAIRS) - len(ANSWERABLE) >= MIN_UNANSWERABLE
    unanswerable_languages = Counter(pair.lang for pair in PAIRS if not pair.answerable)
    assert set(unanswerable_languages) == {"ar", "en"}


def test_every_type_appears_often_enough():
    counts = Counter(pair.type for pair in PAIRS)
    assert {t: counts[t] for t in PAIR_TYPES if counts[t] < MIN_PER_TYPE} == {}


def test_the_set_is_written_the_way_people_ask():
    # At least 300 pairs; at least 40% typed as people type (dialect, typos, lowercase, other
    # script...); at least 25% unanswerable, of at least six kinds.
    assert len(PAIRS) >= 300
    assert sum(pair.style != "standard" for pair in PAIRS) >= 0.4 * len(PAIRS)
    unanswerable = [pair for pair in PAIRS if not pair.answerable]
    assert len(unanswerable) >= 0.25 * len(PAIRS)
    assert len({pair.type for pair in unanswerable if pair.type != "unanswerable"}) >= 6


def test_the_split_is_sixty_forty_and_each_side_has_every_kind_of_question():
    assert 0.55 <= sum(pair.split == "tune" for pair in PAIRS) / len(PAIRS) <= 0.65
    for language in ("ar", "en"):
        for answerable in (True, False):
            group = [p for p in PAIRS if p.lang == language and p.answerable == answerable]
            assert {p.split for p in group} == {"tune", "test"}, (language, answerable)


def test_footnote_numbers_are_in_the_reference_list_and_sorted():
    assert [pair.id for pair in PAIRS if not set(pair.footnotes) <= set(FOOTNOTE_NUMBERS)] == []
    assert [pair.id for pair in PAIRS if list(pair.footnotes) != sorted(set(pair.footnotes))] == []


def test_gold_footnotes_are_markers_of_the_evidence_paragraphs():
    wrong = {
        pair.id: (pair.footnotes, sorted(markers_around(pair)))
        for pair in ANSWERABLE
        if not set(pair.footnotes) <= markers_around(pair)
    }
    assert wrong == {}


def test_reference_list_pairs_quote_a_reference_line_and_name_its_number():
    for pair in (p for p in PAIRS if p.type == "reference-list"):
        lines = [
            line for e in pair.evidence for line in ARTICLE_TEXT.splitlines()
            if e in line and REFERENCE_LINE.match(line)
        ]
        assert lines, pair.id
        assert {int(MARKER.match(line).group(1)) for line in lines} == set(pair.footnotes), pair.id


def test_multi_passage_pairs_span_several_paragraphs():
    for pair in (p for p in PAIRS if p.type == "multi-passage"):
        blocks = {block for e in pair.evidence for block in paragraphs_containing(e)}
        assert len(blocks) >= 2, pair.id


def test_ids_name_the_language_and_arabic_is_written_as_characters():
    # "ar-01", "un-en-03", "arp-012" (people-typed), "arm-04" (ما هو questions)
    assert [pair.id for pair in PAIRS if not any(part.startswith(pair.lang) for part in pair.id.split("-"))] == []
    assert "\\u0" not in DEFAULT_PAIRS.read_text(encoding="utf-8")


def write_lines(path: Path, records: list[object]) -> Path:
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records) + "\n",
        encoding="utf-8",
    )
    return path


def test_blank_lines_are_skipped(tmp_path):
    path = write_lines(tmp_path / "qa.jsonl", ["", VALID, "   "])
    assert load_pairs(path) == [
        Pair(id="en-01", lang="en", question="Who wrote it?", evidence=("x",), answer="Someone",
             footnotes=(), type="entity")
    ]


@pytest.mark.parametrize(
    ("second_line", "problem"),
    [
        ("{not json", "invalid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ({k: v for k, v in VALID.items() if k != "answer"} | {"id": "en-02"}, "missing key(s) answer"),
        (VALID | {"id": "en-02", "type": ""}, "'type' must be a non-empty string"),
        (VALID | {"id": "en-02", "style": 3}, "'style' must be a non-empty string"),
        (VALID | {"id": "en-02", "split": "train"}, "split 'train'"),
        (VALID | {"id": "en-02", "lang": "fr"}, "lang 'fr'"),
        (VALID | {"id": "en-02", "footnotes": ["4"]}, "'footnotes' must be a list of integers"),
        (VALID | {"id": "en-02", "evidence": "x"}, "'evidence' must be a list"),
        (VALID | {"id": "en-02", "evidence": [], "footnotes": [3]}, "no footnotes"),
        (VALID, "duplicate id 'en-01'"),
    ],
)
def test_malformed_lines_name_file_line_and_problem(tmp_path, second_line, problem):
    path = write_lines(tmp_path / "qa.jsonl", [VALID, "", second_line])
    with pytest.raises(IqtibasError) as caught:
        load_pairs(path)
    assert f"{path}:3: " in str(caught.value)
    assert problem in str(caught.value)


def test_missing_file_is_an_iqtibas_error(tmp_path):
    with pytest.raises(IqtibasError, match="cannot read"):
        load_pairs(tmp_path / "absent.jsonl")
