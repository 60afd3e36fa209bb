"""The dense side: FAISS inner-product search over normalised vectors."""

from __future__ import annotations

import math
from pathlib import Path

import faiss
import numpy as np

from iqtibas.config import Config
from iqtibas.records import IqtibasError

FAISS_FILE = "vectors.faiss"
# IVF wants about this many training points per cell; fewer cells than this make no sense.
IVF_POINTS_PER_CELL = 39
IVF_MIN_CELLS = 4
# k-means on a sample with few iterations: on all of 1M vectors each iteration takes minutes on
# 2 cores. `make bench` measured recall with exactly this recipe (and these HNSW settings).
IVF_TRAIN_SAMPLE = 50_000
IVF_TRAIN_ITERATIONS = 10
HNSW_EF_CONSTRUCTION = 80
SAMPLE_SEED = 0


def choose_kind(config: Config, count: int) -> str:
    """The FAISS index type for ``count`` vectors: exact below the configured limit, IVF above.

    IVF, not HNSW, above it: at 1M vectors `make bench` measured IVF (nprobe 256) at recall@10
    0.95 in 19 ms, built in 43 s, and HNSW (efSearch 256) at 0.91 in 5 ms, built in 15 minutes.
    """
    if config.ann != "auto":
        return config.ann
    return "flat" if count < config.ann_exact_limit else "ivf"


def kind_of(faiss_index) -> str | None:
    """"flat", "hnsw" or "ivf" for a FAISS index of one of those types, else None."""
    for kind, cls in (("hnsw", faiss.IndexHNSW), ("ivf", faiss.IndexIVF), ("flat", faiss.IndexFlat)):
        if isinstance(faiss_index, cls):
            return kind
    return None


def _factory_string(kind: str, count: int, config: Config) -> str:
    if kind == "flat":
        return "Flat"
    if kind == "hnsw":
        return f"HNSW{config.hnsw_m},Flat"
    cells = max(IVF_MIN_CELLS, min(int(4 * math.sqrt(count)), count // IVF_POINTS_PER_CELL))
    return f"IVF{cells},Flat"


class DenseIndex:
    """One FAISS index over L2-normalised vectors; searches return (positions, scores), best first."""

    def __init__(self, faiss_index, kind: str):
        self.faiss_index = faiss_index
        self.kind = kind

    @property
    def dimension(self) -> int:
        return self.faiss_index.d

    def __len__(self) -> int:
        return self.faiss_index.ntotal

    @classmethod
    def build(cls, vectors: np.ndarray, config: Config) -> DenseIndex:
        count, dimension = vectors.shape
        kind = choose_kind(config, count)
        index = faiss.index_factory(dimension, _factory_string(kind, count, config), faiss.METRIC_INNER_PRODUCT)
        if kind == "hnsw":
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        if kind == "ivf":
            faiss.extract_index_ivf(index).cp.niter = IVF_TRAIN_ITERATIONS
            rng = np.random.default_rng(SAMPLE_SEED)
            index.train(vectors[np.sort(rng.choice(count, min(count, IVF_TRAIN_SAMPLE), replace=False))])
        index.add(vectors)
        dense = cls(index, kind)
        dense.tune(config)
        return dense

    def tune(self, config: Config) -> None:
        """Apply the search-time settings (they are not stored in the FAISS file)."""
        if self.kind == "hnsw":
            self.faiss_index.hnsw.efSearch = config.hnsw_ef_search
        elif self.kind == "ivf":
            self.faiss_index.nprobe = config.ivf_nprobe

    def search(self, query: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
        """The positions and inner products of the ``count`` vectors nearest one query vector."""
        positions, scores = self.search_many(query[None, :], count)
        found = positions[0] >= 0  # an approximate index may return fewer than asked
        return positions[0][found], scores[0][found]

    def search_many(self, queries: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
        """For each row of ``queries``: positions (-1 for none found) and inner products, best first."""
        scores, positions = self.faiss_index.search(queries, min(count, len(self)))
        return positions, scores

    def save(self, folder: Path) -> None:
        faiss.write_index(self.faiss_index, str(folder / FAISS_FILE))

    @classmethod
    def load(cls, folder: Path, kind: str, config: Config) -> DenseIndex:
        path = folder / FAISS_FILE
        if not path.exists():
            raise IqtibasError(f"index folder {folder} has no {FAISS_FILE}")
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as error:
            reason = str(error).strip().splitlines()[-1][:160] if str(error).strip() else "unreadable"
            raise IqtibasError(f"{path} is damaged or truncated ({reason})") from None
        if kind_of(index) != kind:
            raise IqtibasError(f"{path} holds a {kind_of(index)} index, not the {kind} index its manifest names: "
                               f"rebuild it with `iqtibas index build`")
        dense = cls(index, kind)
        dense.tune(config)
        return dense
