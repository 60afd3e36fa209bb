"""The one reader of a raw question: ``analyse(text, config, vocabulary) -> Question``.

Every rule about what a question asks lives here, so a new rule has an obvious home.
"""

from __future__ import annotations

import re

from iqtibas.config import Config
from iqtibas.question.countries import capitalise_countries, countries_in, name_terms
from iqtibas.question.sentences import MARKER
from iqtibas.question.scripts import too_short_to_spell
from iqtibas.question.spelling import Vocabulary, respelled
from iqtibas.question.text import (
    ARABIC_WORD,
    STOPWORDS,
    LATIN_TOKEN,
    LATIN_WORD,
    LETTER_FOLDS,
    singular,
    tokenize,
    usable_text,
    visible_text,
)
from iqtibas.records import IqtibasError, Mention, Question

# Latin words that are names inside Arabic text (S-400, AUKUS) rather than English prose.
LATIN_NAME = re.compile(r"^[A-Z0-9]+$|\d")
DIGIT = re.compile(r"\d")
# A question asking how many ("How many…", "كم عدد…"), what share or what price ("نسبة", not
# بالنسبة, "as for"; "سعر"; not ثمن, which is also ثمّن, "praised") or when ("When…", "متى…") is
# answered only by a sentence that gives a count or a date the question does not already hold. A
# count is a number that is not a year, a footnote marker or part of a designator (Su-35), or a
# number word; a date is a year, a decade or a month.
# The question-type patterns are matched on the question with its Arabic letters folded as search
# folds them (hamzas, ta marbuta, alef maqsura), so "اي سنه" is read as "أي سنة"; dialect words
# stand beside the standard ones (قديش، كام: how many; امتى: when; مين: who; شو، ايش، وش: what).
def _folded(pattern: str) -> re.Pattern:
    return re.compile(pattern.translate(LETTER_FOLDS), re.IGNORECASE)


