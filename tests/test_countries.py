"""Country names in questions, and whether the article names them."""

from __future__ import annotations

import pytest

from iqtibas.chat import answer
from iqtibas.index.countries import countries_in


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("هل اشترت الهند منظومة S-400؟", {"IN"}),
        ("ما علاقة روسيا والصين بالولايات المتحدة؟", {"RU", "CN", "US"}),
        ("Do China and Russia back North Korea and Iran?", {"CN", "RU", "KP", "IR"}),
        ("What role does Pakistan play?", {"PK"}),
        ("what role does pakistan play?", set()),  # English names count only as written
        ("ما الدعم المالي الذي قدمته روسيا؟", {"RU"}),  # "المالي" is "financial", not Mali
        ("Is fine china exported to Russia?", {"RU"}),
    ],
)
def test_countries_are_found_in_either_language(text, codes):
    assert countries_in(text) == codes


@pytest.mark.parametrize(
    ("question", "unknown"),
    [("Did India buy the S-400?", ["IN"]), ("ما رأي تركيا في الشراكة بلا حدود؟", ["TR"]),
     ("What does the United Kingdom think?", ["GB"]), ("Did Finland and Sweden join NATO?", []),
     ("ما دور كوريا الشمالية وإيران؟", []), ("Where does the author work, in Georgia?", [])],
)
def test_countries_the_article_never_names_are_unknown(question, unknown, loaded_index):
    assert loaded_index.unknown_names(question) == unknown


def test_a_question_about_a_country_the_article_never_names_abstains(loaded_index, session_config):
    assert answer("What role does Pakistan play in the Sino-Russian partnership?", loaded_index, session_config).abstained


@pytest.mark.parametrize(("question", "quoted"), [
    ("هل انضمت فنلندا والسويد إلى حلف الناتو؟", "فنلندا والسويد"),
    ("ما الذي تدعمه الصين وروسيا في مجلس الأمن بشأن كوريا الشمالية وإيران؟", "كوريا الشمالية وإيران"),
])
def test_a_question_about_countries_the_article_names_is_answered(question, quoted, loaded_index, session_config):
    result = answer(question, loaded_index, session_config)
    assert not result.abstained
    assert any(quoted in q.text for q in result.quotes)
