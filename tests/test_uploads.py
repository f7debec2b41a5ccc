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
        leftovers = [p for p in (tmp_path / "data" / "inbox").iterdir() if p.name.startswith(".")]
        assert sorted(p.name for p in leftovers) == [".uploads.json", ".uploads.lock"]  # no temporary file

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


# -- where a download may go: only Slack's own file host, over its scheme (https in production) ----------------
def _refused(fake, tmp_path, edit, ts: str = "410.1", **settings) -> str:
    """Upload a bulletin whose files.info entry ``edit(info)`` changes; the reply text (no download may happen)."""
    with _bot(fake, tmp_path, ingest_allowed_users=("U1",), **settings) as bot:
        event = upload(fake, "quokka.md", BULLETIN.encode(), ts=ts)
        edit(fake.files[event["files"][0]["id"]][0])
        bot.send_event(event)
        bot.wait_idle()
        reply = fake.wait_for("chat.postMessage")[0].body["text"]
    assert not fake.calls_to(DOWNLOAD), "the bot fetched a URL it must refuse"
    assert not (tmp_path / "data" / "inbox").exists() or not list((tmp_path / "data" / "inbox").iterdir())
    assert reply.count(". ") == 0 and reply.endswith("."), reply  # one sentence
    return reply


def test_a_file_url_is_never_read(fake, tmp_path):
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:SECRET-ROOT-LINE\n")
    for n, key in enumerate(("url_private", "url_private_download")):
        def edit(info, key=key):
            info.pop("url_private_download")
            info[key] = secret.as_uri()
        reply = _refused(fake, tmp_path, edit, ts=f"411.{n}")
        assert reply == "I cannot add quokka.md: its download link does not point to Slack's file server, so nothing was added."
        fake.clear()
    assert not (tmp_path / "data").exists() or "SECRET-ROOT-LINE" not in "".join(
        p.read_text(errors="ignore") for p in (tmp_path / "data").rglob("*") if p.is_file())


def test_an_http_link_is_refused_when_slack_serves_files_over_https(fake, tmp_path):
    """Production serves files over https only: a plain-http link (even to the right host) is refused."""
    https_base = f"https://127.0.0.1:{fake.server.server_port}/"
    reply = _refused(fake, tmp_path, lambda info: None, files_url=https_base)
    assert reply == "I cannot add quokka.md: its download link does not point to Slack's file server, so nothing was added."


@pytest.mark.parametrize("host", ["localhost", "127.0.0.2"])
def test_a_link_to_another_host_never_gets_the_token(fake, tmp_path, host):
    def edit(info):
        for key in ("url_private", "url_private_download"):
            info[key] = info[key].replace("127.0.0.1", host)
    reply = _refused(fake, tmp_path, edit)
    assert reply == "I cannot add quokka.md: its download link does not point to Slack's file server, so nothing was added."


def test_an_external_file_is_refused_in_one_sentence(fake, tmp_path):
    def edit(info):
        info.update(is_external=True, external_type="gdrive")
    reply = _refused(fake, tmp_path, edit)
    assert reply == ("I cannot add quokka.md: it is a link to a file kept outside Slack (gdrive), not an upload; "
                     "upload the file itself.")


def test_a_redirect_to_another_scheme_is_not_followed(fake, tmp_path):
    with _bot(fake, tmp_path, ingest_allowed_users=("U1",)) as bot:
        bot.send_event(upload(fake, "quokka.md", b"", ts="420.1", size=10,
                              content_type="redirect:" + (tmp_path / "x.md").as_uri()))
        bot.wait_idle()
        reply = fake.wait_for("chat.postMessage")[0].body["text"]
        assert reply == "I could not download quokka.md from Slack, so nothing was added; please try again."


def test_the_files_host_defaults_to_slacks_over_https():
    from bot.config import Settings

    assert Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1"}, dotenv=None).files_url == "https://files.slack.com/"
    gov = Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_API_URL": "https://slack-gov.com/api/"}, dotenv=None)
    assert gov.files_url == "https://files.slack-gov.com/"


