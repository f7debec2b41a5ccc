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


def test_a_file_past_the_passage_limit_is_refused_whole_and_the_others_ingest(folder: Path, tmp_path: Path):
    assert len(passages_from(read_bulletin(folder / "big.eml"))) >= 60  # it would give that many
    report = ingest([folder], tmp_path / "data", HashEncoder(), max_passages_per_file=25)
    assert report.added == ["small.md"] and report.passages == 1
    assert report.errors == [{"file": str(folder / "big.eml"), "line": None, "error": REFUSAL.format(n=25)}]


def test_a_bulletin_already_indexed_stays_when_its_file_grows_past_the_limit(folder: Path, tmp_path: Path):
    first = ingest([folder], tmp_path / "data", HashEncoder())  # the default limit, 10,000
    assert sorted(first.added) == ["big.eml", "small.md"] and not first.errors
    (folder / "big.eml").write_bytes(long_newsletter(70))  # grows past the limit now in force
    second = ingest([folder], tmp_path / "data", HashEncoder(), max_passages_per_file=5)
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


def test_the_cli_reads_the_limit_from_the_settings(folder: Path, tmp_path: Path, monkeypatch):
    from bot import cli
    from bot.cli import options

    monkeypatch.setattr(options, "make_encoder", lambda model, data_dir=None: HashEncoder())
    res = CliRunner().invoke(cli.main, ["ingest", str(folder), "--data-dir", str(tmp_path / "data")],
                             env={"BULLETIN_BOT_MAX_PASSAGES_PER_FILE": "25"})
    assert res.exit_code == 0 and "1 added" in res.stdout, res.output
    assert f"error: {folder / 'big.eml'}: {REFUSAL.format(n=25)}" in res.stderr


@pytest.mark.parametrize("raw, message", [
    ("lots", "BULLETIN_BOT_MAX_PASSAGES_PER_FILE must be an integer between 1 and 10000000, got 'lots'"),
    ("0", "BULLETIN_BOT_MAX_PASSAGES_PER_FILE must be between 1 and 10000000, got 0"),
])
def test_a_malformed_limit_is_one_sentence_naming_the_variable(raw, message, folder: Path, tmp_path: Path,
                                                               monkeypatch):
    from bot import cli
    from bot.cli import options
    from bot.config import IngestSettings, Settings, SettingsError

    with pytest.raises(SettingsError, match=f"^{message}$"):
        IngestSettings.from_env({"BULLETIN_BOT_MAX_PASSAGES_PER_FILE": raw}, dotenv=None)
    with pytest.raises(SettingsError, match=f"^{message}$"):  # serve stops at start, not at the first upload
        Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1", "BULLETIN_BOT_MAX_PASSAGES_PER_FILE": raw}, dotenv=None)
    monkeypatch.setattr(options, "make_encoder", lambda model, data_dir=None: HashEncoder())
    res = CliRunner().invoke(cli.main, ["ingest", str(folder), "--data-dir", str(tmp_path / "data")],
                             env={"BULLETIN_BOT_MAX_PASSAGES_PER_FILE": raw})
    assert res.exit_code == 1 and res.stderr.strip() == f"error: {message}", res.output


def test_a_limit_is_the_callers_value_or_its_default_and_a_bad_value_names_it(folder: Path, tmp_path: Path):
    limit = Limit("pages", "X_MAX_PAGES", 7, low=1, high=100)
    assert limit.value(None) == 7 and limit.value(12) == 12
    with pytest.raises(ConfigurationError, match=r"^the limit of pages per file \(X_MAX_PAGES\) must be an integer "
                                                 r"between 1 and 100, got 500$"):
        limit.value(500)
    assert MAX_PASSAGES_PER_FILE.value(None) == 10_000
    with pytest.raises(ConfigurationError, match="got 0"):
        ingest([folder], tmp_path / "data", HashEncoder(), max_passages_per_file=0)


def test_an_upload_past_the_limit_is_told_in_one_sentence(tmp_path: Path):
    from retrieval.search.searcher import Searcher
    from tests.slack_client import BotUnderTest, message
    from tests.slack_fake import FakeSlack

    with FakeSlack() as fake, BotUnderTest(fake, Searcher(tmp_path / "data", HashEncoder()), tmp_path / "data",
                                           ingest_allowed_users=("U1",), max_passages_per_file=25) as bot:
        bot.send_event(message("here", ts="600.1", channel="D7", subtype="file_share",
                               files=[fake.add_file("big.eml", long_newsletter(60))]))
        bot.wait_idle()
        reply = fake.wait_for("chat.postMessage")[0].body["text"]
    assert reply == f"I could not add big.eml: {REFUSAL.format(n=25)}."
