"""Instruments: alias resolution, mentions, events, timelines in date order, later developments, persistence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrieval.chunking import Citation, Passage
from retrieval.index.generations import current_generation
from retrieval.index.passages import PassageIndex
from retrieval.instruments.events import normalise_date, sentence_events
from retrieval.instruments.names import InstrumentTable
from retrieval.instruments.timeline import FILE_NAME, InstrumentIndex, build_instruments
from retrieval.search.loaded import LoadedGeneration


@pytest.fixture(scope="module")
def table() -> InstrumentTable:
    return InstrumentTable.load()


@pytest.mark.parametrize("name,key", [
    ("PIPL", "cn-pipl"), ("personal information protection law", "cn-pipl"), ("GDPR", "gdpr"),
    ("Regulation (EU) 2016/679", "gdpr"), ("regulation (eu) 2022/1925", "eu-dma"), ("EU AI Act", "eu-ai-act"),
    ("Artificial Intelligence Act", "eu-ai-act"), ("eu-ai-act", "eu-ai-act"), ("DPF", "eu-us-dpf"),
    ("EU–U.S. Data Privacy Framework", "eu-us-dpf"), ("TDDDG", "de-tdddg"), ("GB/T 35273", "cn-gbt-35273"),
])
def test_aliases_resolve_to_one_key(table: InstrumentTable, name: str, key: str):
    assert table.resolve(name) == key


def test_unknown_name_resolves_to_none_and_gets_nearest_names(table: InstrumentTable):
    assert table.resolve("Digital Servises Act") is None
    assert "Digital Services Act (DSA)" in table.suggest("Digital Servises Act")
    assert table.resolve("") is None


def test_mentions_in_text(table: InstrumentTable):
    text = ("Under Sec. 26(2) TDDDG and Art. 4 of the AI Act, and Regulation (EU) 2025/302, the "
            "Federal Data Privacy Framework is not the EU-U.S. Data Privacy Framework (DPF).")
    found = [(m.key, m.surface) for m in table.find_mentions(text)]
    assert ("de-tdddg", "TDDDG") in found
    assert ("eu-ai-act", "AI Act") in found
    assert ("regulation-eu-2025-302", "Regulation (EU) 2025/302") in found
    # a defined name is two mentions (the name and its acronym): an item defining it names it twice
    assert ("eu-us-dpf", "EU-U.S. Data Privacy Framework") in found and ("eu-us-dpf", "DPF") in found
    # the "Federal …" one is another instrument: its own text is not counted as the EU-U.S. one
    assert sum(k == "eu-us-dpf" for k, _ in found) == 2
    # a headline in title case keeps the table name ("… Fines Apple and Meta Under Digital Markets Act")
    assert [m.key for m in table.find_mentions("European Commission Fines Apple and Meta Under Digital Markets Act")] \
        == ["eu-dma"]


def test_corpus_definitions_become_aliases():
    t = InstrumentTable.load()
    assert t.resolve("OCPA") is None
    t.learn_definitions("amendments to the Oregon Consumer Privacy Act (OCPA) take effect")
    assert t.resolve("OCPA") == "oregon-consumer-privacy-act" == t.resolve("Oregon Consumer Privacy Act")
    t.learn_definitions("the Personal Information Protection Law (the “PIPL”)")  # known: no second instrument
    assert t.resolve("Personal Information Protection Law") == "cn-pipl"


@pytest.mark.parametrize("written,iso", [
    ("11 March 2025", "2025-03-11"), ("March 11, 2025", "2025-03-11"), ("March 2024", "2024-03"),
    ("in 2019", "2019"), ("2025-09-12", "2025-09-12"), ("31 February 2024", None), ("Q4 2025", "2025"),
])
def test_dates_keep_their_precision(written: str, iso: str | None):
    assert normalise_date(written) == iso


def test_day_and_month_take_the_bulletins_year():
    assert normalise_date("21 August", "2019-09") == "2019-08-21"
    assert normalise_date("21 August") is None


def test_sentence_events_kinds_and_dates():
    # each trigger takes the date written after it: the Parliament's adoption and the Council's are two events
    assert sentence_events("The Parliament adopted the Artificial Intelligence Act in March 2024 and the "
                           "Council followed with its approval in May 2024.") == [("adopted", "2024-03"),
                                                                                 ("adopted", "2024-05")]
    assert dict(sentence_events("The European Parliament has adopted a resolution calling on the Commission.")) \
        == {"resolution": None}  # "adopted a resolution" is not the instrument adopted
    assert dict(sentence_events("The Data Act applies from September 12, 2025.")) == {"in_force": "2025-09-12"}
    assert sentence_events("It was a sunny day.") == []


def _passage(source: str, date: str, number: int, text: str, title: str | None = None, start: int = 0) -> Passage:
    c = Citation(bulletin=source, publisher=None, date=date, section="News", item_number=number, item_title=title,
                 paragraph=1, url=None, source_file=source, char_start=start, char_end=start + len(text))
    return Passage(number * 1000 + start, text, c, "", 1, 1)


@pytest.fixture
def life() -> InstrumentIndex:
    """The PIPL through three bulletins, out of order, plus an unrelated item."""
    return build_instruments([
        _passage("c.txt", "2021-11", 1, "The PIPL took effect on 1 November 2021. Companies must now comply."),
        _passage("a.txt", "2020-10", 1, "The draft Personal Information Protection Law (PIPL) was released for "
                 "public comment on 21 October 2020."),
        _passage("b.txt", "2021-08", 3, "The NPC adopted the PIPL on 20 August 2021."),
        _passage("b.txt", "2021-08", 4, "A bakery changed its opening hours.", start=500),
    ])


def test_timeline_is_oldest_first_with_verbatim_quotes(life: InstrumentIndex):
    entries = life.timeline("cn-pipl")
    assert [(e.citation.source_file, [ev.kind for ev in e.events]) for e in entries] == [
        ("a.txt", ["draft"]), ("b.txt", ["adopted"]), ("c.txt", ["in_force"])]
    assert [e.events[0].date for e in entries] == ["2020-10-21", "2021-08-20", "2021-11-01"]
    adopted = entries[1].events[0]
    assert adopted.text == "The NPC adopted the PIPL on 20 August 2021."
    assert adopted.actor == "NPC"
    assert life.timeline("eu-ai-act") == []


def test_later_developments_mark_an_older_quote(life: InstrumentIndex):
    draft = life.timeline("cn-pipl")[0].citation
    later = life.later_developments(draft)
    assert [e.kind for e in later] == ["in_force", "adopted"]  # newest first
    newest = life.timeline("cn-pipl")[-1].citation
    assert life.later_developments(newest) == []
    bakery = _passage("b.txt", "2021-08", 4, "A bakery changed its opening hours.", start=500).citation
    assert life.later_developments(bakery) == []


def test_a_later_bulletin_repeating_an_earlier_stage_is_no_development():
    idx = build_instruments([
        _passage("a.txt", "2024-01", 1, "The Commission adopted the Data Act in 2023."),
        _passage("b.txt", "2024-06", 1, "The Data Act was adopted last year, a reminder."),
    ])
    first = idx.timeline("eu-data-act")[0].citation
    assert first.source_file == "a.txt"
    assert idx.later_developments(first) == []


def test_round_trip_and_stale_file(life: InstrumentIndex):
    again = InstrumentIndex.from_json(life.to_json())
    assert [e.to_dict() for e in again.events] == [e.to_dict() for e in life.events]
    assert again.about == life.about
    stale = json.loads(life.to_json())
    stale["table_sha256"] = "0" * 64
    with pytest.raises(ValueError, match="another instrument table"):
        InstrumentIndex.from_json(json.dumps(stale))
    with pytest.raises(ValueError):
        InstrumentIndex.from_json("{not json")


def test_ingest_saves_instruments_and_the_corpus_has_timelines(indexed: Path, corpus_copy: Path):
    gen = current_generation(indexed)
    path = indexed / "generations" / gen / FILE_NAME
    assert path.exists()
    manifest = json.loads((indexed / "generations" / gen / "manifest.json").read_text())
    assert FILE_NAME in manifest["files"]  # checksummed like the other files
    loaded = LoadedGeneration(PassageIndex.load(indexed))
    idx = loaded.instruments
    for key in ("eu-ai-act", "eu-us-dpf"):
        events = [e for entry in idx.timeline(key) for e in entry.events]
        assert len({e.citation.source_file for e in events}) >= 2
        assert len(events) >= 3
        whens = [min(ev.when for ev in entry.events) for entry in idx.timeline(key)]
        assert whens == sorted(whens)
        if key == "eu-ai-act":  # a bold headline that states the event by itself is the whole quote
            assert ("in_force", "EU AI Act enters into force") in [(e.kind, e.text) for e in events]
        for e in events:  # every quote is the source's own words at the cited offsets
            source = (corpus_copy / e.citation.source_file).read_text(encoding="utf-8")
            assert source[e.citation.char_start:e.citation.char_end] == e.text


def test_missing_or_broken_file_is_rebuilt_from_the_catalog(indexed: Path):
    gen = current_generation(indexed)
    index = PassageIndex.load(indexed)
    (indexed / "generations" / gen / FILE_NAME).write_text("{}")  # after the load's checksum check
    loaded = LoadedGeneration(index)
    assert loaded.instruments.timeline("eu-us-dpf")


def _dpf_resolution_search(indexed: Path, encoder, **kw):
    from retrieval.search.searcher import Searcher

    answer = Searcher(indexed, encoder).search(
        "European Parliament resolution against US adequacy Data Privacy Framework", top_k=5, **kw)
    return answer, [h for h in answer.hits if h.citation.source_file == "privacy-news-digest-2023-05-14.txt"
                    and "adequacy" in (h.text + (h.citation.item_title or ""))]


def test_an_answer_quoting_an_older_item_shows_the_later_development(indexed: Path, encoder):
    from bot.cli.formatting import format_answer
    from bot.slack.blocks import render_answer

    answer, older = _dpf_resolution_search(indexed, encoder)
    assert older, [h.citation.source_file for h in answer.hits]
    later = older[0].later
    assert later and later[0].citation.source_file == "privacy-news-digest-2023-07-16.txt"
    assert later[0].kind == "adopted" and "adequacy decision" in later[0].text
    newest = [h for h in answer.hits if h.citation.source_file == "privacy-news-digest-2023-07-16.txt"]
    assert all(not h.later for h in newest)  # nothing later than the adequacy decision reports a new stage
    assert older[0].text in [h.text for h in answer.hits]  # the older quote is marked, never hidden
    printed = format_answer(answer)
    assert "later developments" in printed and "Positive adequacy decision" in printed
    blocks = render_answer(answer).blocks
    marks = [el["text"] for b in blocks if b["type"] == "context" for el in b["elements"]
             if "Later development" in el["text"]]
    assert marks and "2023-07-16" in marks[0]
    assert "later_developments" in older[0].to_dict()


def test_as_of_leaves_out_developments_after_the_cut_off(indexed: Path, encoder):
    _, older = _dpf_resolution_search(indexed, encoder, filters={"as_of": "2023-06"})
    assert older and not older[0].later


def test_a_definition_after_the_year_of_an_act_becomes_an_alias():
    t = InstrumentTable.load()
    t.learn_definitions("duties under the Online Safety Act 2023 ( OSA). Later, the OSA applies.")
    assert t.resolve("OSA") == "uk-osa"
    assert [m.key for m in t.find_mentions("Their duties under the OSA came into force.")] == ["uk-osa"]


def test_a_jurisdictions_possessive_keeps_a_three_word_name(table: InstrumentTable):
    found = [(m.key, m.surface) for m in table.find_mentions("Malaysia’s Data Sharing Act officially took effect.")]
    assert found == [("malaysia-data-sharing-act", "Malaysia’s Data Sharing Act")]
    assert table.find_mentions("Germany’s Draft Act was discussed.") == []  # a vague two-word remainder is no name


def test_a_sentence_opening_with_its_date_dates_a_far_trigger():
    assert dict(sentence_events("On 22 August 2019, the chapter in the Civil Code on personality rights was "
                                "submitted for its third reading in the National People's Congress.")) \
        == {"draft": "2019-08-22"}
    # a date next to the trigger still wins over the opening one
    assert dict(sentence_events("On 1 May 2025, the regulator said the rules take effect on 1 June 2025.")) \
        == {"in_force": "2025-06-01"}


def test_words_and_digits_of_a_link_are_no_event():
    assert sentence_events("FTC claims the age gate fails (https://www.ftc.gov/2024/08/ftc-lawsuit-against-tiktok)") \
        == []
    assert dict(sentence_events("The NPC adopted it (https://example.org/2019/01/draft) on 20 August 2021.")) \
        == {"adopted": "2021-08-20"}


def test_nist_special_publications_are_one_instrument_across_revisions(table: InstrumentTable):
    text = "The document, SP 800-172 Rev. 3, supplements SP 800-171r3 (NIST SP 800-172 Rev. 3)."
    assert [(m.key, m.surface) for m in table.find_mentions(text)] == [
        ("nist-sp-800-172", "SP 800-172 Rev. 3"), ("nist-sp-800-171", "SP 800-171r3"),
        ("nist-sp-800-172", "NIST SP 800-172 Rev. 3")]


def test_a_treaty_is_an_instrument_and_keeps_its_sentence_from_a_law_it_mentions():
    idx = build_instruments([_passage("a.txt", "2025-05", 1, (
        "On March 31, 2025, the States signed the revision of the German Youth Protection State Treaty. "
        "It raised doubts under the Digital Services Act ( DSA). The DSA may apply."))])
    key = "german-youth-protection-state-treaty"
    assert idx.about[("a.txt", "News", 1)] == (key, "eu-dsa")
    assert [(e.key, e.kind, e.date) for e in idx.events if e.kind != "mentioned"] == [(key, "amended", "2025-03-31")]


def test_events_of_is_oldest_first_with_undated_events_last():
    idx = build_instruments([
        _passage("d.txt", None, 1, "The PIPL was amended."),  # type: ignore[arg-type]  (a bulletin with no date)
        _passage("c.txt", "2021-11", 1, "The PIPL took effect on 1 November 2021."),
        _passage("a.txt", "2020-10", 1, "The draft Personal Information Protection Law (PIPL) was released."),
    ])
    events = idx.events_of("cn-pipl")
    assert [(e.when, e.kind) for e in events] == [("2020-10", "draft"), ("2021-11-01", "in_force"), ("", "amended")]
    assert idx.events_of("no-such-key") == []


def test_searcher_exposes_the_instruments_in_force(indexed: Path, tmp_path: Path):
    from retrieval.errors import IndexNotFoundError
    from retrieval.search.loaded import instruments_in_force
    from retrieval.search.searcher import Searcher
    from tests.fakes import HashEncoder

    searcher = Searcher(indexed, HashEncoder())
    assert searcher.instruments().resolve("DPF") == "eu-us-dpf"
    assert searcher.instruments().events_of("eu-us-dpf")
    assert instruments_in_force(indexed).events_of("eu-us-dpf") == searcher.instruments().events_of("eu-us-dpf")
    with pytest.raises(IndexNotFoundError):
        Searcher(tmp_path / "none", HashEncoder()).instruments()
    with pytest.raises(IndexNotFoundError):
        instruments_in_force(tmp_path / "none")


def test_an_item_reporting_no_stage_is_never_marked_by_a_later_stage():
    idx = build_instruments([
        _passage("a.txt", "2024-02", 1, "The Garante fined a company EUR 200k under the GDPR."),
        _passage("b.txt", "2025-05", 1, "The Commission consulted on a proposal to amend the GDPR for SMEs."),
        _passage("c.txt", "2025-06", 1, "Provisions of the GDPR already in force must be complied with."),
    ])
    fine = idx.timeline("gdpr")[0].citation
    assert fine.source_file == "a.txt" and idx.later_developments(fine) == []
    # "already in force" is no event of entry into force
    assert [e.kind for e in idx.events if e.citation.source_file == "c.txt"] == ["mentioned"]


def test_full_width_digits_are_no_iso_date():
    from retrieval.text import is_iso_date

    assert is_iso_date("2024-06") and not is_iso_date("２０２４-06") and not is_iso_date("２０２４")


def test_an_instrument_found_only_by_pattern_can_be_named_back():
    idx = build_instruments([
        _passage("a.txt", "2024-01", 1, "The Zeta Records Protection Act was proposed on 3 January 2024."),
        _passage("b.txt", "2024-06", 1, "The Zeta Records Protection Act was adopted on 2 June 2024."),
    ])
    key = idx.resolve("Zeta Records Protection Act")
    assert key == "zeta-records-protection-act" == idx.resolve(key)
    assert "Zeta Records Protection Act" in [i.name for i in idx.known()]
    assert [e.kind for e in idx.events_of(key)] == ["draft", "adopted"]
    again = InstrumentIndex.from_json(idx.to_json())
    assert again.resolve("Zeta Records Protection Act") == key


def test_a_very_long_name_gets_a_bounded_distinct_key():
    from retrieval.instruments.names import MAX_KEY, slug

    a = slug("The " + "Aardvark Baboonery " * 10 + "Ocelots Act")
    b = slug("The " + "Aardvark Baboonery " * 10 + "Pelicans Act")
    assert len(a) <= MAX_KEY and len(b) <= MAX_KEY and a != b
    assert slug("Oregon Consumer Privacy Act") == "oregon-consumer-privacy-act"


def test_an_answer_is_served_without_marks_when_the_instruments_fail(indexed: Path, encoder, monkeypatch, caplog):
    from retrieval.search import loaded as loaded_module
    from retrieval.search.searcher import Searcher

    def broken(self):
        raise RuntimeError("boom")

    monkeypatch.setattr(loaded_module.LoadedGeneration, "instruments", property(broken))
    answer = Searcher(indexed, encoder).search("Data Privacy Framework adequacy", top_k=3)
    assert answer.hits and all(not h.later for h in answer.hits)
    assert "answering without later developments" in caplog.text