ASKS_FOR_COUNT = _folded(
    r"\bhow\s+(?:many|much)\b|\bwhat\s+(?:percentage|percent|share)\b|\b(?:price|prices|cost|costs)\b"
    r"|(?:^|\s)(?:كم|بكم|قديش|قدّيش|كام)\s+(?!دام|استمر)|(?<!بال)نسبة|سعر|أسعار|تكلفة|كلفة"
)
ASKS_FOR_DATE = _folded(
    r"^\s*(?:since\s+)?when\b|\b(?:in\s+)?(?:what|which)\s+(?:year|years|month|decade|date)\b|\bdate\s+of\b"
    r"|متى|امتى|إمتى|ايمتى|(?:أي|أيّ|انهي)\s+(?:عام|سنة|شهر)|تاريخ\s+(?:ميلاد|وفاة)"
)
NUMBER = re.compile(r"(?<![\w-])\d+(?:[.,]\d+)*(?![\w-])")
YEAR = r"(?:1[5-9]|20)\d\d"
# Arabic decades by their tens digit, 2 to 9: عشرينيات (the 1920s) … تسعينيات (the 1990s).
DECADE_WORDS = {str(tens): stem + "ينيات" for tens, stem in enumerate(("عشر", "ثلاث", "أربع", "خمس", "ست", "سبع", "ثمان", "تسع"), start=2)}
DECADE = re.compile(r"(?:1[5-9]|20)(\d)0s")
DATE = re.compile(
    rf"(?<!\d){YEAR}(?:s)?(?!\d)"
    r"|\b(?:January|February|March|April|May|June|July|August|September|October|November|December)\b"
    rf"|{'|'.join(DECADE_WORDS.values())}"
    r"|(?:العقد|القرن)\s+(?:الأول|الثاني|الثالث|الرابع|الخامس|السادس|السابع|الثامن|التاسع|العاشر|الحادي|العشرين)"
    r"|يناير|فبراير|مارس|أبريل|إبريل|مايو|يونيو|يوليو|أغسطس|سبتمبر|أكتوبر|نوفمبر|ديسمبر"
)
# Arabic "one" (واحد) is left out: stripped of its و it reads as أحد, "one of" ("أحد الجوانب"), not a count.
NUMBER_WORDS = frozenset(tokenize(
    "one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty hundred hundreds "
    "thousand thousands million millions billion billions dozen dozens "
    "اثنان اثنين اثنتان ثلاث ثلاثة أربع أربعة خمس خمسة ست ستة سبع سبعة ثمان ثماني ثمانية تسع تسعة "
    "عشر عشرة عشرات عشرين مئة مائة مئات ألف آلاف مليون ملايين مليار مليارات"
))
# Answer type. The embedding model reads topic, not what a question asks for: to "Which Russian
# weapons were sold to China?" it ranks "Russian arms exports to China declined" above "Su-35
# fighters and S-400 systems … that Russia sold to China". A question asking which equipment
# is answered by a sentence naming some, and the article names equipment by designator.
EQUIPMENT_EN = r"weapons?|arms|systems?|aircraft|jets?|fighters?|planes?|missiles?|engines?|equipment|hardware|ships?|submarines?"
EQUIPMENT_AR = r"أسلحة|سلاح|منظومات|منظومة|أنظمة|طائرات|طائرة|مقاتلات|صواريخ|صاروخ|محركات|محرك|معدات|سفن|غواصات"
AUXILIARY = r"did|does|do|is|are|was|were|has|have|had|can|could|will|would|should"
ASKS_FOR_EQUIPMENT = _folded(
    rf"\b(?:which|what)\s+(?:(?!(?:{AUXILIARY})\b)[\w-]+\s+){{0,3}}(?:{EQUIPMENT_EN})\b"
    rf"|(?:^|\s)(?:ما|ما هي|ما هو|ماهي|ماهو|أي|أيّ|ما أبرز|ما اسم|شو|ايش|إيش|وش|شنو)\s+(?:ال)?(?:{EQUIPMENT_AR})"
    r"(?=\s|$|[؟?])"
)
# Words by which a question asks for a source; then reference-list entries rank as body passages do.
ASKS_FOR_SOURCE = _folded(
    r"\b(sources?|references?|cit(?:e|es|ed|ing|ation)|footnotes?|report(?:ed|s)?|publish(?:ed|er|es)?"
    r"|publications?|newspapers?|journals?|magazines?|outlets?|press|agency|links?|urls?|websites?"
    r"|headlines?|stor(?:y|ies))\b"
    r"|مصدر|مصادر|مرجع|مراجع|حاشي|هامش|نشر|صحيف|مجلة|وكالة|رابط|روابط|نقلت|استشهد|خبر|أخبار|تقرير|تقارير"
)
# A question naming footnotes by number ("what is reference 5?", "المرجع رقم 5", "[5]", "footnotes 1, 2
# and 3", "الحواشي 1 و2 و3") asks for those entries of the reference list. Up to three digits, so
# that a year is not read as one.
_FOOTNOTE_NUMBER = r"\[?\d{1,3}\]?(?!\d)"
_FOOTNOTE_NUMBERS = rf"{_FOOTNOTE_NUMBER}(?:\s*(?:,|،|and|&|و)\s*{_FOOTNOTE_NUMBER})*"
NAMES_FOOTNOTE = _folded(
    rf"\b(?:references?|refs?|sources?|footnotes?|citations?)\s*(?:nos?\.?|numbers?|#)?\s*{_FOOTNOTE_NUMBERS}"
    rf"|(?:ال)?(?:مرجع|مراجع|مصدر|مصادر|حاشية|حواشي|هامش|هوامش)\s*(?:رقم|أرقام)?\s*{_FOOTNOTE_NUMBERS}"
    r"|\[\d{1,3}\]"
)
ASKS = (("count", ASKS_FOR_COUNT), ("date", ASKS_FOR_DATE), ("equipment", ASKS_FOR_EQUIPMENT),
        ("source", ASKS_FOR_SOURCE))
