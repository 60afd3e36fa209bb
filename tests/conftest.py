"""Fixtures over the real pieces: the real converted model, a real index built once per session."""

from __future__ import annotations

import dataclasses
import os
import socket
from html.parser import HTMLParser
from pathlib import Path

import pytest

from iqtibas.config import load_config

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = ROOT / "data" / "article.txt"

# No test may reach for the hub: the machines that run them have no network.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"


@pytest.fixture(autouse=True)
def isolated_settings(monkeypatch, tmp_path):
    """Every IQTIBAS_* variable a user may have set is cleared; the index goes to tmp_path.

    The model stays the project's own converted folder (models/), built once by `make`.
    """
    for name in list(os.environ):
        if name.startswith("IQTIBAS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("IQTIBAS_INDEX", str(tmp_path / "index"))


@pytest.fixture(scope="session")
def session_config(tmp_path_factory):
    """The default configuration, with a session-wide index folder."""
    return load_config(environ={}, index=tmp_path_factory.mktemp("session") / "index")


@pytest.fixture(scope="session")
def model(session_config):
    from iqtibas.index import load_model

    return load_model(session_config)


@pytest.fixture(scope="session")
def articles(session_config):
    from iqtibas.ingest import load_articles

    return load_articles(session_config.articles)


@pytest.fixture(scope="session")
def chunks(articles, session_config):
    from iqtibas.ingest import chunk_article

    return [chunk for article in articles for chunk in chunk_article(article, session_config)]


@pytest.fixture(scope="session")
def built_index(articles, chunks, model, session_config):
    """The seed article's index, built and saved once; tests must not modify its folder."""
    from iqtibas.index import Index

    index = Index.build(articles, chunks, model, session_config)
    index.save(session_config.index)
    return index


@pytest.fixture(scope="session")
def loaded_index(built_index, model, session_config):
    """The same index, loaded back from its folder as the CLI and chat page load it."""
    from iqtibas.index import Index

    return Index.load(session_config.index, model, session_config)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def port() -> int:
    """A free loopback port, for a test that launches an app of its own."""
    return free_port()


@pytest.fixture(scope="session")
def app_url(loaded_index, session_config):
    """The real chat app over the session index, on a free loopback port, launched once."""
    from iqtibas.chat import build_app, launch

    demo = build_app(loaded_index, session_config)  # the queue answers config.concurrency (default 2) at once
    url = launch(demo, dataclasses.replace(session_config, host="127.0.0.1", port=free_port()))
    try:
        yield url
    finally:
        demo.close()


@pytest.fixture(scope="module")
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False, analytics_enabled=False)


class TextAndTags(HTMLParser):
    """What a browser would show of an HTML fragment, and which tags and attributes it holds."""

    def __init__(self, fragment: str):
        super().__init__(convert_charrefs=True)
        self.text, self.tags = [], []
        self.feed(fragment)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def visible(self) -> str:
        return "".join(self.text)


@pytest.fixture(scope="session")
def html_view():
    """Parses an HTML fragment into what a reader sees (``.visible()``) and its ``.tags``."""
    return TextAndTags


def _assert_one_clear_line(result, *hints: str) -> None:
    """A CliRunner result that is one "Error: ..." line on stderr naming one of ``hints``, exit 2."""
    detail = f"exit {result.exit_code}; stderr={result.stderr!r}; exception={result.exception!r}"
    assert result.exit_code == 2, detail
    assert "Traceback" not in result.output and "Traceback" not in result.stderr, detail
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, detail
    assert lines[0].startswith("Error: "), detail
    assert any(hint in lines[0] for hint in hints), detail
    assert result.stdout == "", detail


@pytest.fixture(scope="session")
def assert_one_clear_line():
    """Asserts a CLI result is one clear error line naming one of the given hints, with exit status 2."""
    return _assert_one_clear_line
