"""Issue #15, finding 12: every setting's bounds are declared once, in config.py, checked when a
Config is made, shown in --help and in the README; breaking one is one line and exit status 2."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from iqtibas.cli import cli
from iqtibas.config import bounds_text, load_config, settings
from iqtibas.records import IqtibasError

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")

# (setting, a value out of its bounds): each used to pass, give a traceback, or cripple the answers.
IMPOSSIBLE = [
    ("candidates", "0"),
    ("batch_size", "0"),
    ("quote_sentences", "0"),
    ("k", "0"),
    ("k", "-3"),
    ("rrf_k", "-61"),
    ("confident_answer", "nan"),
    ("related_answer", "inf"),
    ("confident_answer", "1.5"),
    ("max_question_chars", "-1"),
    ("lexical_weight", "-0.5"),
    ("sentence_context", "1.5"),
    ("hnsw_ef_search", "0"),
    ("port", "99999"),
    ("concurrency", "0"),
    ("sessions", "0"),
]
BOUNDED = [f.name for f in settings() if bounds_text(f)]


def flag(setting: str) -> str:
    return "--" + setting.replace("_", "-")


@pytest.mark.parametrize(("setting", "value"), IMPOSSIBLE, ids=[f"{s}={v}" for s, v in IMPOSSIBLE])
def test_an_impossible_setting_is_one_line_and_exit_2(setting, value, tmp_path):
    command = {"port": ["chat"], "concurrency": ["chat"], "sessions": ["chat"], "batch_size": ["index", "build"],
               "sentence_context": ["index", "build"]}.get(setting, ["ask", "What is AUKUS?"])
    result = CliRunner().invoke(cli, [*command, "--index", str(tmp_path / "none"), flag(setting), value])
    assert result.exit_code == 2, (result.output, result.exception)
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and setting in lines[0] and flag(setting) in lines[0], lines


@pytest.mark.parametrize(("setting", "value"), IMPOSSIBLE[:4], ids=[s for s, _ in IMPOSSIBLE[:4]])
def test_an_impossible_setting_from_the_environment_is_refused_too(setting, value, monkeypatch):
    monkeypatch.setenv(f"IQTIBAS_{setting.upper()}", value)
    with pytest.raises(IqtibasError, match=f"{setting} .*must be"):
        load_config()


def test_nan_is_refused_for_every_float_setting():
    for f in settings():
        if f.type == "float":
            with pytest.raises(IqtibasError, match="finite number"):
                load_config(environ={}, **{f.name: math.nan})


def test_overlap_must_stay_below_the_chunk_size():
    assert load_config(environ={}, chunk_size=400, chunk_overlap=399).chunk_overlap == 399
    with pytest.raises(IqtibasError, match="chunk_overlap .*below chunk_size"):
        load_config(environ={}, chunk_size=400, chunk_overlap=400)


def test_the_bounds_themselves_are_allowed():
    config = load_config(environ={}, k=1, candidates=1, rrf_k=0, related_answer=0.0,
                         confident_answer=1.0, sentence_context=0.0, port=65535, max_question_chars=1)
    assert (config.k, config.rrf_k, config.port) == (1, 0, 65535)


@pytest.mark.parametrize("setting", BOUNDED)
def test_bounds_are_shown_in_help_and_in_the_readme(setting):
    field = next(f for f in settings() if f.name == setting)
    text = bounds_text(field)
    row = next(line for line in README.splitlines() if line.startswith(f"| `{setting}` | `IQTIBAS_"))
    assert f"| {text} |" in row, row
    helps = [" ".join(CliRunner().invoke(cli, [*command, "--help"]).output.split())
             for command in (["index", "build"], ["ask"], ["chat"])]
    assert any(f"Range: {text}." in help_text for help_text in helps if flag(setting) in help_text)


def test_the_settings_that_need_bounds_have_them():
    assert {"batch_size", "chunk_size", "chunk_overlap", "k", "candidates", "rrf_k", "quote_sentences",
            "confident_answer", "related_answer", "max_question_chars", "port", "concurrency",
            "sessions", "hnsw_m", "hnsw_ef_search", "ivf_nprobe", "ann_exact_limit"} <= set(BOUNDED)
