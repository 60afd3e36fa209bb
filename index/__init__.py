"""index/: embed chunks, store them in a self-describing folder, retrieve them.

The stage's public surface; nothing else is imported from outside the folder.
"""

from iqtibas.index.dense import DenseIndex
from iqtibas.index.fusion import reciprocal_rank_fusion
from iqtibas.index.model import (LatentTerms, embed, ensure_model, export_openvino, load_model, model_info,
                                 openvino_export_intact)
from iqtibas.index.search_index import Index, check_writable, stale_reasons

__all__ = [
    "DenseIndex",
    "Index",
    "LatentTerms",
    "check_writable",
    "embed",
    "ensure_model",
    "export_openvino",
    "load_model",
    "model_info",
    "openvino_export_intact",
    "reciprocal_rank_fusion",
    "stale_reasons",
]
