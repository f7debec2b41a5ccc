"""Digest subscriptions: what a text becomes (instrument or topic), which items match, and the digest
filtered by them, on the shipped corpus (``indexed``); the ``subscriptions`` and ``digest`` commands."""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from bot import cli
from bot.digest import DigestRunner, item_groups, matching, new_bulletins
from bot.digest import subscriptions as subs
from bot.state.protocol import Subscription
from bot.state.sqlite import SQLiteStore
from retrieval.chunking import Citation, Passage
from retrieval.index.passages import PassageIndex
from retrieval.search.loaded import generation_instruments

NOW = datetime.now(timezone.utc)


@pytest.fixture(scope="module")
def table():
    return subs.table_only()


@pytest.fixture
def index(indexed):
    idx = PassageIndex.load(indexed)
    yield idx
    idx.close()


@pytest.fixture
def instruments(index):
    return generation_instruments(index)


@pytest.fixture
def store(tmp_path):
    s = SQLiteStore(tmp_path / "state" / "bot.sqlite")
    yield s
    s.close()


def item(text: str, title: str | None = "An item", section: str | None = "News") -> list[Passage]:
    c = Citation("B", None, "2025-06", section, 1, title, 1, None, "b.md", 0, len(text))
    return [Passage(1, text, c, "")]


def topic_filter(*topics: str, index=None) -> subs.SubscriptionFilter:
    return subs.SubscriptionFilter.of([Subscription("C1", "topic", subs.normalise_topic(t), None, 0.0) for t in topics],
                                      index or subs.table_only())


# -- what a text becomes ----------------------------------------------------------------------
def test_topics_are_normalised_to_their_words():
    assert subs.normalise_topic("  Facial-Recognition, FACIAL  recognition!") == "facial recognition"
    assert subs.normalise_topic("“Données   personnelles”") == "données personnelles"
    assert subs.words("children’s data_sets ２０２４") == ["children", "s", "data", "sets", "2024"]
    assert subs.normalise_topic("?!…") == ""


@pytest.mark.parametrize("text,item_text,title,section,expected", [
    ("facial recognition", "Facial-recognition cameras in schools.", None, None, True),
    ("facial recognition", "The recognition of facial images.", None, None, True),  # any order, anywhere
    ("facial recognition", "Recognition was refused.", "Facial data", None, True),  # the title counts
    ("facial recognition", "It was recognition.", None, "Facial tech", True),  # the section heading counts
    ("facial recognition", "Facially recognisable people.", None, None, False),  # whole words only
    ("facial recognition", "Facial analysis was banned.", None, None, False),  # every word must be there
    ("fine", "The CNIL imposed fines.", None, None, False),  # no stemming
    ("CNIL", "the cnil fined it", None, None, True),  # case does not matter
])
def test_a_topic_matches_when_every_word_is_a_whole_word_of_the_item(text, item_text, title, section, expected):
    assert topic_filter(text).matches(item(item_text, title, section)) is expected


def test_an_item_matches_any_subscription_and_its_words_may_be_in_any_passage():
    two = item("Facial data first.") + item("Recognition second.")
    assert topic_filter("facial recognition").matches(two)
    assert topic_filter("zebra", "facial").matches(item("facial"))
    assert not topic_filter("zebra", "quokka").matches(item("facial"))
    assert not subs.SubscriptionFilter.of([], subs.table_only()).matches(item("anything"))


@pytest.mark.parametrize("text,key", [("PIPL", "cn-pipl"), ("personal information protection law", "cn-pipl"),
                                      ("“DPF”", "eu-us-dpf"), ("ai act", "eu-ai-act"), ("cn-pipl", "cn-pipl"),
                                      ("Regulation (EU) 2016/679", "gdpr")])
def test_a_name_alias_acronym_key_or_number_is_an_instrument(table, text, key):
    assert subs.parse_target(text, table) == subs.Target("instrument", key)


def test_other_texts_are_topics_and_the_nearest_instruments_are_named(table):
    assert subs.parse_target("Facial recognition", table) == subs.Target("topic", "facial recognition")
    misspelt = subs.parse_target("Digital Servises Act", table)
    assert misspelt.kind == "topic" and misspelt.near[0] == "Digital Services Act (DSA)"
    assert "Personal Information Protection Law (PIPL)" in subs.parse_target("personal information protection", table).near
    assert "General Data Protection Regulation (GDPR)" in subs.parse_target("GDPR fines", table).near
    assert subs.parse_target("act", table).near == () and subs.parse_target("cookies", table).near == ()


@pytest.mark.parametrize("text,error", [("", "Name an instrument"), ("   ", "Name an instrument"),
                                        ("x" * 101, "That is 101 characters; a subscription is at most 100"),
                                        ("!?…", "has no letters or digits")])
def test_empty_too_long_and_wordless_texts_are_refused(table, text, error):
    with pytest.raises(subs.SubscriptionError, match=re.escape(error)):
        subs.parse_target(text, table)
    assert subs.parse_target("x" * 100, table).value == "x" * 100


