"""Re-examine the chunking and abstention settings: rebuild, evaluate, calibrate, tabulate."""

from __future__ import annotations

import dataclasses

from tqdm import tqdm

from iqtibas.config import Config
from iqtibas.eval.evaluate import calibrate_threshold, evaluate
from iqtibas.eval.pairs import LANGUAGES, Pair
from iqtibas.index import Index
from iqtibas.ingest import chunk_article, load_articles

# (chunk size, overlap) pairs tried by `iqtibas eval --sweep`.
SWEEP_CHUNKING = ((300, 0), (500, 0), (700, 0), (1000, 0), (500, 100), (700, 150))


def sweep_settings(pairs: list[Pair], model, config: Config, progress: bool = False, split: str = "all") -> list[dict]:
    """One row per chunking setting: its figures and the abstention threshold calibrated for it,
    on the pairs of ``split``."""
    articles = load_articles(config.articles)
    rows = []
    for size, overlap in tqdm(SWEEP_CHUNKING, desc="sweep", disable=not progress):
        settings = dataclasses.replace(config, chunk_size=size, chunk_overlap=overlap)
        chunks = [chunk for article in articles for chunk in chunk_article(article, settings)]
        report = evaluate(pairs, Index.build(articles, chunks, model, settings), settings, split=split)
        calibrated = {lang: calibrate_threshold([q for q in report.questions if q["lang"] == lang],
                                                  settings.confident_answer) for lang in LANGUAGES}
        hybrid = report.figures["retrieval"]["hybrid"]
        answers = report.figures["answers"]["all"]
        rows.append({
            "chunk_size": size,
            "overlap": overlap,
            "chunks": len(chunks),
            "hit@3 ar": hybrid["lang:ar"]["hit@3"],
            "hit@3 en": hybrid["lang:en"]["hit@3"],
            "mrr@10": hybrid["all"]["mrr@10"],
            "evidence in quote": answers["evidence_in_quote"],
            "footnote recall": answers["footnote_recall"],
            **{f"threshold {lang}": calibrated[lang][0] for lang in LANGUAGES},
            **{f"balanced accuracy {lang}": calibrated[lang][1] for lang in LANGUAGES},
        })
    return rows
