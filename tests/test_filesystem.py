"""Issue #15, findings 10 and 17: a file or folder that cannot be written, a port that cannot be
listened on, is one line naming it and the fix, before any slow work; progress bars only on a terminal."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from iqtibas.cli import cli
from iqtibas.eval import DEFAULT_PAIRS

CONSOLE_SCRIPT = Path(sys.executable).with_name("iqtibas")
GOOD_EN = "Which Russian weapons were sold to China?"
PROGRESS_BAR = "%|"


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def clean_env() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith("IQTIBAS_")}


def test_index_dump_to_a_full_device_is_one_clear_line(built_index, session_config, assert_one_clear_line):
    result = run("index", "dump", "--index", session_config.index, "-o", "/dev/full")
    assert_one_clear_line(result, "/dev/full")
    assert "No space left" in result.stderr


@pytest.mark.parametrize("args", [["index", "info"], ["ask", GOOD_EN]], ids=["index-info", "ask"])
def test_stdout_on_a_full_device_is_one_clear_line(built_index, session_config, args):
    with open("/dev/full", "w") as full:
        result = subprocess.run([str(CONSOLE_SCRIPT), *args, "--index", str(session_config.index)], stdout=full,
                                stderr=subprocess.PIPE, text=True, env=clean_env(), timeout=300)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "No space left" in lines[0] and "output" in lines[0], lines


def test_an_unwritable_report_folder_is_refused_before_the_evaluation_runs(tmp_path, built_index, session_config,
                                                                            assert_one_clear_line):
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(DEFAULT_PAIRS.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    result = run("eval", "--index", session_config.index, "--eval-data", pairs, "--report-dir", blocker / "report")
    assert_one_clear_line(result, "--report-dir")
    assert str(blocker / "report") in result.stderr


@pytest.fixture
def busy_port():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def test_chat_on_a_port_in_use_is_one_clear_line(busy_port, tmp_path, assert_one_clear_line):
    result = run("chat", "--index", tmp_path / "none", "--port", busy_port)
    assert_one_clear_line(result, "--port")
    assert "in use" in result.stderr and str(busy_port) in result.stderr


def test_chat_on_a_host_that_is_not_an_address_says_so(tmp_path, assert_one_clear_line):
    result = run("chat", "--index", tmp_path / "none", "--host", "256.1.1.1")
    assert_one_clear_line(result, "--host")
    assert "256.1.1.1" in result.stderr and "Cannot find empty port" not in result.stderr


def test_no_progress_bars_when_the_output_is_not_a_terminal(tmp_path):
    """CliRunner's stderr is no terminal: building the model and an index prints no bar."""
    built = run("model", "build", "--models-dir", tmp_path / "models")
    assert built.exit_code == 0, built.output
    assert PROGRESS_BAR not in built.stderr and "built" in built.stdout
    indexed = run("index", "build", "--index", tmp_path / "index", "--models-dir", tmp_path / "models",
                  "--sentence-context", "0", "--article", Path(__file__).parent / "data" / "english_article.txt")
    assert indexed.exit_code == 0, indexed.output
    assert PROGRESS_BAR not in indexed.stderr and "Batches" not in indexed.stderr
    info = json.loads(run("index", "info", "--index", tmp_path / "index", "--json").stdout)
    assert info["counts"]["chunks"] > 0
