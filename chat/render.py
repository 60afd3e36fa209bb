"""Answers as people read them: plain text for the terminal, escaped HTML for the chat page."""

from __future__ import annotations

import html
import re

from iqtibas.question import MARKER, detect_language
from iqtibas.records import Answer, Footnote, Passage

LABELS = {
    "ar": {"sources": "المراجع:", "passages": "المقاطع التي جاء منها الجواب:", "related": "مقاطع ذات صلة:"},
    "en": {"sources": "Footnotes:", "passages": "Passages it comes from:", "related": "Related passages:"},
}
PASSAGE_PREVIEW_CHARS = 240


def footnote_fields(footnote: Footnote) -> list[str]:
    """Authors (when given), “title”, publisher and date: what a footnote shows before its URL."""
    return [p for p in (footnote.authors, f"“{footnote.title}”", footnote.publisher, footnote.date) if p]


def footnote_line(footnote: Footnote) -> str:
    """``[4] “Title”, Publisher, Date, URL`` from the parsed fields."""
    return f"[{footnote.number}] " + ", ".join(footnote_fields(footnote) + [footnote.url] * bool(footnote.url))


def render_text(answer: Answer, passages: int = 3) -> str:
    """The answer for a terminal: framing line, quotes, footnotes, then the passages."""
    labels = LABELS[answer.language]
    lines = [answer.message]
    lines += [f"  «{quote.text}»" for quote in answer.quotes]
    if answer.footnotes:
        lines += ["", labels["sources"]] + [f"  {footnote_line(f)}" for f in answer.footnotes]
    shown = answer.passages[:passages]
    if shown:
        lines += ["", labels["related" if answer.abstained else "passages"]]
        lines += [f"  {i}. {_preview(p)}  ({p.chunk_id})" for i, p in enumerate(shown, start=1)]
    return "\n".join(lines)


def _preview(passage: Passage) -> str:
    text = " ".join(passage.text.split())
    return text if len(text) <= PASSAGE_PREVIEW_CHARS else text[:PASSAGE_PREVIEW_CHARS] + "…"


# -- the chat page ----------------------------------------------------------------------
# Everything below builds HTML in which every piece of user or article text goes
# through `text_html`, so it is shown as text whatever it contains.

LINK_ATTRIBUTES = 'target="_blank" rel="noopener noreferrer"'
# Only web addresses become links: a reference list could hold "javascript:..." too.
WEB_URL = re.compile(r"^https?://", re.IGNORECASE)
# Each character that HTML, Markdown or the page's LaTeX rendering could read as markup,
# written as a character reference (html.escape's for HTML's own), so no renderer
# downstream can take text for syntax. One pass: escaping twice would break the references.
TEXT_ESCAPES = {
    **{c: f"&#{ord(c)};" for c in "\\`*_[]()#+!|~$"},
    **{c: html.escape(c, quote=True) for c in "&<>\"'"},
}
UI_DIRECTION = {"ar": "rtl", "en": "ltr"}

HEADER = {
    "ar": ("اقتباس", "اسأل بالعربية أو بالإنجليزية عن {titles}",
           "الأجوبة جُمَل من المقال نفسه، منقولة حرفيًا مع حواشيها، وليست نصًّا مولَّدًا."),
    "en": ("iqtibas", "Ask about {titles}, in Arabic or English.",
           "Answers are the article's own sentences, quoted verbatim with their footnotes — not generated text."),
}
TITLE_QUOTES = {"ar": ("«", "»"), "en": ("“", "”")}
SOURCES_PLACEHOLDER = {
    "ar": "تظهر هنا المقاطع التي جاء منها كل جواب، والجملة المقتبسة مظلَّلة.",
    "en": "The passages behind each answer appear here, with the quoted sentence highlighted.",
}
CHAT_RELATED_PASSAGES = 3  # nearest passages listed in the chat when the article does not say


def text_html(text: str) -> str:
    """Text for the page: escaped as HTML, and with Markdown's syntax characters neutralised."""
    return "".join(TEXT_ESCAPES.get(c, c) for c in text)


def direction(text: str) -> str:
    """The text's writing direction, judged by its words.

    Not dir="auto", which goes by the first letter and makes "S-400 ما هو؟" left-to-right.
    """
    return UI_DIRECTION[detect_language(text)]


def link_html(url: str, label: str) -> str:
    """``label`` linking to ``url`` in a new tab, or just the label when the URL is not a web address."""
    if not WEB_URL.match(url):
        return text_html(label)
    return f'<a href="{html.escape(url, quote=True)}" {LINK_ATTRIBUTES}>{text_html(label)}</a>'


def marked_text_html(text: str, footnotes: dict[int, Footnote]) -> str:
    """Article text with each known footnote marker [n] linked to that footnote's URL."""
    parts, position = [], 0
    for match in MARKER.finditer(text):
        parts.append(text_html(text[position:match.start()]))
        parts.append(_marker_html(match.group(0), footnotes.get(int(match.group(1)))))
        position = match.end()
    parts.append(text_html(text[position:]))
    return "".join(parts)


