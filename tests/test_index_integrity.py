"""Issue #15, findings 6-8 and 11: an index folder is believed only as far as its files bear out its
manifest; a damaged one is one clear line saying to rebuild, and rebuilding repairs it."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from iqtibas.cli import cli
from iqtibas.config import load_config
from iqtibas.index import Index
from iqtibas.records import IqtibasError

GOOD_EN = "Which Russian weapons were sold to China?"
REBUILD = "iqtibas index build"
CONSOLE_SCRIPT = Path(sys.executable).with_name("iqtibas")


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def index_copy(built_index, session_config, tmp_path):
    folder = tmp_path / "index"
    shutil.copytree(session_config.index, folder)
    return folder


@pytest.fixture(scope="session")
def other_build(articles, model, tmp_path_factory):
    """The seed article indexed again with --chunk-size 400 (and sentences read alone, to be quick)."""
    from iqtibas.ingest import chunk_article

    config = load_config(environ={}, chunk_size=400, sentence_context=0,
                         index=tmp_path_factory.mktemp("other") / "index")
    chunks = [chunk for article in articles for chunk in chunk_article(article, config)]
    Index.build(articles, chunks, model, config).save(config.index)
    return config.index


def manifest_of(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def write_manifest(folder: Path, manifest: dict) -> None:
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")


def edit_manifest(folder: Path, change) -> None:
    manifest = manifest_of(folder)
    change(manifest)
    write_manifest(folder, manifest)


def restamp(folder: Path) -> None:
    """Record the sha256 of the files as they are now, as a careless copy or a forger would."""
    def stamp(manifest):
        for name in manifest["files"]:
            manifest["files"][name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    edit_manifest(folder, stamp)


def set_key(path: str, value):
    def change(manifest):
        *parents, last = path.split(".")
        target = manifest
        for key in parents:
            target = target[key]
        target[last] = value
    return change


DAMAGED_MANIFESTS = {
    "files-a-list": set_key("files", []),
    "files-empty": set_key("files", {}),
    "files-extra-dev-zero": lambda m: m["files"].update({"/dev/zero": "0" * 64}),
    "files-missing-one": lambda m: m["files"].pop("sentences.npy"),
    "model-a-list": set_key("model", []),
    "dimension-a-string": set_key("model.dimension", "384"),
    "dense-empty": set_key("dense", {}),
    "counts-a-list": set_key("counts", []),
    "articles-not-objects": set_key("articles", ["article.txt"]),
    "chunking-a-number": set_key("chunking", 700),
}


@pytest.mark.parametrize("change", DAMAGED_MANIFESTS.values(), ids=DAMAGED_MANIFESTS)
@pytest.mark.parametrize("command", [["ask", GOOD_EN], ["index", "info"], ["index", "dump"]],
                         ids=["ask", "info", "dump"])
def test_a_manifest_of_the_wrong_shape_is_damaged(index_copy, change, command, assert_one_clear_line):
    edit_manifest(index_copy, change)
    result = run(*command, "--index", index_copy)
    assert_one_clear_line(result, REBUILD)
    assert "manifest" in result.stderr


def test_a_files_entry_naming_dev_zero_does_not_hang(index_copy):
    edit_manifest(index_copy, DAMAGED_MANIFESTS["files-extra-dev-zero"])
    result = subprocess.run([str(CONSOLE_SCRIPT), "index", "info", "--index", str(index_copy)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert REBUILD in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_dense_kind_saying_hnsw_on_a_flat_index_is_refused(index_copy, assert_one_clear_line):
    edit_manifest(index_copy, set_key("dense.kind", "hnsw"))
    assert_one_clear_line(run("ask", "--index", index_copy, GOOD_EN), REBUILD)


def test_counts_that_disagree_with_the_chunks_are_refused(index_copy, assert_one_clear_line):
    edit_manifest(index_copy, set_key("counts.chunks", 49))
    assert_one_clear_line(run("ask", "--index", index_copy, GOOD_EN), REBUILD)


def replace_with_folder(path: Path) -> None:
    path.unlink()
    path.mkdir()


def replace_with_symlink_loop(path: Path) -> None:
    path.unlink()
    path.symlink_to(path.name)  # reading it fails: too many levels of symbolic links


def replace_with_fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)  # opening it would wait for a writer for ever


@pytest.mark.parametrize("breaker", [replace_with_folder, replace_with_symlink_loop, replace_with_fifo],
                         ids=["folder", "unreadable", "fifo"])
def test_a_part_that_is_not_a_readable_file_is_one_clear_line(index_copy, breaker, assert_one_clear_line):
    breaker(index_copy / "chunks.jsonl")
    for command in (["ask", GOOD_EN], ["index", "info"], ["index", "dump"]):
        result = run(*command, "--index", index_copy)
        assert_one_clear_line(result, REBUILD)
        assert "chunks.jsonl" in result.stderr


@pytest.mark.parametrize("part", ["sentences.npy", "lexical", "vectors.faiss", "sentence_vectors.npy", "latent_rows.npy",
                                  "latent_weights.npy"])
def test_a_part_from_another_build_is_refused_even_with_its_hash_restamped(index_copy, other_build, part,
                                                                             assert_one_clear_line):
    target = index_copy / part
    shutil.rmtree(target) if target.is_dir() else target.unlink()
    (shutil.copytree if (other_build / part).is_dir() else shutil.copy)(other_build / part, target)
    restamp(index_copy)
    result = run("ask", "--index", index_copy, GOOD_EN)
    assert_one_clear_line(result, REBUILD)


def test_index_build_if_stale_checks_the_files_it_vouches_for(index_copy):
    data = (index_copy / "vectors.faiss").read_bytes()
    (index_copy / "vectors.faiss").write_bytes(data[: len(data) // 2])
    (index_copy / "chunks.jsonl").unlink()
    result = run("index", "build", "--index", index_copy, "--if-stale")
    assert result.exit_code == 0, (result.output, result.exception)
    assert "up to date" not in result.output
    assert "rebuilding" in result.stderr and "chunks.jsonl" in result.stderr
    answered = run("ask", "--index", index_copy, "--json", GOOD_EN)
    assert answered.exit_code == 0 and json.loads(answered.stdout)["quotes"]


# -- symbolic links (finding 11) --------------------------------------------------------

def test_saving_through_a_symlinked_index_path_keeps_the_link_and_leaves_nothing(index_copy, model,
                                                                                 session_config, tmp_path):
    link = tmp_path / "current"
    link.symlink_to(index_copy, target_is_directory=True)
    Index.load(link, model, session_config).save(link)
    assert link.is_symlink() and link.resolve() == index_copy.resolve()
    assert (index_copy / "manifest.json").is_file()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == []
    Index.load(link, model, session_config)  # still a sound index


def test_a_symlink_loop_as_the_index_path_is_one_clear_line(tmp_path, assert_one_clear_line):
    loop = tmp_path / "loop"
    loop.symlink_to(loop.name)
    for command in (["ask", GOOD_EN], ["index", "info"], ["index", "build"]):
        result = run(*command, "--index", loop)
        assert_one_clear_line(result, "symbolic link", REBUILD)


@pytest.fixture
def immutable(tmp_path):
    """Makes folders read-only even for root (chattr +i); undone after the test."""
    made = []

    def make(path: Path) -> Path:
        if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
            pytest.skip("chattr +i is not available here")
        made.append(path)
        return path

    yield make
    for path in made:
        subprocess.run(["chattr", "-i", str(path)], check=False)


def test_a_read_only_index_folder_is_refused_before_building_and_leaves_nothing(index_copy, immutable,
                                                                               assert_one_clear_line):
    before = (index_copy / "manifest.json").read_bytes()
    immutable(index_copy)
    result = run("index", "build", "--index", index_copy)
    assert_one_clear_line(result, "--index")
    assert str(index_copy) in result.stderr
    assert (index_copy / "manifest.json").read_bytes() == before
    assert [p.name for p in index_copy.parent.iterdir() if p.name.startswith(".")] == []


def test_a_read_only_parent_folder_is_refused_before_building(tmp_path, immutable, assert_one_clear_line):
    parent = tmp_path / "locked"
    parent.mkdir()
    immutable(parent)
    result = run("index", "build", "--index", parent / "index")
    assert_one_clear_line(result, "--index")
    assert str(parent) in result.stderr


def test_saving_into_a_read_only_folder_raises_a_clear_error(index_copy, model, session_config, immutable):
    index = Index.load(index_copy, model, session_config)
    immutable(index_copy)
    with pytest.raises(IqtibasError, match=f"{index_copy}.*--index"):
        index.save(index_copy)
