"""Issue #15, findings 1-5: bytes that are not text, in a batch file, an argument or the page,
cost their own line an answer and nothing more, and never a traceback."""

from __future__ import annotations

import json
import urllib.request

import pytest
from click.testing import CliRunner

from iqtibas.cli import cli
from iqtibas.records import IqtibasError
from iqtibas.question import printable_text, usable_text

GOOD_EN = "What is AUKUS?"
GOOD_WHO = "Who wrote this article?"
LONE_SURROGATE_JSON = '{"question": "\\ud800 S-400"}'


def batch(index, data: bytes, *args: str):
    """``iqtibas ask --json --batch -`` fed ``data`` on standard input."""
    return CliRunner().invoke(cli, ["ask", "--index", str(index), "--json", "--batch", "-", *args], input=data)


def output_lines(result) -> list[dict]:
    assert "Traceback" not in result.output and "Traceback" not in result.stderr, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_usable_text_refuses_lone_surrogates_and_undecodable_bytes():
    assert usable_text("ما هو S-400؟") == "ما هو S-400؟"
    with pytest.raises(IqtibasError, match=r"not valid text.*byte 0xff at character 1.*UTF-8"):
        usable_text("\udcff\udcfe what")  # what Python makes of the bytes ff fe in an argument
    with pytest.raises(IqtibasError, match=r"lone surrogate U\+D800 at character 1"):
        usable_text("\ud800 S-400")
    assert printable_text("a\ud800b\udcff") == "a\ufffdb\ufffd"


def test_an_invalid_byte_costs_its_own_line_only(built_index, session_config):
    result = batch(session_config.index, b"What is AUKUS?\n\xff\xfe bad\nWho wrote this?\n")
    out = output_lines(result)
    assert [o.get("question") for o in out] == ["What is AUKUS?", None, "Who wrote this?"]
    assert out[1]["line"] == 2 and "not UTF-8" in out[1]["error"] and "0xff" in out[1]["error"]
    assert result.exit_code == 1


def test_a_lone_surrogate_in_a_json_line_loses_no_other_line(built_index, session_config):
    lines = [json.dumps({"question": GOOD_EN}), LONE_SURROGATE_JSON, GOOD_WHO]
    result = batch(session_config.index, ("\n".join(lines) + "\n").encode())
    out = output_lines(result)
    assert [o.get("question") for o in out] == [GOOD_EN, None, GOOD_WHO]
    assert out[1]["line"] == 2 and "surrogate" in out[1]["error"]
    assert result.exit_code == 1


def test_a_utf8_bom_before_a_json_line_is_not_part_of_the_question(built_index, session_config):
    result = batch(session_config.index, b"\xef\xbb\xbf" + json.dumps({"question": GOOD_EN}).encode() + b"\n")
    assert [o["question"] for o in output_lines(result)] == [GOOD_EN]
    assert result.exit_code == 0


def test_a_utf16_file_with_a_bom_is_read_as_utf16(built_index, session_config):
    text = f"{GOOD_EN}\n{json.dumps({'question': GOOD_WHO}, ensure_ascii=False)}\n"
    result = batch(session_config.index, text.encode("utf-16"))
    assert [o["question"] for o in output_lines(result)] == [GOOD_EN, GOOD_WHO]
    assert result.exit_code == 0


@pytest.mark.parametrize("data", [bytes(range(256)) * 8, "What is AUKUS?\n".encode("utf-16-le")],
                         ids=["binary", "utf16-without-bom"])
def test_a_binary_file_is_refused_with_one_line(built_index, session_config, data):
    result = batch(session_config.index, data)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "NUL" in lines[0] and "UTF-8" in lines[0] and result.stdout == ""


def test_exit_status_1_when_lines_failed_is_documented():
    help_text = CliRunner().invoke(cli, ["ask", "--help"]).output
    assert "1  with --batch, when some lines got an error" in help_text


def test_an_undecodable_argument_is_refused_before_the_model_loads(tmp_path):
    # No index is needed: the question is refused first. (Python decodes argv with surrogateescape.)
    result = CliRunner().invoke(cli, ["ask", "--index", str(tmp_path / "none"), "\udcff\udcfe what"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    line = result.stderr.strip()
    assert "\n" not in line and "not valid text" in line and "0xff" in line


def call_chat(app_url: str, question_json: str) -> tuple[str, str]:
    """POST the page's /chat event with a raw JSON body (a lone surrogate survives only escaped),
    then read its event stream: (event name, data) of the last event."""
    body = ('{"data": [' + question_json + ", []]}").encode("ascii")
    request = urllib.request.Request(app_url.rstrip("/") + "/gradio_api/call/chat", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        event_id = json.loads(response.read())["event_id"]
    with urllib.request.urlopen(f"{app_url.rstrip('/')}/gradio_api/call/chat/{event_id}", timeout=60) as stream:
        events = stream.read().decode("utf-8").strip().split("\n\n")
    name, data = (line.split(": ", 1)[1] for line in events[-1].splitlines()[:2])
    return name, data


def test_the_page_shows_a_reply_to_a_question_holding_a_lone_surrogate(app_url, html_view):
    name, data = call_chat(app_url, '"\\ud800 What is S-400?"')
    assert name == "complete", (name, data)
    _, history, _ = json.loads(data)
    reply = html_view(history[-1]["content"][0]["text"] if isinstance(history[-1]["content"], list)
                      else history[-1]["content"]).visible()
    assert "cannot be used" in reply and "surrogate" in reply
