"""Bulletins uploaded to the bot, through the real bolt App (signed requests) and the fake Slack's
``files.info`` and file download."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from retrieval.search.searcher import Searcher
from tests.fakes import HashEncoder
from tests.slack_client import BotUnderTest, all_text, mention, message
from tests.slack_fake import DOWNLOAD, FakeSlack

BULLETIN = ("---\ntitle: Quokka Gazette\ndate: 2025-03-04\n---\n\n# Quokka Gazette\n\n## Enforcement\n\n"
            "1. Zebra quokka fine\n\nThe regulator fined the zebra quokka sanctuary 12,345 yuan for tracking visitors.\n\n"
            "2. Wombat notice\n\nThe wombat registry must appoint a data protection officer by June.\n")
QUESTION = "how much was the zebra quokka sanctuary fined"


class Answering:
    """A real Searcher (following CURRENT) whose answers count as answered, whatever the calibration."""

    def __init__(self, searcher: Searcher):
        self.searcher = searcher

    def search(self, query, top_k=5):
        return dataclasses.replace(self.searcher.search(query, top_k=top_k), answered=True, tier="answers",
                                   missing=None)

    def __getattr__(self, name):
        return getattr(self.searcher, name)


@pytest.fixture
def fake():
    with FakeSlack() as server:
        yield server


def _bot(fake, tmp_path: Path, **settings) -> BotUnderTest:
    data = tmp_path / "data"
    return BotUnderTest(fake, Answering(Searcher(data, HashEncoder())), data, **settings)


def upload(fake, name: str, data: bytes, ts: str, user: str = "U1", text: str = "here is the new one", **kw) -> dict:
    """A DM ``message`` event (subtype file_share) sharing one file stored in the fake."""
    return message(text, ts=ts, channel="D7", user=user, subtype="file_share", files=[fake.add_file(name, data, **kw)])


def test_an_allowed_users_dm_upload_is_added_and_then_answered_from(fake, tmp_path):
    with _bot(fake, tmp_path, ingest_allowed_users=("U1",)) as bot:
        status, _ = bot.send_event(upload(fake, "quokka.md", BULLETIN.encode(), ts="300.1",
                                          text="how much was the fine?"))
        assert status == 200
        bot.wait_idle()
        replies = fake.calls_to("chat.postMessage")
        assert len(replies) == 1  # the caption is not answered as a question
        reply = replies[0].body
        assert reply["channel"] == "D7" and reply["thread_ts"] == "300.1"
        assert "Quokka Gazette" in reply["text"] and "2025-03-04" in reply["text"]
        assert "2 items" in reply["text"] and "2 passages" in reply["text"], reply["text"]
        download = fake.calls_to(DOWNLOAD)[0]
        assert {k.lower(): v for k, v in download.headers.items()}["authorization"] == "Bearer xoxb-test-token"
        assert download.path.endswith("/quokka.md")
        assert (tmp_path / "data" / "inbox" / "quokka.md").read_text() == BULLETIN
        assert not [p for p in (tmp_path / "data" / "inbox").iterdir() if p.name.startswith(".")]

        fake.clear()
        bot.send_event(message(QUESTION, ts="301.1", channel="D7"))
        bot.wait_idle()
        answer = fake.wait_for("chat.postMessage")[0]
        assert "12,345 yuan" in all_text(answer) and "Quokka Gazette" in all_text(answer)


def test_a_user_not_allowed_is_told_who_can(fake, tmp_path):
    with _bot(fake, tmp_path, ingest_allowed_users=("U1", "U2")) as bot:
        bot.send_event(upload(fake, "quokka.md", BULLETIN.encode(), ts="310.1", user="U9"))
        bot.wait_idle()
        reply = fake.wait_for("chat.postMessage")[0].body
        assert reply["text"] == "Only <@U1>, <@U2> can add bulletins." and reply["thread_ts"] == "310.1"
        assert not fake.calls_to("files.info") and not fake.calls_to(DOWNLOAD)
        assert not (tmp_path / "data" / "inbox").exists()


def test_nobody_may_add_when_the_setting_is_empty(fake, tmp_path):
    with _bot(fake, tmp_path) as bot:
        bot.send_event(upload(fake, "quokka.md", BULLETIN.encode(), ts="311.1"))
        bot.wait_idle()
        assert "BULLETIN_BOT_INGEST_ALLOWED_USERS" in fake.wait_for("chat.postMessage")[0].body["text"]


@pytest.mark.parametrize("name, size, expected", [
    ("big.pdf", 2 * 1024 * 1024, "I cannot add big.pdf: it is larger than the 1 MB limit."),
    ("notes.docx", None, "I cannot add notes.docx: I take only "),
])
def test_a_too_large_or_wrong_type_file_gets_one_sentence(fake, tmp_path, name, size, expected):
    with _bot(fake, tmp_path, ingest_allowed_users=("U1",), upload_max_mb=1) as bot:
        bot.send_event(upload(fake, name, b"%PDF-1.4 whatever", ts="320.1", size=size))
        bot.wait_idle()
        reply = fake.wait_for("chat.postMessage")[0].body["text"]
        assert reply.startswith(expected) and reply.count(". ") == 0 and reply.endswith("."), reply
        assert not fake.calls_to(DOWNLOAD)


def test_a_download_larger_than_files_info_said_is_refused(fake, tmp_path):
    with _bot(fake, tmp_path, ingest_allowed_users=("U1",), upload_max_mb=1) as bot:
        bot.send_event(upload(fake, "big.md", b"x" * (1024 * 1024 + 1), ts="321.1", size=10))
        bot.wait_idle()
        assert "larger than the 1 MB limit" in fake.wait_for("chat.postMessage")[0].body["text"]
        assert not (tmp_path / "data" / "inbox" / "big.md").exists()


def test_a_files_info_failure_is_told_not_silent(fake, tmp_path):
    with _bot(fake, tmp_path, ingest_allowed_users=("U1",)) as bot:
        fake.fail_next("files.info", "file_not_found")
        bot.send_event(upload(fake, "quokka.md", BULLETIN.encode(), ts="330.1"))
        bot.wait_idle()
        reply = fake.wait_for("chat.postMessage")[0].body
        assert reply["text"] == "I could not get quokka.md from Slack (file_not_found), so nothing was added."


def test_a_broken_file_is_one_sentence(fake, tmp_path):
    with _bot(fake, tmp_path, ingest_allowed_users=("U1",)) as bot:
        bot.send_event(upload(fake, "broken.pdf", b"%PDF-1.4 truncated", ts="340.1"))
        bot.wait_idle()
        reply = fake.wait_for("chat.postMessage")[0].body["text"]
        assert reply.startswith("I could not add broken.pdf: ") and reply.endswith("."), reply


def test_a_mention_sharing_a_file_in_a_channel_is_added_in_its_thread(fake, tmp_path):
    with _bot(fake, tmp_path, ingest_allowed_users=("U1",)) as bot:
        event = mention("please add this", ts="350.1", files=[fake.add_file("quokka.md", BULLETIN.encode())])
        bot.send_event(event)
        bot.wait_idle()
        replies = fake.calls_to("chat.postMessage")
        assert len(replies) == 1
        assert replies[0].body["channel"] == "C1" and replies[0].body["thread_ts"] == "350.1"
        assert "Added" in replies[0].body["text"] and "Quokka Gazette" in replies[0].body["text"]


def test_a_failed_download_is_told(fake, tmp_path):
    with _bot(fake, tmp_path, ingest_allowed_users=("U1",)) as bot:
        event = upload(fake, "quokka.md", BULLETIN.encode(), ts="360.1")
        info = fake.files[event["files"][0]["id"]][0]
        info["url_private_download"] = fake.url + "files/GONE/quokka.md"  # the download answers 404
        bot.send_event(event)
        bot.wait_idle()
        reply = fake.wait_for("chat.postMessage")[0].body["text"]
        assert reply == "I could not download quokka.md from Slack, so nothing was added; please try again."


def test_a_sign_in_page_instead_of_the_file_says_the_scope_is_missing(fake, tmp_path):
    with _bot(fake, tmp_path, ingest_allowed_users=("U1",)) as bot:
        page = b"<!DOCTYPE html><html><head><title>Sign in | Slack</title></head><body>Sign in</body></html>"
        bot.send_event(upload(fake, "report.pdf", page, ts="370.1", content_type="text/html; charset=utf-8"))
        bot.wait_idle()
        assert "files:read" in fake.wait_for("chat.postMessage")[0].body["text"]
        assert not (tmp_path / "data" / "inbox" / "report.pdf").exists()


def test_an_unexpected_failure_is_told_not_silent(fake, tmp_path):
    with _bot(fake, tmp_path, ingest_allowed_users=("U1",)) as bot:
        def broken(files):
            raise RuntimeError("disk on fire")

        bot.app.responder.uploads = dataclasses.replace(bot.app.responder.uploads, ingest=broken)
        bot.send_event(upload(fake, "quokka.md", BULLETIN.encode(), ts="380.1"))
        bot.wait_idle()
        reply = fake.wait_for("chat.postMessage")[0].body["text"]
        assert reply == "I could not add quokka.md: something went wrong (the error has been logged)."


def test_the_bot_token_is_never_logged_while_adding_a_file(fake, tmp_path, caplog):
    caplog.set_level("DEBUG", logger="bot")
    with _bot(fake, tmp_path, ingest_allowed_users=("U1",)) as bot:
        fake.fail_next("files.info", "missing_scope")
        bot.send_event(upload(fake, "a.md", BULLETIN.encode(), ts="390.1"))
        bot.send_event(upload(fake, "quokka.md", BULLETIN.encode(), ts="391.1"))
        bot.wait_idle()
        assert len(fake.wait_for("chat.postMessage", 2)) == 2
    assert caplog.records and "xoxb-test-token" not in caplog.text


@pytest.mark.parametrize("host, token_sent", [("127.0.0.1", True), ("localhost", False)])
def test_a_redirected_download_carries_the_token_only_to_the_same_host(fake, tmp_path, host, token_sent):
    with _bot(fake, tmp_path, ingest_allowed_users=("U1",)) as bot:
        target = fake.add_file("quokka.md", BULLETIN.encode())
        there = f"http://{host}:{fake.server.server_port}/files/{target['id']}/quokka.md"
        bot.send_event(upload(fake, "quokka.md", b"", ts="400.1", size=10, content_type="redirect:" + there))
        bot.wait_idle()
        assert "Quokka Gazette" in fake.wait_for("chat.postMessage")[0].body["text"]
        first, second = fake.calls_to(DOWNLOAD)
        assert "authorization" in {k.lower() for k in first.headers}
        assert ("authorization" in {k.lower() for k in second.headers}) is token_sent