@pytest.mark.parametrize("raw", ["http://files.slack.com/", "ftp://files.slack.com/", "files.slack.com"])
def test_slack_files_url_must_be_https_except_for_a_loopback_test_server(raw):
    from bot.config import Settings, SettingsError

    with pytest.raises(SettingsError, match="SLACK_FILES_URL must be an https URL"):
        Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_FILES_URL": raw}, dotenv=None)
    local = Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_FILES_URL": "http://127.0.0.1:8080/x"}, dotenv=None)
    assert local.files_url == "http://127.0.0.1:8080/"


# -- an upload never replaces another person's bulletin -----------------------------------------------------
OTHER = BULLETIN.replace("Quokka Gazette", "Numbat Courier").replace("zebra quokka", "striped numbat")


def _send_upload(bot, fake, name: str, data: bytes, ts: str, user: str) -> str:
    fake.clear()
    bot.send_event(upload(fake, name, data, ts=ts, user=user))
    bot.wait_idle()
    return fake.wait_for("chat.postMessage")[0].body["text"]


def test_a_second_person_uploading_the_same_name_keeps_both(fake, tmp_path):
    inbox = tmp_path / "data" / "inbox"
    with _bot(fake, tmp_path, ingest_allowed_users=("U1", "U2")) as bot:
        first = _send_upload(bot, fake, "dup.md", BULLETIN.encode(), "500.1", "U1")
        second = _send_upload(bot, fake, "dup.md", OTHER.encode(), "500.2", "U2")
        assert first.startswith("Added “Quokka Gazette”"), first
        assert second.startswith("Added “Numbat Courier” (2025-03-04), stored as dup-2.md because another "
                                 "bulletin named dup.md is already there (both are kept): 2 items"), second
        assert (inbox / "dup.md").read_text() == BULLETIN and (inbox / "dup-2.md").read_text() == OTHER
        names = {b.source_file for b in bot.app.responder.searcher.index.bulletins()}
        assert names == {"dup.md", "dup-2.md"}

        # U1 re-uploads their own dup.md: it replaces theirs (and only theirs)
        changed = BULLETIN.replace("12,345 yuan", "54,321 yuan")
        third = _send_upload(bot, fake, "dup.md", changed.encode(), "500.3", "U1")
        assert third.startswith("Updated your dup.md, “Quokka Gazette”"), third
        assert (inbox / "dup.md").read_text() == changed and (inbox / "dup-2.md").read_text() == OTHER
        # U2 re-uploads theirs: it goes to dup-2.md, where theirs was stored
        fourth = _send_upload(bot, fake, "dup.md", OTHER.replace("June", "July").encode(), "500.4", "U2")
        assert fourth.startswith("Updated your dup.md, “Numbat Courier”"), fourth
        assert sorted(p.name for p in inbox.iterdir() if not p.name.startswith(".")) == ["dup-2.md", "dup.md"]


def test_an_upload_never_takes_the_name_of_a_file_dropped_into_the_inbox_or_indexed_elsewhere(fake, tmp_path):
    from retrieval.ingest import ingest

    inbox = tmp_path / "data" / "inbox"
    inbox.mkdir(parents=True)
    (inbox / "dropped.md").write_text(BULLETIN)  # an operator's file, no uploader recorded
    elsewhere = tmp_path / "corpus"
    elsewhere.mkdir()
    (elsewhere / "weekly.md").write_text(BULLETIN.replace("Quokka", "Bilby"))
    assert not ingest([elsewhere], tmp_path / "data", HashEncoder()).errors
    with _bot(fake, tmp_path, ingest_allowed_users=("U1",)) as bot:
        one = _send_upload(bot, fake, "dropped.md", OTHER.encode(), "510.1", "U1")
        two = _send_upload(bot, fake, "weekly.md", OTHER.replace("Numbat", "Quoll").encode(), "510.2", "U1")
    assert "stored as dropped-2.md because another bulletin named dropped.md" in one, one
    assert "stored as weekly-2.md because another bulletin named weekly.md" in two, two
    assert (inbox / "dropped.md").read_text() == BULLETIN


