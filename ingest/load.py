"""Load the articles named by files and folders."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from iqtibas.records import Article, IqtibasError

from .parse import parse_article

ARTICLE_GLOB = "*.txt"


def load_articles(paths: Iterable[Path]) -> list[Article]:
    """Parse every article file named by ``paths``, in order.

    Each path is an article file or a folder whose ``*.txt`` files (sorted by
    name) are articles. Raises IqtibasError for an empty selection, an
    unreadable or malformed file, or two articles with the same id.
    """
    files = [file for path in paths for file in article_files(Path(path))]
    if not files:
        raise IqtibasError("no article files given; name a .txt file or a folder of them")
    articles = [parse_article(file) for file in files]
    check_unique_ids(articles)
    return articles


def article_files(path: Path) -> list[Path]:
    """The article files a path names: itself, or a folder's *.txt files."""
    if path.is_dir():
        files = sorted(path.glob(ARTICLE_GLOB))
        if not files:
            raise IqtibasError(f"{path}: folder has no {ARTICLE_GLOB} article files")
        return files
    if not path.is_file():
        raise IqtibasError(f"{path}: no such article file")
    return [path]


def check_unique_ids(articles: list[Article]) -> None:
    """Chunk ids start with the article id, so two articles must not share one."""
    seen: dict[str, str] = {}
    for article in articles:
        if article.id in seen:
            raise IqtibasError(
                f"{article.path}: article id {article.id!r} is also the id of "
                f"{seen[article.id]}; rename one of the files"
            )
        seen[article.id] = article.path
