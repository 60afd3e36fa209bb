"""The Index facade: build, save, load and search one self-describing index folder.

Folder layout (every file's sha256 is in the manifest and checked on load)::

    manifest.json          format, model and its backend, probe vectors, articles and their sha256,
                           settings, counts, versions
    chunks.jsonl           one Chunk per line, in vector order
    footnotes.jsonl        one Footnote per line
    vectors.faiss          the dense index (see dense.py)
    sentences.npy          (chunk position, start, end) of every sentence
    sentence_vectors.npy   their embeddings, each sentence read alone, for quoting without re-embedding
    context_vectors.npy    the same sentences read within their passage (see Index.build)
    latent_*.npy           each sentence's strongest latent terms (see LatentTerms), rows of a sparse matrix
    lexical/               the bm25s index, and the model's vectors of its Arabic terms (see lexical.py)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import re
import stat
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

import iqtibas
from iqtibas.config import Config
from iqtibas.folders import atomic_folder
from iqtibas.index.dense import FAISS_FILE, DenseIndex
from iqtibas.index.fusion import reciprocal_rank_fusion
from iqtibas.index.lexical import LEXICAL_FILES, LexicalIndex
from iqtibas.index.model import LatentTerms, embed, embed_in_context, embed_with_states, latent_head_size, load_model
from iqtibas.question import TOKENIZER_VERSION, is_arabic_term, sentence_spans
from iqtibas.records import Article, Chunk, Footnote, Hit, IqtibasError, Question, Sentence

FORMAT_VERSION = 5
MANIFEST = "manifest.json"
CHUNKS = "chunks.jsonl"
FOOTNOTES = "footnotes.jsonl"
SENTENCES = "sentences.npy"
SENTENCE_VECTORS = "sentence_vectors.npy"
CONTEXT_VECTORS = "context_vectors.npy"
# A sentence's latent terms as a row of a sparse matrix: row offsets, feature numbers, weights.
LATENT_ROWS, LATENT_FEATURES, LATENT_WEIGHTS = "latent_rows.npy", "latent_features.npy", "latent_weights.npy"
# The strongest latent terms kept per sentence (of its ~250), weights scaled to the whole vector's length.
LATENT_KEPT = 128
LEXICAL = "lexical"
SEARCH_MODES = ("hybrid", "dense", "lexical")
# Every file a sound index folder holds; the manifest must list exactly these, with their sha256.
INDEX_FILES = frozenset({CHUNKS, FOOTNOTES, FAISS_FILE, SENTENCES, SENTENCE_VECTORS, CONTEXT_VECTORS,
                         LATENT_ROWS, LATENT_FEATURES, LATENT_WEIGHTS,
                         *(f"{LEXICAL}/{name}" for name in LEXICAL_FILES)})
DENSE_KINDS = ("flat", "hnsw", "ivf")
SHA256 = re.compile(r"[0-9a-f]{64}")
# What each manifest key holds: a type, a dict of keys and what they hold, or a one-item list (every item).
MANIFEST_SHAPE = {
    "format_version": int,
    "model": {"name": str, "backend": str, "dimension": int, "prompts": {"query": str, "passage": str},
              "labels": dict},
    "probes": list,
    "articles": [{"id": str, "path": str, "sha256": str, "title": str, "footnotes": int}],
    "chunking": {"chunk_size": int, "chunk_overlap": int},
    "dense": {"backend": str, "kind": str, "metric": str},
    "lexical": dict,
    "sentences": {"context_weight": float},
    "latent": {"features": int},
    "counts": {"chunks": int, "by_kind": dict, "footnotes": int, "sentences": int},
    "built_at": str,
    "build_seconds": float,
    "versions": dict,
    "files": dict,
}
REBUILD = "rebuild it with `iqtibas index build`"
QUERY_CACHE_SIZE = 256  # questions whose vectors are kept: a repeated question is not embedded again
# A few of the article's lines and questions, embedded when the index is built; their vectors go in
# the manifest. An index built on one backend (torch, openvino) is served on the other only if that
# one gives these texts the same vectors: cosine at least PROBE_MIN_COSINE, as the same model on two
# engines does (0.99999 and more for e5-small), which another model or other weights do not reach.
PROBES = (
    ("passage", "تُعد طائرات سوخوي Su-35 المقاتلة ومنظومات الدفاع الجوي S-400 من أبرز المعدات التقنية المتقدمة "
                "التي باعتها روسيا إلى الصين[4]."),
    ("passage", "وفي عام 2016 تم التوصل إلى اتفاقيات إضافية لبيع محركات الطائرات الروسية من طراز D-30 وAl-31 "
                "إلى الصين[5]."),
    ("passage", "[1] “US seeking to 'drive wedge' between Russia, China — Russian Foreign Ministry”, TASS, "
                "April 24, 2024, https://tass.com/politics/1780663"),
    ("query", "ما هي الأسلحة الروسية التي بيعت للصين؟"),
    ("query", "Which Russian weapons were sold to China?"),
)
PROBE_MIN_COSINE = 0.9999
# Probe vectors are stored to this many significant digits: float32 holds about seven.
PROBE_DIGITS = 7
# What a title, bio, disclaimer or reference chunk is embedded with besides its text, so "who
# wrote this?" finds the bio and "what is the title?" the title; bilingual, because questions
# come in both languages. Body chunks are embedded as they are: prefixing their (Arabic) section
# heading lowered English hit@3 from 0.92 to 0.82 on the evaluation set.
KIND_LABELS = {
    "title": "العنوان / Title",
    "bio": "الكاتب / Author",
    "disclaimer": "إخلاء المسؤولية / Disclaimer",
    "reference": "مرجع / Reference",
}


def embedding_text(chunk: Chunk, text: str | None = None) -> str:
    """``text`` (default: the chunk's) as embedded: after its kind's label, if it has one."""
    label = KIND_LABELS.get(chunk.kind)
    text = chunk.text if text is None else text
    return f"{label}: {text}" if label else text


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_jsonl(path: Path, records) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(dataclasses.asdict(record), ensure_ascii=False) + "\n")


def _read_jsonl(path: Path, cls):
    try:
        with open(path, encoding="utf-8") as handle:
            return [cls(**_tuples(json.loads(line))) for line in handle if line.strip()]
    except (OSError, ValueError, TypeError) as error:
        raise IqtibasError(f"{path} is damaged ({error})") from None


def _tuples(record: dict) -> dict:
    """JSON turns tuples into lists; the records are frozen and hold tuples."""
    return {key: tuple(value) if isinstance(value, list) else value for key, value in record.items()}


def _shape_problem(value, shape, where: str) -> str | None:
    """Where ``value`` differs from ``shape`` (see MANIFEST_SHAPE), or None."""
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return f"{where} is not an object"
        for key, inner in shape.items():
            if key not in value:
                return f"{where}.{key} is missing"
            problem = _shape_problem(value[key], inner, f"{where}.{key}")
            if problem:
                return problem
        return None
    if isinstance(shape, list):
        if not isinstance(value, list):
            return f"{where} is not a list"
        return next(filter(None, (_shape_problem(item, shape[0], f"{where}[{n}]") for n, item in enumerate(value))),
                    None)
    numbers = (int, float) if shape is float else (shape,)
    if not isinstance(value, numbers) or (isinstance(value, bool) and shape is not bool):
        return f"{where} is not {'a number' if shape is float else 'a ' + shape.__name__}"
    return None


def _manifest_problem(manifest: dict) -> str | None:
    """What makes a manifest (already of format FORMAT_VERSION) unusable, or None."""
    problem = _shape_problem(manifest, MANIFEST_SHAPE, "manifest")
    if problem:
        return problem
    if manifest["model"]["dimension"] < 1:
        return "manifest.model.dimension is not positive"
    if manifest["dense"]["kind"] not in DENSE_KINDS:
        return f"manifest.dense.kind is not one of {', '.join(DENSE_KINDS)}"
    if any(n < 0 for n in (manifest["counts"]["chunks"], manifest["counts"]["footnotes"],
                           manifest["counts"]["sentences"])):
        return "manifest.counts holds a negative count"
    listed = set(manifest["files"])
    if listed != INDEX_FILES:
        wrong = sorted(listed - INDEX_FILES) or sorted(INDEX_FILES - listed)
        return f"manifest.files {'lists unknown' if listed - INDEX_FILES else 'lacks'} {', '.join(wrong)}"
    if not all(isinstance(digest, str) and SHA256.fullmatch(digest) for digest in manifest["files"].values()):
        return "manifest.files holds a value that is not a sha256"
    return None


def _check_files(path: Path, manifest: dict) -> None:
    """Every file the manifest vouches for is a regular, readable file with the recorded sha256.

    Special files (a FIFO, /dev/zero through a link) are refused before they are opened.
    """
    for name in sorted(INDEX_FILES):
        file = path / name
        try:
            mode = os.stat(file).st_mode
            if not stat.S_ISREG(mode):
                raise IqtibasError(f"{file} is not a regular file: {REBUILD}")
            digest = _sha256_file(file)
        except FileNotFoundError:
            raise IqtibasError(f"index at {path} lacks {name}: {REBUILD}") from None
        except OSError as error:
            raise IqtibasError(f"cannot read {file} ({error.strerror}): {REBUILD}") from None
        if digest != manifest["files"][name]:
            raise IqtibasError(f"{file} was changed or damaged since the index was built: {REBUILD}")


def _real_folder(path: Path) -> Path:
    """``path`` with every symbolic link followed; IqtibasError for a loop."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # RuntimeError: Python 3.11's word for a symlink loop
        raise IqtibasError(f"{path} is a symbolic link that leads to itself (a loop): point it at a folder, "
                           f"or give --index another path") from None


def check_writable(path: Path) -> Path:
    """Where an index at ``path`` will really be written (symbolic links followed), once it is
    known that it can be: its parent takes a new folder and an existing index can be replaced.

    Cheap, so ``iqtibas index build`` asks before the slow embedding; raises IqtibasError naming
    the folder that refuses.
    """
    path = _real_folder(Path(path))
    probes = [(path.parent, f".{path.name}.probe-{os.getpid()}")]
    if path.exists():
        probes.append((path, f".probe-{os.getpid()}"))
    for folder, name in probes:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).mkdir()
            (folder / name).rmdir()
        except OSError as error:
            raise IqtibasError(f"cannot write the index at {path}: {folder} is not writable ({error.strerror}); "
                               f"make it writable or give --index another folder") from None
    return path


