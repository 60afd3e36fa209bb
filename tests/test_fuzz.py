"""Issue #15: random bytes in questions and batch files, random damage to a real manifest, for a
bounded, seeded number of rounds: always an answer or one clear IqtibasError line, never a traceback."""

from __future__ import annotations

import copy
import json
import random
import shutil

import pytest
from click.testing import CliRunner

from iqtibas.chat import answer
from iqtibas.cli import batch_question, cli
from iqtibas.index import Index
from iqtibas.index.search_index import MANIFEST_SHAPE
from iqtibas.records import Answer, IqtibasError

ROUNDS = 30
SEED = 15
GOOD_LINES = [b"What is AUKUS?", '{"question": "ما هو S-400؟"}'.encode(), b"Who wrote this article?"]
# Values of every JSON type, to put where another type belongs.
WRONG_VALUES = [[], {}, "384", "", 384, -1, 3.5, None, True, ["x"], {"a": 1}]


def random_bytes(rng: random.Random) -> bytes:
    """A line of random bytes, weighted towards what breaks decoders: high bytes, BOMs, braces, escapes."""
    pieces = [bytes([rng.randrange(1, 256)]) for _ in range(rng.randint(1, 40))]
    pieces += rng.sample([b"\xef\xbb\xbf", b"\xff\xfe", b"{", b'"question"', b"\\ud800", b"\xed\xa0\x80", b"\r",
                          b"\xc3", b"\xf4\x90\x80\x80"], k=3)
    rng.shuffle(pieces)
    return b"".join(pieces).replace(b"\n", b" ").replace(b"\0", b" ")


def random_text(rng: random.Random) -> str:
    """A question of random codepoints, lone surrogates included."""
    return "".join(chr(rng.choice([rng.randrange(0x20, 0x7f), rng.randrange(0x600, 0x700), rng.randrange(0xd800, 0xe000),
                                   rng.randrange(0, 0x110000)])) for _ in range(rng.randint(0, 30)))


def test_random_questions_get_an_answer_or_a_clear_error(loaded_index, session_config):
    rng = random.Random(SEED)
    for _ in range(ROUNDS):
        question = random_text(rng)
        try:
            result = answer(question, loaded_index, session_config)
        except IqtibasError as error:
            assert "\n" not in str(error) and str(error)
        else:
            assert isinstance(result, Answer) and (result.abstained or result.quotes)


def test_random_batch_lines_each_get_an_answer_or_an_error_object(built_index, session_config):
    rng = random.Random(SEED)
    lines = [rng.choice(GOOD_LINES) if rng.random() < 0.3 else random_bytes(rng) for _ in range(ROUNDS)]
    for raw in lines:  # each line alone, as the batch reads it
        try:
            batch_question(raw + b"\n")
        except IqtibasError as error:
            assert "\n" not in str(error)
    result = CliRunner().invoke(cli, ["ask", "--index", str(session_config.index), "--json", "--batch", "-"],
                                input=b"\n".join(lines) + b"\n")
    assert result.exit_code in (0, 1), (result.exit_code, result.stderr, result.exception)
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    blank = sum(not raw.strip() for raw in lines)
    assert len(out) == len(lines) - blank  # every line answered or refused; none lost
    assert all("error" in o or "quotes" in o for o in out)
    assert (result.exit_code == 1) == any("error" in o for o in out)


def shaped_paths(value, shape, path=()):
    """Every key path into the manifest that MANIFEST_SHAPE describes."""
    if isinstance(shape, dict) and isinstance(value, dict):
        for key, inner in shape.items():
            if key in value:
                yield (*path, key)
                yield from shaped_paths(value[key], inner, (*path, key))
    elif isinstance(shape, list) and isinstance(value, list):
        for n, item in enumerate(value):
            yield (*path, n)
            yield from shaped_paths(item, shape[0], (*path, n))


def wrong_for(value, rng: random.Random):
    numbers = (int, float)
    candidates = [v for v in WRONG_VALUES if type(v) is not type(value)
                  and not (isinstance(value, float) and isinstance(v, numbers) and not isinstance(v, bool))]
    return rng.choice(candidates)


def damage(manifest: dict, rng: random.Random) -> tuple[dict, str]:
    """A copy of the manifest with one random, always damaging, change, and what it was."""
    damaged = copy.deepcopy(manifest)
    kind = rng.choice(["retype", "remove", "extra-file", "lose-file"])
    if kind in ("retype", "remove"):
        path = rng.choice(list(shaped_paths(damaged, MANIFEST_SHAPE)))
        parent = damaged
        for key in path[:-1]:
            parent = parent[key]
        if kind == "remove" and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = wrong_for(parent[path[-1]], rng)
        return damaged, f"{kind} {'.'.join(map(str, path))}"
    if kind == "extra-file":
        name = rng.choice(["/dev/zero", "../outside", "lexical/extra.npy", "chunks.jsonl/..", "notes.txt"])
        damaged["files"][name] = "%064x" % rng.getrandbits(256)
        return damaged, f"extra file {name}"
    name = rng.choice(sorted(damaged["files"]))
    del damaged["files"][name]
    return damaged, f"files without {name}"


def test_random_damage_to_a_real_manifest_is_one_clear_line(built_index, model, session_config, tmp_path):
    folder = tmp_path / "index"
    shutil.copytree(session_config.index, folder)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    rng = random.Random(SEED)
    for round_ in range(ROUNDS):
        damaged, what = damage(manifest, rng)
        (folder / "manifest.json").write_text(json.dumps(damaged, ensure_ascii=False), encoding="utf-8")
        with pytest.raises(IqtibasError) as raised:
            Index.load(folder, model, session_config)
        assert "\n" not in str(raised.value) and "iqtibas index build" in str(raised.value), (what, raised.value)
        if round_ % 3 == 0:  # and through the CLI, as a user meets it
            result = CliRunner().invoke(cli, ["index", "info", "--index", str(folder)])
            assert result.exit_code == 2 and "Traceback" not in result.output, (what, result.output)
            assert len(result.stderr.strip().splitlines()) == 1, (what, result.stderr)
