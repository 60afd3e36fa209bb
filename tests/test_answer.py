"""Answers over the real index: verbatim quotes, their footnotes, language, abstention, bad input."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from iqtibas.chat import answer
from iqtibas.chat.render import passages_html, render_text
from iqtibas.question import analyse
from iqtibas.records import IqtibasError

S400_SENTENCE = (
    "تُعد طائرات سوخوي Su-35 المقاتلة ومنظومات الدفاع الجوي S-400 من أبرز المعدات التقنية "
    "المتقدمة التي باعتها روسيا إلى الصين[4]."
)
QUESTIONS = [
    "ما هي الطائرات المقاتلة ومنظومات الدفاع الجوي التي باعتها روسيا إلى الصين؟",
    "Which fighter jets and air-defence systems did Russia sell to China?",
    "ما هي الشراكة التي أقامتها الولايات المتحدة مع أستراليا والمملكة المتحدة؟",
    "Who wrote this article?",
    "When did Russia annex Crimea?",
    "ما هو S-400؟",
]


@pytest.mark.parametrize("question", [
    "ما هي الأسلحة الروسية التي بيعت للصين؟",
    "Which Russian weapons were sold to China?",
    "ما هي الطائرات المقاتلة ومنظومات الدفاع الجوي التي باعتها روسيا إلى الصين؟",
    "Which fighter jets and air-defence systems did Russia sell to China?",
])
def test_weapons_question_quotes_the_s400_sentence_with_footnote_4(question, loaded_index, session_config):
    result = answer(question, loaded_index, session_config)
    assert not result.abstained
    assert S400_SENTENCE in [q.text for q in result.quotes]
    footnote = next(f for f in result.footnotes if f.number == 4)
    assert footnote.title == "The Growing Significance of China-Russia Defense Cooperation"
    assert footnote.url.startswith("https://ssi.armywarcollege.edu/")


@pytest.mark.parametrize("question", ["did russia sell S-400s to china", "which country sold china its Su-35s"])
def test_a_model_name_in_the_plural_is_the_model_the_article_names(question, loaded_index, session_config):
    result = answer(question, loaded_index, session_config)
    assert result.decided_by != "unknown name"
    assert S400_SENTENCE in [q.text for q in result.quotes]


@pytest.mark.parametrize("question", ["What weapons can China now produce domestically?",
                                      "ما الأسلحة التي باتت الصين تنتجها محليًا؟"])
def test_an_equipment_question_answered_without_designators_keeps_its_answer(question, loaded_index, session_config):
    # Naming equipment the question asks for must not push out the sentence that answers without
    # naming a designator (whether it is quoted confidently is the answerability model's call).
    keep_all = dataclasses.replace(session_config, confident_answer=0.0, related_answer=0.0)
    result = answer(question, loaded_index, keep_all)
    assert any("قادرة على إنتاج صواريخ وطائرات مقاتلة" in q.text for q in result.quotes)


@pytest.mark.parametrize("question", ["How many Su-35 jets did China buy?", "كم عدد طائرات Su-35 التي اشترتها الصين؟",
                                      "How many S-400 systems did Russia deliver?", "What did the Su-35 deal cost?",
                                      "ما سعر طائرات سوخوي Su-35 التي اشترتها الصين؟"])
def test_a_count_the_article_never_gives_is_not_answered(question, loaded_index, session_config):
    # The Su-35 and S-400 sentences are about the question, but give no count or price.
    result = answer(question, loaded_index, session_config)
    assert result.abstained and result.quotes == ()


@pytest.mark.parametrize("question", ["What is the author's date of birth?", "متى ولد كاتب المقال؟"])
def test_a_date_the_article_never_gives_is_not_answered(question, loaded_index, session_config):
    # The bio sentence is about the author, but gives no date.
    result = answer(question, loaded_index, session_config)
    assert result.abstained and result.quotes == ()


@pytest.mark.parametrize(("question", "year"), [("في أي عام ضمّت روسيا شبه جزيرة القرم؟", "2014"),
                                              ("Since what year have bilateral naval drills expanded markedly?", "2022")])
def test_a_date_the_article_gives_is_quoted(question, year, loaded_index, session_config):
    result = answer(question, loaded_index, session_config)
    assert not result.abstained
    assert any(year in q.text for q in result.quotes)


@pytest.mark.parametrize("question", [
    pytest.param("متى وقعت خارطة الطريق العسكرية؟", marks=pytest.mark.xfail(
        strict=True, reason="confidence 0.48 with the learned sentence ranker and the answerability model refit on "
                            "its choices (0.62 before): the middle level, its closest passage the roadmap one")),
    "امتى وقعو خارطة الطريق العسكريه", "when was the military roadmap signed"])
def test_a_quote_giving_the_date_asked_for_is_quoted_confidently(question, loaded_index, session_config):
    # Short questions score low on similarity alone; that the quote gives the kind of value asked
    # for (here a date) is what the answerability model weighs most.
    result = answer(question, loaded_index, session_config)
    assert result.level == "quote" and result.signals["value"] == 1.0
    assert any("في نوفمبر 2021" in q.text and "خارطة طريق للتعاون العسكري" in q.text for q in result.quotes)


def test_a_value_counts_only_when_the_question_asks_for_its_kind(loaded_index, session_config):
    # Both are quoted the roadmap sentence, which gives dates; only the question asking "when" is given one.
    keep_all = dataclasses.replace(session_config, confident_answer=0.0, related_answer=0.0)
    asked = answer("When was the military roadmap signed?", loaded_index, keep_all)
    not_asked = answer("What did the military roadmap commit the two armies to?", loaded_index, keep_all)
    for result in (asked, not_asked):
        assert any("خارطة طريق للتعاون العسكري 2021-2025" in q.text for q in result.quotes)
    assert asked.signals["value"] == 1.0 and not_asked.signals["value"] == 0.0


def test_a_date_a_reference_entry_gives_is_quoted(loaded_index, session_config):
    # The body sentence citing [4] names no date; its reference entry does, so the date rule lets it
    # be quoted (whether confidently is the answerability model's call).
    keep_all = dataclasses.replace(session_config, confident_answer=0.0, related_answer=0.0)
    result = answer("When was the cited Army War College article published?", loaded_index, keep_all)
    assert result.level == "quote"
    assert any("September 18, 2024" in q.text for q in result.quotes)


@pytest.mark.parametrize("question", ["Why did Russia cancel the Okean 2024 drills?",
                                      "لماذا انسحبت الصين من مناورات فوستوك 2022؟",
                                      "why did china stop buying su-35s", "ليش روسيا ما عادت تبيع سلاح للصين"])
def test_an_ending_the_article_never_tells_of_is_not_answered(question, loaded_index, session_config):
    # The Okean, Vostok and Su-35 sentences name what the question names, but none says it ended.
    result = answer(question, loaded_index, session_config)
    assert result.level == "none" and result.quotes == ()
    assert result.decided_by == "value not given"


def test_an_ending_the_article_tells_of_is_quoted(loaded_index, session_config):
    # "sever" is told by "تقطع" ("cut off"): the article says Moscow is unlikely to.
    keep_all = dataclasses.replace(session_config, confident_answer=0.0, related_answer=0.0)
    result = answer("Would Moscow sever its ties with Beijing if it grew closer to Washington?", loaded_index, keep_all)
    assert result.decided_by == "" and result.level == "quote"
    assert any("أن تقطع موسكو علاقاتها مع بكين" in q.text for q in result.quotes)


@pytest.mark.parametrize(("typed", "meant"), [
    ("Which Russian weapons were sold to Chnia?", "Which Russian weapons were sold to China?"),
    ("what does the no limits partnersihp promise", "what does the no limits partnership promise"),
])
def test_a_mistyped_english_question_is_answered_as_the_question_meant(typed, meant, loaded_index, session_config):
    as_typed, as_meant = answer(typed, loaded_index, session_config), answer(meant, loaded_index, session_config)
    assert (as_typed.level, [q.text for q in as_typed.quotes]) == (as_meant.level, [q.text for q in as_meant.quotes])
    assert as_typed.score == pytest.approx(as_meant.score, abs=1e-3)


@pytest.mark.parametrize(("question", "number", "title"), [
    ("what is reference 4", 4, "The Growing Significance of China-Russia Defense Cooperation"),
    ("المرجع رقم 5 بيقول إيش؟", 5, "China buys 463 D30 engines"),
])
def test_a_question_naming_a_footnote_quotes_that_entry(question, number, title, loaded_index, session_config):
    result = answer(question, loaded_index, session_config)
    assert result.level == "quote"
    assert [q.footnotes for q in result.quotes] == [(number,)]
    assert title in result.quotes[0].text


def test_a_question_naming_several_footnotes_quotes_each_entry(loaded_index, session_config):
    result = answer("هل المراجع 4 و5 من نفس الجهة؟", loaded_index, session_config)
    assert result.level == "quote"
    assert [q.footnotes for q in result.quotes] == [(4,), (5,)]


def test_a_footnote_the_article_does_not_have_is_not_quoted(loaded_index, session_config):
    result = answer("what does reference 99 say?", loaded_index, session_config)
    assert result.level == "none" and result.quotes == ()


@pytest.mark.parametrize("question", ["How many days did the Okean 2024 exercise last?", "كم يوما استمرت مناورات أوكين 2024؟"])
def test_a_count_the_article_gives_is_quoted(question, loaded_index, session_config):
    result = answer(question, loaded_index, session_config)
    assert not result.abstained
    assert any("استمرت لمدة 6 أيام" in q.text for q in result.quotes)


@pytest.mark.parametrize("question", QUESTIONS)
def test_every_quote_is_an_exact_substring_of_the_article(question, loaded_index, session_config, articles):
    text = {a.id: a.text for a in articles}
    result = answer(question, loaded_index, session_config)
    for quote in result.quotes:
        assert text[quote.article][quote.start:quote.end] == quote.text
        assert {f.number for f in result.footnotes} >= set(quote.footnotes)
    for passage in result.passages:
        assert passage.text in text[passage.article]
        for start, end in passage.highlights:
            assert passage.text[start:end] in [q.text for q in result.quotes]


def test_every_quote_is_marked_in_the_passage_it_comes_from(loaded_index, session_config):
    # "Which Russian weapons…" quotes two sentences of one passage (S-400 [4], the D-30 engines [5]).
    result = answer("Which Russian weapons were sold to China?", loaded_index, session_config)
    passages = {p.chunk_id: p for p in result.passages}
    for quote in result.quotes:
        passage = passages[quote.chunk_id]
        assert any(passage.text[start:end] == quote.text for start, end in passage.highlights)
    assert passages_html(result).count("<mark>") == len(result.quotes) >= 2


def test_reply_is_framed_in_the_askers_language(loaded_index, session_config):
    arabic = answer("ما هي الطائرات المقاتلة ومنظومات الدفاع الجوي التي باعتها روسيا إلى الصين؟", loaded_index, session_config)
    english = answer("Which fighter jets and air-defence systems did Russia sell to China?", loaded_index, session_config)
    assert (arabic.language, arabic.message) == ("ar", "بحسب المقال:")
    assert (english.language, english.message) == ("en", "According to the article:")


@pytest.mark.parametrize(
    ("question", "name"),
    [("What is AUKUS?", "AUKUS"), ("What does the article say about the QUAD?", "QUAD"), ("ما هو Be-103؟", "Be-103"),
     ("من هو شويغو؟", "شويغو"), ("ما هي منظمة شنغهاي للتعاون؟", "منظمة شنغهاي للتعاون"),
     # a name the English reference list also holds is looked for as the body writes it
     ("who is shoigu", "شويغو"), ("who is sergei shoigu", "سيرجي شويغو"),
     # a topic, asked of the article in either language, is a name too
     ("whats the article say about ukraine", "أوكرانيا"), ("شو بيحكي المقال عن الناتو؟", "الناتو"),
     # "who X", "what does X mean", as dialect and English ask them
     ("مين وانغ يي", "وانغ يي"), ("what does aukus mean", "AUKUS"),
     # whether the article mentions it, and "tell me (more) about it", as either language asks them
     ("هل يذكر المقال القطب الشمالي؟", "القطب الشمالي"), ("does the article mention aukus", "AUKUS"),
     ("tell me more about the quad", "QUAD"), ("what does the author think about iran", "إيران"),
     ("who is wang yi", "وانغ يي")],
)
def test_a_question_that_only_names_something_quotes_where_the_article_names_it(
        question, name, loaded_index, session_config):
    result = answer(question, loaded_index, session_config)
    assert not result.abstained
    assert result.quotes and all(name in q.text for q in result.quotes)


def test_a_lower_case_what_is_question_quotes_where_the_article_names_it(loaded_index, session_config):
    result = answer("what is aukus", loaded_index, session_config)
    assert result.level == "quote" and all("AUKUS" in q.text for q in result.quotes)


@pytest.mark.parametrize(("question", "kind"), [
    ("who wrote this article", "bio"), ("مين كاتب المقال؟", "bio"), ("what is the title of the article?", "title"),
    ("ما عنوان المقال", "title"), ("what does the disclaimer say", "disclaimer"), ("ما نص إخلاء المسؤولية؟", "disclaimer"),
])
def test_the_articles_title_and_author_are_quoted_from_the_article(question, kind, loaded_index, session_config):
    result = answer(question, loaded_index, session_config)
    (quote,) = result.quotes
    chunk = next(c for c in loaded_index.chunks if c.id == quote.chunk_id)
    assert result.level == "quote" and result.decided_by == "article part" and chunk.kind == kind
    assert quote.text in chunk.text and (kind != "bio" or "أفدالياني" in quote.text)
    assert result.passages[0].highlights  # the passage the quote comes from, first


@pytest.mark.parametrize("question", ["what does the article conclude", "ما هي خاتمة المقال؟"])
def test_the_conclusion_is_the_first_and_last_sentence_of_the_concluding_section(question, loaded_index, session_config):
    result = answer(question, loaded_index, session_config)
    first, last = result.quotes
    assert result.level == "quote" and result.decided_by == "article part"
    assert first.text.startswith("وبشكل عام، شهدت العلاقات الصينية الروسية")
    assert last.text == "وهذا يعني أن فض الشراكة الصينية الروسية هو سيناريو مستبعد للغاية."
    sections = {c.id: c.section for c in loaded_index.chunks}
    assert sections[first.chunk_id] == sections[last.chunk_id] == "خاتمة"


@pytest.mark.parametrize("with_heading", [True, False])
def test_an_added_articles_subject_and_conclusion_come_from_its_own_parts(with_heading, tmp_path, model, session_config):
    from iqtibas.index import Index
    from iqtibas.ingest import chunk_article, load_articles

    text = (Path(__file__).parent / "data" / "english_article.txt").read_text(encoding="utf-8")
    path = tmp_path / "energy.txt"
    path.write_text(text if with_heading else text.replace("Conclusion\n\n", ""), encoding="utf-8")
    assert ("\nConclusion\n" in path.read_text(encoding="utf-8")) == with_heading
    config = dataclasses.replace(session_config, articles=(path,), index=tmp_path / "index")
    articles = load_articles(config.articles)
    index = Index.build(articles, [c for a in articles for c in chunk_article(a, config)], model, config)
    closing = "Cooperation on energy has not resolved older disputes, but it has given the states reasons to keep talking."
    # the concluding section, or the last paragraph where no heading says so: here one sentence, quoted once
    assert [q.text for q in answer("what does the article conclude?", index, config).quotes] == [closing]
    title, opening = answer("what is this article about", index, config).quotes
    assert title.text == "Ports, Pipelines and Power in the Eastern Mediterranean"
    assert opening.text.startswith("Energy discoveries off Cyprus") and opening.footnotes == (1,)


@pytest.mark.parametrize("question", ["list the sources", "ما هي المراجع المستخدمة في المقال؟"])
def test_a_question_asking_for_the_sources_is_answered_with_the_reference_list(question, loaded_index, session_config):
    result = answer(question, loaded_index, session_config)
    entries = [loaded_index.footnotes[key] for key in sorted(loaded_index.footnotes)]
    assert result.level == "quote" and [q.text for q in result.quotes] == [e.text for e in entries]
    assert [f.number for f in result.footnotes] == list(range(1, len(entries) + 1))
    assert [p.chunk_id for p in result.passages] == [q.chunk_id for q in result.quotes]


def test_a_question_asking_which_source_backs_a_claim_is_not_given_the_whole_list(loaded_index, session_config):
    result = answer("which source says russia sold s-400 to china", loaded_index, session_config)
    assert 0 < len(result.quotes) < 4 and any(4 in q.footnotes for q in result.quotes)


@pytest.mark.parametrize("question", ["where does the author work", "الجامعه اللي بيشتغل فيها الكاتب بأي دوله؟",
                                      "is the author married"])
def test_a_question_about_the_author_is_shown_the_bio_at_least(question, loaded_index, session_config):
    # The model is not confident of the bio for these, but it is all the article says of its author.
    result = answer(question, loaded_index, session_config)
    assert result.level in ("quote", "related") and result.passages[0].kind == "bio"
    assert "أفدالياني" in result.passages[0].text


@pytest.mark.parametrize("question", ["لماذا يرى الكاتب أن التفريق بين موسكو وبكين صعب؟",
                                      "why does the author think the partnership will last",
                                      "ما رأي الكاتب في مستقبل الشراكة؟"])
def test_a_question_about_the_authors_argument_is_answered_from_the_body(question, loaded_index, session_config):
    # "the author" pulls the bio close (it is labelled so); what the author thinks is in the body.
    result = answer(question, loaded_index, session_config)
    assert result.level != "none" and result.passages[0].kind == "body"


def test_how_the_author_describes_something_is_the_sentence_that_describes_it(loaded_index, session_config):
    result = answer("how does the author describe the relationship today", loaded_index, session_config)
    assert "يمكن وصف العلاقة العسكرية والأمنية بين روسيا والصين اليوم" in result.passages[0].text


@pytest.mark.parametrize("question", ["what is the article about", "شو موضوع المقال؟", "summarize the article"])
def test_what_the_article_is_about_is_its_title_and_opening_sentence(question, loaded_index, session_config):
    result = answer(question, loaded_index, session_config)
    title, opening = result.quotes
    assert result.level == "quote" and result.decided_by == "article part"
    assert title.text == "الولايات المتحدة الأمريكية والشراكة الأمنية العسكرية بين روسيا والصين"
    assert opening.text.startswith("على الرغم من أن العلاقات الصينية- الروسية") and opening.text.endswith("بين موسكو وبكين.")
    # the passages they come from lead, in article order, whether or not search found them
    assert [p.chunk_id for p in result.passages[:2]] == [title.chunk_id, opening.chunk_id]
    assert all(p.highlights for p in result.passages[:2]) and len(result.passages) == session_config.k


def test_a_question_with_its_question_word_mistyped_is_answered_as_typed_right(loaded_index, session_config):
    typed = answer("Waht weapons did Russia sell to China?", loaded_index, session_config)  # "related" when read as typed
    assert typed.level == "quote" and any(S400_SENTENCE in q.text for q in typed.quotes)


def test_a_decade_the_article_writes_in_words_is_not_an_unknown_name(loaded_index, session_config):
    # The article writes the 1970s as "سبعينيات القرن العشرين", and never names the 1950s.
    known = answer("Why can't Washington repeat its 1970s success in splitting Beijing from Moscow?",
                   loaded_index, session_config)
    unknown = answer("What happened between Moscow and Beijing in the 1950s?", loaded_index, session_config)
    assert known.decided_by != "unknown name"
    assert (unknown.level, unknown.decided_by) == ("none", "unknown name")


@pytest.mark.parametrize("question", ["من هو بايدن؟", "من هو وزير الدفاع الأمريكي؟"])
def test_who_is_someone_the_article_never_names_abstains(question, loaded_index, session_config):
    assert answer(question, loaded_index, session_config).abstained


def test_a_named_question_that_asks_more_than_the_name_can_still_abstain(loaded_index, session_config):
    # The article names the S-400, but says nothing of India buying it.
    result = answer("What did the article say about India's S-400 purchase?", loaded_index, session_config)
    assert result.abstained and result.quotes == ()


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("What is the population of Brazil?", "The article does not say."),
        ("ما هي عاصمة البرازيل؟", "لا يذكر المقال ذلك."),
    ],
)
def test_unrelated_questions_abstain_with_related_passages(question, message, loaded_index, session_config):
    result = answer(question, loaded_index, session_config)
    assert result.abstained and result.message == message
    assert result.quotes == () and result.footnotes == ()
    assert result.passages  # the nearest passages, shown as related
    assert result.level == "none" and result.score < session_config.related_answer


@pytest.mark.parametrize("question", ["lorem ipsum dolor sit amet", "asdfghjkl qwerty", "qwertyuiop zxcvbnm",
                                      "How do I bake bread?", "كيف أطبخ المقلوبة؟", "../../../../etc/passwd",
                                      "😀😀😀🎉", "tell me a joke", "بسبس نونو"])
def test_nonsense_and_off_topic_questions_are_never_quoted(question, loaded_index, session_config):
    # Their nearest sentences are hubs (the contact line, the bio, the conclusion), at similarity 0.8 and more.
    result = answer(question, loaded_index, session_config)
    assert result.level != "quote" and result.quotes == ()


@pytest.mark.parametrize("question", ["", "   \n\t ", "\u200b\u200f", "x" * 20_000])
def test_unusable_questions_raise_a_clear_error(question, loaded_index, session_config):
    with pytest.raises(IqtibasError, match="empty|characters long"):
        answer(question, loaded_index, session_config)


@pytest.mark.parametrize(
    "question",
    ["<img src=x onerror=alert(1)>", "[4]", "🙂🙂", "مَا هِيَ الأَسْلِحَةُ الرُّوسِيَّةُ؟", "shu hiya el asl7a el roosiya?",
     "\u202eما هو S-400؟\u202c"],
)
def test_odd_questions_get_an_answer_or_an_abstention(question, loaded_index, session_config):
    result = answer(question, loaded_index, session_config)
    assert result.question == question
    assert result.abstained or result.quotes


def test_render_text_shows_quote_and_footnote(loaded_index, session_config):
    text = render_text(answer("Which fighter jets and air-defence systems did Russia sell to China?", loaded_index, session_config))
    assert text.startswith("According to the article:")
    assert S400_SENTENCE in text
    assert "[4] “The Growing Significance of China-Russia Defense Cooperation”, Army War College" in text


def test_a_related_answer_shows_first_the_passage_holding_its_closest_sentence(loaded_index, session_config):
    question = "ما الأسلحة التي باتت الصين تنتجها محليًا؟"
    never_confident = dataclasses.replace(session_config, confident_answer=1.0, related_answer=0.0)
    result = answer(question, loaded_index, never_confident)
    assert result.level == "related" and result.quotes == ()
    quoted = answer(question, loaded_index, dataclasses.replace(session_config, confident_answer=0.0)).quotes
    closest = max(quoted, key=lambda quote: quote.score)
    first = result.passages[0]
    assert first.chunk_id == closest.chunk_id and closest.text in first.text
    assert sorted(p.chunk_id for p in result.passages) == sorted(h.chunk.id for h in loaded_index.search(
        analyse(question, session_config)))  # reordered, not changed
