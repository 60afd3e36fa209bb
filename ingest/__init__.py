"""Ingest: article text files -> parsed Articles -> Chunks to index."""

from .chunk import chunk_article
from .load import load_articles
from .parse import parse_article

__all__ = ["chunk_article", "load_articles", "parse_article"]