def test_labels(table):
    assert subs.describe("instrument", "cn-pipl", table) == "the instrument Personal Information Protection Law (PIPL)"
    assert subs.describe("topic", "facial recognition", table) == "the topic “facial recognition”"
    assert [subs.short_label("instrument", k, table) for k in ("cn-pipl", "eu-us-dpf", "eu-ai-act", "gone-key")] == [
        "PIPL", "DPF", "AI Act (EU)", "gone-key"]
    many = [Subscription("C1", "topic", f"t{i}", None, 0.0) for i in range(12)]
    assert subs.labels(many, table, 10).endswith("“t9”, and 2 more")


# -- adding and removing ----------------------------------------------------------------------
def test_add_remove_and_what_is_said(store, table):
    added = subs.add(store, "C1", "PIPL", "U1", table)
    assert added.status == "added"
    assert subs.change_sentence(added, "<#C1>", table, store.subscriptions("C1")) == (
        "Subscribed <#C1> to the instrument Personal Information Protection Law (PIPL). From the next digest, "
        "<#C1> gets only the new items matching: PIPL.")
    assert subs.add(store, "C1", "Personal Information Protection Law", "U2", table).status == "already"
    topic = subs.add(store, "C1", "Digital Servises Act", "U1", table)
    said = subs.change_sentence(topic, "C1", table, store.subscriptions("C1"))
    assert said.startswith("Subscribed C1 to the topic “digital servises act”: new items whose title, section or "
                           "text contain all of its words. It is close to the instrument Digital Services Act (DSA)")
    assert said.endswith("matching: PIPL, “digital servises act”.")
    removed = subs.remove(store, "C1", "pipl", table)
    assert removed.status == "removed" and subs.remove(store, "C1", "pipl", table).status == "missing"
    assert subs.change_sentence(subs.remove(store, "C1", "digital servises act", table), "C1", table, []) == (
        "Unsubscribed C1 from the topic “digital servises act”. It has no subscriptions left: its digest lists "
        "every new item.")
    assert store.subscriptions("C1") == []


def test_remove_finds_a_topic_typed_before_its_words_became_an_instrument(store, table):
    store.subscribe("C1", "topic", "data privacy framework", "U1")  # stored when no alias said otherwise
    change = subs.remove(store, "C1", "Data Privacy Framework", table)
    assert change == subs.Change("removed", subs.Target("topic", "data privacy framework"))
    store.subscribe("C1", "instrument", "oregon-consumer-privacy-act", "U1")  # a corpus-defined instrument
    assert subs.remove(store, "C1", "oregon consumer privacy act", table).status == "removed"


def test_a_channel_has_at_most_50_subscriptions(store, table):
    for i in range(subs.MAX_PER_CHANNEL):
        store.subscribe("C1", "topic", f"topic {i}", "U1")
    assert subs.add(store, "C1", "one more", "U1", table).status == "full"
    assert subs.add(store, "C1", "topic 3", "U1", table).status == "already"
    assert subs.add(store, "C2", "one more", "U1", table).status == "added"


# -- the digest, filtered ----------------------------------------------------------------------
def runner_for(indexed, store, **kw) -> DigestRunner:
    return DigestRunner(store, None, lambda: PassageIndex.load(indexed), **kw)


def groups_of(index, bulletins) -> list[list[Passage]]:
    """Every item (all its passages) of the given new bulletins, for independent checks."""
    out = []
    for nb in bulletins:
        firsts = {p.id for p in nb.items}
        out += [g for g in item_groups(index.iter_passages(nb.bulletin.source_file)) if g[0].id in firsts]
    return out


def flat(messages) -> str:
    return json.dumps(messages, ensure_ascii=False)


def test_without_subscriptions_the_digest_lists_every_new_item(indexed, index, store):
    built = runner_for(indexed, store).build("C1", NOW)
    assert built.items == sum(len(nb.items) for nb in new_bulletins(index)) > 100
    assert built.subscriptions == () and built.new_items is None and "Filtered" not in flat(built.messages)


def test_dpf_keeps_only_the_items_about_the_data_privacy_framework(indexed, index, instruments, store):
    assert subs.add(store, "C1", "DPF", "U1", instruments).status == "added"
    fresh = new_bulletins(index)
    kept = groups_of(index, matching(index, fresh, subs.SubscriptionFilter.of(store.subscriptions("C1"), instruments).matches))
    assert sorted(g[0].citation.source_file for g in kept) == ["privacy-news-digest-2023-05-14.txt",
                                                               "privacy-news-digest-2023-07-16.txt"]
    assert all(re.search(r"Data Privacy Framework|\bDPF\b", " ".join(p.text for p in g)) for g in kept)
    every = groups_of(index, fresh)
    federal = [g for g in every if "Federal Data Privacy Framework" in (g[0].citation.item_title or "")]
    assert federal and not any(g[0].id == f[0].id for f in federal for g in kept)  # another instrument

    built = runner_for(indexed, store).build("C1", NOW)
    assert (built.items, built.new_items, built.subscriptions) == (2, len(every), ("DPF",))
    text = flat(built.messages)
    assert f"Filtered to your subscriptions: DPF (2 of {len(every)} new items)" in text
    assert "EU Parlaiment votes against US adequacy" in text and "Federal Data Privacy Framework" not in text
    assert "(filtered to your subscriptions: DPF)" in built.messages[0]["text"]


