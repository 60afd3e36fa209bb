"""The default model's OpenVINO export quantized to int8 by NNCF (static post-training quantization),
calibrated on the article's own text, for ``make bench`` to measure beside the f32 export.

sentence-transformers' ``export_static_quantized_openvino_model`` calibrates on a hub data set, which
cannot be downloaded here, so this calls ``nncf.quantize`` on the export itself.
"""

from __future__ import annotations

import time
from pathlib import Path

from iqtibas.index.model import (
    OPENVINO_CONFIG,
    OPENVINO_FILES,
    OPENVINO_FOLDER,
    model_path,
)

# What the quantized model shares with the default one's folder: configuration, tokenizer, pooling,
# prompts; not the export (replaced) nor the torch weights (never read on OpenVINO).
NOT_SHARED = {OPENVINO_FOLDER, "model.safetensors"}


def article_sentences(index) -> list[str]:
    """Every indexed sentence's text."""
    texts = []
    for position, start, end in index.sentence_spans.tolist():
        chunk = index.chunks[position]
        texts.append(chunk.text[start - chunk.start:end - chunk.start])
    return texts


def calibration_texts(index, config) -> list[str]:
    """The article as the model reads it: chunks and sentences with the passage prompt, as the index
    embeds them, and the sentences with the query prompt too, the way questions are embedded."""
    prompts = index.model.prompts
    sentences, chunks = article_sentences(index), [chunk.text for chunk in index.chunks]
    return ([prompts[config.passage_prompt] + text for text in chunks + sentences]
            + [prompts[config.query_prompt] + text for text in sentences])


def quantize_openvino(index, config, folder: Path) -> dict:
    """Write an int8 copy of the default model into ``folder`` (a sentence-transformers folder whose
    ``openvino/`` holds the quantized export); returns how it was made."""
    import nncf
    import numpy as np
    import openvino as ov

    source = model_path(config)
    folder.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        if item.name not in NOT_SHARED:
            (folder / item.name).symlink_to(item)
    texts = calibration_texts(index, config)
    started = time.perf_counter()
    model = ov.Core().read_model(source / OPENVINO_FOLDER / OPENVINO_FILES[0])
    inputs = {port.get_any_name() for port in model.inputs}

    def model_inputs(text: str) -> dict:
        """``text`` tokenized as the model reads it, one text per call (no padding)."""
        tokens = index.model.tokenizer(text, truncation=True, max_length=index.model.max_seq_length,
                                       return_tensors="np")
        found = {name: values for name, values in tokens.items() if name in inputs}
        if "token_type_ids" in inputs and "token_type_ids" not in found:  # XLM-R's tokenizer gives none
            found["token_type_ids"] = np.zeros_like(found["input_ids"])
        return found
    dataset = nncf.Dataset(texts, model_inputs)
    quantized = nncf.quantize(model, dataset, model_type=nncf.ModelType.TRANSFORMER, subset_size=len(texts))
    (folder / OPENVINO_FOLDER).mkdir()
    ov.save_model(quantized, folder / OPENVINO_FOLDER / OPENVINO_FILES[0])
    return {"calibration_texts": len(texts), "seconds": round(time.perf_counter() - started, 1),
            "size_mib": round(sum(f.stat().st_size for f in (folder / OPENVINO_FOLDER).iterdir()) / 2**20, 1)}


def load_quantized(folder: Path, config):
    """The int8 model on OpenVINO, with the precision hint the default model loads with."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(folder), device="cpu", backend="openvino", local_files_only=True,
                               model_kwargs={"ov_config": OPENVINO_CONFIG})