# "Who is X?" / "What is X?" / "What does X mean?", X of one to three words: in Arabic, dialect too
# ("مين وانغ يي؟", "شو يعني خارطة الطريق؟"), and in English as people type it ("what is aukus",
# "whats the sco", "who was shoigu").
DEFINITION = _folded(
    r"^\s*(?:من|مين|ما|شو|ايش|إيش|وش)\s*(?:هو|هي)\s+(\S+(?:\s+\S+){0,2}?)\s*[؟?]?\s*$"
    r"|^\s*مين\s+(\S+(?:\s+\S+){0,2}?)\s*[؟?]?\s*$"
    r"|^\s*(?:(?:ماذا|شو|ايش|إيش|وش)\s+(?:يعني|تعني)|ما\s+(?:معنى|المقصود\s+ب))\s*(\S+(?:\s+\S+){0,2}?)\s*[؟?]?\s*$"
    r"|^\s*(?:what|who)(?:\s+(?:is|are|was|were)|'s|’s|s)\s+(?:(?:the|an?)\s+)?(\S+(?:\s+\S+){0,2}?)\s*\??\s*$"
    r"|^\s*what\s+(?:does|do)\s+(?:(?:the|an?)\s+)?(\S+(?:\s+\S+){0,2}?)\s+mean\s*\??\s*$"
)
# The words a chat question may open with before it asks ("ok so", "hey", "طيب").
CHAT_OPENING = _folded(r"^\s*(?:(?:ok|okay|so|hey|hi|well|um|and|but|also|btw|lol|طيب|يعني)\b[,.!،]?\s*)+")
# "What does the article say about X?" asks, as "what is X?" does, for what the article says of X
# ("whats the article say about iran", "tell me about the sco", "شو بيحكي المقال عن الناتو؟").
TOPIC = _folded(
    r"^\s*(?:ماذا|ما\s*الذي|ما|شو|ايش|إيش|وش)\s+(?:يقول|يذكر|ذكر|قال|يحكي|بيحكي|بيقول)\s+(?:المقال|النص|الكاتب)?\s*"
    r"(?:عن|بخصوص|حول)\s+(\S+(?:\s+\S+){0,2}?)\s*[؟?]?\s*$"
    r"|^\s*(?:what|whats|what's)\s+(?:(?:does|did|do)\s+)?(?:the\s+)?(?:article|text|piece|it|author|writer)(?:\s+(?:does|did))?\s+"
    r"(?:say|says|said|write|writes|mention|mentions|think|thinks)\s+(?:about|of|on)\s+(?:(?:the|an?)\s+)?(\S+(?:\s+\S+){0,2}?)\s*\??\s*$"
    r"|^\s*tell\s+me\s+(?:more\s+)?about\s+(?:(?:the|an?)\s+)?(\S+(?:\s+\S+){0,2}?)\s*\??\s*$"
    # "does the article mention X?" asks for what names X too
    r"|^\s*(?:does|did)\s+(?:the\s+)?(?:article|text|piece|it|author|writer)\s+(?:mention|mentions|say\s+anything\s+about"
    r"|talk\s+about|discuss|bring\s+up)\s+(?:(?:the|an?)\s+)?(\S+(?:\s+\S+){0,2}?)\s*\??\s*$"
    r"|^\s*(?:احكيلي|احكي\s+لي|احكيلنا|حدثني|حدثنا|كلمني|قلي|قل\s+لي|قللي|اخبرني|خبرني)\s+(?:عن|بخصوص|حول)\s+(\S+(?:\s+\S+){0,2}?)\s*[؟?]?\s*$"
    r"|^\s*هل\s+(?:يذكر|ذكر|بيذكر|يتحدث|بيحكي|يحكي|تحدث)\s+(?:المقال|النص|الكاتب)\s+(?:عن\s+)?(\S+(?:\s+\S+){0,2}?)\s*[؟?]?\s*$"
)
# A question asking only for the article's title ("what's the title of the article", "ما عنوان
# المقال؟") or its author ("who wrote this", "مين كاتب المقال؟") is answered by the article's title
# or its author's bio, whatever the model makes of the words: a question holding no other term.
TITLE_TERMS = frozenset(tokenize("title titled headline called عنوان العنوان عنوانه"))
AUTHOR_TERMS = frozenset(tokenize("author authors authored writer writers wrote كاتب الكاتب كاتبه مؤلف المؤلف كتب كتبه"))
ARTICLE_TERMS = frozenset(tokenize("article articles piece paper essay text مقال المقال مقاله النص نص"))
NAME_TERMS = frozenset(tokenize("name اسم اسمه"))
# A question asking only what the article is about ("what is the article about", "ما موضوع المقال؟",
# "summarize the article", "عن شو بيحكي المقال؟") is answered by its title and its opening sentence.
SUBJECT_TERMS = frozenset(tokenize(
    "topic topics subject theme main key point points idea ideas argument arguments gist summary summarise "
    "summarize overview thesis tldr موضوع موضوعه مواضيع فكرة فكرته الفكرة الرئيسية الأساسية ملخص لخص خلاصة "
    "يتحدث تتحدث يتكلم بيتكلم يدور يتناول يناقش بيناقش"
))
# A question asking only for the article's sources ("list the sources", "what sources did the author
# use?", "ما هي المراجع المستخدمة في المقال؟") is answered with its whole reference list.
REFERENCE_TERMS = frozenset(tokenize(
    "source sources reference references bibliography footnotes citations مصدر مصادر المصادر مرجع مراجع المراجع "
    "حواشي الحواشي هوامش الهوامش"
))
LISTING_TERMS = frozenset(tokenize(
    "list all show give used use uses cite cites cited rely relies draw draws quoted قائمة كل اعرض اعطني "
    "المستخدمة المستخدم استخدم يستخدم استخدمها اعتمد يعتمد اعتمدها استند يستند المذكورة"
))
# A question asking only for the article's disclaimer ("what does the disclaimer say?", "ما نص إخلاء
# المسؤولية؟") is answered with it.
DISCLAIMER_TERMS = frozenset(tokenize("disclaimer disclaimers إخلاء اخلاء المسؤولية مسؤولية تنويه"))
# A question asking only what the article concludes ("what is the conclusion?", "شو استنتج الكاتب؟")
# is answered with the first and last sentence of its concluding section (a heading holding one of
# these words), or of its last paragraph.
CONCLUSION_TERMS = frozenset(tokenize(
    "conclusion conclusions conclude concludes concluded concluding takeaway takeaways verdict خاتمة الخاتمة "
    "ختام الختام استنتاج الاستنتاج استنتاجات استنتج يستنتج يخلص خلص يختتم اختتم توصل وصل end ending"
))
# A question asking what the author thinks, says or calls something ("why does the author think the
# partnership will last?", "ما الذي يعتبره الكاتب العقبة الكبرى؟") asks what the article says, not
# about its author.
VIEW_TERMS = frozenset(tokenize(
    "think thinks thought believe believes believed argue argues argued say says said describe describes "
    "described consider considers considered see sees view views call calls predict predicts expect expects "
    "claim claims suggest suggests assess assesses opinion according "
    "يرى يري ترى رأي رايه رأيه نظر يعتبر اعتبر يعتقد يصف وصف يصنف صنف يقول قال بيقول يتوقع توقع يؤكد أكد "
    "يشير أشار تقدير يقدر حسب وفق يسمي "
    # and with the pronoun they take ("ما الذي يعتبره الكاتب…؟")
    "يعتبره يعتبرها يراه يراها يصفه يصفها يسميه يسميها"
))
# The parts asked for by their own words, and the words that may stand beside them ("what sources
# did the author use?", "tldr what does the author conclude?").
ARTICLE_PART_TERMS = (
    ("references", REFERENCE_TERMS, LISTING_TERMS | AUTHOR_TERMS),
    ("conclusion", CONCLUSION_TERMS, SUBJECT_TERMS | AUTHOR_TERMS),
    ("disclaimer", DISCLAIMER_TERMS, SUBJECT_TERMS),
)
ASKS_ABOUT = _folded(r"\babout\s*\??\s*$|(?:^|\s)عن\s+(?:ماذا|ماذ|شو|ايش|إيش|وش|ايه|إيه)(?:\s|[؟?]|$)")
ASKS_WHO = _folded(r"^\s*(?:who|whos|who's|من|مين)\b")
# Words that frame a question about the article, or about what a term means, rather than ask about
# something in it.
FRAME_TERMS = frozenset(tokenize(
    "article text piece say says said tell me mention mentions mentioned write writes wrote written whats whos "
    "mean meant المقال النص يقول يذكر ذكر يقوله يحكي بيحكي بيقول قال يعني تعني معنى المقصود "
    # and the words a chat adds to any question ("ok so", "hey quick one", "باختصار")
    "ok okay so hey hi please pls plz lol quick one quickly brief briefly short basically just give باختصار بإيجاز "
    "اختصار لو سمحت فضلك طيب لها له لهم more احكيلي احكي احكيلنا حدثني حدثنا كلمني قلي قل قللي اخبرني خبرني"
))


