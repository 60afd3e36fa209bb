"""Ingest: parsing the seed article and cutting it into chunks, on the real file."""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path

import pytest

from iqtibas.config import PROJECT_ROOT, Config, load_config
from iqtibas.ingest import chunk_article, load_articles, parse_article
from iqtibas.records import Article, Chunk, IqtibasError

ARTICLE = PROJECT_ROOT / "data" / "article.txt"
ENGLISH_ARTICLE = Path(__file__).parent / "data" / "english_article.txt"
SECTIONS = ("البعد الأمني والعسكري", "البعد السياسي- هل هو عكس حقبة كسنجر؟", "خاتمة")
DEBRIS = ("أرسل منشورك", "An error has occurred")
MARKER = re.compile(r"\[(\d+)\]")
# A chunk that starts with the tail of a marker ("2]") or ends with its head ("[1").
PARTIAL_MARKER_AT_START = re.compile(r"^\d*\]")
PARTIAL_MARKER_AT_END = re.compile(r"\[\d*$")
SMALL_CHUNK_SIZE = 200
# (chunk_size, chunk_overlap) pairs every chunk invariant must hold for.
# A chunk_size of 3 is shorter than "[12]", so the splitter must cut inside markers.
CONFIGS = [
    (700, 0),
    (1000, 0),
    (400, 0),
    (SMALL_CHUNK_SIZE, 0),
    (SMALL_CHUNK_SIZE, 50),
    (60, 10),
    (3, 0),
    (3, 1),
]

VALID_REFERENCE = '[1] "A Title", Publisher, 2024, https://example.org/a'


@pytest.fixture(scope="module")
def article() -> Article:
    return parse_article(ARTICLE)


@pytest.fixture(scope="module")
def chunks(article: Article) -> list[Chunk]:
    return chunk_article(article, config())


def config(**overrides) -> Config:
    """A config from the defaults and ``overrides`` only (no IQTIBAS_* variables)."""
    return load_config(environ={}, **overrides)


def chunks_at(article: Article, size: int, overlap: int) -> list[Chunk]:
    return chunk_article(article, config(chunk_size=size, chunk_overlap=overlap))


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# --- parsing ---------------------------------------------------------------


def test_article_identity(article: Article):
    assert article.id == "article"
    assert article.text == ARTICLE.read_text(encoding="utf-8")
    assert re.fullmatch(r"[0-9a-f]{64}", article.sha256)
    assert article.title == "الولايات المتحدة الأمريكية والشراكة الأمنية العسكرية بين روسيا والصين"


def test_fourteen_footnotes_with_urls(article: Article):
    assert [f.number for f in article.footnotes] == list(range(1, 15))
    assert all(f.url.startswith("https://") and f.title and f.publisher for f in article.footnotes)
    for footnote in article.footnotes:
        assert article.text[footnote.start : footnote.end] == footnote.text
        assert footnote.text.startswith(f"[{footnote.number}] ")
        assert footnote.text.endswith(footnote.url)


def test_footnote_fields(article: Article):
    fourth = article.footnote(4)
    assert fourth.title == "The Growing Significance of China-Russia Defense Cooperation"
    assert fourth.publisher == "Army War College"
    assert fourth.date == "September 18, 2024"
    assert fourth.authors == ""
    sixth = article.footnote(6)
    assert sixth.authors == "D. Gorenburg, E. Wishnick, B. Waidelich, P. Schwartz"
    assert (sixth.title, sixth.publisher, sixth.date) == (
        "Russian-Chinese Military Cooperation",
        "CNA",
        "2023",
    )
    tenth = article.footnote(10)
    assert tenth.date == "October, 2024"
    assert tenth.url.endswith(
        "#:~:text=Okean%202024%20was%20designed%20to,weapon%20systems%2C%20and%2090%2C000%20personnel"
    )
    assert article.footnote(11).title.endswith("no ‘forbidden areas’")