def test_a_topic_keeps_the_items_with_all_its_words_and_two_subscriptions_keep_either(indexed, index, instruments, store):
    every = groups_of(index, new_bulletins(index))

    def has_words(g, *ws):
        text = " ".join([g[0].citation.item_title or "", g[0].citation.section or ""] + [p.text for p in g]).lower()
        return all(re.search(rf"(?<![^\W_]){w}(?![^\W_])", text) for w in ws)

    facial = [g[0].id for g in every if has_words(g, "facial", "recognition")]
    assert len(facial) >= 1
    subs.add(store, "C1", "Facial Recognition", "U1", instruments)
    built = runner_for(indexed, store).build("C1", NOW)
    assert built.items == len(facial) and built.subscriptions == ("“facial recognition”",)

    subs.add(store, "C1", "DPF", "U1", instruments)
    both = runner_for(indexed, store).build("C1", NOW)
    dpf = {g[0].id for g in every if "eu-us-dpf" in {k for p in g for k in instruments.instruments_of(p.citation)}}
    assert both.items == len(set(facial) | dpf) and len(dpf) == 2
    assert f"Filtered to your subscriptions: “facial recognition”, DPF ({both.items} of {len(every)} new items)" \
        in flat(both.messages)


def test_when_nothing_matches_nothing_is_posted_and_the_bulletins_count_as_seen(indexed, index, store, caplog):
    store.subscribe("C1", "topic", "zebra quokka", "U1")
    runner = runner_for(indexed, store)
    with caplog.at_level(logging.INFO, logger="bot.digest"):
        [outcome] = runner.run(["C1"], NOW)
    assert outcome.status == "empty"  # no client needed: nothing was posted
    assert "none matching its subscriptions (“zebra quokka”); nothing to post" in caplog.text
    assert sorted(store.last_built_digest("C1").known) == sorted(
        f"{b.source_file}:{b.fingerprint}" for b in index.bulletins())
    store.unsubscribe("C1", "topic", "zebra quokka")
    assert runner.build("C1", NOW + timedelta(days=1)).items == 0  # not listed again once the filter is gone


def test_nothing_matching_with_post_empty_says_nothing_new_and_what_it_was_filtered_on(indexed, store):
    store.subscribe("C1", "topic", "zebra quokka", "U1")
    [message] = runner_for(indexed, store, post_empty=True).build("C1", NOW).messages
    assert "Nothing new" in message["text"] and "Filtered to your subscriptions: “zebra quokka” (0 of" in flat(message)


def test_preview_and_the_dry_run_show_the_filter(indexed, instruments, monkeypatch, tmp_path):
    state = SQLiteStore(indexed / "bot.sqlite")
    subs.add(state, "C1", "DPF", "U1", instruments)
    state.close()
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli.main, ["digest", "--dry-run", "--channel", "C1", "--channel", "C2",
                                           "--data-dir", str(indexed)])
    assert result.exit_code == 0, result.output
    one, two = (json.loads(line) for line in result.output.splitlines())
    assert (one["channel"], one["subscriptions"], one["matching_items"]) == ("C1", ["DPF"], 2)
    assert one["new_items"] > 100 and "Filtered to your subscriptions: DPF (2 of" in flat(one["messages"])
    assert set(two) == {"channel", "messages"} and "Filtered" not in flat(two["messages"])


# -- the operators' command ---------------------------------------------------------------------
def test_the_subscriptions_command_adds_lists_and_removes(indexed, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    run = CliRunner().invoke
    base = ["subscriptions", "--data-dir", str(indexed)]
    result = run(cli.main, base + ["--channel", "C1", "--add", "PIPL", "--add", "facial recognition", "--add", " "])
    assert result.exit_code == 1
    assert "Subscribed C1 to the instrument Personal Information Protection Law (PIPL)." in result.output
    assert "Subscribed C1 to the topic “facial recognition”" in result.output
    assert "error: Name an instrument" in result.output
    listed = run(cli.main, base)
    assert listed.exit_code == 0 and listed.output.splitlines()[:3] == [
        "C1: only the new items matching one of:",
        f"  - the instrument Personal Information Protection Law (PIPL) (added {NOW.date().isoformat()})",
        f"  - the topic “facial recognition” (added {NOW.date().isoformat()})"]
    as_json = json.loads(run(cli.main, base + ["--channel", "C1", "--remove", "pipl", "--json"]).stdout)
    assert [(d["channel"], d["kind"], d["value"], d["label"]) for d in as_json] == [
        ("C1", "topic", "facial recognition", "“facial recognition”")]
    assert run(cli.main, base + ["--add", "PIPL"]).exit_code == 2  # --add needs --channel
    assert "C9 has no subscriptions" in run(cli.main, base + ["--channel", "C9"]).output