def _check_parts(path: Path, index: Index) -> None:
    """Every part holds one row per chunk or per sentence, and each sentence lies in its chunk.

    Parts from another build, with their hashes stamped anew, pass every sha256 check; they
    cannot pass this.
    """
    manifest, chunks, sentences = index.manifest, index.chunks, index.sentence_spans
    counts, dimension = manifest["counts"], manifest["model"]["dimension"]
    problems = []
    if len(chunks) != counts["chunks"]:
        problems.append(f"{len(chunks)} chunks where the manifest counts {counts['chunks']}")
    if len(index.footnotes) != counts["footnotes"]:
        problems.append(f"{len(index.footnotes)} footnotes where the manifest counts {counts['footnotes']}")
    if (len(index.dense), index.dense.dimension) != (len(chunks), dimension):
        problems.append(f"{len(index.dense)} {index.dense.dimension}-d vectors for {len(chunks)} chunks")
    if index.lexical.bm25.scores["num_docs"] != len(chunks):
        problems.append(f"a lexical index of {index.lexical.bm25.scores['num_docs']} texts for {len(chunks)} chunks")
    if sentences.ndim != 2 or sentences.shape[1] != 3 or sentences.dtype.kind not in "iu" \
            or len(sentences) != counts["sentences"]:
        problems.append(f"{SENTENCES} of shape {sentences.shape} for {counts['sentences']} sentences")
    else:
        problems += _sentence_problems(sentences, chunks)
    for name, vectors in ((SENTENCE_VECTORS, index.sentence_vectors), (CONTEXT_VECTORS, index.context_vectors)):
        if vectors.shape != (len(sentences), dimension):
            problems.append(f"{name} of shape {vectors.shape} for {len(sentences)} sentences of {dimension}-d")
    rows, features = index.latent_rows, index.latent_features
    if rows.ndim != 1 or len(rows) != len(sentences) + 1 or rows[0] != 0 or np.any(np.diff(rows) < 0) \
            or rows[-1] != len(features) or index.latent_weights.shape != features.shape \
            or (len(features) and (features.min() < 0 or features.max() >= manifest["latent"]["features"])):
        problems.append(f"latent terms of {len(rows) - 1} rows and {len(features)} entries for {len(sentences)} "
                        f"sentences and {manifest['latent']['features']} features")
    if problems:
        raise IqtibasError(f"index at {path} is inconsistent ({'; '.join(problems)}): its parts come from "
                           f"different builds; {REBUILD}")