def test_sections_are_the_three_headings_in_order(article: Article):
    assert article.sections == SECTIONS
    assert all(p.text not in SECTIONS for p in article.paragraphs)


def test_paragraph_kinds_and_sections(article: Article):
    kinds = [p.kind for p in article.paragraphs]
    assert kinds[0] == "title" and kinds.count("title") == 1
    assert kinds[-2:] == ["bio", "disclaimer"]
    assert set(kinds[1:-2]) == {"body"}
    assert [p.index for p in article.paragraphs] == list(range(len(article.paragraphs)))
    assert article.paragraphs[1].section == article.title
    assert article.author_bio.startswith("إميل أفدالياني هو أستاذ")
    assert article.disclaimer.startswith("تُعبر الآراء والمواقف")
    assert article.paragraphs[-1].section == "إخلاء المسؤولية:"
    first_of_section = {p.section: p.text for p in reversed(article.paragraphs)}
    assert first_of_section[SECTIONS[0]].startswith("منذ تسعينيات القرن الماضي")
    assert first_of_section[SECTIONS[2]].startswith("وبشكل عام، شهدت")


def test_paragraph_spans_are_verbatim(article: Article):
    for paragraph in article.paragraphs:
        assert article.text[paragraph.start : paragraph.end] == paragraph.text
        assert paragraph.text == paragraph.text.strip()


def test_every_body_marker_resolves(article: Article):
    markers = [m for p in article.paragraphs for m in p.markers]
    assert sorted(m.number for m in markers) == list(range(1, 15))
    for marker in markers:
        assert article.text[marker.start : marker.end] == f"[{marker.number}]"
        assert article.footnote(marker.number) is not None
    body_end = article.paragraphs[-1].end
    assert len(MARKER.findall(article.text[:body_end])) == len(markers)


def test_debris_is_not_content(article: Article):
    for paragraph in article.paragraphs:
        assert not any(debris in paragraph.text for debris in DEBRIS)
    for footnote in article.footnotes:
        assert not any(debris in footnote.text for debris in DEBRIS)


def test_english_article_in_the_same_shape_parses():
    article = parse_article(ENGLISH_ARTICLE)
    assert article.id == "english-article"
    assert article.title == "Ports, Pipelines and Power in the Eastern Mediterranean"
    assert article.sections == ("The infrastructure race", "Who gains?", "Conclusion")
    assert article.author_bio.startswith("Jane Doe is a senior fellow")
    assert article.disclaimer.startswith("The views expressed")
    assert [f.number for f in article.footnotes] == [1, 2, 3, 4]
    second = article.footnote(2)
    assert (second.authors, second.title, second.publisher, second.date) == (
        "A. Smith, B. Jones",
        "Pipelines Versus LNG",
        "Maritime Journal",
        "2022",
    )
    assert second.url == "https://example.org/pipelines-lng#:~:text=cheaper,quicker"
    assert article.footnote(4).date == "May, 2023"
    chunks = chunk_article(article, config())
    assert not any("An error has occurred" in c.text for c in chunks)
    assert [c.footnotes for c in chunks if c.kind == "body" and c.footnotes] == [
        (1,),
        (2,),
        (3,),
        (1, 2),
        (4,),
    ]


# --- malformed files -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        ('Title\n\nBody text.[1]\n\n[1] "A Title", Publisher, 2024\n', 5, "no http(s) URL"),
        ("Title\n\nBody text.[1]\n\n[1] A Title, Publisher, https://example.org\n", 5, "no title"),
        (f"Title\n\nBody.[1]\n\nMore body.[9]\n\n{VALID_REFERENCE}\n", 5, "[9]"),
        (f"Title\n\nBody.[1]\n\n{VALID_REFERENCE}\n{VALID_REFERENCE}\n", 6, "twice"),
        (f"Title\n\nBody.[1]\n\n{VALID_REFERENCE}\nTrailing words\n", 6, "does not start"),
        ("", 1, "empty"),
        ("\n  \nأرسل منشورك\n", 1, "empty"),
        (f"Title\n\n{VALID_REFERENCE}\n", 1, "no body"),
    ],
)
def test_malformed_article_names_file_and_line(tmp_path: Path, text: str, line: int, what: str):
    path = write(tmp_path, "bad.txt", text)
    with pytest.raises(IqtibasError) as raised:
        parse_article(path)
    assert str(raised.value).startswith(f"{path}:{line}: ")
    assert what in str(raised.value)