def analyse(text: str, config: Config, vocabulary: Vocabulary | None = None) -> Question:
    """Read a raw question; IqtibasError, saying what to do, when it cannot be used. With the
    ``vocabulary`` of the index it is asked of, an English question's mistyped words are read as
    the words meant (see ``spelling``)."""
    if not isinstance(text, str):
        raise IqtibasError("the question must be text")
    cleaned = visible_text(usable_text(text))
    if not cleaned:
        raise IqtibasError("the question is empty: ask something about the article")
    if len(cleaned) > config.max_question_chars:
        raise IqtibasError(
            f"the question is {len(cleaned)} characters long; the limit is {config.max_question_chars}: ask it shorter"
        )
    language = detect_language(cleaned)
    if language == "en":
        cleaned = with_rule_words_spelled(cleaned)
        if vocabulary is not None:
            cleaned = respelled(cleaned, vocabulary)
        if cleaned == cleaned.lower():
            cleaned = written_with_capitals(cleaned)
    terms = tokenize(cleaned)
    folded = cleaned.translate(LETTER_FOLDS)
    names = _named_terms(cleaned)
    defined = _defined_terms(folded)
    asks = (tuple(kind for kind, pattern in ASKS if pattern.search(folded)) + _about_article(terms, folded)
            + (("ending",) if endings(cleaned) else ()))
    # The words that frame it: "what does the author think about X?" only names X, as "what is X?" does.
    frame = FRAME_TERMS | AUTHOR_TERMS | VIEW_TERMS if "view" in asks else FRAME_TERMS
    return Question(
        text=text,
        cleaned=cleaned,
        language=language,
        terms=tuple(terms),
        # A question that only names something ("What is AUKUS?") is answered by what names it.
        names=tuple(sorted(names)) if names and set(terms) - frame <= names else (),
        defined=_named_by(defined) if defined and set(terms) - frame <= defined else (),
        asks=asks,
        designators=tuple(sorted(designators(cleaned))),
        counts=tuple(sorted(counts(cleaned))),
        dates=tuple(sorted(dates(cleaned))),
        mentions=_mentions(terms, cleaned),
        footnotes=tuple(sorted({int(n) for match in NAMES_FOOTNOTE.finditer(folded)
                                for n in re.findall(r"\d{1,3}", match.group())})),
    )


