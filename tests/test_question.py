"""Reading language: normalising, search terms, language, what a question asks for, countries."""

from __future__ import annotations

import pytest

from iqtibas.config import load_config
from iqtibas.question import analyse, normalize_arabic, spelling_key, tokenize, values_given
from iqtibas.question.countries import countries_in
from iqtibas.records import IqtibasError

CONFIG = load_config(environ={})


def test_normalize_arabic_folds_spellings():
    assert normalize_arabic("أإآٱ") == "اااا"
    assert normalize_arabic("الصينيّة") == "الصينيه"  # shadda removed, ta marbuta -> ha
    assert normalize_arabic("مستشفى") == "مستشفي"
    assert normalize_arabic("الــصين") == "الصين"  # tatweel
    assert normalize_arabic("AUKUS Su-35") == "aukus su-35"
    assert normalize_arabic("ﻻ") == "لا"  # presentation form


def test_tokenize_keeps_latin_names_whole_and_joined():
    assert {"s-400", "s400"} <= set(tokenize("منظومات S-400"))
    assert tokenize("والصين") == tokenize("الصين") == tokenize("للصين") == ["صين"]
    assert tokenize("what is the") == []


def test_a_model_name_in_the_plural_is_tokenized_as_the_name_but_a_decade_is_not():
    assert tokenize("S-400s and F-16s") == ["s-400", "s400", "f-16", "f16"]
    assert tokenize("the 1990s") == ["1990s"]


def test_function_words_spelled_with_alef_maqsura_are_not_search_terms():
    # على، متى، حتى are folded to علي، متي، حتي before the stop-word check: the list must be too.
    assert tokenize("امتى وقعوا على خارطة الطريق حتى 2025") == ["قعوا", "خارطه", "طريق", "2025"]
    assert tokenize("متى") == tokenize("إلى") == []


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("ما هي الطائرات المقاتلة ومنظومات الدفاع الجوي التي باعتها روسيا إلى الصين؟", "ar"),
        ("Which fighter jets and air-defence systems did Russia sell to China?", "en"),
        ("ما هو S-400؟", "ar"),
        ("ما هو AUKUS و QUAD؟", "ar"),
        ("What does the article say about الصين?", "en"),
        ("من هو Emil Avdaliani؟", "ar"),
        ("S-400", "en"),
    ],
)
def test_language_is_detected_by_script(question, language):
    assert analyse(question, CONFIG).language == language


@pytest.mark.parametrize(
    ("question", "known"),
    [
        ("Which Russian weapons were sold to China?", set()),
        ("What kind of missiles does China make?", set()),
        ("ما هي الأسلحة الروسية التي بيعت للصين؟", set()),
        ("أي طائرات اشترتها الصين؟", set()),
        ("Which engines besides the D-30 were sold?", {"D-30"}),
        ("What does the article say about the S-400?", None),
        ("What role do aircraft play in the exercises?", None),
        ("How did Russian arms help China?", None),
        ("What goods does Russia import from China?", None),
    ],
)
def test_which_equipment_questions_want_designators_the_question_lacks(question, known):
    read = analyse(question, CONFIG)
    assert (set(read.designators) if read.asks_for("equipment") else None) == known


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("استمرت لمدة 6 أيام ويتم تنفيذها منذ عام 1985.", {"6"}),
        ("منظومات الدفاع الجوي S-400 … الصواريخ 3M-54E إلى الصين[4].", set()),
        ("China bought twenty-four Su-35 jets in 2015", {"twenty", "four"}),
        ("ثلاثة آلاف جندي", {"ثلاثه", "الاف"}),
        ("وكان أحد الجوانب الحيوية الأخرى للتعاون", set()),  # "one of", not a count
    ],
)
def test_counts_are_numbers_that_are_not_years_markers_or_designators(text, found):
    assert values_given("count", text) == found


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("منذ تسعينيات القرن الماضي، كانت روسيا", {"تسعينيات"}),
        ("في نوفمبر 2021، وقّع … للفترة 2021-2025", {"نوفمبر", "2021", "2025"}),
        ("Su-35 و S-400 إلى الصين[14].", set()),
        ("in the 1990s and again in March", {"1990s", "March"}),
        ("منذ أوائل العقد الأول من القرن الحادي والعشرين", {"العقد الأول", "القرن الحادي"}),  # a date in words
    ],
)
def test_dates_are_years_decades_and_months(text, found):
    assert values_given("date", text) == found


