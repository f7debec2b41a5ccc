"""The audit trail and the feedback loop end to end: answers given through the real bolt App (signed
requests, the fake Slack at the HTTP boundary) on both stores, then ``bulletin-bot audit``, ``audit replay``,
``feedback export`` and ``eval`` on what they recorded."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot import cli
from bot.cli import options as cli_options
from bot.slack import blocks as bk
from bot.slack import feedback_blocks
from retrieval.index.generations import current_generation
from retrieval.ingest import ingest
from retrieval.search.searcher import Searcher
from tests.fakes import HashEncoder
from tests.slack_client import BotUnderTest, buttons, mention, message
from tests.slack_fake import RESPONSE_URL, FakeSlack

QUESTION = "can an employer geolocate remote workers in smart working"


@pytest.fixture
def fake():
    with FakeSlack() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def store_kind(request, monkeypatch) -> str | None:
    """The store the bot and the commands share: SQLite in the data directory, or PostgreSQL (the URL in
    ``BULLETIN_BOT_DATABASE_URL``, as ``serve`` and the commands read it)."""
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
        monkeypatch.setenv("BULLETIN_BOT_DATABASE_URL", url)
        return url
    return None


@pytest.fixture
def runner(monkeypatch) -> CliRunner:
    shared = HashEncoder()
    monkeypatch.setattr(cli_options, "make_encoder", lambda model, data_dir=None: shared)
    return CliRunner()


def start_bot(fake, indexed: Path, pg: str | None, **settings) -> BotUnderTest:
    """The bot answering from ``indexed`` (a real Searcher, the fake encoder), its state in ``indexed``'s
    bot.sqlite or in PostgreSQL."""
    store = None
    if pg is not None:
        from bot.state.postgres import PgStore

        store = PgStore(pg)
    return BotUnderTest(fake, Searcher(indexed, HashEncoder()), indexed, store=store, **settings)


def run(runner: CliRunner, *args: str) -> str:
    res = runner.invoke(cli.main, list(args))
    assert res.exit_code == 0, res.output
    return res.stdout


def ask_in_slack(bot: BotUnderTest, fake: FakeSlack, ts: str, user: str = "U1", channel: str = "C1"):
    bot.send_event(mention(QUESTION, ts=ts, user=user, channel=channel))
    (call,) = fake.wait_for("chat.postMessage", where=lambda c: c.body.get("thread_ts") == ts)
    bot.wait_idle()
    return call


def test_an_answer_given_in_slack_shows_up_in_audit_json_with_its_generation_and_citations(
        fake, indexed, store_kind, runner, corpus_copy):
    with start_bot(fake, indexed, store_kind, log_questions=True) as bot:
        posted = ask_in_slack(bot, fake, "100.1", user="U7", channel="C5")
        bot.send_event(message("what fines did the CNIL impose", ts="101.1", channel="D3", user="U8"))
        fake.wait_for("chat.postMessage", count=2)
    out = json.loads(run(runner, "audit", "--json", "--data-dir", str(indexed)))
    assert out["schema"] == 1 and len(out["answers"]) == 2
    dm, first = out["answers"]  # newest first
    assert (dm["surface"], dm["channel"], dm["user"]) == ("dm", "D3", "U8")
    assert (first["surface"], first["channel"], first["user"], first["thread_ts"]) == ("mention", "C5", "U7", "100.1")
    assert first["question"] == QUESTION and first["generation"] == current_generation(indexed)
    assert first["tier"] in ("answers", "related", "nothing") and first["created_at"].endswith("Z")
    shown = [b for b in posted.body["blocks"] if b["type"] == "section" and b["text"].get("verbatim")]
    assert len(first["hits"]) == len(shown) >= 3
    for hit in first["hits"]:  # each citation points at the verbatim quote in the bulletin, and its hash checks
        c = hit["citation"]
        source = (corpus_copy / c["source_file"]).read_text()
        assert source[c["char_start"]:c["char_end"]] == hit["text"]
        assert hit["sha256"] == hashlib.sha256(hit["text"].encode()).hexdigest()
        assert {"bulletin", "publisher", "date", "section", "item_number", "paragraph", "page", "url"} <= set(c)
    assert [h["rank"] for h in first["hits"]] == [1, 2, 3]
    table = run(runner, "audit", "--user", "U7", "--data-dir", str(indexed))
    assert "C5" in table and "mention" in table and "U8" not in table and "sha256" in table
    assert QUESTION[:40] in table
    assert "No answers recorded" in run(runner, "audit", "--channel", "C404", "--data-dir", str(indexed))
    assert json.loads(run(runner, "audit", "--json", "--until", "2000-01-01", "--data-dir", str(indexed)))["answers"] == []


def test_with_log_questions_off_the_record_keeps_all_but_question_and_asker_and_more_results_still_works(
        fake, indexed, store_kind, runner):
    with start_bot(fake, indexed, store_kind) as bot:
        first = ask_in_slack(bot, fake, "200.1", user="U7")
        bot.click(buttons(first)[bk.ACTION_MORE], message={"ts": "1800000000.000001", "thread_ts": "200.1"},
                  response_url=fake.response_url("m"))
        second = fake.wait_for("chat.postMessage", count=2)[1]
        bot.wait_idle()
    assert "*[4]*" in json.dumps(second.body)  # the next page, searched with the question the button carried
    more, answer = json.loads(run(runner, "audit", "--json", "--data-dir", str(indexed)))["answers"]
    for row in (more, answer):
        assert row["question"] is None and row["user"] is None and row["question_kept"] is False
        assert row["channel"] == "C1" and row["generation"] == current_generation(indexed) and row["hits"]
    assert more["surface"] == "more" and more["offset"] == 3 and more["hits"][0]["rank"] == 4
    assert "(question not kept)" in run(runner, "audit", "--data-dir", str(indexed))


def test_a_thumbs_down_with_a_chosen_passage_becomes_a_question_eval_scores(fake, indexed, store_kind, runner,
                                                                             tmp_path):
    with start_bot(fake, indexed, store_kind, log_questions=True) as bot:
        answer = ask_in_slack(bot, fake, "300.1", user="U2")
        ask_in_slack(bot, fake, "301.1", user="U2")
        msg = {"ts": "1800000000.000001", "thread_ts": "300.1"}
        bot.click(buttons(answer)[bk.ACTION_DOWN], user="U3", message=msg, response_url=fake.response_url("down"))
        (ask,) = fake.wait_for(RESPONSE_URL)
        assert ask.body["replace_original"] is False and "Which passage answered" in ask.body["text"]
        choices = {e["value"]: e for b in ask.body["blocks"] if b["type"] == "actions" for e in b["elements"]}
        answer_id = int(buttons(answer)[bk.ACTION_DOWN]["value"])
        assert set(choices) == {f"{answer_id}:{r}" for r in (0, 1, 2, 3)}
        assert choices[f"{answer_id}:0"]["text"]["text"] == feedback_blocks.NONE_OF_THESE
        bot.click(choices[f"{answer_id}:2"], user="U3", ephemeral=True, response_url=fake.response_url("choice"))
        noted = fake.wait_for(RESPONSE_URL, count=2)[1]
        assert noted.body["replace_original"] is True and "[2]" in noted.body["text"]
        bot.wait_idle()
        votes = [(f.user, f.vote, f.choice) for f in bot.store.feedback()]
    assert votes[-1] == ("U3", -1, 2)
    out = tmp_path / "feedback.jsonl"
    res = runner.invoke(cli.main, ["feedback", "export", "-o", str(out), "--data-dir", str(indexed)])
    assert res.exit_code == 0, res.output
    (line,) = [json.loads(x) for x in out.read_text().splitlines()]
    record = json.loads(run(runner, "audit", "--json", "--data-dir", str(indexed)))["answers"][1]
    assert record["id"] == answer_id
    chosen = record["hits"][1]
    assert line == {"id": f"feedback-{answer_id}", "file": Path(chosen["citation"]["source_file"]).name,
                    "question": QUESTION, "gold": chosen["best_sentence"] or chosen["text"], "kind": "feedback"}
    scored = json.loads(run(runner, "eval", str(out), "--json", "--data-dir", str(indexed)))
    assert scored["n"] == 1 and scored["hit@5"] == 1.0 and scored["by_kind"]["feedback"]["n"] == 1


def test_none_of_these_exports_an_unanswerable_question_and_a_plain_thumbs_down_nothing(fake, indexed, store_kind,
                                                                                       runner):
    with start_bot(fake, indexed, store_kind, log_questions=True) as bot:
        answer = ask_in_slack(bot, fake, "400.1")
        answer_id = int(buttons(answer)[bk.ACTION_DOWN]["value"])
        bot.click(buttons(answer)[bk.ACTION_DOWN], user="U4", message={"ts": "1.0"}, response_url=fake.response_url())
        fake.wait_for(RESPONSE_URL)
        bot.click(buttons(answer)[bk.ACTION_DOWN], user="U5", message={"ts": "1.0"}, response_url=fake.response_url())
        fake.wait_for(RESPONSE_URL, count=2)
        bot.click({"action_id": f"{feedback_blocks.ACTION_CHOICE}_0", "value": f"{answer_id}:0"}, user="U5",
                  ephemeral=True, response_url=fake.response_url())
        assert "none of the passages" in fake.wait_for(RESPONSE_URL, count=3)[2].body["text"]
        bot.wait_idle()
    res = runner.invoke(cli.main, ["feedback", "export", "--data-dir", str(indexed)])
    assert res.exit_code == 0, res.output
    (line,) = [json.loads(x) for x in res.stdout.splitlines()]
    assert line["gold"] == "" and line["question"] == QUESTION and line["kind"] == "feedback"
    assert "1 questions exported" in res.stderr


def test_replay_reports_an_answer_a_bulletin_update_changed(fake, indexed, store_kind, runner, corpus_copy):
    with start_bot(fake, indexed, store_kind, log_questions=True) as bot:
        ask_in_slack(bot, fake, "500.1")
        ask_in_slack(bot, fake, "501.1", channel="C2")
    unchanged = run(runner, "audit", "replay", "--data-dir", str(indexed))
    assert unchanged.strip().endswith("2 answers, 0 changed")
    (record,) = json.loads(run(runner, "audit", "--json", "--channel", "C1", "--data-dir", str(indexed)))["answers"]
    quoted = record["hits"][0]
    path = corpus_copy / quoted["citation"]["source_file"]
    path.write_text(path.read_text().replace(quoted["text"], "This paragraph was withdrawn by the publisher."))
    report = ingest([corpus_copy], indexed, HashEncoder())
    assert not report.errors and report.updated
    text = run(runner, "audit", "replay", "--data-dir", str(indexed))
    assert text.strip().endswith("2 answers, 2 changed")
    assert "quote no longer in its bulletin: [1]" in text and "first citation:" in text
    out = json.loads(run(runner, "audit", "replay", "--json", "--since", "2000-01-01", "--data-dir", str(indexed)))
    assert out["summary"]["answers"] == 2 and out["summary"]["changed"] == 2
    row = out["answers"][0]
    assert {"quote_gone", "first_citation"} <= set(row["changes"])
    assert row["generation_then"] == record["generation"] != row["generation_now"] == current_generation(indexed)


def test_replay_cannot_reask_an_answer_whose_question_was_not_kept(fake, indexed, store_kind, runner):
    with start_bot(fake, indexed, store_kind) as bot:
        ask_in_slack(bot, fake, "600.1")
    out = json.loads(run(runner, "audit", "replay", "--json", "--data-dir", str(indexed)))
    assert out["summary"] == {"answers": 1, "changed": 0, "skipped": 1,
                              "line": "1 answers, 0 changed, 1 not re-asked (question not kept)"}


def test_a_bad_date_is_one_sentence(runner, tmp_path):
    res = runner.invoke(cli.main, ["audit", "--since", "March 3", "--data-dir", str(tmp_path)])
    assert res.exit_code == 2 and "YYYY-MM-DD" in res.output and "Traceback" not in res.output


def test_replay_reports_a_later_development_a_new_bulletin_reports_on_a_quoted_item(store_kind, runner, tmp_path,
                                                                                    monkeypatch):
    from tests.conftest import CORPUS

    corpus, data = tmp_path / "corpus", tmp_path / "data"
    corpus.mkdir()
    for name in ("privacy-news-digest-2023-05-14.txt", "privacy-news-digest-2023-05-14.meta.toml"):
        (corpus / name).write_bytes((CORPUS / name).read_bytes())
    run(runner, "ingest", str(corpus), "--data-dir", str(data))
    monkeypatch.setenv("LOG_QUESTIONS", "true")
    res = runner.invoke(cli.main, ["ask", "how much did the dutch DPA fine clearview AI?", "--log", "--data-dir", str(data)])
    assert res.exit_code == 0 and "recorded as answer" in res.stderr, res.output
    (record,) = json.loads(run(runner, "audit", "--json", "--data-dir", str(data)))["answers"]
    assert record["surface"] == "cli" and record["question"] and not any(h["later"] for h in record["hits"])
    for name in ("privacy-news-digest-2024-08.txt", "privacy-news-digest-2024-08.meta.toml"):
        (corpus / name).write_bytes((CORPUS / name).read_bytes())
    run(runner, "ingest", str(corpus), "--data-dir", str(data))
    out = json.loads(run(runner, "audit", "replay", "--json", "--data-dir", str(data)))
    (row,) = out["answers"]
    assert "later" in row["changes"] and out["summary"]["changed"] == 1
    assert any("2024-08 in_force" in line for line in row["new_later_developments"])
    assert "new later development: [" in run(runner, "audit", "replay", "--data-dir", str(data))


def test_a_slash_command_answer_and_its_shared_copy_are_both_recorded(fake, indexed, store_kind, runner):
    with start_bot(fake, indexed, store_kind, log_questions=True) as bot:
        bot.send_command(QUESTION, fake.response_url("cmd"), user="U3", channel="C8")
        private = fake.wait_for(RESPONSE_URL)[0]
        bot.click(buttons(private)[bk.ACTION_SHARE], user="U3", channel="C8", ephemeral=True,
                  response_url=fake.response_url("cmd"))
        fake.wait_for("chat.postMessage")
        bot.wait_idle()
    shared, command = json.loads(run(runner, "audit", "--json", "--channel", "C8", "--data-dir", str(indexed)))["answers"]
    assert (command["surface"], command["user"], shared["surface"], shared["user"]) == ("command", "U3", "share", "U3")
    assert [h["sha256"] for h in shared["hits"]] == [h["sha256"] for h in command["hits"]]  # the same quotes


def test_replay_skips_a_question_the_search_now_refuses_and_replays_the_others(indexed, runner):
    from bot.state.records import AnswerDetails
    from bot.state.sqlite import SQLiteStore

    store = SQLiteStore(indexed / "bot.sqlite")
    details = AnswerDetails("mention", "old-generation", "nothing")
    store.record_answer("fines as_of:2024-13", [], "U1", "C1", None, details=details)
    store.record_answer(QUESTION, [], "U1", "C1", None, details=details)
    store.close()
    out = json.loads(run(runner, "audit", "replay", "--json", "--data-dir", str(indexed)))
    replayed, refused = out["answers"]
    assert refused["skipped"].startswith("cannot be re-asked:") and "2024-13" in refused["skipped"]
    assert replayed["skipped"] is None and replayed["tier_now"] in ("answers", "related") and "tier" in replayed["changes"]
    assert out["summary"]["answers"] == 2 and out["summary"]["skipped"] == 1


def test_the_audit_groups_options_given_before_replay_apply_to_it(indexed, runner):
    from bot.state.records import AnswerDetails
    from bot.state.sqlite import SQLiteStore

    store = SQLiteStore(indexed / "bot.sqlite")
    store.record_answer(QUESTION, [], "U1", "C1", None, details=AnswerDetails("mention", "g", "nothing"))
    store.close()
    out = json.loads(run(runner, "audit", "--data-dir", str(indexed), "--json", "replay"))
    assert out["summary"]["answers"] == 1
    later = json.loads(run(runner, "audit", "--data-dir", str(indexed), "--since", "2999-01-01", "replay", "--json"))
    assert later["summary"]["answers"] == 0
