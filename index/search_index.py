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
    lexical/               the bm25s index (see lexical.py)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import re
import shutil
import time
from collections import Counter
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

import iqtibas
from iqtibas.config import Config
from iqtibas.index.countries import countries_in, name_terms
from iqtibas.index.dense import DenseIndex
from iqtibas.index.lexical import LexicalIndex
from iqtibas.index.model import embed, embed_in_context
from iqtibas.index.sentences import sentence_spans
from iqtibas.records import Article, Chunk, Footnote, Hit, IqtibasError, Sentence

FORMAT_VERSION = 3
MANIFEST = "manifest.json"
CHUNKS = "chunks.jsonl"
FOOTNOTES = "footnotes.jsonl"
SENTENCES = "sentences.npy"
SENTENCE_VECTORS = "sentence_vectors.npy"
CONTEXT_VECTORS = "context_vectors.npy"
LEXICAL = "lexical"
SEARCH_MODES = ("hybrid", "dense", "lexical")
MANIFEST_KEYS = ("model", "probes", "articles", "chunking", "dense", "counts", "files")
QUERY_CACHE_SIZE = 256
# Words by which a question asks for a source; then reference-list entries rank as body passages do.
SOURCE_QUESTION = re.compile(
    r"\b(sources?|references?|cit(?:e|es|ed|ing|ation)|footnotes?|report(?:ed|s)?|publish(?:ed|er|es)?"
    r"|publications?|newspapers?|journals?|outlets?)\b"
    r"|مصدر|مصادر|مرجع|مراجع|حاشي|هامش|نشر|صحيف|نقلت|استشهد",
    re.IGNORECASE,
)
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


def asks_for_source(question: str) -> bool:
    return bool(SOURCE_QUESTION.search(question))


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


