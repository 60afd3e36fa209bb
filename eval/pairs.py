"""The gold question–answer pairs the evaluation scores the bot against.

Each line of ``data/qa.jsonl`` is one JSON object::

    {"id": "en-05", "lang": "en", "question": "...", "evidence": ["<exact article substring>", ...],
     "answer": "...", "footnotes": [4], "type": "factoid"}

``evidence`` holds verbatim substrings of the article that answer the
question (empty for unanswerable questions); ``footnotes`` the numbers of the
footnote markers standing in or right after those sentences, or the number of
the reference line for ``reference-list`` questions.
"""

from __future__ import annotations

import json
from importlib import resources
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iqtibas.records import IqtibasError

# The pairs shipped with iqtibas, found as package data so an installed wheel has them too.
DEFAULT_PAIRS = Path(str(resources.files("iqtibas.eval").joinpath("data", "qa.jsonl")))

LANGUAGES = ("ar", "en")
UNANSWERABLE = "unanswerable"
PAIR_TYPES = (
    "factoid",
    "number-date",
    "entity",
    "why-how",
    "multi-passage",
    "paraphrase",
    "reference-list",
    UNANSWERABLE,
)
REQUIRED_KEYS = ("id", "lang", "question", "evidence", "answer", "footnotes", "type")


@dataclass(frozen=True)
class Pair:
    """One gold question with the article passages and footnotes that answer it."""

    id: str
    lang: str
    question: str
    evidence: tuple[str, ...]
    answer: str
    footnotes: tuple[int, ...]
    type: str

    @property
    def answerable(self) -> bool:
        return self.type != UNANSWERABLE


def load_pairs(path: Path | None = None) -> list[Pair]:
    """Read and validate a JSONL file of pairs (default: the shipped ones); blank lines are skipped.

    Raises :class:`IqtibasError` naming ``file:line`` and the problem for
    invalid JSON, a missing key, a wrong value type, an unknown ``lang`` or
    ``type``, evidence or footnotes that disagree with the type (an
    unanswerable pair has neither, every other pair has evidence) and a
    repeated id.
    """
    path = DEFAULT_PAIRS if path is None else path
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise IqtibasError(f"{path}: cannot read the pairs file ({error.strerror}).") from error
    pairs: list[Pair] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        pair = _parse_pair(line, where)
        if pair.id in seen:
            raise IqtibasError(f"{where}: duplicate id {pair.id!r}.")
        seen.add(pair.id)
        pairs.append(pair)
    return pairs


def _parse_pair(line: str, where: str) -> Pair:
    """Turn one JSON line into a :class:`Pair`, or raise naming ``where``."""
    try:
        record: Any = json.loads(line)
    except json.JSONDecodeError as error:
        raise IqtibasError(f"{where}: invalid JSON ({error.msg}).") from error
    if not isinstance(record, dict):
        raise IqtibasError(f"{where}: expected a JSON object.")
    missing = [key for key in REQUIRED_KEYS if key not in record]
    if missing:
        raise IqtibasError(f"{where}: missing key(s) {', '.join(missing)}.")
    for key in ("id", "lang", "question", "answer", "type"):
        if not isinstance(record[key], str) or not record[key].strip():
            raise IqtibasError(f"{where}: {key!r} must be a non-empty string.")
    evidence, footnotes = record["evidence"], record["footnotes"]
    if not isinstance(evidence, list) or not all(isinstance(e, str) and e for e in evidence):
        raise IqtibasError(f"{where}: 'evidence' must be a list of non-empty strings.")
    if not isinstance(footnotes, list) or not all(
        isinstance(n, int) and not isinstance(n, bool) for n in footnotes
    ):
        raise IqtibasError(f"{where}: 'footnotes' must be a list of integers.")
    if record["lang"] not in LANGUAGES:
        raise IqtibasError(f"{where}: lang {record['lang']!r} is not one of {', '.join(LANGUAGES)}.")
    if record["type"] not in PAIR_TYPES:
        raise IqtibasError(f"{where}: type {record['type']!r} is not one of {', '.join(PAIR_TYPES)}.")
    if (record["type"] == UNANSWERABLE) != (not evidence):
        raise IqtibasError(f"{where}: an unanswerable pair must have no evidence, any other pair some.")
    if record["type"] == UNANSWERABLE and footnotes:
        raise IqtibasError(f"{where}: an unanswerable pair must have no footnotes.")
    return Pair(
        id=record["id"],
        lang=record["lang"],
        question=record["question"],
        evidence=tuple(evidence),
        answer=record["answer"],
        footnotes=tuple(footnotes),
        type=record["type"],
    )