def detect_language(text: str) -> str:
    """"ar" when Arabic words are at least as many as English ones, else "en".

    Latin names inside an Arabic question ("ما هو S-400؟") do not count as English.
    """
    arabic = len(ARABIC_WORD.findall(text))
    english = sum(1 for word in LATIN_TOKEN.findall(text)
                  if LATIN_WORD.search(word) and not LATIN_NAME.search(word))
    return "ar" if arabic and arabic >= english else "en"


# The English words the rules above read a question by: its function words, and the words that
# ask for a count, a date, a source, the title or the author. Typed with two neighbouring letters
# swapped ("waht", "wehn", "tilte"), each is read as meant; four letters or more, so that a short
# word is not taken for another, and not the English words that are such a swap themselves.
RULE_WORDS = frozenset(
    word for word in STOPWORDS | set("many much year month date price cost share percent source reference "
                                     "footnote article author title wrote written".split())
    if LATIN_WORD.fullmatch(word) and len(word) >= 4
)
SWAPS_THAT_ARE_WORDS = frozenset({"form", "dose", "odes", "cots", "three"})  # of "from", "does", "cost", "there"


def _meant_by_swap() -> dict[str, str]:
    """Each rule word with two neighbouring letters swapped (its first kept), and the word meant;
    not a swap that is a word itself, nor one two rule words share."""
    meant: dict[str, set[str]] = {}
    for word in RULE_WORDS:
        swaps = {word[:i] + word[i + 1] + word[i] + word[i + 2:] for i in range(1, len(word) - 1)} - {word}
        for swap in swaps - RULE_WORDS - SWAPS_THAT_ARE_WORDS:
            meant.setdefault(swap, set()).add(word)
    return {swap: words.pop() for swap, words in meant.items() if len(words) == 1}


