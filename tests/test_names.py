"""Names from corpus statistics (retrieval/answerability/names.py) and the slots people write, each on a real corpus sentence."""

from __future__ import annotations

import functools

import pytest

from retrieval.answerability.casing import CaseProfile
from retrieval.answerability.names import Lexicon, find_definitions, fold, spells
from retrieval.answerability.slots import Slot, asked_slots, fillers
from retrieval.answerability.verdicts import analyse, judge
from retrieval.index.lexical import _Tokenizer
from tests.conftest import CORPUS

TOKENIZE = _Tokenizer()


@functools.lru_cache(maxsize=1)
def corpus() -> tuple[Lexicon, CaseProfile]:
    """The shipped corpus's statistics, as a generation holds them (whole bulletin texts)."""
    texts = {p.name: p.read_text(encoding="utf-8") for p in sorted(CORPUS.glob("*.txt"))}
    return Lexicon.build(texts.items()), CaseProfile(texts.values())


def entities(question: str) -> list[str]:
    lexicon, casing = corpus()
    return [e.word for e in analyse(question, TOKENIZE, casing, lexicon).entities]


def test_fold_ignores_case_accents_dashes_and_spacing():
    assert fold("Türkiye’s  TAKE-IT-DOWN\nAct") == "turkiye's take it down act"


def test_definitions_in_a_bulletin_join_the_forms_of_one_name():
    # privacy-news-digest-2024-11 and mofo-european-digital-compliance-2025-05
    assert find_definitions("the Telecommunications Digital Services Data Protection Act (TDDDG) and the General") == [
        ("telecommunications digital services data protection act", "tdddg")]
    pairs = find_definitions("The Germany’s Cookie Consent Management Ordinance ( Einwilligungsverwaltungsverordnung, "
                             "or EinwV) came into force on 1 April 2025")
    assert ("cookie consent management ordinance", "einwv") in pairs
    # an acronym spelling the end of a longer run of capitals names that end only
    assert find_definitions("On 9 August 2019, the Cyberspace Administration of China (CAC) clarified") == [
        ("cyberspace administration of china", "cac")]
    assert find_definitions("fined Apple (€500 million) and Meta") == []
    assert spells("BOD", "Binding Operational Directive") and not spells("CSA", "Cybersecurity Act")


def test_an_acronym_the_bulletin_defines_elsewhere_matches_the_spelled_out_name():
    lexicon, casing = corpus()
    # privacy-news-digest-2024-11 defines "(HmbBfDI)" in one item; another item spells it out only
    question = analyse("how much was the HmbBfDI fine?", TOKENIZE, casing, lexicon)
    text = "The Hamburg Commissioner for Data Protection and Freedom of Information imposed a fine of EUR 900,000."
    source = "privacy-news-digest-2024-11.txt"
    assert judge(question, [text], "", TOKENIZE, lexicon=lexicon, source_file=source).answers
    assert not judge(question, [text], "", TOKENIZE).answers  # without the bulletin's definitions it is unnamed


def test_a_word_the_corpus_never_uses_is_a_name_in_any_case():
    assert "clearview" in entities("how much did the dutch DPA fine clearview?")
    assert "criteo" in entities("what fine did the CNIL give to criteo?")
    # ordinary English the bulletins happen not to use is no name
    assert "spreadsheet" not in entities("northern ireland spreadsheet leak - how many officers?")


def test_a_typo_is_the_word_it_misspells():
    lexicon, _ = corpus()
    assert lexicon.correct("telemarque") == "telemaque"
    assert "telemaque" in [f for e in analyse("how much was telemarque fined?", TOKENIZE, corpus()[1], lexicon).entities
                           for f in e.forms]


def test_class_words_heading_many_names_are_not_names():
    lexicon, _ = corpus()
    # "Belgian DPA", "Spanish DPA", "Latvian DPA" …; "AI Act", "Data Act" …
    assert lexicon.generic("dpa") and lexicon.generic("act")
    assert not lexicon.generic("ftc") and not lexicon.generic("tiktok")
    assert entities("spanish DPA blockchain proof of concept - how do they delete the data?") == ["spanish"]