@pytest.mark.parametrize(
    ("text", "ending"),
    [
        ("why did china pull out of the drills", True),
        ("ليش روسيا ما عادت تبيع سلاح للصين", True),
        ("لماذا ألغت روسيا المناورات؟", True),
        ("فمن غير المرجح أن تقطع موسكو علاقاتها مع بكين", True),
        ("هل تبيع روسيا قطع غيار للصين؟", False),  # قطع here is "parts"
        ("ما موقف الصين من المناورات؟", False),  # موقف, "position", is not وقف, "stopped"
        ("did russia cut its arms exports", False),  # cut as in reduce
        ("ليش انتهى الاتفاق بين البلدين؟", True),
        ("why would moscow leave the organisation", True),
        ("which bloc is on the left of the map", False),  # left as in the side
    ],
)
def test_an_ending_is_read_in_either_language_and_not_from_words_that_look_alike(text, ending):
    assert bool(values_given("ending", text)) is ending


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("What weapons did Russia sell to Chnia?", "What weapons did Russia sell to China?"),
        ("how did the partnesrhip between them change", "How did the partnership between them change"),
        ("why does moscow need bejing so much", "Why does moscow need beijing so much"),  # the index's Beijing, not "being"
        ("shouldnt they be allies by now", "Shouldn't they be allies by now"),
        ("Did the exercise take place in the Pacfic?", "Did the exercise take place in the Pacific?"),
        # Names the article writes in Arabic, typed as people spell them, stay as typed:
        ("When was the Okean drill held?", "When was the Okean drill held?"),  # not "ocean"
        ("what is aukus", "What is aukus"),  # not "auks"
        ("What did Shoigu do at the zhuhai airshow?", "What did Shoigu do at the zhuhai airshow?"),
        # and so do English words, Arabic questions, and what is no word one letter away:
        ("How do I bake bread?", "How do I bake bread?"),
        ("ما هي اسلحة Rusia للصين؟", "ما هي اسلحة Rusia للصين؟"),
        ("qwertyuiop zxcvbnm", "Qwertyuiop zxcvbnm"),
    ],
)
def test_an_english_question_s_mistyped_words_are_read_as_the_words_meant(typed, read, loaded_index, session_config):
    assert analyse(typed, session_config, loaded_index).cleaned == read


def test_a_question_is_read_as_typed_without_a_vocabulary(session_config):
    assert analyse("What weapons did Russia sell to Chnia?", session_config).cleaned == "What weapons did Russia sell to Chnia?"


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("هل اشترت الهند منظومة S-400؟", {"IN"}),
        ("ما علاقة روسيا والصين بالولايات المتحدة؟", {"RU", "CN", "US"}),
        ("Do China and Russia back North Korea and Iran?", {"CN", "RU", "KP", "IR"}),
        ("What role does Pakistan play?", {"PK"}),
        ("what role does pakistan play?", {"PK"}),  # typed all in lower case, case says nothing
        ("What does Fine china cost?", set()),  # otherwise English names count as written
        ("What did the article say about Indias S-400 purchase", {"IN"}),  # a possessive, apostrophe dropped
        ("ما الدعم المالي الذي قدمته روسيا؟", {"RU"}),  # "المالي" is "financial", not Mali
        ("Is fine china exported to Russia?", {"RU"}),
    ],
)
def test_countries_are_found_in_either_language(text, codes):
    assert countries_in(text) == codes




def test_a_question_reads_once_into_what_it_asks_for():
    read = analyse("  كم عدد طائرات Su-35 التي اشترتها الصين عام 2015؟ ", CONFIG)
    assert read.cleaned == "كم عدد طائرات Su-35 التي اشترتها الصين عام 2015؟"
    assert read.language == "ar" and read.asks == ("count",)
    assert read.designators == ("Su-35",) and read.dates == ("2015",)
    assert {m.text for m in read.mentions} >= {"su-35", "2015", "CN"}


@pytest.mark.parametrize("text", ["", "   ", "\u200b\u200f", "x" * 2001])
def test_an_unusable_question_is_refused_with_what_to_do(text):
    with pytest.raises(IqtibasError, match="empty|limit"):
        analyse(text, CONFIG)


