""""As of" questions: the as_of filter and the "as of June 2024" phrase, applied by the search and shown back
by the CLI, ``ask --json`` and Slack (blocks, fallback text, and the real bolt App against the fake Slack)."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot import cli
from bot.cli import options as cli_options
from bot.slack import blocks as bk
from bot.slack import mrkdwn
from retrieval.errors import ConfigurationError, FilterError
from retrieval.index.passages import PassageIndex
from retrieval.ingest import ingest
from retrieval.search.calibration import Calibration
from retrieval.search.filters import parse_filters, readable_date, take_as_of_phrase, validate_filters
from retrieval.search.loaded import LoadedGeneration
from retrieval.search.searcher import Searcher
from tests.fakes import HashEncoder

#: The shipped corpus's bulletin dates (the .meta.toml sidecars).
CORPUS_DATES = {"2019-09", "2023-05-14", "2023-07-16", "2024-02", "2024-08", "2024-10", "2024-11", "2025-05-04",
                "2025-05-09", "2025-05-19"}
UNDATED = "undated-quokka-notes.txt"
QUOKKA = "What fine did the quokka registry authority impose for zebra data"


@pytest.fixture
def undated(tmp_path: Path, corpus_copy: Path, encoder) -> Path:
    """The shipped corpus plus one bulletin with no date at all (no sidecar, no front matter), indexed."""
    (corpus_copy / UNDATED).write_text(
        "Quokka registry notes\n\n1. Zebra data fine\n\nThe quokka registry authority imposed a fine of EUR 9,000 "
        "for zebra data kept too long.\n", encoding="utf-8")
    data_dir = tmp_path / "undated-data"
    report = ingest([corpus_copy], data_dir, encoder)
    assert not report.errors, report.errors
    return data_dir


def dates(answer) -> set[str | None]:
    return {h.citation.date for h in answer.hits}


# -- the phrase -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("question", "text", "iso"), [
    ("What fines did the CNIL impose as of June 2024?", "What fines did the CNIL impose?", "2024-06"),
    ("As at 30 June 2024, what was the fine?", "what was the fine?", "2024-06-30"),
    ("as on June 30, 2024 what applied to DORA", "what applied to DORA", "2024-06-30"),
    ("the AI Act as of 2024", "the AI Act", "2024"),
    ("transfers as of 2024-06", "transfers", "2024-06"),
    ("transfers as of 2024-06-05, please", "transfers please", "2024-06-05"),
    ("fines AS OF the 1st of May 2024.", "fines.", "2024-05-01"),
    ("as of Sept. 2023, adequacy", "adequacy", "2023-09"),
    ("adequacy as of Jan 2025 and as of January 2025", "adequacy and", "2025-01"),
])
def test_the_phrase_is_taken_out_at_the_precision_written(question, text, iso):
    assert take_as_of_phrase(question) == (text, iso)
    assert parse_filters(question) == (text, {"as_of": iso})


@pytest.mark.parametrize("question", [
    "what is the rule as of now", "as of today, who regulates AI?", "as often as not the fine is small",
    "as of June, what changed", "fines as of 5000 staff", "what has of 2024", "as to 2024 fines", "as of late",
])
def test_no_cut_off_where_none_is_written(question):
    assert take_as_of_phrase(question) == (question, None)
    assert "as_of" not in parse_filters(question)[1]


@pytest.mark.parametrize(("question", "message"), [
    ("fines as of 31 June 2024", "“as of 31 June 2024” is not a real date"),
    ("fines as of 2024-13", "“as of 2024-13” is not a real date"),
    ("fines as of 30/06/2024", "write the date as 30 June 2024 or 2024-06-30"),
    ("as of June 2024 vs as of May 2025", r"two “as of” dates in one question \(June 2024 and May 2025\)"),
    ("fines as_of:2024-13", r"as_of: must be a real date written YYYY, YYYY-MM or YYYY-MM-DD, got '2024-13'"),
    ("fines as_of:June", r"as_of: must be a real date written YYYY, YYYY-MM or YYYY-MM-DD, got 'June'"),
])
def test_a_bad_date_is_a_specific_error(question, message):
    with pytest.raises(FilterError, match=message):
        parse_filters(question)


def test_a_bad_as_of_option_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match=r"as_of: must be a real date .* got '2024/06'"):
        validate_filters({"as_of": "2024/06"})
    validate_filters({"as_of": "2024-02-29"})  # a real date (leap year)


def test_the_written_filter_wins_over_the_phrase(indexed: Path, encoder):
    assert parse_filters("fines as_of:2024-06 as of May 2025") == ("fines", {"as_of": "2024-06"})
    answer = Searcher(indexed, encoder).search("fines as of May 2025", top_k=5, filters={"as_of": "2023"})
    assert answer.as_of == "2023" and answer.query == "fines"
    assert answer.hits and dates(answer) <= {"2019-09", "2023-05-14", "2023-07-16"}


def test_readable_date():
    assert [readable_date(d) for d in ("2024", "2024-06", "2024-06-05", "2019-12-31")] == [
        "2024", "June 2024", "5 June 2024", "31 December 2019"]


# -- the search -------------------------------------------------------------------------------------
def test_as_of_drops_later_and_undated_bulletins_and_keeps_earlier_ones(undated: Path, encoder):
    s = Searcher(undated, encoder)
    free = s.search(QUOKKA, top_k=10)
    assert free.hits[0].citation.source_file == UNDATED and free.hits[0].citation.date is None
    assert {d for d in dates(free) if d} & {"2024-10", "2024-11", "2025-05-19"}  # later ones compete without a cut-off
    cut = s.search(QUOKKA + " as of August 2024", top_k=10)
    assert cut.as_of == "2024-08" and cut.query == QUOKKA
    assert cut.hits and None not in dates(cut)
    assert dates(cut) <= {"2019-09", "2023-05-14", "2023-07-16", "2024-02", "2024-08"}
    assert {h.citation.source_file for h in cut.hits}.isdisjoint({UNDATED})
    assert "2024-08" in dates(s.search("privacy news digest as of 2024-08", top_k=20))  # the cut-off month itself


def test_allowed_rows_under_as_of_at_the_precision_both_sides_have(undated: Path):
    loaded = LoadedGeneration(PassageIndex.load(undated), lexical=False)

    def kept(as_of: str) -> set:
        return {loaded.rows[i].date for i in loaded.allowed_rows({"as_of": as_of})}

    assert None in {r.date for r in loaded.rows}  # the undated bulletin is indexed…
    assert kept("2024") == {d for d in CORPUS_DATES if d < "2025"}  # …never kept; 2024 keeps 2024-11
    assert "2024-11" not in kept("2024-10") and "2024-10" in kept("2024-10")
    assert kept("2025-05") == CORPUS_DATES  # 2025-05-19 is in May 2025
    assert "2025-05-09" in kept("2025-05-09") and "2025-05-19" not in kept("2025-05-09")
    both = {loaded.rows[i].date for i in loaded.allowed_rows({"as_of": "2024-11", "until": "2024-02"})}
    assert both == {"2019-09", "2023-05-14", "2023-07-16", "2024-02"}  # the earlier of until and as_of rules


def test_as_of_2024_keeps_november_2024_and_as_of_october_drops_it(indexed: Path, encoder):
    s = Searcher(indexed, encoder)
    kept = s.search("privacy", top_k=5, filters={"as_of": "2024", "bulletin": "privacy-news-digest-2024-11"})
    assert kept.hits and dates(kept) == {"2024-11"}
    dropped = s.search("privacy as_of:2024-10 bulletin:privacy-news-digest-2024-11", top_k=5)
    assert dropped.hits == [] and not dropped.none_dated  # earlier bulletins exist; the bulletin filter emptied it


def test_no_bulletin_dated_up_to_the_cut_off_is_said_plainly(indexed: Path, encoder):
    answer = Searcher(indexed, encoder).search("what fines did the CAC impose as of May 2019?")
    assert answer.hits == [] and answer.none_dated and answer.tier == "nothing"
    assert answer.headline() == "No bulletin is dated up to May 2019, so nothing can be quoted for “what fines did the CAC impose?”"
    assert answer.to_dict()["as_of"] == "2019-05" and answer.to_dict()["none_dated"] is True
    assert not Searcher(indexed, encoder).search("fines as of September 2019").none_dated  # 2019-09 is dated then


# -- the CLI and ask --json ---------------------------------------------------------------------------
@pytest.fixture
def runner(monkeypatch) -> CliRunner:
    shared = HashEncoder()
    monkeypatch.setattr(cli_options, "make_encoder", lambda model, data_dir=None: shared)
    return CliRunner()


def test_cli_and_json_show_the_cut_off(runner: CliRunner, indexed: Path):
    data = ["--data-dir", str(indexed)]
    res = runner.invoke(cli.main, ["ask", "fines as of June 2024", "--json", "--top-k", "5", *data])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["as_of"] == "2024-06" and out["filters"] == {"as_of": "2024-06"} and out["query"] == "fines"
    assert out["hits"] and all(h["citation"]["date"] <= "2024-06" for h in out["hits"])
    res = runner.invoke(cli.main, ["ask", "fines section:enforcement", "--as-of", "30 June 2024", *data])
    assert res.exit_code == 1 and "as_of: must be a real date written YYYY, YYYY-MM or YYYY-MM-DD" in res.stderr
    res = runner.invoke(cli.main, ["ask", "fines section:enforcement as of May 2025", "--as-of", "2024-06-30", *data])
    assert res.exit_code == 0, res.output
    assert "Answering from bulletins dated up to 30 June 2024." in res.stdout and "May 2025" not in res.stdout
    assert "filters: section:enforcement\n" in res.stdout  # the cut-off is on its own line, not repeated
    res = runner.invoke(cli.main, ["ask", "fines as of May 2019", *data])
    assert res.stdout.splitlines() == ["Q: fines", "", "No bulletin is dated up to May 2019, so nothing can be quoted for “fines”."]
    res = runner.invoke(cli.main, ["ask", "fines as at 32 May 2024", *data])
    assert res.exit_code == 1 and "“as at 32 May 2024” is not a real date" in res.stderr


# -- Slack rendering -------------------------------------------------------------------------------------
CUTOFF = "Answering from bulletins dated up to June 2024"


def texts(message) -> str:
    return json.dumps(message.blocks, ensure_ascii=False)


def test_slack_blocks_and_fallback_show_the_cut_off_in_every_tier(indexed: Path, encoder):
    answer = Searcher(indexed, encoder).search("fines as of June 2024", top_k=3)
    for tier in ("answers", "related"):
        msg = bk.render_answer(dataclasses.replace(answer, tier=tier, answered=tier == "answers"), answer_id=1)
        assert msg.blocks[1] == bk.context_block(f":calendar: {CUTOFF}")  # right under the headline
        assert msg.text.splitlines()[1] == CUTOFF + "."
        assert "as_of:" not in texts(msg)  # not repeated in the filters footer
    nothing = Searcher(indexed, encoder, calibration=Calibration(min_cosine=0.99)).search("guest wifi as of June 2024")
    msg = bk.render_answer(nothing)
    assert nothing.tier == "nothing" and "Nothing in the bulletins is about" in msg.text
    assert CUTOFF in msg.text and CUTOFF in texts(msg)
    plain = bk.render_answer(Searcher(indexed, encoder).search("fines", top_k=3), answer_id=1)
    assert "Answering from bulletins" not in plain.text + texts(plain)
    other = bk.render_answer(dataclasses.replace(answer, filters={"as_of": "2024-06", "section": "enforcement"}))
    assert "Filters: section:enforcement" in texts(other) and "as_of:" not in texts(other)


def test_slack_says_no_bulletin_is_dated_up_to_then(indexed: Path, encoder):
    msg = bk.render_answer(Searcher(indexed, encoder).search("fines as of May 2019"))
    assert msg.text.startswith("No bulletin is dated up to May 2019, so nothing can be quoted for “fines”")
    assert "I found no passage" not in msg.text + texts(msg)


# -- Slack end to end: the real bolt App, signed requests, the fake Web API ---------------------------------
@pytest.fixture
def slack(indexed: Path, encoder, tmp_path: Path):
    from tests.slack_client import BotUnderTest
    from tests.slack_fake import FakeSlack

    with FakeSlack() as fake, BotUnderTest(fake, Searcher(indexed, encoder), tmp_path / "bot") as bot:
        yield fake, bot


def cited_dates(call) -> set[str]:
    """The bulletin dates of a recorded message's citation lines (``*[1]* <url|title> · 2024-02 · …``)."""
    lines = [e["text"] for b in call.body["blocks"] if b["type"] == "context" for e in b["elements"]
             if e["text"].startswith("*[")]
    assert lines, call.body
    found = {line.split(" · ")[1] for line in lines}
    assert all(re.fullmatch(r"\d{4}(?:-\d{2}){0,2}", d) for d in found), found  # never "date unknown"
    return found