def test_a_common_word_typed_in_lower_case_is_not_a_country():
    assert "us" not in entities("if the ESAs designate us a critical ICT provider how long do we have to object?")
    assert "us" in entities("how many US states passed privacy laws?")


def test_a_name_typed_in_lower_case_that_the_corpus_only_capitalises():
    assert "acea" in entities("acea energia - what was the exact fine amount from the garante?")


def test_capitals_of_ordinary_words_read_as_one_name():
    assert "take it down" in entities("TAKE IT DOWN act - what are the penalties?")


def test_a_named_party_must_stand_by_the_fact_that_fills_the_slot():
    lexicon, casing = corpus()
    question = analyse("When did the TDDDG enter into force?", TOKENIZE, casing, lexicon)
    texts = ["The Cookie Consent Management Ordinance (EinwV) came into force on 1 April 2025.",
             "It is voluntary.", "Recognized providers must store preferences.",
             "If Sec.25(2) of the TDDDG is already being adhered to, the ordinance will not introduce anything new."]
    verdict = judge(question, texts, "German Cookie Consent Management Ordinance Entered into Force", TOKENIZE,
                    lexicon=lexicon)
    assert not verdict.answers and "tdddg" in (verdict.missing or "")


@pytest.mark.parametrize("question, kind", [
    ("how long is the guide?", "length"),
    ("how long is the transition period?", "duration"),
    ("ftc v tiktok: how long were the human reviewers spending on each account?", "duration"),
    ("what does meta charge per month for the no-ads subscription?", "money"),
    ("guizhou big data regulation: any actual fine amounts in it?", "money"),
    ("when is the new ISM being published?", "date"),
])
def test_slots_as_people_write_them(question, kind):
    assert [s.kind for s in asked_slots(question)] == [kind]


@pytest.mark.parametrize("question", ["when is a TC string personal data?", "when are DPIAs required?"])
def test_when_is_a_condition_asks_no_date(question):
    assert asked_slots(question) == []


def spans(slot: Slot, text: str) -> list[str]:
    return [text[a:b] for a, b in fillers(slot, text)]


def test_fillers_on_corpus_sentences():
    # privacy-news-digest-2024-08 (FTC v TikTok)
    assert spans(Slot("duration", "x"), "spent an average of only five to seven seconds reviewing each account") == [
        "five to seven seconds"]
    deadline = Slot("date", "x", event="close")
    # securiti-privacy-roundup-2025-04 (TAKE IT DOWN Act)
    assert "within 48 hours" in spans(deadline, "remove nonconsensual intimate images, including deepfakes, "
                                                "within 48 hours of a valid request")
    # mofo-european-digital-compliance-2025-05
    assert spans(deadline, "A formal Commission Recommendation based on this report is expected before summer.") == [
        "summer"]
    assert spans(Slot("date", "x"), "The Cyber Security and Resilience Bill will be presented to Parliament "
                                    "later this year.") == ["later this year"]
    assert spans(Slot("date", "x"), "original release date: April 29, 2019") == ["April 29, 2019"]
    assert spans(Slot("date", "x"), "the guidance (29 October 2024) says") == ["29 October 2024"]
    assert spans(Slot("length", "x"), "a 35-page opinion") == ["35-page"]
    assert spans(Slot("count", "x"), "a dozen authorities") == ["dozen"]


def test_a_clipped_word_is_the_corpus_word_it_begins_not_a_name():
    # china-cybersecurity-data-protection-2019-08: "issued a draft specification on on the collection of personal
    # information by applications" — "spec" is never written there, yet it is that word, not a party to find
    lexicon, _ = corpus()
    assert lexicon.known_like("spec") and not lexicon.rare_name("spec")
    assert "spec" not in entities("what's in annex B of the draft app data collection spec?")
    assert not lexicon.known_like("cle")  # three letters begin too many words to say
