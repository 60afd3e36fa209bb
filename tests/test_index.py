"""The index stage over the real model and real FAISS: build, save, load, search, refuse."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pytest

from iqtibas.config import load_config
from iqtibas.index import Index, load_model, stale_reasons
from iqtibas.question import analyse
from iqtibas.index.dense import FAISS_FILE, DenseIndex
from iqtibas.records import IqtibasError

S400_SENTENCE = "تُعد طائرات سوخوي Su-35 المقاتلة ومنظومات الدفاع الجوي S-400"



def read(question: str):
    return analyse(question, load_config(environ={}))


def test_folder_is_self_describing(built_index, session_config):
    folder = session_config.index
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["model"]["name"] == session_config.model and manifest["model"]["dimension"] == 384
    assert manifest["model"]["prompts"] == {"query": "query", "passage": "passage"}
    assert manifest["model"]["backend"] == "openvino"
    assert {probe["kind"] for probe in manifest["probes"]} == {"passage", "query"}
    assert all(len(probe["vector"]) == 384 for probe in manifest["probes"])
    assert manifest["chunking"] == {"chunk_size": session_config.chunk_size,
                                    "chunk_overlap": session_config.chunk_overlap}
    assert [a["id"] for a in manifest["articles"]] == ["article"]
    assert len(manifest["articles"][0]["sha256"]) == 64
    assert manifest["counts"]["by_kind"]["reference"] == 14
    assert manifest["counts"]["footnotes"] == 14
    for name in manifest["files"]:
        assert (folder / name).is_file()
    assert "الصين" in (folder / "chunks.jsonl").read_text(encoding="utf-8")  # Arabic stays readable
    assert not list(folder.parent.glob(f".{folder.name}.*"))  # no staging folder left behind


def test_save_load_round_trip_gives_the_same_results(built_index, loaded_index):
    questions = ["ما هي الأسلحة الروسية التي بيعت للصين؟", "Which Russian weapons were sold to China?", "AUKUS"]
    for question in questions:
        assert [(h.chunk, round(h.score, 6)) for h in built_index.search(read(question))] == \
               [(h.chunk, round(h.score, 6)) for h in loaded_index.search(read(question))]
    assert loaded_index.chunks == built_index.chunks


def test_english_question_finds_the_arabic_paragraph(loaded_index):
    hits = loaded_index.search(read("Which air-defence system did Russia sell to China?"), k=3)
    assert any(S400_SENTENCE in h.chunk.text for h in hits)
    assert hits[0].chunk.kind != "reference"


def test_latin_name_matches_lexically(loaded_index):
    for question in ("S-400", "s400", "AUKUS"):
        top = loaded_index.search(read(question), k=1, mode="lexical")[0]
        assert question.upper().replace("S400", "S-400") in top.chunk.text


def with_settings(index: Index, **settings) -> Index:
    """The same loaded index, served with other answer settings."""
    return Index(index.manifest, index.chunks, list(index.footnotes.values()), index.dense, index.lexical,
                 index.sentence_spans, index.sentence_vectors, index.context_vectors,
                 (index.latent_rows, index.latent_features, index.latent_weights), index.latent, index.model,
                 dataclasses.replace(index.config, **settings))


def test_english_words_are_read_as_the_arabic_terms_the_model_places_nearest(loaded_index):
    translating = with_settings(loaded_index, translations=3)
    question = read("which exercises and partnership")
    readings = dict(zip(question.terms, translating.readings(question)))
    # The article's own words for drills and cooperation; a word it holds stays as it is.
    assert {"تدريبات", "تمرين"} & set(readings["exercises"]) and readings["exercises"][0] == "exercises"
    assert "تعاون" in readings["partnership"]
    assert translating.readings(read("AUKUS")) == (("aukus",),)  # a term the index holds is not translated


def test_translated_words_let_an_english_question_match_arabic_words(loaded_index):
    question = read("weapons sold")  # the index holds neither word, in any script
    lexical = with_settings(loaded_index, translations=3).search(question, k=3, mode="lexical")
    assert any("صادرات الأسلحة الروسية" in h.chunk.text for h in lexical)
    assert all(h.chunk.kind == "body" for h in lexical)
    assert with_settings(loaded_index, translations=0).search(question, k=3, mode="lexical") == []


@pytest.mark.parametrize(("question", "term", "other"), [("what does india want", "india", "هند"),
                                                        ("ماذا تريد الهند", "هند", "india")])
def test_a_named_country_reads_as_its_name_in_the_other_language(question, term, other, loaded_index):
    read_as = dict(zip(read(question).terms, with_settings(loaded_index, translations=0).readings(read(question))))
    assert other in read_as[term]


def test_a_latin_name_in_an_arabic_question_reads_as_the_body_spells_it(loaded_index):
    # The English reference list holds "Shoigu" as typed; the Arabic body writes شويغو.
    arabic = dict(zip(read("شو عمل Shoigu بمعرض Zhuhai؟").terms, loaded_index.readings(read("شو عمل Shoigu بمعرض Zhuhai؟"))))
    assert "شويغو" in arabic["shoigu"] and "تشوهاي" in arabic["zhuhai"]
    lexical = loaded_index.search(read("شو عمل Shoigu بمعرض Zhuhai؟"), k=1, mode="lexical")
    assert "شويغو معرض الصين للطيران في تشوهاى" in lexical[0].chunk.text
    # An English question keeps the name as written: its other spellings cost English search more.
    assert loaded_index.readings(read("what did shoigu do")) == (("shoigu",),)


def test_a_name_typed_with_a_doubled_letter_meets_its_arabic_spelling(model):
    from iqtibas.index.lexical import LexicalIndex
    from iqtibas.index.model import embed

    lexical = LexicalIndex.build(["هل هو عكس حقبة كسنجر؟", "على سبيل المثال، زار محمد بكين."],
                                 lambda terms: embed(model, terms, "query"))
    assert lexical.across_scripts("kissinger", held_too=True) == ["كسنجر"]
    assert lexical.across_scripts("mohammed", held_too=True) == ["محمد"]
    # Only for a word read as a name: an English word meets other Arabic words so ("supply", سبيل).
    assert lexical.across_scripts("kissinger") == [] and lexical.across_scripts("supply") == []
    assert lexical.across_scripts("supply", held_too=True) == ["سبيل"]


@pytest.mark.parametrize(("question", "model_name"), [("شو هي منظومة اس 400؟", "S-400"), ("الصين اشترت سو-35 من روسيا؟", "Su-35"),
                                                     ("شو هي طائرة بي-103؟", "Be-103")])
def test_a_model_typed_in_arabic_letters_is_searched_as_the_article_writes_it(question, model_name, loaded_index):
    read = analyse(question, loaded_index.config)
    assert model_name.lower() in {term for reading in loaded_index.readings(read) for term in reading}
    assert model_name in loaded_index.search(read, k=1, mode="lexical")[0].chunk.text
    # a number beside an ordinary word is not a model
    assert loaded_index.lexical.designators_spelled("عام", "2022") == []


def test_a_name_opening_on_waw_meets_its_latin_spelling(model):
    from iqtibas.index.lexical import LexicalIndex
    from iqtibas.index.model import embed

    # Search reads the و of وانغ as "and" (انغ): it is also the w of Wang.
    lexical = LexicalIndex.build(["أكد وزير الخارجية الصيني وانغ يي ذلك."], lambda terms: embed(model, terms, "query"))
    assert lexical.across_scripts("wang") == ["انغ"]
    assert lexical.across_scripts("wazir") == []  # not every و: وزير is searched as زير, no vowel letter after it


@pytest.mark.parametrize("question", ["Which arms did Moscow supply to Beijing?", "which advanced russian arms went to china",
                                      "which russian weapons does china have"])
def test_a_passage_ranks_by_its_sentence_that_answers(question, loaded_index):
    # The Su-35 / S-400 passage covers more than the sale, so as a whole it embeds further from
    # the question than its one sentence does.
    def rank(index):
        hits = index.search(read(question), k=10)
        return next((h.rank for h in hits if S400_SENTENCE in h.chunk.text), 11)

    assert rank(loaded_index) <= 3
    # The sentence ranking's own part, with the latent terms' ranking (which lifts it too) left out.
    without_latent = with_settings(loaded_index, latent_weight=0.0)
    assert rank(without_latent) < rank(with_settings(without_latent, sentence_weight=0.0))


@pytest.mark.parametrize(("question", "number"), [
    ("Which source reported that China bought D-30 engines?", 5),
    ("which magazine ran the okean story and when", 10),  # a magazine is a source
    ("which story said the russian navy was battered", 10),  # so is a story or a headline
    ("what was the headline about shoigu at the airshow", 9),
    ("ما عنوان الخبر عن زيارة شويغو لمعرض الطيران؟", 9),  # and a news report (خبر)
    ("تقرير CNA عن التعاون العسكري صدر امتى؟", 6),
])
def test_references_rank_when_a_source_is_asked_for(question, number, loaded_index):
    hits = loaded_index.search(read(question), k=3)
    assert any(h.chunk.kind == "reference" and h.chunk.footnotes == (number,) for h in hits)


@pytest.mark.parametrize(("question", "number"), [("tell me about reference 7 please", 7), ("what is [13]", 13)])
def test_a_footnote_named_by_its_number_ranks_its_entry_first(question, number, loaded_index):
    first = loaded_index.search(read(question), k=3)[0].chunk
    assert (first.kind, first.footnotes) == ("reference", (number,))


def test_sentences_are_verbatim_and_scored(loaded_index, articles):
    question = "ما هي الأسلحة الروسية التي بيعت للصين؟"
    sentences = loaded_index.sentences(read(question), loaded_index.search(read(question)))
    text = articles[0].text
    assert sentences and all(text[s.start:s.end] == s.text for s in sentences)
    best = max(sentences, key=lambda s: s.dense)
    assert -1.0 <= best.dense <= 1.0


def test_a_changed_article_makes_the_index_stale(built_index, articles, session_config):
    assert stale_reasons(built_index.manifest, articles, session_config) == []
    edited = dataclasses.replace(articles[0], sha256="0" * 64)
    assert "changed" in stale_reasons(built_index.manifest, [edited], session_config)[0]
    other_settings = load_config(environ={}, chunk_size=session_config.chunk_size + 1)
    assert "chunk settings" in stale_reasons(built_index.manifest, articles, other_settings)[0]
    alone = load_config(environ={}, sentence_context=0)
    assert "sentence settings" in stale_reasons(built_index.manifest, articles, alone)[0]


def test_sentences_read_in_their_passage_differ_from_sentences_read_alone(built_index, articles, chunks, model):
    vectors, in_context = built_index.sentence_vectors, built_index.context_vectors
    assert in_context.shape == vectors.shape
    assert np.allclose(np.linalg.norm(in_context, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(vectors * in_context, axis=1)
    # A sentence keeps its own meaning but takes on some of its passage's.
    assert 0.8 < cosines.min() and (cosines < 0.999).sum() > len(cosines) // 2
    assert built_index.manifest["sentences"] == {"context_weight": 0.5}
    alone = Index.build(articles, chunks, model, load_config(environ={}, sentence_context=0))
    assert np.array_equal(alone.context_vectors, alone.sentence_vectors)


def test_changed_article_file_is_detected(tmp_path, articles, chunks, model, session_config):
    from iqtibas.ingest import parse_article

    copy = tmp_path / "copy.txt"
    shutil.copy(articles[0].path, copy)
    article = parse_article(copy)
    index = Index.build([article], [dataclasses.replace(c, article="copy") for c in chunks], model, session_config)
    assert index.changed_articles() == []
    copy.write_text(copy.read_text(encoding="utf-8") + "\nفقرة جديدة.\n", encoding="utf-8")
    assert "changed" in index.changed_articles()[0]


@pytest.fixture
def index_copy(built_index, session_config, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(session_config.index, folder)
    return folder


def test_truncated_faiss_file_gives_a_clear_error(index_copy, model, session_config):
    path = index_copy / FAISS_FILE
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(IqtibasError, match="changed or damaged.*iqtibas index build"):
        Index.load(index_copy, model, session_config)
    # Even without the manifest's checksums, FAISS's own failure becomes a clear message.
    with pytest.raises(IqtibasError, match="damaged or truncated"):
        DenseIndex.load(index_copy, "flat", session_config)


def test_edited_chunk_metadata_is_refused(index_copy, model, session_config):
    chunks_file = index_copy / "chunks.jsonl"
    chunks_file.write_text(chunks_file.read_text(encoding="utf-8").replace("الصين", "اليابان", 1), encoding="utf-8")
    with pytest.raises(IqtibasError, match="chunks.jsonl was changed or damaged"):
        Index.load(index_copy, model, session_config)


def test_missing_index_and_other_model_are_refused(index_copy, model, session_config, tmp_path):
    with pytest.raises(IqtibasError, match="no index at .*iqtibas index build"):
        Index.load(tmp_path / "nowhere", model, session_config)
    other = load_config(environ={}, model="intfloat/multilingual-e5-base")
    with pytest.raises(IqtibasError, match="built with model 'multilingual-e5-small'"):
        Index.load(index_copy, model, other)


def test_auto_searches_exactly_below_the_limit_and_with_ivf_from_it(built_index):
    vectors = built_index.dense.faiss_index.reconstruct_n(0, len(built_index.dense))
    below = DenseIndex.build(vectors, load_config(environ={}, ann_exact_limit=len(vectors) + 1))
    above = DenseIndex.build(vectors, load_config(environ={}, ann_exact_limit=len(vectors)))
    assert (below.kind, above.kind) == ("flat", "ivf")
    # With more cells probed than exist, IVF finds what exact search finds.
    assert (above.search_many(vectors[:3], 5)[0] == below.search_many(vectors[:3], 5)[0]).all()


@pytest.mark.parametrize("kind", ["hnsw", "ivf"])
def test_approximate_indexes_find_the_same_top_passage(kind, articles, chunks, model, tmp_path):
    config = load_config(environ={}, ann=kind, index=tmp_path / kind)
    index = Index.build(articles, chunks, model, config)
    index.save(config.index)
    loaded = Index.load(config.index, model, config)
    assert loaded.manifest["dense"]["kind"] == kind
    question = "ما هي الأسلحة الروسية التي بيعت للصين؟"
    exact = load_config(environ={}, ann="flat")
    flat = Index.build(articles, chunks, model, exact)
    assert loaded.search(read(question), mode="dense")[0].chunk == flat.search(read(question), mode="dense")[0].chunk


# -- latent terms (the model's sparse head) ------------------------------------------------

def test_the_offline_model_carries_a_latent_terms_head(session_config):
    from iqtibas.index import LatentTerms

    head = LatentTerms.load(session_config)
    assert head is not None and head.weight.shape == (len(head), 384) and 0 < head.top_k < len(head)


def test_latent_terms_meet_across_languages(model, session_config):
    from iqtibas.index import LatentTerms
    from iqtibas.index.model import embed_with_states

    head = LatentTerms.load(session_config)
    arabic = "باعت روسيا إلى الصين طائرات مقاتلة ومنظومات للدفاع الجوي."
    english, unrelated = "Russia sold fighter jets and air defence systems to China.", "The recipe needs flour, eggs and sugar."
    _, states = embed_with_states(model, [arabic, english, unrelated], session_config.passage_prompt)
    vectors = [head.features(s) for s in states]
    vectors = [v / np.linalg.norm(v) for v in vectors]
    # The English sentence shares no word with the Arabic one, but many of its latent terms.
    assert vectors[0] @ vectors[1] > 0.3 > vectors[0] @ vectors[2] + 0.1


def test_an_english_question_ranks_its_arabic_passage_higher_with_the_latent_terms(loaded_index):
    question = read("what were relations between russia and china like in the past")

    def rank(index):
        return next((h.rank for h in index.search(question, k=10) if "تاريخيا، اتسمت" in h.chunk.text), 11)

    assert rank(loaded_index) <= 3
    assert rank(loaded_index) < rank(with_settings(loaded_index, latent_weight=0.0))


def test_an_index_built_without_the_models_latent_terms_is_stale(built_index, articles, session_config):
    manifest = {**built_index.manifest, "latent": {"features": 0}}
    assert built_index.manifest["latent"]["features"] > 0
    assert stale_reasons(built_index.manifest, articles, session_config) == []
    assert "the model's latent terms are not the index's" in stale_reasons(manifest, articles, session_config)


def test_a_model_folder_without_a_latent_head_indexes_and_searches_without_it(articles, chunks, model,
                                                                             session_config, tmp_path):
    # The same model's files, linked, but for the head: a sentence-transformers folder like any other.
    folder = tmp_path / "e5-without-head"
    source = session_config.offline_model_dir
    for item in source.iterdir():
        if item.name not in ("latent_terms.safetensors", "openvino"):
            (folder / item.name).parent.mkdir(parents=True, exist_ok=True)
            (folder / item.name).symlink_to(item)
    config = dataclasses.replace(session_config, model=str(folder), backend="torch", index=tmp_path / "index")
    index = Index.build(articles, chunks, load_model(config), config)
    index.save(config.index)
    loaded = Index.load(config.index, load_model(config), config)
    assert loaded.manifest["latent"]["features"] == 0 and loaded.latent is None
    question = read("Which Russian weapons were sold to China?")
    hits = loaded.search(question, k=3)
    assert any(S400_SENTENCE in hit.chunk.text for hit in hits)
    assert {sentence.latent for sentence in loaded.sentences(question, hits)} == {0.0}


def test_a_sentences_latent_match_is_how_far_it_holds_the_questions_latent_terms(loaded_index):
    # An English question and the Arabic sentence answering it share no word but their latent terms.
    question = read("Which Russian weapons were sold to China?")
    by_text = {s.text: s.latent for s in loaded_index.sentences(question, loaded_index.search(question, k=10))}
    answering = next(latent for text, latent in by_text.items() if S400_SENTENCE in text)
    naval_drill = next(latent for text, latent in by_text.items() if text.startswith("كما أعادت روسيا أيضًا مناورات أوكين"))
    assert answering > np.median(list(by_text.values())) and answering > 2 * naval_drill