def test_slash_command_mention_and_dm_answer_as_of_the_date(slack, indexed: Path, encoder):
    from tests.slack_client import mention, message
    from tests.slack_fake import RESPONSE_URL

    fake, bot = slack
    expected = Searcher(indexed, encoder).search("fines as of June 2024", top_k=3)
    bot.send_command("fines as of June 2024", fake.response_url("asof"))
    reply = fake.wait_for(RESPONSE_URL)[0]
    assert CUTOFF + "." in reply.body["text"].splitlines()
    assert cited_dates(reply) and all(d <= "2024-06" for d in cited_dates(reply))
    assert mrkdwn.escape(expected.hits[0].text.split("\n")[0][:60]).replace("*", "") in json.dumps(
        reply.body["blocks"], ensure_ascii=False).replace("*", "")
    bot.send_event(mention("fines as_of:2023-07", ts="300.1"))
    post = fake.wait_for("chat.postMessage")[0]
    assert post.body["thread_ts"] == "300.1" and "Answering from bulletins dated up to July 2023" in post.body["text"]
    assert all(d <= "2023-07" for d in cited_dates(post))
    bot.send_event(message("fines as of May 2019", ts="301.1", channel="D7"))
    dm = fake.wait_for("chat.postMessage", count=2)[1]
    assert dm.body["channel"] == "D7" and dm.body["text"].startswith("No bulletin is dated up to May 2019")


def test_a_bad_as_of_date_in_slack_is_told_to_the_asker(slack):
    from tests.slack_fake import RESPONSE_URL

    fake, bot = slack
    bot.send_command("fines as of 31 June 2024", fake.response_url("bad"))
    reply = fake.wait_for(RESPONSE_URL)[0]
    assert reply.body["text"] == "I cannot search that as written: “as of 31 June 2024” is not a real date."


def test_compare_dates_at_the_precision_both_have():
    from retrieval.text import compare_dates

    assert compare_dates("2024-08", "2024") == 0 == compare_dates("2024-08", "2024-08-31")
    assert compare_dates("2024-11", "2024-10") == 1 and compare_dates("2023-12-31", "2024") == -1
