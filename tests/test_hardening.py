"""Hostile and broken inputs: odd questions through the API and the running app, broken index
folders and models through the CLI, and a build killed half-way."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from gradio_client import Client

from iqtibas.chat import answer
from iqtibas.cli import cli
from iqtibas.records import IqtibasError


ROOT = Path(__file__).resolve().parents[1]
ARTICLE_TEXT = (ROOT / "data" / "article.txt").read_text(encoding="utf-8")
GOOD_EN = "Which fighter jets and air-defence systems did Russia sell to China?"
GOOD_AR = "ما هي الطائرات المقاتلة ومنظومات الدفاع الجوي التي باعتها روسيا إلى الصين؟"
SU35_START = "تُعد طائرات سوخوي Su-35"
SCRIPT = "<script>alert(1)</script>"

# id -> question. "unusable" questions must get a clear error; the rest an answer or an abstention.
UNUSABLE = {
    "empty": "",
    "whitespace": " \t\n\r\u00a0\u3000 ",
    "too-long": "x" * 20_000,
    "too-long-arabic": "ما " * 7_000,
    "only-invisible": "\u200b\u200c\u200d\ufeff\u200f\u202e\u2066\u2069\x00\x1f",
}
ODD = {
    "control-chars": "Which\x00 fighter\x07 jets\x1f and\x0b air-defence\x1b systems did Russia sell to China?",
    "zero-width-between-words": "Which \u200bfighter jets \u200cand air-defence \u200dsystems did \ufeffRussia sell to China?",
    "bidi-overrides": "\u202bما هي الطائرات المقاتلة ومنظومات \u2066S-400\u2069 الدفاع الجوي التي باعتها روسيا إلى الصين؟\u202c\u200f",
    "rlo": "\u202eما هو S-400؟\u202c",
    "emoji-only": "🙂🚀🇷🇺👍🏽",
    "html": "<b>bold</b> <img src=x onerror=alert(1)> What is AUKUS?",
    "script": SCRIPT,
    "script-in-question": f"What is AUKUS? {SCRIPT}",
    "lone-marker": "[4]",
    "tashkeel": "مَا هِيَ الأَسْلِحَةُ الَّتِي بَاعَتْهَا رُوسِيَا لِلصِّينِ؟",
    "arabizi": "shu hiya el asl7a elli ba3et-ha rusya lal seen?",
    "mixed-scripts": "What did روسيا sell to الصين? Что продала Россия? 中国 S-400",
    "noncharacters": "\uffff\ufffe What is S-400? \uffff",
    "markdown-latex": "**What** is $x^2$ `AUKUS` [a](javascript:alert(1)) \\(y\\)?",
}
# Already covered for the Python API by tests/test_answer.py.
COVERED_BY_TEST_ANSWER = {"empty", "too-long", "rlo", "lone-marker"}


# -- the Python API ---------------------------------------------------------------------

@pytest.mark.parametrize("question", [q for k, q in UNUSABLE.items() if k not in COVERED_BY_TEST_ANSWER],
                         ids=[k for k in UNUSABLE if k not in COVERED_BY_TEST_ANSWER])
def test_api_unusable_question_raises_a_clear_error(question, loaded_index, session_config):
    with pytest.raises(IqtibasError, match="empty|characters long"):
        answer(question, loaded_index, session_config)


@pytest.mark.parametrize("question", [q for k, q in ODD.items() if k not in COVERED_BY_TEST_ANSWER],
                         ids=[k for k in ODD if k not in COVERED_BY_TEST_ANSWER])
def test_api_odd_question_gets_an_answer_or_an_abstention(question, loaded_index, session_config):
    result = answer(question, loaded_index, session_config)
    assert result.question == question
    assert result.abstained or result.quotes
    assert all(quote.text in ARTICLE_TEXT for quote in result.quotes)


@pytest.mark.parametrize("question", ["control-chars", "zero-width-between-words"])
def test_invisible_characters_between_words_do_not_change_the_answer(question, loaded_index, session_config):
    noisy = answer(ODD[question], loaded_index, session_config)
    clean = answer(GOOD_EN, loaded_index, session_config)
    assert [q.text for q in noisy.quotes] == [q.text for q in clean.quotes]


def test_zero_width_characters_inside_words_do_not_change_the_answer(loaded_index, session_config):
    noisy = "Which fig\u200bhter jets and air-def\u200dence systems did Ru\u200bssia sell to Ch\ufeffina?"
    result = answer(noisy, loaded_index, session_config)
    assert not result.abstained
    assert any(q.text.startswith(SU35_START) for q in result.quotes)


def test_full_tashkeel_is_answered_like_the_plain_spelling(loaded_index, session_config):
    plain = answer("ما هي الأسلحة التي باعتها روسيا للصين؟", loaded_index, session_config)
    assert not plain.abstained  # the premise: without tashkeel it is answered
    voweled = answer(ODD["tashkeel"], loaded_index, session_config)
    assert not voweled.abstained
    assert [q.text for q in voweled.quotes] == [q.text for q in plain.quotes]


# -- the running app ----------------------------------------------------------------------

def chat_exchange(client: Client, question: str) -> tuple[list[dict], object]:
    textbox, history, sources = client.predict(question, [], api_name="/chat")
    assert textbox == ""
    assert history and history[-1]["role"] == "assistant"
    return history, sources


def message_html(message: dict) -> str:
    content = message["content"]
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


def assert_still_answering(client: Client) -> None:
    after = client.predict(GOOD_EN, api_name="/ask")
    assert "error" not in after, after
    assert any(q["text"].startswith(SU35_START) for q in after["quotes"])


@pytest.mark.parametrize("question", list(UNUSABLE.values()), ids=list(UNUSABLE))
def test_app_unusable_question_gets_a_clear_message(client, question, html_view):
    result = client.predict(question, api_name="/ask")
    assert set(result) == {"error"}
    assert "empty" in result["error"] or "characters long" in result["error"]
    assert "Traceback" not in result["error"]
    history, _ = chat_exchange(client, question)
    reply = html_view(message_html(history[-1]))
    assert [tag for tag, _ in reply.tags] and all(tag == "p" for tag, _ in reply.tags), reply.tags
    assert "went wrong" not in reply.visible()
    assert any(word in reply.visible() for word in ("question", "سؤال")), reply.visible()
    for message in history:
        assert len(message_html(message)) < 5_000 * 8, "a 20,000-character question was echoed whole"
    if "empty" in result["error"]:  # nothing visible: the "type a question" notice, and no empty bubble echoed
        assert [m["role"] for m in history] == ["assistant"]
        assert "Please type a question about the article." in reply.visible()
        assert "من فضلك اكتب سؤالًا عن المقال." in reply.visible()
    assert_still_answering(client)


@pytest.mark.parametrize("question", list(ODD.values()), ids=list(ODD))
def test_app_odd_question_gets_an_answer_or_abstention_and_no_markup(client, question, html_view):
    result = client.predict(question, api_name="/ask")
    assert "error" not in result, result
    assert result["question"] == question
    assert result["abstained"] or result["quotes"]
    assert all(q["text"] in ARTICLE_TEXT for q in result["quotes"])

    history, sources = chat_exchange(client, question)
    user = [m for m in history if m["role"] == "user"]
    assert len(user) == 1
    shown = html_view(message_html(user[0]))
    assert [tag for tag, _ in shown.tags] == ["div"], "the question's markup became elements"
    reply_html = message_html(history[-1])
    assert "went wrong" not in html_view(reply_html).visible()
    for html_text in (message_html(user[0]), reply_html, sources if isinstance(sources, str) else ""):
        assert "<script" not in html_text.lower()
        assert "<img" not in html_text.lower() and "<b>" not in html_text
        assert 'href="javascript' not in html_text.lower()
    if "<script>" in question:
        assert "&lt;script&gt;" in message_html(user[0])
    reply_tags = {tag for tag, _ in html_view(reply_html).tags}
    assert reply_tags <= {"div", "p", "blockquote", "a", "span", "ol", "ul", "li", "details", "summary"}, reply_tags
    assert_still_answering(client)


def test_app_chat_history_with_many_odd_turns_keeps_working(client, html_view):
    history: list = []
    for question in [*ODD.values(), "", GOOD_AR]:
        _, history, _ = client.predict(question, history, api_name="/chat")
    assert all("<script" not in message_html(m).lower() for m in history)
    reply = html_view(message_html(history[-1])).visible()
    assert SU35_START in reply


# -- broken state through the CLI ------------------------------------------------------

def cli_ask(*args: str):
    return CliRunner().invoke(cli, ["ask", *map(str, args)])


@pytest.fixture
def index_copy(built_index, session_config, tmp_path):
    folder = tmp_path / "copied-index"
    shutil.copytree(session_config.index, folder)
    return folder


def edit_manifest(folder: Path, change) -> None:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    change(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def edit_chunks(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    record = json.loads(lines[3])
    record["text"] = record["text"].replace("روسيا", "فرنسا") + " (edited)"
    lines[3] = json.dumps(record, ensure_ascii=False) + "\n"
    path.write_text("".join(lines), encoding="utf-8")


BREAKAGES = {
    "missing-folder": (lambda f: shutil.rmtree(f), "iqtibas index build"),
    "truncated-faiss": (lambda f: truncate(f / "vectors.faiss"), "iqtibas index build"),
    "edited-chunks": (lambda f: edit_chunks(f / "chunks.jsonl"), "iqtibas index build"),
    "deleted-chunks": (lambda f: (f / "chunks.jsonl").unlink(), "iqtibas index build"),
    "other-model": (lambda f: edit_manifest(f, lambda m: m["model"].update(name="intfloat/multilingual-e5-large")),
                    "iqtibas index build"),
    "manifest-not-json": (lambda f: (f / "manifest.json").write_text("{ not json", encoding="utf-8"),
                          "iqtibas index build"),
    "manifest-empty": (lambda f: (f / "manifest.json").write_bytes(b""), "iqtibas index build"),
    "manifest-a-list": (lambda f: (f / "manifest.json").write_text("[1, 2]", encoding="utf-8"), "iqtibas index build"),
    "manifest-without-model": (lambda f: edit_manifest(f, lambda m: m.pop("model")), "iqtibas index build"),
    "manifest-not-utf8": (lambda f: (f / "manifest.json").write_bytes(b"\xff\xfe{\x00"), "iqtibas index build"),
}

# Broken folders the CLI does not yet refuse cleanly; each is a bug documented in the report.


def breakage_params():
    for name, (breaker, hint) in BREAKAGES.items():
        yield pytest.param(breaker, hint, id=name)


@pytest.mark.parametrize(("breaker", "hint"), list(breakage_params()))
def test_cli_ask_on_a_broken_index_exits_2_with_one_clear_line(index_copy, breaker, hint, assert_one_clear_line):
    breaker(index_copy)
    result = cli_ask("--index", index_copy, GOOD_EN)
    assert_one_clear_line(result, hint)


@pytest.mark.parametrize("model_arg", ["/nonexistent/folder", "./no-such-model-here"])
def test_cli_ask_with_a_missing_model_exits_2_with_one_clear_line(index_copy, model_arg, assert_one_clear_line):
    result = cli_ask("--index", index_copy, "--model", model_arg, GOOD_EN)
    assert_one_clear_line(result, "iqtibas model build", "--model", "IQTIBAS_MODEL")
    assert model_arg.lstrip("./") in result.stderr


def test_cli_ask_with_an_empty_model_folder_exits_2(index_copy, tmp_path, assert_one_clear_line):
    empty = tmp_path / "empty-model"
    empty.mkdir()
    result = cli_ask("--index", index_copy, "--model", empty, GOOD_EN)
    assert_one_clear_line(result, "iqtibas model build", "--model")


def test_cli_ask_on_a_healthy_copy_still_answers(index_copy):
    """The control for the cases above: the copied folder itself is usable."""
    result = cli_ask("--index", index_copy, "--json", GOOD_EN)
    assert result.exit_code == 0, result.output
    assert any(q["text"].startswith(SU35_START) for q in json.loads(result.stdout)["quotes"])


# -- an interrupted build --------------------------------------------------------------

CONSOLE_SCRIPT = Path(sys.executable).with_name("iqtibas")
KILL_DEADLINE_S = 240


def cli_ok(*args: str):
    result = CliRunner().invoke(cli, list(map(str, args)))
    assert result.exit_code == 0, (result.output, result.stderr, result.exception)
    return result


def answer_json(folder: Path) -> dict:
    answered = json.loads(cli_ok("ask", "--index", folder, "--json", GOOD_AR).stdout)
    answered.pop("timing_ms")
    return answered


def staging_folders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}."))


@pytest.mark.skipif(not CONSOLE_SCRIPT.exists(), reason=f"no console script at {CONSOLE_SCRIPT}")
def test_a_killed_build_leaves_the_previous_index_usable(tmp_path):
    folder = tmp_path / "idx"
    cli_ok("index", "build", "--index", folder)
    info_before = cli_ok("index", "info", "--index", folder, "--json").stdout
    manifest_before = (folder / "manifest.json").read_bytes()
    answer_before = answer_json(folder)

    # The rebuild is killed the moment its staging folder appears: while it writes the new index.
    env = {k: v for k, v in os.environ.items() if not k.startswith("IQTIBAS_")}
    process = subprocess.Popen([str(CONSOLE_SCRIPT), "index", "build", "--index", str(folder), "--chunk-size", "400"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    staging = folder.parent / f".{folder.name}.building-{process.pid}"
    deadline = time.monotonic() + KILL_DEADLINE_S
    try:
        while not staging.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        seen = staging.exists()
        process.send_signal(signal.SIGKILL)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
    assert seen, f"the build ended (rc {process.returncode}) before its staging folder was seen"
    assert process.returncode == -signal.SIGKILL

    assert (folder / "manifest.json").read_bytes() == manifest_before
    assert cli_ok("index", "info", "--index", folder, "--json").stdout == info_before
    assert answer_json(folder) == answer_before
    assert staging_folders(folder)  # the killed build's staging folder, until the next build clears it

    rebuilt = cli_ok("index", "build", "--index", folder, "--chunk-size", "400")
    assert "indexed 1 article(s)" in rebuilt.stdout
    info_after = json.loads(cli_ok("index", "info", "--index", folder, "--json").stdout)
    assert info_after["chunking"]["chunk_size"] == 400
    assert answer_json(folder)["quotes"]
    assert not staging_folders(folder), "the next build clears what the killed one left"


def test_a_later_build_removes_a_killed_builds_staging_folder(built_index, model, session_config, tmp_path):
    from iqtibas.index import Index

    folder = tmp_path / "idx"
    shutil.copytree(session_config.index, folder)
    stale = tmp_path / f".{folder.name}.building-999999"  # what SIGKILL during save leaves behind
    shutil.copytree(session_config.index, stale)
    (stale / "manifest.json").unlink()
    Index.load(folder, model, session_config).save(folder)  # a private copy: the session index stays untouched
    assert (folder / "manifest.json").exists()
    assert not stale.exists()