@pytest.mark.parametrize(("latin", "arabic"), [("shoigu", "شويغو"), ("vostok", "فوستوك"), ("zhuhai", "تشوهاى"),
                                                ("okean", "أوكين"), ("ocean", "أوكين"), ("kavkaz", "كافكاز"),
                                                ("avdaliani", "أفدالياني"), ("sergei", "سيرجي"), ("georgia", "جورجيا"),
                                                ("jinping", "جينبينغ")])
def test_a_name_meets_its_spelling_in_the_other_script(latin, arabic):
    assert spelling_key(latin) == spelling_key(tokenize(arabic)[0])


@pytest.mark.parametrize(("latin", "arabic"), [("navy", "انفا"), ("okean", "يكون"), ("china", "الصين")])
def test_different_words_do_not_meet(latin, arabic):
    assert spelling_key(latin) != spelling_key(tokenize(arabic)[0])


@pytest.mark.parametrize(("question", "count"), [
    ("What did China pay, what was the price of the S-400?", True), ("ما هو سعر منظومة S-400؟", True),
    ("كم تكلفة الصفقة؟", True), ("What share of Russian exports goes to China?", True),
    ("What does the article say about the price of cooperation?", True),
    ("هل ثمّنت روسيا موقف الصين؟", False), ("What does Russia sell to China?", False),
    ("ما نسبة صادرات السلاح الروسي إلى الصين؟", True),
    ("ما فوائد المناورات بالنسبة للطرفين؟", False),  # بالنسبة ل: "for", not a share
])
def test_a_question_asking_a_price_or_share_asks_for_a_count(question, count):
    assert analyse(question, CONFIG).asks_for("count") is count


@pytest.mark.parametrize(("question", "numbers"), [
    ("whats the title of reference 5", (5,)), ("المرجع رقم 5 بيقول إيش؟", (5,)), ("ما هو المصدر ٤؟", (4,)),
    ("what is [4] and [6]?", (4, 6)), ("footnote #12", (12,)),
    ("Which sources from 2022 does it cite?", ()), ("Which source backs the S-400 claim?", ()),
    ("ما مصدر خبر 2019؟", ()), ("do references 4 and 9 agree", (4, 9)), ("footnotes 1, 2 and 3", (1, 2, 3)),
    ("هل تتفق المراجع 12 و13؟", (12, 13)), ("what is reference 5, 2021", (5,)),
])
def test_a_question_naming_a_footnote_by_number_reads_the_number(question, numbers):
    assert analyse(question, CONFIG).footnotes == numbers


@pytest.mark.parametrize(("question", "read"), [
    ("why does russia want to rely less on china", "Why does Russia want to rely less on China"),
    ("what about india's and the united states' role", "What about India's and the United States' role"),
    ("Why does russia rely on China?", "Why does russia rely on China?"),  # typed with capitals: left as typed
    ("ما موقف الصين؟", "ما موقف الصين؟"),
])
def test_an_english_question_typed_in_lower_case_is_read_with_its_capitals(question, read):
    assert analyse(question, CONFIG).cleaned == read


