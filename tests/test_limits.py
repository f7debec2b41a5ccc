"""Bounded work per file (retrieval/intake/limits.py): a file giving more passages than the limit is
refused whole with one sentence naming the limit and its setting; the other files still ingest; chunking
stops at the limit; uploads go through the same limit."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner

from retrieval.chunking import passages_from
from retrieval.errors import ConfigurationError, FileLimitError
from retrieval.ingest import ingest
from retrieval.intake.limits import MAX_PASSAGES_PER_FILE, Limit
from retrieval.intake.sources import read_bulletin
from tests.fakes import HashEncoder

REFUSAL = ("it gives more than {n:,} passages, the limit per bulletin file (set BULLETIN_BOT_MAX_PASSAGES_PER_FILE "
           "to raise it); nothing of it was ingested")


def long_newsletter(paragraphs: int) -> bytes:
    """An e-mail newsletter of ``paragraphs`` distinct numbered items (one passage each)."""
    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["Date"] = "Weekly digest", "ACME <n@acme.example>", "Fri, 14 Mar 2025 09:30:00 +0000"
    items = "".join(f"<h3>{i}. Decision {i}</h3><p>The authority fined company number {i} for breach {i}.</p>"
                    for i in range(1, paragraphs + 1))
    msg.set_content("see the HTML part")
    msg.add_alternative(f"<html><body><h1>Weekly digest</h1><h2>Enforcement</h2>{items}</body></html>", subtype="html")
    return msg.as_bytes()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    d = tmp_path / "bulletins"
    d.mkdir()
    (d / "big.eml").write_bytes(long_newsletter(60))
    (d / "small.md").write_text("# Small\n\n## News\n\n1. One\n\nThe regulator fined a zebra sanctuary.\n")
    return d


def test_a_file_past_the_passage_limit_is_refused_whole_and_the_others_ingest(folder: Path, tmp_path: Path,
                                                                               monkeypatch):
    assert len(passages_from(read_bulletin(folder / "big.eml"))) >= 60  # it would give that many
    monkeypatch.setenv("BULLETIN_BOT_MAX_PASSAGES_PER_FILE", "25")
    report = ingest([folder], tmp_path / "data", HashEncoder())
    assert report.added == ["small.md"] and report.passages == 1
    assert report.errors == [{"file": str(folder / "big.eml"), "line": None, "error": REFUSAL.format(n=25)}]


def test_the_limit_given_by_the_caller_wins_and_a_bulletin_already_indexed_stays(folder: Path, tmp_path: Path,
                                                                                 monkeypatch):
    monkeypatch.setenv("BULLETIN_BOT_MAX_PASSAGES_PER_FILE", "5")
    first = ingest([folder], tmp_path / "data", HashEncoder(), max_passages_per_file=1000)
    assert sorted(first.added) == ["big.eml", "small.md"] and not first.errors
    (folder / "big.eml").write_bytes(long_newsletter(70))  # grows past the limit now in force
    second = ingest([folder], tmp_path / "data", HashEncoder())
    assert second.errors[0]["error"] == REFUSAL.format(n=5)
    assert second.passages == first.passages  # the earlier good version is still served


def test_chunking_stops_at_the_limit_instead_of_chunking_the_whole_file(tmp_path: Path):
    path = tmp_path / "huge.eml"
    path.write_bytes(long_newsletter(2000))
    bulletin = read_bulletin(path)
    counted: list[str] = []

    def count_tokens(text: str) -> int:
        counted.append(text)
        return len(text.split())

    with pytest.raises(FileLimitError) as caught:
        passages_from(bulletin, count_tokens=count_tokens, max_passages=10)
    assert caught.value.reason == REFUSAL.format(n=10) and caught.value.value == 11
    assert len(counted) < 100  # a few calls per paragraph for ~11 paragraphs, not for 2,000


@pytest.mark.parametrize("raw, message", [
    ("lots", "BULLETIN_BOT_MAX_PASSAGES_PER_FILE must be an integer between 1 and 10000000, got 'lots'"),
    ("0", "BULLETIN_BOT_MAX_PASSAGES_PER_FILE must be between 1 and 10000000, got 0"),
])
def test_a_malformed_limit_is_one_sentence_naming_the_variable(raw, message, folder: Path, tmp_path: Path,
                                                               monkeypatch):
    monkeypatch.setenv("BULLETIN_BOT_MAX_PASSAGES_PER_FILE", raw)
    with pytest.raises(ConfigurationError, match=f"^{message}$"):
        ingest([folder], tmp_path / "data", HashEncoder())
    from bot import cli
    from bot.cli import options

    monkeypatch.setattr(options, "make_encoder", lambda model, data_dir=None: HashEncoder())
    res = CliRunner().invoke(cli.main, ["ingest", str(folder), "--data-dir", str(tmp_path / "data")],
                             env={"BULLETIN_BOT_MAX_PASSAGES_PER_FILE": raw})
    assert res.exit_code == 1 and res.stderr.strip() == f"error: {message}", res.output


def test_limit_resolution_follows_the_encoder_convention():
    limit = Limit("pages", "X_MAX_PAGES", 7, low=1, high=100)
    assert limit.resolve(environ={}) == 7 and limit.resolve(environ={"X_MAX_PAGES": " 12 "}) == 12
    assert limit.resolve(3, environ={"X_MAX_PAGES": "12"}) == 3  # the caller's value wins
    with pytest.raises(ConfigurationError, match="the limit of pages per file must be between 1 and 100, got 500"):
        limit.resolve(500)
    assert MAX_PASSAGES_PER_FILE.resolve(environ={}) == 10_000


def test_an_upload_past_the_limit_is_told_in_one_sentence(tmp_path: Path, monkeypatch):
    from retrieval.search.searcher import Searcher
    from tests.slack_client import BotUnderTest, message
    from tests.slack_fake import FakeSlack

    monkeypatch.setenv("BULLETIN_BOT_MAX_PASSAGES_PER_FILE", "25")
    with FakeSlack() as fake, BotUnderTest(fake, Searcher(tmp_path / "data", HashEncoder()), tmp_path / "data",
                                           ingest_allowed_users=("U1",)) as bot:
        bot.send_event(message("here", ts="600.1", channel="D7", subtype="file_share",
                               files=[fake.add_file("big.eml", long_newsletter(60))]))
        bot.wait_idle()
        reply = fake.wait_for("chat.postMessage")[0].body["text"]
    assert reply == f"I could not add big.eml: {REFUSAL.format(n=25)}."