def _write_parts(index: Index, folder: Path) -> None:
    """Every part of ``index`` into ``folder``, then the manifest with their sha256."""
    _write_jsonl(folder / CHUNKS, index.chunks)
    _write_jsonl(folder / FOOTNOTES, index.footnotes.values())
    index.dense.save(folder)
    np.save(folder / SENTENCES, index.sentence_spans, allow_pickle=False)
    np.save(folder / SENTENCE_VECTORS, index.sentence_vectors, allow_pickle=False)
    np.save(folder / CONTEXT_VECTORS, index.context_vectors, allow_pickle=False)
    for name, array in ((LATENT_ROWS, index.latent_rows), (LATENT_FEATURES, index.latent_features),
                        (LATENT_WEIGHTS, index.latent_weights)):
        np.save(folder / name, array, allow_pickle=False)
    index.lexical.save(folder / LEXICAL)
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    index.manifest["files"] = {str(p.relative_to(folder)): _sha256_file(p) for p in files}
    (folder / MANIFEST).write_text(json.dumps(index.manifest, ensure_ascii=False, indent=2), encoding="utf-8")


def _sentence_problems(sentences: np.ndarray, chunks: list[Chunk]) -> list[str]:
    positions, starts, ends = sentences[:, 0], sentences[:, 1], sentences[:, 2]
    if len(positions) and (positions.min() < 0 or positions.max() >= len(chunks)):
        return [f"{SENTENCES} names chunks beyond the {len(chunks)} there are"]
    chunk_starts = np.array([c.start for c in chunks], dtype=np.int64)[positions]
    chunk_ends = np.array([c.end for c in chunks], dtype=np.int64)[positions]
    outside = int(np.count_nonzero((starts < chunk_starts) | (ends > chunk_ends) | (starts >= ends)))
    return [f"{outside} sentence(s) in {SENTENCES} lie outside their chunk"] if outside else []


def _versions() -> dict:
    import bm25s
    import faiss
    import sentence_transformers
    import torch

    return {
        "iqtibas": iqtibas.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "faiss": faiss.__version__,
        "bm25s": bm25s.__version__,
        "sentence_transformers": sentence_transformers.__version__,
        "torch": torch.__version__,
        "openvino": _installed_version("openvino"),
        "optimum_intel": _installed_version("optimum-intel"),
    }


def _installed_version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def _probe_vectors(model, probes: list[dict], prompts: dict) -> np.ndarray:
    """The probes' vectors, each text embedded with its kind's prompt, in the probes' order."""
    return np.concatenate([embed(model, [probe["text"]], prompts[probe["kind"]]) for probe in probes])


def _probes(model, config: Config) -> list[dict]:
    """The probe texts with the vectors the model gives them, for the manifest."""
    probes = [{"kind": kind, "text": text} for kind, text in PROBES]
    prompts = {"query": config.query_prompt, "passage": config.passage_prompt}
    vectors = _probe_vectors(model, probes, prompts)
    return [{**probe, "vector": [float(f"{v:.{PROBE_DIGITS}g}") for v in vector]}
            for probe, vector in zip(probes, vectors)]


def backend_disagreement(manifest: dict, model) -> str | None:
    """Why ``model`` cannot serve the index: it runs on another backend than the index was built
    with and gives the probe texts other vectors. None when it can.

    On the backend the index was built with, the vectors are the ones it holds; nothing is embedded.
    """
    built_on, running_on = manifest["model"].get("backend"), model.get_backend()
    if built_on == running_on:
        return None
    probes = manifest["probes"]
    try:
        stored = np.array([probe["vector"] for probe in probes], dtype=np.float32)
        ours = _probe_vectors(model, probes, manifest["model"]["prompts"])
    except (KeyError, TypeError, ValueError) as error:
        return f"the index's probes are damaged ({type(error).__name__}: {error})"
    if stored.shape != ours.shape:
        return f"the index's probe vectors are {stored.shape[-1]}-d, the model makes {ours.shape[-1]}-d"
    stored /= np.linalg.norm(stored, axis=1, keepdims=True)
    worst = float(np.min(np.sum(stored * ours, axis=1)))
    if worst >= PROBE_MIN_COSINE:
        return None
    return (f"the index was built on {built_on} and the model on {running_on} gives its probe texts other vectors "
            f"(cosine {worst:.5f}, below {PROBE_MIN_COSINE})")


