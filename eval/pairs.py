"""The gold question–answer pairs the evaluation scores the bot against.

Each line of ``data/qa.jsonl`` is one JSON object::

    {"id": "en-05", "lang": "en", "question": "...", "evidence": ["<exact article substring>", ...],
     "answer": "...", "footnotes": [4], "type": "factoid", "style": "standard", "split": "tune"}

``evidence`` holds verbatim substrings of the article that answer the
question; a pair is answerable exactly when it has some. ``footnotes`` holds the
numbers of the footnote markers standing in or right after those sentences, or
the number of the reference line for ``reference-list`` questions.

``type`` (what is asked: factoid, entity, why-how, ...) and the optional ``style`` (how the
question is typed: standard, dialect, typo, lowercase, ...; default standard) are free labels
the report breaks its tables down by; by convention unanswerable pairs have a type starting
with "unanswerable". The optional ``split`` ("tune" or "test") overrides the split derived from
the id (see :func:`derived_split`).
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iqtibas.config import Config
from iqtibas.question import usable_text, visible_text
from iqtibas.records import IqtibasError

# The pairs shipped with iqtibas, found as package data so an installed wheel has them too.
DEFAULT_PAIRS = Path(str(resources.files("iqtibas.eval").joinpath("data", "qa.jsonl")))

LANGUAGES = ("ar", "en")
REQUIRED_KEYS = ("id", "lang", "question", "evidence", "answer", "footnotes", "type")
DEFAULT_STYLE = "standard"
SPLITS = ("tune", "test")
TUNE_PERCENT = 60  # of the pairs, by their id's hash: the rest are the test split


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
    style: str = DEFAULT_STYLE
    split: str = ""  # "" means the split derived from the id
    source: str = field(default="", compare=False)  # "file:line" it was read from

    def __post_init__(self):
        if not self.split:
            object.__setattr__(self, "split", derived_split(self.id))

    @property
    def answerable(self) -> bool:
        return bool(self.evidence)


def derived_split(pair_id: str) -> str:
    """"tune" for 60 of every 100 ids, "test" for the rest, fixed by the id alone: the first 8 hex
    digits of its sha256, as a number, mod 100, below 60."""
    return "tune" if int(hashlib.sha256(pair_id.encode("utf-8")).hexdigest()[:8], 16) % 100 < TUNE_PERCENT else "test"


def load_pairs(path: Path | None = None, config: Config | None = None) -> list[Pair]:
    """Read and validate a JSONL file of pairs (default: the shipped ones); blank lines are skipped.

    Raises :class:`IqtibasError` naming ``file:line`` and the problem for a line
    that is not UTF-8, invalid JSON, a missing key, a wrong value type, an
    unknown ``lang`` or ``split``, a question that is not text or is empty (or,
    given ``config``, longer than its ``max_question_chars``), footnotes without
    evidence and a repeated id.
    """
    path = DEFAULT_PAIRS if path is None else path
    try:
        lines = Path(path).read_bytes().split(b"\n")
    except OSError as error:
        raise IqtibasError(f"{path}: cannot read the pairs file ({error.strerror}).") from error
    pairs: list[Pair] = []
    seen: set[str] = set()
    for number, raw in enumerate(lines, start=1):
        where = f"{path}:{number}"
        try:
            line = raw.decode("utf-8").lstrip("\ufeff")
        except UnicodeDecodeError as error:
            raise IqtibasError(f"{where}: not UTF-8 text (byte {error.start + 1}); save the file as UTF-8.") from None
        if not line.strip():
            continue
        pair = _parse_pair(line, where, config)
        if pair.id in seen:
            raise IqtibasError(f"{where}: duplicate id {pair.id!r}.")
        seen.add(pair.id)
        pairs.append(pair)
    return pairs


def _parse_pair(line: str, where: str, config: Config | None = None) -> Pair:
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
    for key in ("id", "lang", "question", "answer", "type", "style", "split"):
        if key in record and (not isinstance(record[key], str) or not record[key].strip()):
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
    if record.get("split", SPLITS[0]) not in SPLITS:
        raise IqtibasError(f"{where}: split {record['split']!r} is not one of {', '.join(SPLITS)}.")
    if not evidence and footnotes:
        raise IqtibasError(f"{where}: a pair without evidence (an unanswerable one) must have no footnotes.")
    _check_question(record["question"], where, config)
    return Pair(
        id=record["id"],
        lang=record["lang"],
        question=record["question"],
        evidence=tuple(evidence),
        answer=record["answer"],
        footnotes=tuple(footnotes),
        type=record["type"],
        style=record.get("style", DEFAULT_STYLE),
        split=record.get("split", ""),
        source=where,
    )


def _check_question(question: str, where: str, config: Config | None) -> None:
    """The checks the answer path makes, made when the pairs are read, naming the line."""
    try:
        cleaned = visible_text(usable_text(question))
    except IqtibasError as error:
        raise IqtibasError(f"{where}: {error}.") from None
    if not cleaned:
        raise IqtibasError(f"{where}: the question is empty once invisible characters are dropped.")
    if config is not None and len(cleaned) > config.max_question_chars:
        raise IqtibasError(f"{where}: the question is {len(cleaned)} characters long, over --max-question-chars "
                           f"{config.max_question_chars}; shorten it or raise the limit.")


def select_split(pairs: list[Pair], split: str) -> list[Pair]:
    """The pairs of one split ("tune", "test"), or all of them for "all"."""
    return list(pairs) if split == "all" else [pair for pair in pairs if pair.split == split]


def unknown_evidence(pairs: list[Pair], texts: list[str]) -> list[str]:
    """``file:line: evidence`` for every evidence string found verbatim in none of ``texts``."""
    return [f"{pair.source or pair.id}: {evidence[:60]!r}" for pair in pairs for evidence in pair.evidence
            if not any(evidence in text for text in texts)]