def _remove_abandoned_folders(path: Path) -> None:
    """Clear what builds of ``path`` left when they were killed.

    A staging folder is removed; a retired index is put back if it was killed
    between its two renames (so ``path`` is missing), else removed.
    """
    for folder in sorted(path.parent.glob(f".{path.name}.*-*")):
        pid = folder.name.rsplit("-", 1)[-1]
        if not pid.isdigit() or _process_alive(int(pid)):
            continue
        if folder.name.startswith(f".{path.name}.previous-") and not path.exists():
            folder.rename(path)
        else:
            shutil.rmtree(folder, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # a folder of our own is left over from an earlier, failed save
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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


class _Stopwatch:
    """Adds the milliseconds since the previous lap to ``timing[name]``."""

    def __init__(self, timing: dict[str, float]):
        self.timing = timing
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timing[name] = round(self.timing.get(name, 0.0) + (now - self.last) * 1000, 3)
        self.last = now


class Index:
    """Chunks of one or more articles, searchable by meaning and by words."""

    def __init__(self, manifest: dict, chunks: list[Chunk], footnotes: list[Footnote], dense: DenseIndex,
                 lexical: LexicalIndex, sentences: np.ndarray, sentence_vectors: np.ndarray,
                 context_vectors: np.ndarray, model, config: Config):
        self.manifest = manifest
        self.chunks = chunks
        self.footnotes = {(f.article, f.number): f for f in footnotes}
        self.dense = dense
        self.lexical = lexical
        self.sentences = sentences
        self.sentence_vectors = sentence_vectors
        self.context_vectors = context_vectors
        self.model = model
        self.config = config
        self.path: Path | None = None
        self._is_reference = np.array([c.kind == "reference" for c in chunks])
        self._positions = {c.id: p for p, c in enumerate(chunks)}
        self._sentence_rows = {}
        for row, position in enumerate(sentences[:, 0]):
            self._sentence_rows.setdefault(int(position), []).append(row)
        self._query_vector = lru_cache(maxsize=QUERY_CACHE_SIZE)(self._embed_query)

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
        sentence_vectors = embed(model, sentence_texts, config.passage_prompt, config.batch_size, progress)
        context_vectors = _context_vectors(chunks, spans, sentence_vectors, model, config, progress)
        dense = DenseIndex.build(vectors, config)
        lexical = LexicalIndex.build(texts)
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
            "lexical": {"backend": "bm25s", "normalisation": "arabic"},
            "sentences": sentence_settings(config),
            "counts": {"chunks": len(chunks), "by_kind": dict(Counter(c.kind for c in chunks)),
                       "footnotes": len(footnotes), "sentences": len(spans)},
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "build_seconds": round(time.perf_counter() - started, 2),
            "versions": _versions(),
        }
        return cls(manifest, list(chunks), footnotes, dense, lexical, sentences, sentence_vectors, context_vectors,
                   model, config)

    def save(self, path: Path) -> None:
        """Write the folder atomically: into a temporary sibling, then renamed into place."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_abandoned_folders(path)
        staging = path.parent / f".{path.name}.building-{os.getpid()}"
        staging.mkdir()
        try:
            _write_jsonl(staging / CHUNKS, self.chunks)
            _write_jsonl(staging / FOOTNOTES, self.footnotes.values())
            self.dense.save(staging)
            np.save(staging / SENTENCES, self.sentences, allow_pickle=False)
            np.save(staging / SENTENCE_VECTORS, self.sentence_vectors, allow_pickle=False)
            np.save(staging / CONTEXT_VECTORS, self.context_vectors, allow_pickle=False)
            self.lexical.save(staging / LEXICAL)
            files = sorted(p for p in staging.rglob("*") if p.is_file())
            self.manifest["files"] = {str(p.relative_to(staging)): _sha256_file(p) for p in files}
            (staging / MANIFEST).write_text(json.dumps(self.manifest, ensure_ascii=False, indent=2), encoding="utf-8")
            retired = path.parent / f".{path.name}.previous-{os.getpid()}"
            if path.exists():
                path.rename(retired)
            staging.rename(path)
            shutil.rmtree(retired, ignore_errors=True)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        self.path = path

    # -- loading ------------------------------------------------------------------
    @staticmethod
    def read_manifest(path: Path) -> dict:
        path = Path(path)
        if not (path / MANIFEST).exists():
            raise IqtibasError(f"no index at {path}: build it with `iqtibas index build --index {path}`")
        try:
            manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise IqtibasError(f"{path / MANIFEST} is damaged ({error}): rebuild with `iqtibas index build`") from None
        if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
            found = manifest.get("format_version") if isinstance(manifest, dict) else "none"
            raise IqtibasError(
                f"index at {path} has format {found!r}, this iqtibas reads {FORMAT_VERSION}: "
                f"rebuild with `iqtibas index build`"
            )
        missing = [key for key in MANIFEST_KEYS if not isinstance(manifest.get(key), dict | list)]
        if missing:
            raise IqtibasError(f"{path / MANIFEST} lacks {', '.join(missing)}: rebuild with `iqtibas index build`")
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
        rebuild = "rebuild it with `iqtibas index build`"
        for name, digest in manifest.get("files", {}).items():
            file = path / name
            if not file.exists():
                raise IqtibasError(f"index at {path} lacks {name}: {rebuild}")
            if _sha256_file(file) != digest:
                raise IqtibasError(f"{file} was changed or damaged since the index was built: {rebuild}")
        built_with = manifest["model"]["name"]
        if built_with != config.model:
            raise IqtibasError(f"index at {path} was built with model {built_with!r}, not {config.model!r}: {rebuild}")
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
        except (OSError, ValueError) as error:
            raise IqtibasError(f"sentence arrays in {path} are damaged ({error}): {rebuild}") from None
        index = cls(
            manifest,
            _read_jsonl(path / CHUNKS, Chunk),
            _read_jsonl(path / FOOTNOTES, Footnote),
            DenseIndex.load(path, manifest["dense"]["kind"], config),
            LexicalIndex.load(path / LEXICAL),
            sentences,
            sentence_vectors,
            context_vectors,
            model,
            config,
        )
        if len(index.dense) != len(index.chunks):
            raise IqtibasError(f"index at {path} has {len(index.dense)} vectors for {len(index.chunks)} chunks: {rebuild}")
        index.path = path
        return index

    def changed_articles(self) -> list[str]:
        """Articles whose file, at the path recorded at build time, no longer matches its hash."""
        return [
            f"article {a['id']!r} ({a['path']}) changed since the index was built"
            for a in self.manifest["articles"]
            if Path(a["path"]).exists() and _sha256_file(Path(a["path"])) != a["sha256"]
        ]

    # -- searching ----------------------------------------------------------------
    def _embed_query(self, question: str) -> np.ndarray:
        return embed(self.model, [question], self.config.query_prompt)[0]

    def search(self, question: str, k: int | None = None, mode: str = "hybrid",
               timing: dict[str, float] | None = None) -> list[Hit]:
        """The ``k`` chunks that best answer ``question``, best first.

        ``timing``, when given, receives the milliseconds spent embedding the
        question, searching each side and fusing.
        """
        return self.search_batch([question], k, mode, timing)[0]

    def search_batch(self, questions: list[str], k: int | None = None, mode: str = "hybrid",
                     timing: dict[str, float] | None = None) -> list[list[Hit]]:
        if mode not in SEARCH_MODES:
            raise IqtibasError(f"search mode must be one of {', '.join(SEARCH_MODES)}, not {mode!r}")
        k = k or self.config.k
        clock = _Stopwatch(timing if timing is not None else {})
        return [self._search_one(question, k, mode, clock) for question in questions]

    def _search_one(self, question: str, k: int, mode: str, clock: _Stopwatch) -> list[Hit]:
        config = self.config
        fused: dict[int, float] = {}
        dense_scores: dict[int, float] = {}
        lexical_scores: dict[int, float] = {}
        if mode in ("hybrid", "dense"):
            query = self._query_vector(question)
            clock.lap("embed")
            scores, positions = self.dense.search(query[None, :], config.candidates)
            for rank, (score, position) in enumerate(zip(scores[0], positions[0])):
                if position >= 0:
                    dense_scores[int(position)] = float(score)
                    fused[int(position)] = 1.0 / (config.rrf_k + rank + 1)
            clock.lap("dense")
        if mode in ("hybrid", "lexical"):
            # The lexical ranking counts only as far as the question's words occur in the index.
            weight = config.lexical_weight * self.lexical.coverage(question) if mode == "hybrid" else 1.0
            scores = self.lexical.scores(question)
            matched = np.flatnonzero(scores > 0)
            top = matched[np.argsort(-scores[matched], kind="stable")][: config.candidates]
            clock.lap("lexical")
            for rank, position in enumerate(top):
                lexical_scores[int(position)] = float(scores[position])
                fused[int(position)] = fused.get(int(position), 0.0) + weight / (config.rrf_k + rank + 1)
        if not asks_for_source(question):
            for position in fused:
                if self._is_reference[position]:
                    fused[position] *= config.reference_weight
        ranked = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:k]
        hits = [
            Hit(self.chunks[p], score, rank, dense_scores.get(p), lexical_scores.get(p))
            for rank, (p, score) in enumerate(ranked, start=1)
        ]
        clock.lap("fusion")
        return hits

    def sentences_for(self, question: str, hits: list[Hit]) -> list[Sentence]:
        """Every sentence of the hits' chunks, scored by cosine similarity to the question,
        read alone and read within its passage."""
        query = self._query_vector(question)
        found = []
        for hit in hits:
            rows = self._sentence_rows.get(self._positions[hit.chunk.id], [])
            alone, in_context = self.sentence_vectors[rows] @ query, self.context_vectors[rows] @ query
            for row, similarity, contextual in zip(rows, alone, in_context):
                _, start, end = (int(v) for v in self.sentences[row])
                text = hit.chunk.text[start - hit.chunk.start:end - hit.chunk.start]
                found.append(Sentence(hit.chunk.id, hit.chunk.article, start, end, text, float(similarity),
                                      float(contextual)))
        return found

    def unknown_names(self, question: str) -> list[str]:
        """Years, model names and countries in the question that no indexed chunk names: the
        terms, then the countries' codes. A country counts as named when all the terms of its
        Arabic or its English name occur."""
        countries = [code for code in sorted(countries_in(question))
                     if not any(self.lexical.has_all(terms) for terms in name_terms(code))]
        return self.lexical.unknown_identifiers(question) + countries

    def footnote(self, article: str, number: int) -> Footnote | None:
        return self.footnotes.get((article, number))

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
    if manifest.get("model", {}).get("labels") != KIND_LABELS:
        reasons.append("this iqtibas embeds chunks with other labels")
    if manifest.get("model", {}).get("name") != config.model:
        reasons.append(f"model changed ({manifest.get('model', {}).get('name')!r} -> {config.model!r})")
    elif model is not None:
        disagreement = backend_disagreement(manifest, model)
        if disagreement:
            reasons.append(disagreement)
    return reasons