def _marker_html(marker: str, footnote: Footnote | None) -> str:
    if footnote is None or not WEB_URL.match(footnote.url):
        return f'<span class="marker">{text_html(marker)}</span>'
    return (f'<a class="marker" href="{html.escape(footnote.url, quote=True)}" '
            f'title="{text_html(footnote_line(footnote))}" {LINK_ATTRIBUTES}>{text_html(marker)}</a>')


def footnote_html(footnote: Footnote) -> str:
    """One footnote: number, authors when given, title, publisher, date, and its URL as a link."""
    parts = [text_html(p) for p in footnote_fields(footnote)]
    if footnote.url:
        parts.append(link_html(footnote.url, footnote.url))
    return (f'<p class="footnote" dir="{direction(footnote.text or footnote.title)}">'
            f'{text_html(f"[{footnote.number}]")} {", ".join(parts)}</p>')


def question_html(question: str) -> str:
    """The asker's own message, shown as text in its own direction."""
    return f'<div class="question" dir="{direction(question)}">{text_html(question)}</div>'


def notice_html(lines: list[tuple[str, str]]) -> str:
    """A reply that is not an answer (an unusable question), one (language, text) line each."""
    return "".join(
        f'<p class="notice" lang="{language}" dir="{UI_DIRECTION[language]}">{text_html(text)}</p>'
        for language, text in lines
    )


def answer_html(answer: Answer) -> str:
    """The chat reply: framing line, each quote verbatim with linked markers, then the footnotes.

    An abstention lists the nearest passages instead, labelled as related.
    """
    labels = LABELS[answer.language]
    parts = [f'<p class="framing">{text_html(answer.message)}</p>']
    for quote in answer.quotes:
        by_number = {f.number: f for f in answer.footnotes if f.article == quote.article}
        parts.append(f'<blockquote class="quote" dir="{direction(quote.text)}">'
                     f'{marked_text_html(quote.text, by_number)}</blockquote>')
    if answer.footnotes:
        parts.append(f'<p class="label">{text_html(labels["sources"])}</p>')
        parts += [footnote_html(f) for f in answer.footnotes]
    if answer.abstained and answer.passages:
        parts.append(f'<p class="label">{text_html(labels["related"])}</p>')
        parts += [f'<blockquote class="related" dir="{direction(p.text)}">{text_html(_preview(p))}</blockquote>'
                  for p in answer.passages[:CHAT_RELATED_PASSAGES]]
    return (f'<div class="answer" lang="{answer.language}" dir="{UI_DIRECTION[answer.language]}">'
            f'{"".join(parts)}</div>')


def passage_html(passage: Passage, number: int) -> str:
    """A retrieved passage with the quoted sentences inside it marked."""
    text = passage.text
    body, shown = "", 0
    for start, end in passage.highlights:  # in article order, never overlapping
        body += f"{text_html(text[shown:start])}<mark>{text_html(text[start:end])}</mark>"
        shown = end
    body += text_html(text[shown:])
    where = " · ".join(p for p in (passage.section, passage.chunk_id) if p)
    return (f'<div class="passage"><p class="where" dir="{direction(where)}">{number}. {text_html(where)}</p>'
            f'<p class="text" dir="{direction(text)}">{body}</p></div>')


def passages_html(answer: Answer) -> str:
    """The sources panel: every passage the answer was drawn from, quoted parts marked."""
    labels = LABELS[answer.language]
    label = labels["related" if answer.abstained else "passages"]
    items = "".join(passage_html(p, i) for i, p in enumerate(answer.passages, start=1))
    return (f'<div class="sources" lang="{answer.language}" dir="{UI_DIRECTION[answer.language]}">'
            f'<p class="label">{text_html(label)}</p>{items}</div>')


def sources_placeholder_html() -> str:
    return notice_html(list(SOURCES_PLACEHOLDER.items()))


def header_html(titles: list[str]) -> str:
    """What the page is: the article(s) it quotes, and that answers are quotations, in both languages."""
    blocks = []
    for language, (name, ask, nature) in HEADER.items():
        # Each title is isolated so an Arabic title cannot reorder the English sentence around it.
        opening, closing = TITLE_QUOTES[language]
        quoted = " · ".join(f"{opening}<bdi>{text_html(t)}</bdi>{closing}" for t in titles)
        before, after = ask.split("{titles}")
        blocks.append(
            f'<div class="about" lang="{language}" dir="{UI_DIRECTION[language]}">'
            f"<h1>{text_html(name)}</h1><p>{text_html(before)}{quoted}{text_html(after)}</p>"
            f"<p>{text_html(nature)}</p></div>"
        )
    return f'<div class="header">{"".join(blocks)}</div>'