def test_non_utf8_file_names_file_and_line(tmp_path: Path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("Title\n\nCafé body.\n".encode("latin-1"))
    with pytest.raises(IqtibasError, match=rf"^{re.escape(str(path))}:3: not UTF-8"):
        parse_article(path)


def test_load_articles_files_and_folders(tmp_path: Path):
    write(tmp_path, "b.txt", f"Second\n\nBody.[1]\n\n{VALID_REFERENCE}\n")
    write(tmp_path, "a.txt", "First\n\nBody without markers.\n")
    write(tmp_path, "notes.md", "not an article")
    articles = load_articles([tmp_path, ARTICLE])
    assert [a.id for a in articles] == ["a", "b", "article"]


@pytest.mark.parametrize("name", ["empty-folder", "missing.txt"])
def test_load_articles_names_what_is_missing(tmp_path: Path, name: str):
    (tmp_path / "empty-folder").mkdir()
    with pytest.raises(IqtibasError, match=re.escape(str(tmp_path / name))):
        load_articles([tmp_path / name])


def test_load_articles_rejects_an_empty_selection():
    with pytest.raises(IqtibasError, match="no article files"):
        load_articles([])


def test_load_articles_rejects_duplicate_ids(tmp_path: Path):
    other = tmp_path / "other"
    other.mkdir()
    write(other, "article.txt", "Title\n\nBody.\n")
    with pytest.raises(IqtibasError, match="article id 'article'"):
        load_articles([ARTICLE, other])


# --- chunking --------------------------------------------------------------


@pytest.mark.parametrize(("size", "overlap"), CONFIGS)
def test_chunk_text_is_the_article_text_at_its_span(article: Article, size: int, overlap: int):
    for chunk in chunks_at(article, size, overlap):
        assert chunk.text == article.text[chunk.start : chunk.end]
        assert chunk.text == chunk.text.strip() and chunk.text


@pytest.mark.parametrize(("size", "overlap"), CONFIGS)
def test_chunks_cover_every_paragraph(article: Article, size: int, overlap: int):
    chunks = chunks_at(article, size, overlap)
    for paragraph in article.paragraphs:
        covered = set()
        for chunk in chunks:
            if chunk.paragraph == paragraph.index:
                covered.update(range(chunk.start, chunk.end))
        missing = [
            i
            for i in range(paragraph.start, paragraph.end)
            if not article.text[i].isspace() and i not in covered
        ]
        assert not missing, f"paragraph {paragraph.index} loses characters at {missing[:5]}"


@pytest.mark.parametrize(("size", "overlap"), CONFIGS)
def test_no_chunk_spans_two_paragraphs(article: Article, size: int, overlap: int):
    by_index = {p.index: p for p in article.paragraphs}
    for chunk in chunks_at(article, size, overlap):
        if chunk.kind == "reference":
            continue
        paragraph = by_index[chunk.paragraph]
        assert paragraph.start <= chunk.start < chunk.end <= paragraph.end
        assert (chunk.kind, chunk.section) == (paragraph.kind, paragraph.section)


@pytest.mark.parametrize(("size", "overlap"), CONFIGS)
def test_no_chunk_cuts_a_marker(article: Article, size: int, overlap: int):
    for chunk in chunks_at(article, size, overlap):
        assert not PARTIAL_MARKER_AT_START.search(chunk.text), chunk.text[:20]
        assert not PARTIAL_MARKER_AT_END.search(chunk.text), chunk.text[-20:]
        assert chunk.footnotes == tuple(sorted({int(n) for n in MARKER.findall(chunk.text)}))


def test_marker_stays_with_the_sentence_before_it(article: Article):
    chunks = chunks_at(article, SMALL_CHUNK_SIZE, 0)
    paragraph_chunks = [c for c in chunks if c.kind != "reference"]
    assert not any(MARKER.match(c.text) for c in paragraph_chunks)
    assert any(c.text.endswith("للصين. [2]") for c in paragraph_chunks)


def test_small_chunks_respect_the_size(article: Article):
    longest_marker = max(len(m.group()) for m in MARKER.finditer(article.text))
    # A marker moved to the sentence it closes brings a space and a full stop.
    allowance = longest_marker + len(" .")
    chunks = chunks_at(article, SMALL_CHUNK_SIZE, 0)
    paragraph_chunks = [c for c in chunks if c.kind != "reference"]
    assert all(len(c.text) <= SMALL_CHUNK_SIZE + allowance for c in paragraph_chunks)
    assert len(paragraph_chunks) > len(article.paragraphs)


def test_default_chunks_are_in_article_order(article: Article, chunks: list[Chunk]):
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)
    assert all(len(c.text) <= config().chunk_size for c in chunks if c.kind != "reference")


