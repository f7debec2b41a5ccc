"""Each rule of instrument and event extraction (issue 23), on the real sentence it was written for.

Sentences are quoted from the shipped bulletins (the file is named); item-level rules run on the
shipped corpus itself, read as ingest reads it (no encoder needed).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.chunking import Citation, Passage, passages_from
from retrieval.instruments import view
from retrieval.instruments.events import sentence_events, triggers
from retrieval.instruments.names import InstrumentTable
from retrieval.instruments.timeline import InstrumentIndex, build_instruments, item_key
from retrieval.intake.sources import read_bulletin

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
SECURITI = "securiti-privacy-roundup-2025-04.txt"
MOFO = "mofo-european-digital-compliance-2025-05.txt"


@pytest.fixture(scope="module")
def corpus() -> InstrumentIndex:
    return build_instruments([p for f in sorted(CORPUS.glob("*.txt")) for p in passages_from(read_bulletin(f))])


@pytest.fixture
def table() -> InstrumentTable:
    return InstrumentTable.load()


def events(index: InstrumentIndex, source: str, item: int | None, key: str | None = None) -> list[tuple]:
    """(key, kind, date, first words) of the events of one numbered item (or of a paragraph's, item None)."""
    out = []
    for e in index.events:
        c = e.citation
        if c.source_file == source and c.item_number == item and e.kind != "mentioned" and key in (None, e.key):
            out.append((e.key, e.kind, e.date, e.text[:40]))
    return out


def kinds(index: InstrumentIndex, source: str, item: int | None, key: str) -> set[tuple[str, str | None]]:
    return {(kind, date) for _, kind, date, _ in events(index, source, item, key)}


# -- names -----------------------------------------------------------------------------------------------

def test_a_defined_name_is_two_mentions(table):
    # privacy-news-digest-2024-11: the BBVA fine names the GDPR once, as a definition
    text = ("The AEPD determined that the bank violated Article 6.1 of the General Data Protection Regulation "
            "(GDPR) by deleting personal data from the device without a legal basis.")
    assert [m.key for m in table.find_mentions(text)] == ["gdpr", "gdpr"]


def test_a_jurisdiction_word_before_a_known_name_adds_no_instrument(table):
    table.learn_definitions("Controllers must comply with the EU General Data Protection Regulation (GDPR).")
    assert table.resolve("EU General Data Protection Regulation") == "gdpr"
    assert "general-data-protection-regulation" not in table.instruments


def test_the_eu_cloud_and_ai_development_act_is_not_the_us_cloud_act(table):
    title = "Cloud Act: Public Consultation on the EU “AI Continent – New Cloud and AI Development Act”"
    assert {m.key for m in table.find_mentions(title)} == {"eu-cloud-ai-development-act"}
    assert [m.key for m in table.find_mentions("the U.S. CLOUD Act of 2018")] == ["us-cloud-act"]


@pytest.mark.parametrize("sentence,context,key", [
    # techgdpr-digest-2025-05-03-16: the Swiss Act, not Germany's BDSG
    ("In particular, the Federal Data Protection Act, which has been in force since 1 September 2023, is directly "
     "applicable to AI-supported data processing.", "The Swiss data protection regulator FDPIC reminds us", "ch-fadp"),
    # securiti: Bermuda's PIPA; privacy-news-digest-2024-11: South Korea's
    ("PrivCom has published a blog on age assurance methods under the Personal Information Protection Act 2016 (PIPA).",
     "Country: Bermuda", "bm-pipa"),
    ("Meta was ordered to take corrective action to comply with the Personal Information Protection Act.",
     "The Personal Information Protection Commission (PIPC) of South Korea has imposed a fine", "kr-pipa"),
    ("The Norwegian Storting passed a new Electronic Communications Act that came into force on 1 January 2025.",
     None, "no-electronic-communications-act"),
])
def test_a_name_several_countries_share_goes_to_the_country_the_item_names(table, sentence, context, key):
    assert table.find_mentions(sentence, context)[0].key == key


def test_a_shared_name_with_no_country_is_no_table_entry(table):
    found = table.find_mentions("The Federal Data Protection Act applies to processing.")
    assert [m.key for m in found] == ["federal-data-protection-act"]


@pytest.mark.parametrize("text,key", [
    ("NIST Publishes A Cybersecurity Resource Guide for HIPAA Security Rule", "us-hipaa"),
    ("The ANPD is responsible for interpreting and enforcing the Lei Geral de Proteção de Dados Pessoais (LGPD).",
     "br-lgpd"),
    ("FTC announces Click-to-Cancel Rule; Immediately Challenged by Industry", "us-ftc-click-to-cancel-rule"),
    ("Article 82(1) of Regulation 2016/679: must be interpreted as meaning that a loss of control", "gdpr"),
])
def test_table_entries_added_for_issue_23(table, text, key):
    assert table.find_mentions(text)[0].key == key


def test_bills_are_named_with_their_jurisdiction(table):
    # securiti: the same bill written two ways is one key; a list gives each state its bills
    assert [(m.key, m.name) for m in table.find_mentions("Oklahoma’s Senate Bill 546 is advancing")] == [
        ("oklahoma-senate-bill-546", "Oklahoma Senate Bill 546")]
    text = ("Comprehensive privacy initiatives are moving forward in Oklahoma ( SB 546, SB 626), Oregon ( HB 3875), "
            "California ( SB 361)")
    assert [m.key for m in table.find_mentions(text)] == [
        "oklahoma-senate-bill-546", "oklahoma-senate-bill-626", "oregon-house-bill-3875", "california-senate-bill-361"]
    assert table.find_mentions("The bill SB 71 was heard.") == []  # no jurisdiction: no key


@pytest.mark.parametrize("title", [
    "Montana Moves to Expand Privacy Law to Cover Neural Data", "Oregon Advances Bill to Ban Sale of Geolocation and Teen Data",
    "Navigating GPAI-Model Regulation Under the AI Act: The EU’s Updated Draft Code of Practice and New Guidelines"])
def test_a_headline_is_no_instrument_name(table, title):
    assert [m.key for m in table.find_mentions(title)] in ([], ["eu-ai-act"])


def test_a_headline_word_inside_a_name_stays(table):
    text = "Another measure is the introduction of a Digital Protection Against Violence Act, aiming to improve it."
    assert [m.surface for m in table.find_mentions(text)] == ["Digital Protection Against Violence Act"]


def test_codes_and_codes_of_practice_are_one_instrument(table):
    a = table.find_mentions("Ofcom has published its draft Protection of Children Codes setting out the standards")
    b = table.find_mentions("Ofcom has published the Protection of Children Codes of Practice (the “ Codes ”)")
    assert a[0].key == b[0].key == "protection-of-children-codes-of-practice"
    table.learn_definitions("Ofcom has published the Protection of Children Codes of Practice (the “ Codes ”)")
    assert table.resolve("Codes") is None  # a plain word the document uses for it is no name of its own


def test_a_name_continued_into_a_longer_one_is_the_longer_instrument(table):
    table.learn_definitions("a public consultation under the Personal Data Protection Law (PDPL).")
    text = ("SDAIA has launched a public consultation on proposed changes to the Personal Data Protection Law (PDPL) "
            "Implementing Regulations.")
    found = table.find_mentions(text)
    assert [m.surface for m in found] == ["Personal Data Protection Law (PDPL) Implementing Regulations"]
    regs = ("The Online Safety Act 2023 (Category 1, Category 2A and Category 2B Threshold Conditions) Regulations 2025 "
            "came into force on 27 February 2025.")
    assert "uk-osa" not in [m.key for m in table.find_mentions(regs)]


def test_official_numbers_of_delegated_acts(table):
    text = ("Delegated Regulation C(2025) 885: Draft RTS. Implementing Regulation (EU 2025/302): ITS on standard forms.")
    assert [m.key for m in table.find_mentions(text)] == ["delegated-regulation-c-2025-885",
                                                          "implementing-regulation-eu-2025-302"]


def test_an_acronym_may_take_letters_inside_a_word(table):
    table.learn_definitions("The EU Cybersecurity Act ( CSA) was adopted in 2019 to grant a permanent mandate")
    assert table.resolve("CSA") == "eu-cybersecurity-act"


# -- events and their dates --------------------------------------------------------------------------------

def test_a_consultations_closing_date_is_a_deadline_not_the_drafts_date():
    # mofo EU 2
    s = ("Central to this strategy is the proposal of the EU Cloud and AI Development Act, which was launched for "
         "public consultation at the same time; the consultation period will end on 4 June 2025.")
    assert sentence_events(s) == [("draft", None), ("deadline", "2025-06-04")]


def test_a_date_belongs_to_the_trigger_that_governs_it():
    # techgdpr: 1 January 2025 is the entry into force, not the vote; securiti 28: two steps, two dates
    assert sentence_events("The Norwegian Storting passed a new Electronic Communications Act that came into force on "
                           "1 January 2025.") == [("adopted", None), ("in_force", "2025-01-01")]
    assert sentence_events("Passed on March 29 and effective March 30, the Act enables customers - both individuals "
                           "and entities - to direct their data to accredited third parties.", "2025-05-04") == [
        ("adopted", "2025-03-29"), ("in_force", "2025-03-30")]
    # securiti 15: November 2024 is when Meta revised its model, not the fine's date
    assert sentence_events("The fine applies to the period before Meta introduced a revised model in November 2024.") \
        == [("fine", None)]


def test_a_date_after_and_before_a_list_of_months_and_the_same_day_immediately():
    s = ("Following the release of the first and second draft in November and December 2024 (see our Q4 update), the "
         "European AI Office published the third draft of the General-Purpose AI Code of Practice (the CoP) on 11 "
         "March 2025.")
    name = s.index("General-Purpose AI Code of Practice")
    # "November and December 2024": the year is December's too; the code's name is no guidance word
    assert [(t.kind, t.date) for t in triggers(s, "2025-05-09", ((name, name + 35),))] == [
        ("draft", "2024-11"), ("draft", "2025-03-11")]
    assert sentence_events("This release is a follow-up to the Regulations on Promoting and Regulating Cross-Border "
                           "Data, which were finalized on March 22, 2024 and took effect immediately.") == [
        ("adopted", "2024-03-22"), ("in_force", "2024-03-22")]


def test_a_date_in_the_opening_phrase_dates_the_sentence():
    s = ("Not long after, on 22 April 2025, the European Commission launched a multi-stakeholder consultation and "
         "published preliminary GPAI guidelines (the “ Guidelines ”).")
    assert sentence_events(s) == [("guidance", "2025-04-22")]


@pytest.mark.parametrize("sentence,expected", [
    # securiti 5: the bill was amended in committee; the law is not amended, the bill is pending
    ("Oregon’s amended HB 2008 has cleared the House and referred to the Senate Committee on Judiciary.", [("draft", None)]),
    # privacy-news-digest-2024-10: a version before the consultation is no draft
    ("Compared to pre-consultation version, nothing has changed significantly.", []),
    # issue 23's example: a person consulting a website
    ("The rules apply when he or she consults a website.", []),
    # securiti 1: "If enacted" is a condition; the dated entry into force is an event
    ("If enacted, the law is scheduled to take effect on January 1, 2026.", [("in_force", "2026-01-01")]),
    # mofo UK 1: an approval the codes still need is no adoption
    ("After this date, the Codes will become enforceable, provided they receive approval from Parliament, and "
     "providers will be required to implement the safety measures set out in the Codes.", []),
    # privacy-news-digest-2023-05-14: in a vote's sentence, the adequacy decision asked against is not adopted
    ("The European Parliament (EP) has adopted a resolution calling on the European Commission (EC) not to grant the "
     "United States an adequacy decision on personal data transfers based on the EU-U.S. Data Privacy Framework (DPF).",
     [("resolution", None)]),
    # securiti 17: the consultation is on the guidelines (a guidance step), its end a deadline
    ("The guidelines are currently open for public consultation until June 9, 2025.",
     [("guidance", None), ("deadline", "2025-06-09")]),
    # securiti 4: finalized amendments are an amendment
    ("The Federal Trade Commission (FTC) has finalized significant amendments to the Children’s Online Privacy "
     "Protection Act Rule (COPPA), published in the Federal Register on April 22, 2025.", [("amended", None)]),
    # mofo EU 3: security challenges are no legal challenge
    ("Addressing ICT supply chain security challenges, including non-technical risk factors.", []),
    # privacy-news-digest-2024-08: staged application, relative to the entry into force
    ("The ban of AI systems posing unacceptable risks will apply six months after the entry into force;",
     [("in_force", None)]),
    # securiti 4 and mofo EU 4: "becomes effective <date>", "start applying from <date>"
    ("The new Rule becomes effective June 23, 2025, with a compliance deadline of April 22, 2026.",
     [("in_force", "2025-06-23"), ("deadline", "2026-04-22")]),
    ("The obligations for providers of GPAI models will start applying from 2 August 2025 (subject to exceptions for "
     "GPAI models already on the EU market by this date).", [("in_force", "2025-08-02")]),
])
def test_kinds_come_from_the_sentence_structure_not_stray_words(sentence, expected):
    assert sentence_events(sentence, "2025-05-04") == expected


def test_a_staged_date_is_marked_relative():
    t = triggers("Codes of practice will apply nine months after entry into force;")
    assert t and all(x.kind == "in_force" and x.relative and x.date is None for x in t)


# -- which instrument an event belongs to (items of the shipped corpus) -------------------------------------

def test_fines_and_guidance_under_the_gdpr_reach_its_timeline(corpus):
    # issue 23 (1): each of these items names the GDPR once, or as one definition
    assert ("fine", None) in kinds(corpus, "privacy-news-digest-2024-02.txt", 1, "gdpr")  # Uber EUR 10M
    assert ("fine", None) in kinds(corpus, "privacy-news-digest-2024-08.txt", 2, "gdpr")  # Uber EUR 290M
    assert ("fine", None) in kinds(corpus, "privacy-news-digest-2024-11.txt", 7, "gdpr")  # Hamburg 900k
    assert ("guidance", None) in kinds(corpus, "privacy-news-digest-2024-02.txt", 8, "gdpr")  # "EDPB clarifies …"


def test_a_regulators_code_under_an_act_is_no_stage_of_the_act(corpus):
    # securiti 13: Ofcom's draft codes "under the Online Safety Act"
    assert kinds(corpus, SECURITI, 13, "protection-of-children-codes-of-practice") >= {
        ("draft", "2025-04-24"), ("adopted", "2025-07-25")}
    assert all(kind == "guidance" for kind, _ in kinds(corpus, SECURITI, 13, "uk-osa"))
    # mofo EU 4: the third draft of the GPAI Code of Practice is guidance of the AI Act, a draft of the code
    assert ("draft", "2025-03-11") in kinds(corpus, MOFO, 4, "general-purpose-ai-code-of-practice")
    ai = kinds(corpus, MOFO, 4, "eu-ai-act")
    assert ("guidance", "2025-03-11") in ai and not any(kind == "draft" for kind, _ in ai)
    assert {("deadline", "2025-05-22"), ("in_force", "2025-08-02"), ("guidance", "2025-04-22")} <= ai


def test_duties_under_an_act_are_the_act(corpus):
    # mofo UK 1: "Their duties under the OSA relating to illegal harms came into force on 17 March 2025"
    osa = kinds(corpus, MOFO, 1, "uk-osa")
    assert ("in_force", "2025-03-17") in osa and ("in_force", "2025-02-27") not in osa  # that one is the Regulations'
    assert {("deadline", "2025-03-16"), ("deadline", "2025-04-16"), ("deadline", "2025-07-24")} <= osa


def test_an_anaphor_refers_to_the_instrument_its_noun_names(corpus):
    # mofo EU 5: "The regulation was adopted by the European Commission on 24 March 2025." is C(2025) 1682, not DORA
    assert ("adopted", "2025-03-24") in kinds(corpus, MOFO, 5, "delegated-regulation-c-2025-1682")
    assert ("adopted", "2025-02-13") in kinds(corpus, MOFO, 5, "delegated-regulation-c-2025-885")
    assert not any(kind == "adopted" for kind, _ in kinds(corpus, MOFO, 5, "eu-dora"))
    # securiti 6: "It … takes effect on July 1, 2026" is the Arkansas Act, not COPPA ("Unlike COPPA, …")
    arkansas = "children-and-teens-online-privacy-protection-act"
    assert ("in_force", "2026-07-01") in kinds(corpus, SECURITI, 6, arkansas)
    assert kinds(corpus, SECURITI, 6, "us-coppa") == set()
    # securiti 1: "If passed, it would take effect on October 1, 2025": Alabama's bill, named just before
    assert ("in_force", "2025-10-01") in kinds(corpus, SECURITI, 1, "alabama-house-bill-283")
    assert ("in_force", "2026-01-01") in kinds(corpus, SECURITI, 1, "oklahoma-senate-bill-546")


def test_staged_application_dates_are_events_of_the_act(corpus):
    staged = [e for e in events(corpus, "privacy-news-digest-2024-08.txt", 1, "eu-ai-act") if e[1] == "in_force"]
    assert len(staged) == 6  # enters into force, fully applicable at 24 months, then 6, 9, 12 and 36 months


def test_a_pending_bill_amends_nothing_yet(corpus):
    # securiti 2 and 3: amending bills not yet signed; securiti 5: "amended HB 2008"
    assert kinds(corpus, SECURITI, 2, "montana-consumer-data-privacy-act") == {("draft", "2025-04-22")}
    assert kinds(corpus, SECURITI, 3, "montana-genetic-information-privacy-act") == {("draft", "2025-04-22")}
    assert not any(kind == "amended" for _, kind, _, _ in events(corpus, SECURITI, 5))
    # a bill aimed at adopting an Act is that Act
    assert ("draft", "2025-04-11") in kinds(corpus, SECURITI, 8, "age-appropriate-online-design-code-act")


def test_a_change_reported_of_a_draft_is_part_of_the_draft(corpus):
    # HSF China 9: "The draft chapter fosters … It revises the definition of privacy …"
    assert kinds(corpus, "china-cybersecurity-data-protection-2019-08.txt", 9, "cn-civil-code") == {("draft", "2019-08-22")}


def test_structure_keeps_events_from_the_wrong_instrument(corpus):
    # mofo EU 3: "legislation that have come into force" is no entry into force of the ECCF it goes on to name
    assert not any(kind == "in_force" for _, kind, _, _ in events(corpus, MOFO, 3))
    # privacy-news-digest-2024-02: "whether or not an adequacy decision by the Commission exists" adopts nothing
    assert not any(kind == "adopted" for _, kind, _, _ in events(corpus, "privacy-news-digest-2024-02.txt", 1))
    # mofo EU 5: "adopted additional regulations to supplement DORA …: Delegated Regulation (EU) 2025/301"
    assert ("adopted", None) in kinds(corpus, MOFO, 5, "delegated-regulation-eu-2025-301")
    # securiti 21: "draft rules … under the PDPL" and "The draft outlines … prior PDPL violations"
    assert events(corpus, SECURITI, 21) == []
    # mofo UK 2: the bulletin's own earlier coverage is no event; mofo Germany 3: "it remains to be seen"
    assert not any(text.startswith("We covered") for *_, text in events(corpus, MOFO, 2))
    assert not any("remains to be seen" in text for *_, text in events(corpus, MOFO, 3))


def test_guidance_on_two_instruments_and_under_one(corpus):
    # privacy-news-digest-2024-11: "guidance on the implementation of the TDDDG and the GDPR"
    for key in ("de-tdddg", "gdpr"):
        assert ("guidance", None) in kinds(corpus, "privacy-news-digest-2024-11.txt", 3, key)
    # mofo introduction: "fresh guidance under the AI Act … and the latest updates to the DORA"
    intro = [e for e in corpus.events if e.citation.source_file == MOFO and e.citation.item_number is None
             and e.kind == "guidance"]
    assert {e.key for e in intro} == {"eu-ai-act"}


def test_an_items_date_field_and_its_one_stated_date(corpus):
    # securiti 15 "Date: April 23, 2025"; securiti 28: the enactment is the 29 March one, not the report's 1 April
    assert kinds(corpus, SECURITI, 15, "eu-dma") == {("fine", "2025-04-23")}
    nz = kinds(corpus, SECURITI, 28, "customer-and-product-data-act")
    assert nz == {("adopted", "2025-03-29"), ("in_force", "2025-03-30")}
    # a planned step's date dates no other sentence: mofo EU 2's proposal is undated, the Q4 draft is 2025
    assert kinds(corpus, MOFO, 2, "eu-cloud-ai-development-act") == {("draft", None), ("deadline", "2025-06-04"),
                                                                     ("draft", "2025")}


def test_a_separate_titles_kind_is_its_first_sentences(corpus):
    # securiti 11: "Bermuda Clarifies Age Assurance Obligations Under PIPA" over "PrivCom has published a blog …"
    assert kinds(corpus, SECURITI, 11, "bm-pipa") == {("guidance", "2025-04-03")}


def test_an_instrument_named_only_in_a_title_is_on_the_timeline(corpus):
    # issue 23 (4): securiti 6 names the Arkansas Act only in its title
    key = view.find(corpus, "Children and Teens’ Online Privacy Protection Act")
    assert key == "children-and-teens-online-privacy-protection-act"
    assert {e.kind for e in corpus.events_of(key)} >= {"adopted", "in_force"}
    about = {k for ks in corpus.about.values() for k in ks}
    assert about <= set(corpus.table.instruments)  # no hidden keys: every instrument an item is about is listed


def test_the_whats_next_list_is_not_item_28(corpus):
    # securiti's closing list: its TAKE IT DOWN entry is dated by no item's Date: field
    take = [e for e in corpus.events_of("us-take-it-down") if e.kind != "mentioned"]
    assert take and all(e.citation.item_number is None and e.date is None for e in take)


# -- later developments ----------------------------------------------------------------------------------

def test_later_developments_compare_event_dates_of_the_same_instrument(corpus):
    # issue 23 (2): Ofcom's draft codes (24 April 2025) are not overtaken by the OSA's earlier duties
    codes = next(p for p in corpus.events if p.citation.source_file == SECURITI and p.citation.item_number == 13)
    assert corpus.later_developments(codes.citation) == []
    # the Parliament's resolution against US adequacy is overtaken by the adequacy decision
    resolution = next(e for e in corpus.events_of("eu-us-dpf") if e.kind == "resolution")
    assert [e.kind for e in corpus.later_developments(resolution.citation)] == ["adopted"]


def _passage(source: str, date: str, number: int, text: str) -> Passage:
    c = Citation(bulletin=source, publisher=None, date=date, section="News", item_number=number, item_title=None,
                 paragraph=1, url=None, source_file=source, char_start=0, char_end=len(text))
    return Passage(number, text, c, "", 1, 1)


def test_a_later_bulletin_reporting_an_earlier_event_is_no_development():
    idx = build_instruments([
        _passage("a.txt", "2025-05", 1, "The Zeta Records Protection Act was proposed on 3 May 2025."),
        _passage("b.txt", "2025-06", 1, "The Zeta Records Protection Act was adopted on 20 April 2025, a reminder."),
        _passage("c.txt", "2025-07", 1, "The Zeta Records Protection Act takes effect on 1 July 2025."),
    ])
    draft = next(e for e in idx.events if e.citation.source_file == "a.txt")
    assert item_key(draft.citation) == ("a.txt", "News", 1)
    # the adoption is dated before the draft's own date (its bulletin is later): no mark; the in-force is
    assert [e.kind for e in idx.later_developments(draft.citation)] == ["in_force"]