SWAPPED_WORDS = _meant_by_swap()
SWAPPED_WORD = re.compile(r"\b(?:" + "|".join(sorted(SWAPPED_WORDS, key=len, reverse=True)) + r")\b", re.IGNORECASE)


def with_rule_words_spelled(text: str) -> str:
    """An English question with the rule words it mistypes by a swap of two letters spelled as meant
    ("Waht is teh tilte?" -> "What is teh title?"), in the case typed."""
    def spelled(match: re.Match) -> str:
        typed = match.group(0)
        word = SWAPPED_WORDS[typed.lower()]
        return word.capitalize() if typed[0].isupper() else word
    return SWAPPED_WORD.sub(spelled, text)


def written_with_capitals(text: str) -> str:
    """An English question typed all in lower case, with the capitals English writes: its first
    letter and the countries it names. The embedding model is cased, and reads "russia" less
    surely than "Russia"."""
    text = capitalise_countries(text)
    return text[:1].upper() + text[1:]


def written_language(text: str) -> str | None:
    """The text's language, or None when it holds no words to tell by."""
    text = visible_text(text)
    if not (ARABIC_WORD.search(text) or LATIN_WORD.search(text)):
        return None
    return detect_language(text)


def _named_terms(text: str) -> set[str]:
    """Search terms of the words written as names: capitals or digits with a Latin letter
    (AUKUS, S-400), as an Arabic text quotes them."""
    return {term for word in LATIN_TOKEN.findall(text)
            if LATIN_WORD.search(word) and LATIN_NAME.search(word) for term in tokenize(word)}


def _about_article(terms: list[str], text: str) -> tuple[str, ...]:
    """("title",), ("author",), ("subject",), ("conclusion",), ("disclaimer",) or ("references",)
    for a question asking only that of the article; ("author detail",) for one asking more of its
    author; ("view",) for one asking what its author thinks or says of something; () otherwise."""
    held = set(terms)
    for part, own, beside in ARTICLE_PART_TERMS:
        if held & own and not held - own - beside - FRAME_TERMS - ARTICLE_TERMS:
            return (part,)
    if held - FRAME_TERMS - ARTICLE_TERMS - TITLE_TERMS - AUTHOR_TERMS - NAME_TERMS - SUBJECT_TERMS:
        if not held & AUTHOR_TERMS:
            return ()
        # "why does the author think…" asks what the article says; "where does the author work?", of its author
        return ("view",) if held & VIEW_TERMS else ("author detail",)
    if not held:
        return ("subject",) if ASKS_ABOUT.search(text) else ()  # "what is it about?"
    if held & SUBJECT_TERMS:  # "the main point of the title" asks more than the title
        return () if held & (TITLE_TERMS | AUTHOR_TERMS | NAME_TERMS) else ("subject",)
    if held & AUTHOR_TERMS or (ASKS_WHO.search(text) and not held & TITLE_TERMS):
        return ("author",)
    if held & TITLE_TERMS or held & NAME_TERMS and held & ARTICLE_TERMS:  # "the article's name" is its title
        return ("title",)
    if held - FRAME_TERMS - ARTICLE_TERMS:
        return ()
    return ("subject",) if held & ARTICLE_TERMS or ASKS_ABOUT.search(text) else ()  # "what does the article say?"


def is_conclusion_heading(heading: str) -> bool:
    """Whether a section heading names the article's conclusion ("خاتمة", "Conclusions")."""
    return not set(tokenize(heading)).isdisjoint(CONCLUSION_TERMS)


def _named_by(terms: set[str]) -> tuple[str, ...]:
    """The terms that name X: a part too short to be matched in the other script ("yi" of "who is
    wang yi", وانغ يي) is named by the rest, when there is a rest."""
    spelled = {term for term in terms if not too_short_to_spell(term)}
    return tuple(sorted(spelled or terms))


def _defined_terms(text: str) -> set[str]:
    """The terms of X in "who/what is X?" ("من هو شويغو؟", "ما هي منظمة شنغهاي للتعاون؟", "what is aukus")
    or "what does the article say about X?"."""
    text = CHAT_OPENING.sub("", text)  # "ok so who is shoigu" asks "who is shoigu"
    match = DEFINITION.match(text) or TOPIC.match(text)
    return set(tokenize(next(group for group in match.groups() if group))) if match else set()


