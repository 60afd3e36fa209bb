"""The chat page's server through Gradio's own client: the real app over the real model and index."""

from __future__ import annotations

import html

import pytest
from gradio_client import Client


WEAPONS_QUESTIONS = {
    "ar": "ما هي الأسلحة الروسية التي بيعت للصين؟",
    "en": "Which Russian weapons were sold to China?",
}
SU35_SENTENCE = (
    "تُعد طائرات سوخوي Su-35 المقاتلة ومنظومات الدفاع الجوي S-400 "
    "من أبرز المعدات التقنية المتقدمة التي باعتها روسيا إلى الصين[4]."
)
FOOTNOTE_4_TITLE = "The Growing Significance of China-Russia Defense Cooperation"
FOOTNOTE_4_URL = (
    "https://ssi.armywarcollege.edu/SSI-Media/Recent-Publications/Display/Article/3908561/"
    "the-growing-significance-of-china-russia-defense-cooperation/"
)
TOO_LONG_CHARS = 20_000
MARKUP = "<img src=x onerror=alert(1)> **bold** [link](javascript:alert(1))"


def chat(client: Client, question: str) -> tuple[str, str, object]:
    """Ask through the page's own event: (the user's message HTML or "", the reply HTML, sources panel)."""
    _, history, sources = client.predict(question, [], api_name="/chat")
    texts = {message["role"]: message["content"][0]["text"] for message in history}
    assert history[-1]["role"] == "assistant"
    return texts.get("user", ""), texts["assistant"], sources


@pytest.mark.parametrize("language", ["ar", "en"])
def test_ask_endpoint_returns_the_answer_as_json(client, language):
    result = client.predict(WEAPONS_QUESTIONS[language], api_name="/ask")
    assert result["language"] == language
    assert not result["abstained"]
    assert SU35_SENTENCE in [quote["text"] for quote in result["quotes"]]
    footnote = next(f for f in result["footnotes"] if f["number"] == 4)
    assert footnote["title"] == FOOTNOTE_4_TITLE
    assert footnote["url"] == FOOTNOTE_4_URL


@pytest.mark.parametrize("language", ["ar", "en"])
def test_chat_reply_quotes_the_sentence_with_its_linked_footnote(client, language, html_view):
    question_html, reply_html, sources = chat(client, WEAPONS_QUESTIONS[language])
    reply = html_view(reply_html)
    assert SU35_SENTENCE in reply.visible()
    assert FOOTNOTE_4_TITLE in reply.visible()
    links = [attrs for tag, attrs in reply.tags if tag == "a" and attrs.get("href") == FOOTNOTE_4_URL]
    assert links, "footnote 4 is not linked"
    assert all(a["target"] == "_blank" and a["rel"] == "noopener noreferrer" for a in links)
    # The reply reads in the asker's direction; the Arabic quote right-to-left inside either.
    direction = {"ar": "rtl", "en": "ltr"}[language]
    assert ("div", {"class": "answer", "lang": language, "dir": direction}) in reply.tags
    assert ("blockquote", {"class": "quote", "dir": "rtl"}) in reply.tags
    question = html_view(question_html)
    assert question.visible() == WEAPONS_QUESTIONS[language]
    assert question.tags == [("div", {"class": "question", "dir": direction})]
    marked = html_view(sources)
    assert SU35_SENTENCE in marked.visible()
    assert ("mark", {}) in marked.tags


@pytest.mark.parametrize(
    ("question", "reply", "error"),
    [
        ("", "Please type a question about the article.", "empty"),
        ("x" * TOO_LONG_CHARS, f"{TOO_LONG_CHARS:,} characters long", f"{TOO_LONG_CHARS} characters"),
    ],
    ids=["empty", "too-long"],
)
def test_unusable_question_gets_a_clear_reply_and_the_app_keeps_answering(client, question, reply, error, html_view):
    _, reply_html, _ = chat(client, question)
    assert reply in html_view(reply_html).visible()
    assert error in client.predict(question, api_name="/ask")["error"]
    after = client.predict(WEAPONS_QUESTIONS["en"], api_name="/ask")
    assert "error" not in after and after["quotes"]


def test_arabic_unusable_question_is_answered_in_arabic(client, html_view):
    _, reply_html, _ = chat(client, "ما " * TOO_LONG_CHARS)
    reply = html_view(reply_html)
    assert ("p", {"class": "notice", "lang": "ar", "dir": "rtl"}) in reply.tags
    assert "طويل جدًا" in reply.visible()


def test_markup_in_a_question_comes_back_as_text(client, html_view):
    question = f"What is AUKUS according to the article? {MARKUP}"
    question_html, reply_html, _ = chat(client, question)
    shown = html_view(question_html)
    assert shown.visible() == question
    assert [tag for tag, _ in shown.tags] == ["div"], "the question's markup became elements"
    assert "<img" not in question_html and "**" not in question_html and "](" not in question_html
    assert html.escape("<img src=x") in question_html
    assert "<img" not in reply_html


def test_questions_asked_at_once_each_get_their_own_answer(app_url):
    """/ask embeds the questions waiting together in one batch; each answer is still its own question's."""
    from concurrent.futures import ThreadPoolExecutor

    questions = [WEAPONS_QUESTIONS["ar"], WEAPONS_QUESTIONS["en"], "What is AUKUS?", "", "Who wrote the article?",
                 "x" * TOO_LONG_CHARS]

    def ask(question: str) -> dict:
        return Client(app_url, verbose=False, analytics_enabled=False).predict(question, api_name="/ask")
    with ThreadPoolExecutor(len(questions)) as pool:
        results = list(pool.map(ask, questions))
    for question, result in zip(questions, results):
        if question and len(question) < TOO_LONG_CHARS:
            assert result["question"] == question
        else:
            assert "error" in result
    assert SU35_SENTENCE in [quote["text"] for quote in results[0]["quotes"]]
