"""Answerability: asked slots, their fillers, named things, and the three reply tiers."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.answerability.casing import CaseProfile
from retrieval.answerability.slots import Slot, asked_slots, fillers
from retrieval.answerability.verdicts import analyse, judge
from retrieval.index.lexical import _Tokenizer
from retrieval.search.answer import Answer
from retrieval.search.calibration import Calibration, fit
from retrieval.search.evaluate import Question as EvalQuestion
from retrieval.search.evaluate import QuestionResult, summarise
from retrieval.search.searcher import Searcher

TOKENIZE = _Tokenizer()
CASING = CaseProfile(["The Commission fined Google and TikTok.", "Later, Google and TikTok appealed to the Court."])


def kinds(question: str) -> list[str]:
    return [s.kind for s in asked_slots(question)]


@pytest.mark.parametrize("question, expected", [
    ("how much did the dutch DPA fine clearview AI?", ["money"]),
    ("whats the penalty cap in NZ's customer & product data act?", ["money"]),
    ("what are the civil penalties for a violation?", ["money"]),
    ("courier blacklist - what penalties would apply?", []),  # penalties of any kind, not an amount
    ("australia data breaches 2024 - how much up on 2023?", ["percent"]),
    ("how long does freedelity have to fix things", ["duration"]),
    ("how many pilot projects for industrial network security?", ["count"]),
    ("when do the measures take effect?", ["date"]),
    ("whats the name of the deputy director arrested in nanjing?", ["person"]),
    ("which company did the garante fine?", ["company"]),
    ("who accredits the evaluation agencies?", ["org"]),
    ("what did the UK ransomware consultation propose?", []),
])
def test_asked_slots(question, expected):
    assert kinds(question) == expected


def test_date_slots_carry_their_event():
    (effect,) = asked_slots("when does the bill come into force?")
    (close,) = asked_slots("when do comments close on the draft?")
    (plain,) = asked_slots("when did CNNIC publish its report?")
    assert (effect.event, close.event, plain.event) == ("effect", "close", None)


@pytest.mark.parametrize("text", ["fined Apple €500 million", "fined RMB10,000", "a fine of 50 thousand euros",
                                  "up to NZ$2.5 million", "5% of a business’ annual global turnover", "USD 16.5M"])
def test_money_fillers(text):
    assert fillers(Slot("money", "x"), text)


def test_values_the_question_gives_are_not_its_answer():
    question = analyse("linkedin 310m fine - how much of it was for consent?", TOKENIZE, CASING)
    slot = question.slots[0]
    assert not fillers(slot, "administrative fines totalling €310 million", question.given)
    assert fillers(slot, "of which €20 million for consent", question.given)


def test_counts_skip_years_money_shares_and_article_numbers():
    slot = Slot("count", "x", head="apps")
    text = "In 2019, under Article 5, it fined RMB2.23 million, 55.6% of users; it closed 900 apps."
    assert [text[s:e] for s, e in fillers(slot, text)] == ["900"]


def verdict(question: str, *texts: str, context: str = "", scope: str = ""):
    return judge(analyse(question, TOKENIZE, CASING), list(texts), context, TOKENIZE, scope)


def test_missing_amount_is_named():
    v = verdict("what's the max fine under the children's regulation?",
                "The regulation requires consent from guardians and comes into force on 1 October 2019.")
    assert not v.answers and v.missing == "the amount asked"


def test_a_named_company_the_item_never_mentions_fails_even_with_an_amount():
    v = verdict("did the commission fine google under the DMA? how much?",
                "The Commission fined Apple €500 million and Meta €200 million under the DMA.")
    assert not v.answers and v.missing == "“google”"
    assert verdict("how much did the commission fine apple under the DMA?",
                   "The Commission fined Apple €500 million and Meta €200 million under the DMA.").answers


def test_nationalities_match_countries_and_country_domains():
    q = "how much did the dutch DPA fine uber?"
    assert verdict(q, "The Netherlands DPA fined Uber €10 million.").answers
    assert verdict(q, "Uber fined €10 million (https://autoriteitpersoonsgegevens.nl/en/x).").answers
    assert not verdict(q, "The Spanish DPA fined Uber €10 million.").answers


def test_acronyms_match_their_expansion():
    q = "how many scenarios do the PBOC cross-border guidelines cover?"
    casing = CaseProfile(["The PBOC said so. Then the PBOC agreed."])
    question = analyse(q, TOKENIZE, casing)
    ok = judge(question, ["The People's Bank of China guidelines cover over 60 common scenarios."], "", TOKENIZE)
    assert ok.answers
    assert not judge(question, ["The central bank guidelines cover over 60 common scenarios."], "", TOKENIZE).answers


def test_a_date_must_stand_by_the_asked_event():
    q = "when do the water measures take effect?"
    issued = "On 16 August 2019, the Ministry of Water Resources issued new water measures."
    assert verdict(q, issued).missing == "the date it takes effect"
    v = verdict(q, issued, "The water measures will take effect on 1 May 2025.")
    assert v.answers and v.filler[0] == 1


def test_a_count_must_count_the_asked_thing():
    q = "how many services has ofcom designated?"
    assert not verdict(q, "Ofcom launched two enforcement programmes to monitor service providers.").answers
    assert verdict(q, "Ofcom designated 12 services as category 1.").answers


def test_a_paragraph_outside_items_is_judged_with_its_section():
    q = "norway cookie rules - are pre-ticked boxes ok?"
    assert not verdict(q, "Don’t use pre-ticked boxes.").answers
    assert verdict(q, "Don’t use pre-ticked boxes.", scope="The Norwegian data protection authority lists rules.").answers


# -- the tiers through the Searcher -------------------------------------------------------------

def test_tiers_answers_related_nothing(indexed: Path, encoder):
    s = Searcher(indexed, encoder, calibration=Calibration())
    answered = s.search("how big were the DMA fines on apple and meta", top_k=3)
    assert answered.tier == "answers" and answered.answered and answered.hits[0].answers
    assert "€500 million" in answered.hits[0].best_sentence
    related = s.search("did the commission fine google under the DMA too? how much?", top_k=3)
    assert related.tier == "related" and not related.answered
    assert related.missing and related.headline().startswith("No passage")
    floor = Searcher(indexed, encoder, calibration=Calibration(min_cosine=0.99))
    nothing = floor.search("what's the guest wifi password?", top_k=3)
    assert nothing.tier == "nothing" and nothing.headline().startswith("Nothing in the bulletins")


def test_json_carries_the_tier_and_a_verdict_per_hit(indexed: Path, encoder):
    out = Searcher(indexed, encoder).search("did the commission fine google under the DMA too? how much?").to_dict()
    assert out["tier"] == "related" and out["answered"] is False and out["missing"]
    assert all(isinstance(h["answers"], bool) for h in out["hits"])


def test_the_quote_holds_the_sentence_that_answers(indexed: Path, encoder, corpus_copy: Path):
    q = "DORA Updates - by when will the ESAs notify CTPPs they are designated"
    hits = [h for h in Searcher(indexed, encoder).search(q, top_k=5).hits if h.citation.item_title == "DORA Updates"]
    assert hits, "the DORA item is among the hits"
    hit = hits[0]
    assert hit.answers and "by the end of July 2025" in hit.text and "end of July 2025" in hit.best_sentence
    source = (corpus_copy / hit.citation.source_file).read_text(encoding="utf-8")
    assert source[hit.citation.char_start:hit.citation.char_end] == hit.text


def test_an_answer_without_a_tier_takes_it_from_answered():
    assert Answer("q", [], answered=False).tier == "nothing"
    assert Answer("q", [], answered=True).tier == "answers"
    with pytest.raises(ValueError, match="tier must be one of"):
        Answer("q", [], answered=False, tier="maybe")


# -- eval and calibration -----------------------------------------------------------------------

def _result(kind: str, gold: str, abstained: bool, chars: tuple[int, ...]) -> QuestionResult:
    tier = "related" if abstained else "answers"
    return QuestionResult(EvalQuestion("x", "f", "q", gold, kind), 1 if gold and not abstained else None, abstained,
                          0.5, tier, chars)


def test_summary_splits_near_misses_from_off_topic_and_reports_quote_length():
    rs = [_result("unanswerable", "", True, (100,)), _result("unanswerable", "", False, (300,)),
          _result("offtopic", "", True, ()), _result("number", "42", False, (200, 400))]
    s = summarise(rs)
    assert (s["refused_near_miss"], s["refused_offtopic"], s["abstain_answerable"]) == (0.5, 1.0, 0.0)
    assert s["quoted_chars"] == 250.0 and s["tiers"] == {"answers": 2, "related": 2, "nothing": 0}


def test_fit_counts_a_question_judged_unanswerable_as_refused():
    feats = [(0.5, 0.9, True, True), (0.4, 0.8, True, True), (0.45, 0.85, False, False), (0.1, 0.2, False, True)]
    _, report = fit(feats, max_false_abstain=0.0)
    assert report["abstain_unanswerable"] == 1.0 and report["abstain_answerable"] == 0.0


def test_slack_says_what_no_passage_states_and_quotes_nothing_off_topic(indexed: Path, encoder):
    from bot.slack import blocks as bk

    related = Searcher(indexed, encoder).search("did the commission fine google under the DMA too? how much?", top_k=3)
    msg = bk.render_answer(related, answer_id=1)
    head = msg.blocks[0]["text"]["text"]
    assert related.tier == "related" and related.missing
    assert head.startswith(":warning: *No passage ") and related.missing in head and "do *not* answer" in head
    assert msg.text.startswith("No passage ") and related.missing in msg.text
    assert any(b["type"] == "section" and b["text"].get("verbatim") for b in msg.blocks)
    nothing = Searcher(indexed, encoder, calibration=Calibration(min_cosine=0.99)).search("guest wifi password?")
    off = bk.render_answer(nothing, answer_id=2)
    assert "Nothing in the bulletins is about" in off.text
    assert not any(b["type"] == "section" and b["text"].get("verbatim") for b in off.blocks)


def test_off_topic_hits_never_say_they_answer(indexed: Path, encoder):
    nothing = Searcher(indexed, encoder, calibration=Calibration(min_cosine=0.99)).search(
        "how much does the best banana bread recipe cost?", top_k=3)
    assert nothing.tier == "nothing" and nothing.hits
    assert all(h.answers is False for h in nothing.hits) and all(h["answers"] is False for h in nothing.to_dict()["hits"])


def test_the_filler_sentence_that_shares_most_with_the_question_is_chosen():
    v = verdict("who do PIMS providers apply to for recognition in germany?",
                "The German TDDDG came into force on 1 April 2025. PIMS providers can seek recognition from the "
                "Federal Data Protection Commissioner.", context="Germany")
    text = "The German TDDDG came into force on 1 April 2025. PIMS providers can seek recognition from the " \
           "Federal Data Protection Commissioner."
    assert v.answers and v.filler[1] > text.index("PIMS providers")


def test_a_run_of_number_words_without_a_unit_is_not_a_duration_and_stays_linear():
    text = "one two three four five six " * 400
    assert fillers(Slot("duration", "x"), text) == []
    assert [m for m in fillers(Slot("duration", "x"), "a two-and-a-half year period")]


@pytest.mark.parametrize("text", ["1," * 8000, "a " * 8000, "one-" * 4000])
def test_long_runs_in_a_passage_are_scanned_once(text):
    # a quadratic scan takes seconds on these (measured before the bounds); a linear one, milliseconds
    for kind in ("money", "percent", "duration"):
        assert fillers(Slot(kind, "x"), text) == []


def test_a_question_that_asks_nothing_particular_answers_only_as_the_reply_does(indexed: Path, encoder):
    strict = Searcher(indexed, encoder, calibration=Calibration(threshold=99.0))
    answer = strict.search("data protection", top_k=3)
    assert answer.tier == "related" and all(h.answers is False for h in answer.hits)


def test_an_amount_put_forward_must_be_the_one_stated():
    text = "The Dutch DPA fined Uber €10 million."
    assert verdict("did the Dutch DPA fine Uber €10 million?", text).answers
    assert verdict("did the Dutch DPA fine Uber €50 million?", text).missing == "the amount asked"
    assert not verdict("was Uber fined 500m?", text).answers
    # a value in the topic names the case; it is neither required nor an answer
    assert not verdict("uber 10m fine - how much of it was for retention?", text).answers


def test_an_amount_asked_in_a_currency_must_be_in_it():
    text = "A school in Nantong was fined RMB30,000."
    assert verdict("how much was the nantong school fined in yuan?", text).answers
    v = verdict("how much was the nantong school fined in dollars?", text)
    assert not v.answers and v.missing == "the amount asked in USD"


def test_a_bare_amount_before_fine_is_money_and_end_asks_for_a_deadline():
    assert fillers(Slot("money", "x"), "a 100k fine for inaccurate retention")
    assert fillers(Slot("money", "x"), "the 250,000 fine was upheld")
    (slot,) = asked_slots("when does the CEF 2024 end?")
    assert slot.event == "close"
    assert not verdict("when does the CEF 2024 end?", "A fourth coordinated action will be launched in 2025.").answers
    assert verdict("when does the CEF 2024 end?", "The CEF 2024 runs until 31 December 2024.").answers


def test_plural_acronyms_and_counted_nouns_before_a_verb():
    (slot,) = asked_slots("how many state AGs sued tiktok?")
    assert slot.head == "state AGs"
    question = analyse("how many AGs sued tiktok?", TOKENIZE, CaseProfile(["The AG said. The AG sued."]))
    assert [e.word for e in question.entities][:1] == ["ag"]
    assert judge(question, ["Fourteen attorney generals sued TikTok."], "", TOKENIZE).missing != "“ag”"


def test_a_case_profile_survives_save_and_load(tmp_path: Path):
    profile = CaseProfile(["The Commission fined TikTok.", "Later TikTok appealed; the commission noted it."])
    profile.save(tmp_path / "casing.json")
    again = CaseProfile.load(tmp_path / "casing.json")
    assert again.capitalised("tiktok") and not again.capitalised("noted") and "appealed" in again
    (tmp_path / "bad.json").write_text("[]", encoding="utf-8")
    with pytest.raises(ValueError, match="not a saved case profile"):
        CaseProfile.load(tmp_path / "bad.json")


def test_a_province_the_item_does_not_name_is_missing():
    text = "The internet security office of Jiangsu province arrested 136 individuals."
    assert verdict("how many individuals did jiangsu arrest?", text).answers
    assert verdict("how many individuals did zhejiang arrest?", text).missing == "“zhejiang”"


def test_a_list_of_links_answers_nothing_even_when_its_urls_hold_the_name():
    from retrieval.answerability.verdicts import links_only

    assert links_only("- https://www.linkedin.com/posts/a-fine-activity-1\n  - https://www.linkedin.com/posts/b-fine-2")
    assert not links_only("The Irish DPC fined LinkedIn EUR 310 million (https://www.dataprotection.ie/x).")
    assert not links_only("Uber fined €10 million (https://autoriteitpersoonsgegevens.nl/en/x).")


def test_a_quote_of_links_only_is_never_in_the_answers_tier(tmp_path: Path, encoder):
    from retrieval.ingest import ingest

    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "w.md").write_text("# Week 1\n\n- **LinkedIn fined by the DPC** (https://x.ie/a): The DPC fined LinkedIn.\n\n"
                                 "# Sources\n\n- https://www.linkedin.com/posts/fine-one\n"
                                 "  - https://www.linkedin.com/posts/fine-two\n", encoding="utf-8")
    (corpus / "w.meta.toml").write_text('title = "W"\ndate = "2024-01"\n', encoding="utf-8")
    ingest([corpus], tmp_path / "d", encoder)
    answer = Searcher(tmp_path / "d", encoder, calibration=Calibration(threshold=0.0)).search(
        "linkedin posts fine one two", top_k=5)
    links = [h for h in answer.hits if "Sources" == h.citation.section]
    assert links and all(h.answers is False and h.missing == "anything but links" for h in links)
    if answer.hits[0].citation.section == "Sources":
        assert answer.tier == "related" and answer.missing == "anything but links"
