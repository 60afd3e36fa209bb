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

import hashlib
import json
from importlib import resources
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iqtibas.records import IqtibasError

# The pairs shipped with iqtibas, found as package data so an installed wheel has them too.
DEFAULT_PAIRS = Path(str(resources.files("iqtibas.eval").joinpath("data", "qa.jsonl")))

LANGUAGES = ("ar", "en")
UNANSWERABLE = "unanswerable"  # by convention, unanswerable pairs' types start with this
SPLITS = ("tune", "test")
TUNE_SHARE = 60  # percent of pairs, by id, on which every weight, threshold and rule is chosen
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
    type: str  # a free label for the breakdown tables: what is asked
    style: str = "standard"  # a free label: how it is typed (dialect, typo, lowercase, …)
    split: str = ""  # "tune" or "test"; by default fixed by the id (see split_of)

    @property
    def answerable(self) -> bool:
        return bool(self.evidence)


def split_of(pair_id: str) -> str:
    """The fixed split of a pair: sha256 of its id, first 8 hex digits, mod 100 below TUNE_SHARE -> tune."""
    return "tune" if int(hashlib.sha256(pair_id.encode("utf-8")).hexdigest()[:8], 16) % 100 < TUNE_SHARE else "test"


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
    if record["type"].startswith(UNANSWERABLE) == bool(evidence):
        raise IqtibasError(f"{where}: a pair whose type starts with 'unanswerable' has no evidence, any other pair some.")
    if not evidence and footnotes:
        raise IqtibasError(f"{where}: an unanswerable pair must have no footnotes.")
    split = record.get("split", split_of(record["id"]))
    if split not in SPLITS:
        raise IqtibasError(f"{where}: split {split!r} is not one of {', '.join(SPLITS)}.")
    style = record.get("style", "standard")
    if not isinstance(style, str) or not style.strip():
        raise IqtibasError(f"{where}: 'style' must be a non-empty string.")
    return Pair(
        id=record["id"],
        lang=record["lang"],
        question=record["question"],
        evidence=tuple(evidence),
        answer=record["answer"],
        footnotes=tuple(footnotes),
        type=record["type"],
        style=style,
        split=split,
    )