@pytest.mark.parametrize(("question", "asks"), [
    ("who wrote this article?", ("author",)), ("Who is the author?", ("author",)), ("مين كاتب المقال", ("author",)),
    ("من كتب هذا المقال؟", ("author",)), ("whats the title of the article", ("title",)),
    ("ما عنوان المقال؟", ("title",)), ("what's the author's name", ("author",)), ("شو اسم الكاتب", ("author",)),
    ("what is the name of the article", ("title",)),
    # asking more than the title or the author: the question is read as any other, and one asking
    # something of the author says so
    ("where was the author born", ("author detail",)), ("هل كاتب المقال استاذ جامعي؟", ("author detail",)),
    # what the author thinks or says of something is what the article says of it
    ("why does the author think the partnership will last", ("view",)),
    ("ما الذي يعتبره الكاتب العقبة الكبرى؟", ("view",)), ("شو بيقول الكاتب عن الناتو؟", ("view",)),
    ("ما عنوان القسم الأول؟", ()), ("Why does Russia sell arms to China?", ()),
    ("what is the main point of the title", ()), ("what does it mean", ()), ("what is this", ()),
    # asking what the article is about
    ("what is the article about?", ("subject",)), ("whats it about", ("subject",)),
    ("summarize the article", ("subject",)), ("what does the article say", ("subject",)),
    ("شو موضوع المقال؟", ("subject",)), ("عن ماذا يتحدث المقال", ("subject",)), ("المقال عن شو؟", ("subject",)),
    ("ما الفكرة الرئيسية للمقال؟", ("subject",)),
    # asking what it concludes
    ("what is the conclusion of the article", ("conclusion",)), ("شو استنتج الكاتب؟", ("conclusion",)),
    ("what does the article conclude about iran", ()),
    # with the words a chat adds
    ("شو موضوع المقال باختصار؟", ("subject",)), ("ok so tldr what does the author conclude at the end?", ("conclusion",)),
    ("وش الخلاصة اللي وصل لها الكاتب؟", ("conclusion",)), ("hey quick one who wrote this", ("author",)),
    # asking for its disclaimer
    ("what does the disclaimer say", ("disclaimer",)), ("ما نص إخلاء المسؤولية في المقال؟", ("disclaimer",)),
    # asking for its sources
    ("give me the main points", ("subject",)), ("what are the key takeaways", ("conclusion",)),
    ("list the sources", ("source", "references")), ("what sources did the author use?", ("source", "references")),
    ("ما هي المراجع المستخدمة في المقال", ("source", "references")),
])
def test_a_question_asking_only_the_articles_title_author_subject_conclusion_or_sources_says_so(question, asks):
    assert analyse(question, CONFIG).asks == asks


@pytest.mark.parametrize(("question", "defined"), [
    ("what is aukus", ("aukus",)), ("whats the sco?", ("sco",)), ("ok so who is shoigu", ("shoigu",)), ("Who was Shoigu?", ("shoigu",)),
    ("ماهو حلف اوكوس", ("اوكوس", "حلف")), ("what is the role of aukus in asia", ()), ("why is aukus here", ()),
    ("what does the article say about the sco", ("sco",)), ("tell me about aukus", ("aukus",)),
    ("ماذا يقول المقال عن الهند؟", ("هند",)), ("شو بيحكي المقال عن بحر الصين", ("بحر", "صين")),
    ("what did putin say about the roadmap", ()), ("what does the article say about the role of india in asia", ()),
    ("مين وانغ يي؟", ("انغ", "يي")), ("شو يعني الشراكه بلا حدود", ("بلا", "حدود", "شراكه")),
    ("ما المقصود بالناتو؟", ("ناتو",)), ("what does quad mean", ("quad",)), ("مين اللي وقع الخارطة وليش؟", ()),
    ("does the article mention the quad", ("quad",)), ("هل يذكر المقال القطب الشمالي؟", ("شمالي", "قطب")),
    ("احكيلي عن الناتو", ("ناتو",)), ("tell me more about aukus", ("aukus",)),
    ("what does the author think about iran", ("iran",)), ("does the article mention why russia sold arms", ()),
    # a part too short to be matched in the other script is named by the rest
    ("who is wang yi", ("wang",)), ("who is xi", ("xi",)),
])
def test_who_or_what_is_x_reads_x_in_either_language(question, defined):
    assert analyse(question, CONFIG).defined == defined


def test_a_decade_in_digits_is_also_read_as_arabic_writes_it():
    (decade,) = analyse("What happened in the 1970s?", CONFIG).mentions
    assert decade.spellings == (("1970s",), ("سبعينيات",))


@pytest.mark.parametrize(("question", "read"), [
    ("Waht weapons did Russia sell to China?", "What weapons did Russia sell to China?"),
    ("Whta is the tilte of the atricle?", "What is the title of the article?"),
    ("wehn did thier drills start", "When did their drills start"),
    ("What form does the cooperation take?", "What form does the cooperation take?"),  # a word, not "from" mistyped
    ("Are there three exercises?", "Are there three exercises?"),
    ("ما هي الاسلحه؟", "ما هي الاسلحه؟"),
])
def test_an_english_rule_word_typed_with_two_letters_swapped_is_read_as_meant(question, read):
    assert analyse(question, CONFIG).cleaned == read


def test_a_mistyped_rule_word_still_asks_what_it_asks():
    assert analyse("Whta is the tilte of the atricle?", CONFIG).asks == ("title",)
    assert analyse("how mnay jets did China buy", CONFIG).asks_for("count")