def test_concurrent_uploads_of_one_name_by_different_people_are_all_kept(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from bot.slack.listeners.upload_store import store_upload

    def one(i: int):
        return store_upload(tmp_path, "same.md", f"bulletin {i}".encode(), user=f"U{i}", file_id=f"F{i}")

    with ThreadPoolExecutor(8) as pool:
        stored = list(pool.map(one, range(8)))
    assert len({s.path.name for s in stored}) == 8
    assert sorted(p.read_text() for p in tmp_path.glob("same*.md")) == sorted(f"bulletin {i}" for i in range(8))
    assert sum(s.clash is None for s in stored) == 1  # one got the name, seven were told where theirs went


def test_an_upload_named_dot_dot_md_keeps_its_ending_and_stays_indexed(fake, tmp_path):
    from retrieval.ingest import ingest

    inbox = tmp_path / "data" / "inbox"
    with _bot(fake, tmp_path, ingest_allowed_users=("U1",)) as bot:
        event = upload(fake, "..md", BULLETIN.encode(), ts="520.1")
        bot.send_event(event)
        bot.wait_idle()
        reply = fake.wait_for("chat.postMessage")[0].body["text"]
    stored = f"upload-{event['files'][0]['id']}.md"
    assert reply.startswith(f"Added “Quokka Gazette” (2025-03-04), stored as {stored} because ..md has no usable "
                            "name before its ending: 2 items"), reply
    assert [p.name for p in inbox.iterdir() if not p.name.startswith(".")] == [stored]
    # a bulletin file by its ending: the inbox folder's next ingest keeps it (a file named "md" would be dropped)
    report = ingest([inbox], tmp_path / "data", HashEncoder())
    assert report.unchanged == [stored] and not report.removed, report


@pytest.mark.parametrize("text", [
    BULLETIN.replace("for tracking visitors.", "for tracking visitors on pages whose <html> carried a pixel."),
    "<!DOCTYPE html>\n<html><body><p>" + BULLETIN + "</p></body></html>\n",
])
def test_a_markdown_file_served_as_text_html_is_not_a_sign_in_page(fake, tmp_path, text):
    """Slack may label a file text/html; only Slack's own sign-in page (an HTML document saying so, or not the
    size files.info gave) is refused as one."""
    with _bot(fake, tmp_path, ingest_allowed_users=("U1",)) as bot:
        bot.send_event(upload(fake, "notes.md", text.encode(), ts="530.1", content_type="text/html; charset=utf-8"))
        bot.wait_idle()
        reply = fake.wait_for("chat.postMessage")[0].body["text"]
    assert reply.startswith("Added “"), reply
    assert (tmp_path / "data" / "inbox" / "notes.md").read_text() == text


def test_a_sign_in_page_of_another_size_than_the_file_is_refused_whatever_its_title(fake, tmp_path):
    page = b"<!DOCTYPE html><html><head><title>Slack</title></head><body><form action='/'></form></body></html>"
    with _bot(fake, tmp_path, ingest_allowed_users=("U1",)) as bot:
        bot.send_event(upload(fake, "notes.md", page, ts="531.1", size=20000, content_type="text/html"))
        bot.wait_idle()
        assert "files:read" in fake.wait_for("chat.postMessage")[0].body["text"]
    assert not (tmp_path / "data" / "inbox" / "notes.md").exists()


def test_a_password_protected_pdf_is_said_to_be_encrypted_not_damaged(fake, tmp_path):
    from tests.pdfs import make_pdf

    locked = make_pdf(tmp_path / "locked.pdf", [[["## Enforcement", "1. Fine", "The regulator fined a school."]]],
                      encrypt="secret")
    with _bot(fake, tmp_path, ingest_allowed_users=("U1",)) as bot:
        bot.send_event(upload(fake, "locked.pdf", locked.read_bytes(), ts="540.1"))
        bot.wait_idle()
        reply = fake.wait_for("chat.postMessage")[0].body["text"]
    assert reply == "I could not add locked.pdf: the PDF is encrypted (password-protected): save an unprotected copy."
