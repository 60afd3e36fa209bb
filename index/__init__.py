"""index/: embed chunks, store them in a self-describing folder, search them.

The stage's public surface; nothing else is imported from outside the folder.
"""

from iqtibas.index.lexical import normalize_arabic, strip_diacritics, tokenize
from iqtibas.index.model import embed, ensure_model, export_openvino, load_model, model_info, openvino_export_intact
from iqtibas.index.search_index import Index, asks_for_source, stale_reasons
from iqtibas.index.sentences import sentence_spans

__all__ = [
    "Index",
    "asks_for_source",
    "embed",
    "ensure_model",
    "export_openvino",
    "load_model",
    "model_info",
    "normalize_arabic",
    "openvino_export_intact",
    "sentence_spans",
    "stale_reasons",
    "strip_diacritics",
    "tokenize",
]