def test_no_debris_in_any_chunk(chunks: list[Chunk]):
    assert not any(debris in chunk.text for chunk in chunks for debris in DEBRIS)


def test_title_bio_and_disclaimer_are_chunks(article: Article, chunks: list[Chunk]):
    by_kind = {
        kind: [c for c in chunks if c.kind == kind] for kind in ("title", "bio", "disclaimer")
    }
    assert [c.text for c in by_kind["title"]] == [article.title]
    assert [c.id for c in by_kind["title"]] == ["article:p000:c00"]
    assert [c.text for c in by_kind["bio"]] == [article.author_bio]
    assert [c.text for c in by_kind["disclaimer"]] == [article.disclaimer]
    assert by_kind["disclaimer"][0].section == "إخلاء المسؤولية:"


def test_each_reference_is_one_chunk(article: Article, chunks: list[Chunk]):
    references = [c for c in chunks if c.kind == "reference"]
    assert [c.id for c in references] == [f"article:ref{n:02d}" for n in range(1, 15)]
    for chunk, footnote in zip(references, article.footnotes, strict=True):
        assert (chunk.text, chunk.start, chunk.end) == (footnote.text, footnote.start, footnote.end)
        assert chunk.footnotes == (footnote.number,)
        assert chunk.paragraph == -1


def test_chunk_ids_are_unique_and_stable(chunks: list[Chunk]):
    ids = [c.id for c in chunks]
    assert len(set(ids)) == len(ids)
    again = chunk_article(parse_article(ARTICLE), config())
    assert again == chunks
    assert all(re.fullmatch(r"article:(p\d{3}:c\d{2}|ref\d{2})", i) for i in ids)


def test_short_paragraphs_are_one_chunk(article: Article, chunks: list[Chunk]):
    size = config().chunk_size
    for paragraph in article.paragraphs:
        pieces = [c for c in chunks if c.paragraph == paragraph.index]
        if len(paragraph.text) <= size:
            assert [c.text for c in pieces] == [paragraph.text]


@pytest.mark.parametrize(("size", "overlap"), [(0, 0), (100, 100), (100, -1)])
def test_bad_chunk_sizes_are_rejected(article: Article, size: int, overlap: int):
    with pytest.raises(IqtibasError, match="chunk_"):
        chunks_at(article, size, overlap)


def test_overlap_makes_neighbours_share_text(article: Article):
    chunks = [c for c in chunks_at(article, SMALL_CHUNK_SIZE, 50) if c.kind == "body"]
    neighbours = pairwise(chunks)
    assert any(b.paragraph == a.paragraph and b.start < a.end for a, b in neighbours)