def chunk_settings(config: Config) -> dict:
    """The settings that, when changed, make an index stale."""
    return {"chunk_size": config.chunk_size, "chunk_overlap": config.chunk_overlap}


def sentence_settings(config: Config) -> dict:
    return {"context_weight": config.sentence_context}


def _context_vectors(chunks: list[Chunk], spans: list[tuple[int, int, int]], alone: np.ndarray, model,
                     config: Config, progress: bool) -> np.ndarray:
    """Each sentence's vector read within its whole passage, mixed with its vector read alone.

    A sentence read alone loses what its passage says around it ("the S-400" sentence of a
    paragraph on arms sales); read only in context it blurs into its neighbours. The mix,
    ``sentence_context`` of the first, ranked the evaluation's evidence best (`iqtibas eval`).
    """
    weight = config.sentence_context
    if weight == 0:
        return alone.copy()
    by_chunk: dict[int, list[tuple[int, int, int]]] = {}
    for row, (position, start, end) in enumerate(spans):
        by_chunk.setdefault(position, []).append((row, start, end))
    positions = sorted(by_chunk)
    texts = [embedding_text(chunks[p]) for p in positions]
    # Offsets within the embedded text: after the kind label, if any.
    shifts = [len(text) - len(chunks[p].text) - chunks[p].start for text, p in zip(texts, positions)]
    in_context = embed_in_context(
        model, texts, [[(s + shift, e + shift) for _, s, e in by_chunk[p]] for p, shift in zip(positions, shifts)],
        config.passage_prompt, config.batch_size, progress)
    mixed = alone.copy()
    for p, vectors in zip(positions, in_context):
        rows = [row for row, _, _ in by_chunk[p]]
        mixed[rows] = (1 - weight) * alone[rows] + weight * vectors
    return mixed / np.linalg.norm(mixed, axis=1, keepdims=True)