def _mentions(terms: list[str], text: str) -> tuple[Mention, ...]:
    """Years and model names (terms with a digit: "2019", "su-57"), then countries."""
    joined = {term.replace("-", "") for term in terms if "-" in term}  # "s400" beside "s-400": one name
    identifiers = [
        Mention(term, tuple(dict.fromkeys(((term,), (term.replace("-", ""),), *_decade_words(term)))))
        for term in terms if DIGIT.search(term) and term not in joined
    ]
    countries = [Mention(code, name_terms(code), across_scripts=False) for code in sorted(countries_in(text))]
    return tuple(identifiers + countries)


def _decade_words(term: str) -> tuple[tuple[str, ...], ...]:
    """A decade in digits as Arabic writes it: "1970s" is سبعينيات."""
    match = DECADE.fullmatch(term)
    return ((*tokenize(DECADE_WORDS[match.group(1)]),),) if match and match.group(1) in DECADE_WORDS else ()


def designators(text: str) -> set[str]:
    """Equipment names as the article writes them: Latin letters with digits (Su-35, S-400, 3M-54E)."""
    return {singular(word) for word in LATIN_TOKEN.findall(text) if LATIN_WORD.search(word) and DIGIT.search(word)}


def counts(text: str) -> set[str]:
    """The counts a text gives: numbers other than years, footnote markers and designators'
    digits, and number words."""
    numbers = {n for n in NUMBER.findall(MARKER.sub(" ", text)) if not re.fullmatch(YEAR, n)}
    return numbers | (set(tokenize(text.replace("-", " "))) & NUMBER_WORDS)  # "twenty-four" is two words


def dates(text: str) -> set[str]:
    """The years, decades and months a text names."""
    return set(DATE.findall(MARKER.sub(" ", text)))


# Something ending: stopped, withdrawn, refused, cancelled, cut off. A question asking why or whether
# it happened ("why did X pull out of Y?") is answered only by a sentence that says it did: the
# nearest sentence names X and Y whether or not it does, and a false premise is mostly asked so.
# Words that also mean something else are left out: قطع (parts), تعليق (comment), cut (reduce), left.
ENDING_WORDS = frozenset(tokenize(
    "stop stops stopped stopping halt halts halted cease ceases ceased quit quits withdraw withdraws "
    "withdrew withdrawn withdrawal refuse refuses refused refusal reject rejects rejected rejection cancel "
    "cancels cancelled canceled cancellation suspend suspends suspended suspension abandon abandons "
    "abandoned terminate terminated termination scrap scrapped boycott boycotted ban bans banned exit "
    "exits exited sever severed leave leaves leaving "
    "توقف توقفت يتوقف تتوقف أوقف أوقفت يوقف توقيف وقفت وقفوا انسحب انسحبت انسحبوا ينسحب تنسحب انسحاب "
    "سحبت رفض رفضت رفضوا يرفض ترفض ألغى ألغت يلغي تلغي إلغاء جمد جمدت تجميد أنهى أنهت إنهاء قطعت "
    "يقطع تقطع قطعوا تخلى تخلت يتخلى تتخلى امتنع امتنعت قاطع قاطعت مقاطعة حظر حظرت انتهى انتهت ينتهي "
    "تنتهي انتهوا انتهاء"
))
ENDING_PHRASES = _folded(r"\b(?:pull(?:s|ed|ing)?|back(?:s|ed)?)\s+out\b|\bcut\s+(?:off|ties)\b|\bno\s+longer\b"
                         r"|(?:^|\s)(?:لم|ما)\s+(?:تعد|يعد|عاد|عادت)(?=\s|$)")


def endings(text: str) -> set[str]:
    """The words and phrases by which a text tells of something ending."""
    phrases = {m.group().strip() for m in ENDING_PHRASES.finditer(text.translate(LETTER_FOLDS))}
    return (set(tokenize(text)) & ENDING_WORDS) | phrases


# What a question can ask for that a quote must then give, and how to read it from a text.
VALUES = {"count": counts, "date": dates, "ending": endings}


def values_given(kind: str, text: str) -> set[str]:
    """The values of ``kind`` ("count", "date" or "ending") that a text gives."""
    return VALUES[kind](text)
