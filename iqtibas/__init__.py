"""iqtibas: quotation answers from an Arabic policy article."""

__version__ = "0.1.0"