def _latent_rows(latent: LatentTerms | None, states: list[np.ndarray], count: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each sentence's LATENT_KEPT strongest latent terms, as the rows of a sparse matrix (row
    offsets, feature numbers, weights over the whole vector's length); ``count`` empty rows when
    the model has no head."""
    rows, features, weights = [0], [], []
    for sentence_states in (states if latent is not None else []):
        pooled = latent.features(sentence_states)
        kept = np.argsort(-pooled, kind="stable")[:LATENT_KEPT]
        kept = kept[pooled[kept] > 0]
        features.append(kept)
        weights.append(pooled[kept] / (np.linalg.norm(pooled) or 1.0))
        rows.append(rows[-1] + len(kept))
    rows += [rows[-1]] * (count + 1 - len(rows))
    return (np.array(rows, dtype=np.int64),
            np.concatenate(features).astype(np.int32) if features else np.zeros(0, np.int32),
            np.concatenate(weights).astype(np.float32) if weights else np.zeros(0, np.float32))


class _Stopwatch:
    """Adds the milliseconds since the previous lap to ``timing[name]``."""

    def __init__(self, timing: dict[str, float]):
        self.timing = timing
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timing[name] = round(self.timing.get(name, 0.0) + (now - self.last) * 1000, 3)
        self.last = now


class QueryVectors:
    """Questions' query vectors by their cleaned text, the ``size`` most recently used kept; with
    ``latent`` (a text's token states -> its latent-term vector), each text's latent terms too,
    from the same pass."""

    def __init__(self, model, prompt_name: str, size: int, latent: Callable[[np.ndarray], np.ndarray] | None = None):
        self.model, self.prompt_name, self.size, self.latent_of = model, prompt_name, size, latent
        self._vectors: OrderedDict[str, tuple[np.ndarray, np.ndarray | None]] = OrderedDict()
        self._lock = threading.Lock()  # the chat page answers several questions at once

    def __len__(self) -> int:
        return len(self._vectors)

    def __call__(self, text: str) -> np.ndarray:
        return self.many([text])[0]

    def latent(self, text: str) -> np.ndarray | None:
        """The text's latent-term vector (None without a head)."""
        return self._embedded([text])[0][1]

    def many(self, texts: list[str]) -> list[np.ndarray]:
        """The vectors of ``texts``; those not kept are embedded together, in one batch."""
        return [vector for vector, _ in self._embedded(texts)]

    def _embedded(self, texts: list[str]) -> list[tuple[np.ndarray, np.ndarray | None]]:
        with self._lock:
            known = {text: self._vectors[text] for text in texts if text in self._vectors}
            for text in known:
                self._vectors.move_to_end(text)
        missing = [text for text in dict.fromkeys(texts) if text not in known]
        if missing:
            if self.latent_of is None:
                vectors = embed(self.model, missing, self.prompt_name, batch_size=len(missing))
                known.update((text, (vector, None)) for text, vector in zip(missing, vectors))
            else:
                vectors, states = embed_with_states(self.model, missing, self.prompt_name, batch_size=len(missing))
                known.update((text, (vector, self.latent_of(state)))
                             for text, vector, state in zip(missing, vectors, states))
            with self._lock:
                self._vectors.update((text, known[text]) for text in missing)
                while len(self._vectors) > self.size:
                    self._vectors.popitem(last=False)
        return [known[text] for text in texts]

    def clear(self) -> None:
        with self._lock:
            self._vectors.clear()


class Index:
    """Chunks of one or more articles, searchable by meaning and by words."""

    def __init__(self, manifest: dict, chunks: list[Chunk], footnotes: list[Footnote], dense: DenseIndex,
                 lexical: LexicalIndex, sentences: np.ndarray, sentence_vectors: np.ndarray,
                 context_vectors: np.ndarray, latent_parts: tuple[np.ndarray, np.ndarray, np.ndarray],
                 latent: LatentTerms | None, model, config: Config):
        self.manifest = manifest
        self.chunks = chunks
        self.footnotes = {(f.article, f.number): f for f in footnotes}
        self.dense = dense
        self.lexical = lexical
        self.sentence_spans = sentences  # (chunk position, start, end) per row
        self.sentence_vectors = sentence_vectors
        self.context_vectors = context_vectors
        self.latent_rows, self.latent_features, self.latent_weights = latent_parts
        self.latent = latent
        self.model = model
        self.config = config
        self.path: Path | None = None
        self._is_reference = np.array([c.kind == "reference" for c in chunks])
        self._positions = {c.id: p for p, c in enumerate(chunks)}
        self._entries: dict[int, list[int]] = {}  # footnote number -> positions of the entries so numbered
        for p, c in enumerate(chunks):
            if c.kind == "reference":
                for number in c.footnotes:
                    self._entries.setdefault(number, []).append(p)
        self._sentence_rows = {}
        for row, position in enumerate(sentences[:, 0]):
            self._sentence_rows.setdefault(int(position), []).append(row)
        # A question's latent terms are read only over the features some sentence holds: the others
        # meet nothing, and the head's rows for them cost time.
        self._latent_features, columns = np.unique(self.latent_features, return_inverse=True)
        self._latent_matrix = None
        latent_of = None
        rows = self.latent_rows
        well_formed = rows.ndim == 1 and len(rows) == len(sentences) + 1 and len(rows) and rows[0] == 0 \
            and rows[-1] == len(self.latent_features) == len(self.latent_weights) and not np.any(np.diff(rows) < 0)
        if latent is not None and len(self._latent_features) and well_formed:  # else _check_parts says why
            from scipy.sparse import csr_matrix

            self._latent_matrix = csr_matrix((self.latent_weights, columns.ravel(), self.latent_rows),
                                             shape=(len(sentences), len(self._latent_features)))
            head = latent.restricted(self._latent_features)

            def latent_of(states: np.ndarray) -> np.ndarray:
                pooled = head.features(states)
                return pooled / (np.linalg.norm(pooled) or 1.0)
        self._query_vector = QueryVectors(model, config.query_prompt, QUERY_CACHE_SIZE, latent_of)
        centroid = sentence_vectors.mean(axis=0)
        self._hubness = sentence_vectors @ (centroid / (np.linalg.norm(centroid) or 1.0))

    # -- building -----------------------------------------------------------------
    @classmethod
    def build(cls, articles: list[Article], chunks: list[Chunk], model, config: Config,
              progress: bool = False) -> Index:
        if not chunks:
            raise IqtibasError("nothing to index: the articles gave no chunks")
        started = time.perf_counter()
        texts = [c.text for c in chunks]
        vectors = embed(model, [embedding_text(c) for c in chunks], config.passage_prompt, config.batch_size, progress)
        # A reference entry is quoted whole: it is one "sentence".
        spans = [(position, c.start + s, c.start + e)
                 for position, c in enumerate(chunks)
                 for s, e in ([(0, len(c.text))] if c.kind == "reference" else sentence_spans(c.text))]
        sentences = np.array(spans, dtype=np.int64).reshape(-1, 3)
        sentence_texts = [embedding_text(chunks[p], chunks[p].text[s - chunks[p].start:e - chunks[p].start])
                          for p, s, e in spans]
        latent = LatentTerms.load(config)
        if latent is None:
            sentence_vectors, states = embed(model, sentence_texts, config.passage_prompt, config.batch_size, progress), []
        else:
            sentence_vectors, states = embed_with_states(model, sentence_texts, config.passage_prompt,
                                                         config.batch_size, progress)
        latent_rows, latent_features, latent_weights = _latent_rows(latent, states, len(spans))
        context_vectors = _context_vectors(chunks, spans, sentence_vectors, model, config, progress)
        dense = DenseIndex.build(vectors, config)
        lexical = LexicalIndex.build(texts, lambda terms: embed(model, terms, config.query_prompt, config.batch_size))
        footnotes = [f for a in articles for f in a.footnotes]
        manifest = {
            "format_version": FORMAT_VERSION,
            "model": {"name": config.model, "dimension": dense.dimension, "backend": model.get_backend(),
                      "prompts": {"query": config.query_prompt, "passage": config.passage_prompt},
                      "labels": KIND_LABELS},
            "probes": _probes(model, config),
            "articles": [{"id": a.id, "path": a.path, "sha256": a.sha256, "title": a.title,
                          "footnotes": len(a.footnotes)} for a in articles],
            "chunking": chunk_settings(config),
            "dense": {"backend": "faiss", "kind": dense.kind, "metric": "inner_product"},
            "lexical": {"backend": "bm25s", "tokenizer": TOKENIZER_VERSION},
            "sentences": sentence_settings(config),
            "latent": {"features": len(latent) if latent is not None else 0},
            "counts": {"chunks": len(chunks), "by_kind": dict(Counter(c.kind for c in chunks)),
                       "footnotes": len(footnotes), "sentences": len(spans)},
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "build_seconds": round(time.perf_counter() - started, 2),
            "versions": _versions(),
        }
        return cls(manifest, list(chunks), footnotes, dense, lexical, sentences, sentence_vectors, context_vectors,
                   (latent_rows, latent_features, latent_weights), latent, model, config)

    def save(self, path: Path) -> None:
        """Write the folder atomically: into a temporary sibling, then renamed into place.

        A symbolic link at ``path`` stays a link; the folder it leads to is replaced. A folder that
        cannot be written (read-only, a full disk) is an IqtibasError naming it, and the previous
        index is left as it was.
        """
        given, path = Path(path), check_writable(path)
        try:
            with atomic_folder(path) as staging:
                _write_parts(self, staging)
        except (OSError, RuntimeError) as error:  # RuntimeError: FAISS's word for a failed write
            reason = getattr(error, "strerror", None) or f"a write failed: {str(error).strip().splitlines()[-1][:160]}"
            raise IqtibasError(f"cannot write the index at {path} ({reason}): free some space or make "
                               f"{path.parent} writable, or give --index another folder") from None
        self.path = given

    # -- loading ------------------------------------------------------------------
    @staticmethod
    def read_manifest(path: Path) -> dict:
        """The manifest of a sound index folder: of this format and shape, vouching for exactly the
        files an index holds, each there, regular and unchanged. Else an IqtibasError saying to rebuild."""
        path = Path(path)
        _real_folder(path)
        manifest_file = path / MANIFEST
        if not manifest_file.exists():
            raise IqtibasError(f"no index at {path}: build it with `iqtibas index build --index {path}`")
        try:
            if not stat.S_ISREG(os.stat(manifest_file).st_mode):
                raise IqtibasError(f"{manifest_file} is not a regular file: {REBUILD}")
            manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise IqtibasError(f"{manifest_file} is damaged ({error}): rebuild with `iqtibas index build`") from None
        if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
            found = manifest.get("format_version") if isinstance(manifest, dict) else "none"
            raise IqtibasError(
                f"index at {path} has format {found!r}, this iqtibas reads {FORMAT_VERSION}: "
                f"rebuild with `iqtibas index build`"
            )
        problem = _manifest_problem(manifest)
        if problem:
            raise IqtibasError(f"{manifest_file} is damaged ({problem}): {REBUILD}")
        _check_files(path, manifest)
        return manifest

    @classmethod
    def read_chunks(cls, path: Path) -> list[Chunk]:
        """The indexed chunks, in vector order, without loading vectors or a model."""
        cls.read_manifest(path)
        return _read_jsonl(Path(path) / CHUNKS, Chunk)

    @classmethod
    def load(cls, path: Path, model, config: Config) -> Index:
        """Load and check an index folder; every problem is an IqtibasError saying how to fix it."""
        path = Path(path)
        manifest = cls.read_manifest(path)
        rebuild = REBUILD
        built_with = manifest["model"]["name"]
        if built_with != config.model:
            raise IqtibasError(f"index at {path} was built with model {built_with!r}, not {config.model!r}: {rebuild}")
        if manifest["lexical"].get("tokenizer") != TOKENIZER_VERSION:
            raise IqtibasError(f"index at {path} was built with other search-term rules: {rebuild}")
        dimension = model.get_embedding_dimension()
        if manifest["model"]["dimension"] != dimension:
            raise IqtibasError(
                f"index at {path} holds {manifest['model']['dimension']}-d vectors, the model makes {dimension}-d: {rebuild}"
            )
        disagreement = backend_disagreement(manifest, model)
        if disagreement:
            raise IqtibasError(f"index at {path} cannot be served: {disagreement}; {rebuild}")
        try:
            sentences = np.load(path / SENTENCES, allow_pickle=False)
            sentence_vectors = np.load(path / SENTENCE_VECTORS, allow_pickle=False)
            context_vectors = np.load(path / CONTEXT_VECTORS, allow_pickle=False)
            latent_parts = tuple(np.load(path / name, allow_pickle=False)
                                 for name in (LATENT_ROWS, LATENT_FEATURES, LATENT_WEIGHTS))
        except (OSError, ValueError) as error:
            raise IqtibasError(f"sentence arrays in {path} are damaged ({error}): {rebuild}") from None
        if sentences.ndim != 2 or sentences.shape[1:] != (3,):
            raise IqtibasError(f"{path / SENTENCES} holds an array of shape {sentences.shape}, not (n, 3): {rebuild}")
        latent = LatentTerms.load(config)
        if (len(latent) if latent is not None else 0) != manifest["latent"]["features"]:
            raise IqtibasError(f"index at {path} was built with {manifest['latent']['features']} latent terms, the "
                               f"model has {len(latent) if latent is not None else 'none'}: {rebuild}")
        index = cls(
            manifest,
            _read_jsonl(path / CHUNKS, Chunk),
            _read_jsonl(path / FOOTNOTES, Footnote),
            DenseIndex.load(path, manifest["dense"]["kind"], config),
            LexicalIndex.load(path / LEXICAL),
            sentences,
            sentence_vectors,
            context_vectors,
            latent_parts,
            latent,
            model,
            config,
        )
        _check_parts(path, index)
        index.path = path
        return index

    @classmethod
    def open(cls, config: Config) -> Index:
        """Load the model and the configured index once, refusing a missing or stale index with the fix."""
        cls.read_manifest(config.index)  # fail before the slow model load
        index = cls.load(config.index, load_model(config), config)
        changed = index.changed_articles()
        if changed:
            raise IqtibasError(f"the index is stale ({'; '.join(changed)}): rebuild it with `iqtibas index build`")
        return index

    def changed_articles(self) -> list[str]:
        """Articles whose file, at the path recorded at build time, no longer matches its hash."""
        return [
            f"article {a['id']!r} ({a['path']}) changed since the index was built"
            for a in self.manifest["articles"]
            if Path(a["path"]).exists() and _sha256_file(Path(a["path"])) != a["sha256"]
        ]

    # -- searching ----------------------------------------------------------------
    def embed_questions(self, questions: list[Question]) -> None:
        """Embed the questions not embedded yet in one pass through the model, for their searches
        to come (several at once cost less per question than one by one)."""
        self._query_vector.many([question.cleaned for question in questions])

    def readings(self, question: Question, every_script: bool = False) -> tuple[tuple[str, ...], ...]:
        """Per question term, the index terms it may be written as (see LexicalIndex.readings). The Latin
        words the index lacks are embedded in the same pass as the question, and kept like questions.
        ``every_script`` also reads a term the index holds as written in the other script ("shoigu",
        in the English reference list, is شويغو in the body too)."""
        config = self.config
        words = self.lexical.untranslated(question.terms) if config.translations else []
        vectors = self._query_vector.many([question.cleaned, *words])[1:]
        also = {word: self.lexical.translations(vector, config.translations, config.translation_similarity)
                for word, vector in zip(words, vectors)}
        # A term of one spelling of what the question names also reads as its other spellings ("china": صين).
        for mention in question.mentions:
            for spelling in mention.spellings:
                others = [term for other in mention.spellings if other != spelling for term in other]
                for term in spelling:
                    also.setdefault(term, []).extend(others)
        # A model typed in Arabic letters ("اس 400", "سو-35") is the one the article writes in Latin (S-400).
        for letters, digits in zip(question.terms, question.terms[1:]):
            for term in self.lexical.designators_spelled(letters, digits):
                also.setdefault(letters, []).append(term)
                also.setdefault(digits, []).append(term)
        # A name typed in the other script than the question's ("Shoigu" in an Arabic question) is
        # also read as the article's own text spells it, though a reference line holds it as typed.
        for term in question.terms:
            if is_arabic_term(term) != (question.language == "ar"):
                also.setdefault(term, []).extend(self.lexical.across_scripts(term, held_too=True))
        return self.lexical.readings(question.terms, also, every_script)

    def search(self, question: Question, k: int | None = None, mode: str = "hybrid",
               timing: dict[str, float] | None = None) -> list[Hit]:
        """The ``k`` chunks that best answer ``question``, best first.

        Dense and lexical rankings, and (hybrid) their candidates ranked by their closest sentence,
        are fused by reciprocal rank; the lexical one counts only as far as the question's terms
        occur in the index (an English question shares only names with an Arabic body) unless it
        asks for a source, and
        reference-list entries are down-weighted unless the question asks for a source; an entry the
        question names by its number comes first.
        ``timing``, when given, receives the milliseconds spent embedding the question, searching
        each side and fusing.
        """
        if mode not in SEARCH_MODES:
            raise IqtibasError(f"search mode must be one of {', '.join(SEARCH_MODES)}, not {mode!r}")
        config = self.config
        clock = _Stopwatch(timing if timing is not None else {})
        rankings, dense_scores, lexical_scores = [], {}, {}
        # Read first: the question and the words it needs translated are embedded in one pass.
        readings = self.readings(question) if mode in ("hybrid", "lexical") else ()
        if mode in ("hybrid", "dense"):
            query = self._query_vector(question.cleaned)
            clock.lap("embed")
            positions, scores = self.dense.search(query, config.candidates)
            dense_scores = dict(zip(positions.tolist(), scores.tolist()))
            rankings.append((positions.tolist(), 1.0))
            clock.lap("dense")
        if mode in ("hybrid", "lexical"):
            positions, scores = self.lexical.search(readings, config.candidates)
            lexical_scores = dict(zip(positions.tolist(), scores.tolist()))
            # A question asking for a source wants reference-list entries, written in its own words
            # (the titles are English): there its lexical ranking counts in full.
            coverage = 1.0 if question.asks_for("source") else self.lexical.coverage(readings)
            weight = config.lexical_weight * coverage if mode == "hybrid" else 1.0
            rankings.append((positions.tolist(), weight))
            clock.lap("lexical")
        if mode == "hybrid" and config.sentence_weight:
            pool = {p for positions, _ in rankings for p in positions}
            rankings.append((self._by_best_sentence(query, pool), config.sentence_weight))  # timed with the fusion
            if self._latent_matrix is not None and config.latent_weight:
                latent = self._query_vector.latent(question.cleaned)
                rankings.append((self._by_latent_terms(latent, pool), config.latent_weight))
        fused = reciprocal_rank_fusion(rankings, config.rrf_k)
        if not question.asks_for("source"):
            fused = {p: score * config.reference_weight if self._is_reference[p] else score
                     for p, score in fused.items()}
        ranked = sorted(fused.items(), key=lambda item: (-item[1], item[0]))
        # A footnote the question names by number ("reference 5") is the entry it asks for: first.
        named = list(dict.fromkeys(p for number in question.footnotes for p in self._entries.get(number, [])))
        if named:
            top = ranked[0][1] if ranked else 0.0
            ranked = [(p, top) for p in named] + [(p, score) for p, score in ranked if p not in named]
        ranked = ranked[: k or config.k]
        hits = [
            Hit(self.chunks[p], score, rank, dense_scores.get(p), lexical_scores.get(p))
            for rank, (p, score) in enumerate(ranked, start=1)
        ]
        clock.lap("fusion")
        return hits

    def _by_best_sentence(self, query: np.ndarray, positions: set[int]) -> list[int]:
        """These chunk positions, ranked by their sentence closest to the query (read within its
        passage): a passage of several topics embeds further from a question than its answer does."""
        rows = [row for p in positions for row in self._sentence_rows.get(p, [])]
        return self._by_best_row(rows, self.context_vectors[rows] @ query if rows else [])

    def _by_latent_terms(self, latent: np.ndarray, positions: set[int]) -> list[int]:
        """These chunk positions, ranked by their sentence whose latent terms best match the
        question's: what a passage is about, read by features both languages share."""
        rows = [row for p in positions for row in self._sentence_rows.get(p, [])]
        return self._by_best_row(rows, self._latent_matrix[rows] @ latent if rows else [])

    def _by_best_row(self, rows: list[int], similarities) -> list[int]:
        """The chunks of these sentence rows, ranked by their best row's similarity."""
        best: dict[int, float] = {}
        for row, similarity in zip(rows, np.asarray(similarities).tolist()):
            p = int(self.sentence_spans[row, 0])
            best[p] = max(best.get(p, -1.0), similarity)
        return sorted(best, key=lambda p: (-best[p], p))

    def sentences(self, question: Question, hits: list[Hit]) -> list[Sentence]:
        """Every sentence of the hits' chunks, with its cosine similarity to the question,
        read alone and read within its passage, its hubness, and how well its latent terms
        match the question's."""
        query = self._query_vector(question.cleaned)
        latent = self._query_vector.latent(question.cleaned) if self._latent_matrix is not None else None
        found = []
        for hit in hits:
            rows = self._sentence_rows.get(self._positions[hit.chunk.id], [])
            alone, in_context = self.sentence_vectors[rows] @ query, self.context_vectors[rows] @ query
            matched = (np.asarray(self._latent_matrix[rows] @ latent).ravel() if latent is not None and rows
                       else np.zeros(len(rows)))
            for row, similarity, contextual, latent_match in zip(rows, alone, in_context, matched):
                _, start, end = (int(v) for v in self.sentence_spans[row])
                text = hit.chunk.text[start - hit.chunk.start:end - hit.chunk.start]
                found.append(Sentence(hit.chunk.id, hit.chunk.article, start, end, text, float(similarity),
                                      float(contextual), float(self._hubness[row]), float(latent_match)))
        return found

    def knows(self, term: str, across_scripts: bool = True) -> bool:
        """Whether the indexed texts hold the search term (see LexicalIndex.knows): the vocabulary
        a question is read with."""
        return self.lexical.knows(term, across_scripts)

    def names(self, terms, across_scripts: bool = True) -> bool:
        """Whether the indexed texts hold every one of these search terms (False for none); with
        ``across_scripts``, also as another script spells them (see LexicalIndex.knows)."""
        return self.lexical.has_all(terms, across_scripts)

    def opening_sentences(self, kind: str) -> list[tuple[Chunk, int, int]]:
        """Per article, the first sentence of its first chunk of ``kind`` ("title", "bio"), as
        (chunk, start, end) in article offsets."""
        found, seen = [], set()
        for p, chunk in enumerate(self.chunks):
            rows = self._sentence_rows.get(p)
            if chunk.kind == kind and chunk.article not in seen and rows:
                seen.add(chunk.article)
                _, start, end = (int(v) for v in self.sentence_spans[rows[0]])
                found.append((chunk, start, end))
        return found

    def closing_sentences(self, is_closing: Callable[[str], bool]) -> list[tuple[Chunk, int, int]]:
        """Per article, the first and the last sentence of the body section whose heading
        ``is_closing`` accepts ("خاتمة", "Conclusion"), or of its last body paragraph where none
        does, as (chunk, start, end) in article offsets."""
        by_article: dict[str, list[int]] = {}
        for p, chunk in enumerate(self.chunks):
            if chunk.kind == "body" and p in self._sentence_rows:
                by_article.setdefault(chunk.article, []).append(p)
        found = []
        for positions in by_article.values():
            closing = [p for p in positions if is_closing(self.chunks[p].section)]
            if not closing:
                last = self.chunks[positions[-1]].paragraph
                closing = [p for p in positions if self.chunks[p].paragraph == last]
            rows = dict.fromkeys((self._sentence_rows[closing[0]][0], self._sentence_rows[closing[-1]][-1]))
            for row in rows:
                position, start, end = (int(v) for v in self.sentence_spans[row])
                found.append((self.chunks[position], start, end))
        return found

    def footnote(self, article: str, number: int) -> Footnote | None:
        return self.footnotes.get((article, number))

    def chunk(self, chunk_id: str) -> Chunk | None:
        position = self._positions.get(chunk_id)
        return None if position is None else self.chunks[position]

    def footnotes_numbered(self, number: int) -> list[Footnote]:
        """Every article's reference-list entry numbered ``number``, in article order."""
        return [self.footnotes[key] for key in sorted(self.footnotes) if key[1] == number]

    def info(self) -> dict:
        """The manifest, plus where the folder is."""
        return {"path": str(self.path) if self.path else None, **self.manifest}


def stale_reasons(manifest: dict, articles: list[Article], config: Config, model=None) -> list[str]:
    """Why an index described by ``manifest`` no longer matches the articles, the settings and,
    when ``model`` is given, the vectors that model makes (see ``backend_disagreement``; the
    model is needed only when it would run on another backend than the index was built with)."""
    reasons = []
    built = {a["id"]: a["sha256"] for a in manifest.get("articles", [])}
    wanted = {a.id: a.sha256 for a in articles}
    for article_id in sorted(set(built) | set(wanted)):
        if article_id not in wanted:
            reasons.append(f"article {article_id!r} is no longer selected")
        elif article_id not in built:
            reasons.append(f"article {article_id!r} is not in the index")
        elif built[article_id] != wanted[article_id]:
            reasons.append(f"article {article_id!r} changed since the index was built")
    if manifest.get("chunking") != chunk_settings(config):
        reasons.append(f"chunk settings changed ({manifest.get('chunking')} -> {chunk_settings(config)})")
    if manifest.get("sentences") != sentence_settings(config):
        reasons.append(f"sentence settings changed ({manifest.get('sentences')} -> {sentence_settings(config)})")
    if manifest.get("lexical", {}).get("tokenizer") != TOKENIZER_VERSION:
        reasons.append("this iqtibas reads search terms by other rules")
    if manifest.get("latent", {}).get("features") != latent_head_size(config):
        reasons.append("the model's latent terms are not the index's")
    if manifest.get("model", {}).get("labels") != KIND_LABELS:
        reasons.append("this iqtibas embeds chunks with other labels")
    if manifest.get("model", {}).get("name") != config.model:
        reasons.append(f"model changed ({manifest.get('model', {}).get('name')!r} -> {config.model!r})")
    elif model is not None:
        disagreement = backend_disagreement(manifest, model)
        if disagreement:
            reasons.append(disagreement)
    return reasons
