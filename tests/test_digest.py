"""bot.digest: new items per channel, exactly once, within Slack's limits; against a fake Slack Web API.

Offline and on a fixed clock: ``ingest`` stamps bulletins with a frozen ``datetime.now`` and every
digest run is given its ``now``; spacing between posts is recorded, not slept.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.models.blocks import Block

import retrieval.ingest as ingest_module
from bot import cli
from bot.config import Settings, SettingsError
from bot.digest import (
    MIN_POST_SPACING,
    DigestRunner,
    NewBulletin,
    Spacer,
    build_digest,
    first_sentences,
    item_passages,
    start_scheduler,
)
from bot.slack import blocks as bk
from bot.state.sqlite import SQLiteStore
from retrieval.chunking import Citation, Passage
from retrieval.index.generations import BulletinRecord
from retrieval.index.passages import PassageIndex
from retrieval.ingest import ingest
from retrieval.search.searcher import Searcher
from tests.conftest import CORPUS
from tests.fakes import HashEncoder
from tests.slack_client import BotUnderTest, mention
from tests.slack_fake import FakeSlack

TZ = ZoneInfo("Asia/Shanghai")
CORPUS_AT = datetime(2025, 5, 1, 2, 0, tzinfo=timezone.utc)  # the shipped corpus is ingested then
DAY1 = datetime(2025, 6, 1, 9, 0, tzinfo=TZ)  # the first digest: the corpus is older than 7 days
NEW_AT = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)  # two new bulletins arrive
DAY2 = datetime(2025, 6, 2, 9, 0, tzinfo=TZ)

NEW_A = """# Quokka Regulator Bulletin

## Enforcement developments

- **Quokka Authority fines Zebra Corp**: The Quokka Authority fined Zebra Corp 2 million for tracking <!channel> users & partners. It also ordered an audit. A third sentence follows.

- **Second quokka decision**: Short one. The second sentence is here. Not this one.

## Guidance

- **Guidance on marsupial cookies**: The regulator issued guidance on marsupial cookies.
"""  # noqa: E501 - a bullet of test data, one line as bulletins write it
NEW_B = """# Wombat Privacy Letter

## Legislation

- **Wombat Act adopted**: Parliament adopted the Wombat Act on data brokers.
"""


def freeze_ingest_clock(monkeypatch, at: datetime) -> None:
    """Make ``ingest`` stamp ``ingested_at`` with ``at``."""

    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):
            return at.astimezone(tz) if tz else at.replace(tzinfo=None)

    monkeypatch.setattr(ingest_module, "datetime", Frozen)


def write_bulletin(folder: Path, stem: str, text: str, title: str, date: str, url: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stem}.md").write_text(text)
    (folder / f"{stem}.meta.toml").write_text(f'title = "{title}"\ndate = "{date}"\nurl = "{url}"\n')
    return folder / f"{stem}.md"


def add_new_bulletins(tmp_path: Path, data_dir: Path, monkeypatch) -> None:
    freeze_ingest_clock(monkeypatch, NEW_AT)
    folder = tmp_path / "new"
    a = write_bulletin(folder, "quokka-2025-06", NEW_A, "Quokka Regulator Bulletin", "2025-06-01",
                       "https://example.com/quokka?a=1&b=2")
    b = write_bulletin(folder, "wombat-2025-06", NEW_B, "Wombat Privacy Letter", "2025-06", "https://example.com/wombat")
    report = ingest([a, b], data_dir, HashEncoder())
    assert not report.errors and sorted(report.added) == ["quokka-2025-06.md", "wombat-2025-06.md"]


@pytest.fixture(scope="module")
def corpus_at_index(tmp_path_factory, shipped_corpus: Path, shipped_index: Path) -> Path:
    """The shipped corpus (at the session's corpus path, as :func:`corpus_copy` gives it), ingested at
    CORPUS_AT once for the module; :func:`data_dir` copies it."""
    shutil.rmtree(shipped_corpus)
    shutil.copytree(CORPUS, shipped_corpus)
    d = tmp_path_factory.mktemp("digest") / "data"
    with pytest.MonkeyPatch.context() as m:
        freeze_ingest_clock(m, CORPUS_AT)
        assert not ingest([shipped_corpus], d, HashEncoder()).errors
    return d


@pytest.fixture
def data_dir(tmp_path, corpus_copy, monkeypatch, corpus_at_index) -> Path:
    """The shipped corpus, ingested at CORPUS_AT (a copy of :func:`corpus_at_index`); the ingest clock
    stays at CORPUS_AT for the test."""
    freeze_ingest_clock(monkeypatch, CORPUS_AT)
    d = tmp_path / "data"
    shutil.copytree(corpus_at_index, d)
    return d


@pytest.fixture
def fake():
    with FakeSlack() as server:
        yield server


class Sleeps:
    """A recording sleep and a clock that only moves when slept."""

    def __init__(self):
        self.t, self.calls = 0.0, []

    def sleep(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.t += seconds

    def monotonic(self) -> float:
        return self.t


def client_for(fake: FakeSlack, retries: int = 2) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.api_url, timeout=5,
                     retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=retries)])


def make_runner(data_dir: Path, fake: FakeSlack, store: SQLiteStore | None = None, sleeps: Sleeps | None = None,
                **kw) -> DigestRunner:
    sleeps = sleeps or Sleeps()
    return DigestRunner(store or SQLiteStore(data_dir / "bot.sqlite"), client_for(fake), lambda: PassageIndex.load(data_dir),
                        tz=TZ, spacer=Spacer(sleeps.sleep, sleeps.monotonic), **kw)


def posts(fake: FakeSlack, channel: str | None = None):
    return [c for c in fake.calls_to("chat.postMessage") if c.status == 200
            and (channel is None or c.body["channel"] == channel)]


def assert_valid(message: dict) -> None:
    """Slack's block models accept every block, and the message is within every limit."""
    blocks = message["blocks"]
    assert message["text"] and len(message["text"]) <= bk.MAX_FALLBACK_CHARS
    assert 1 <= len(blocks) <= bk.MAX_BLOCKS
    assert bk.message_chars(blocks) <= bk.MAX_MESSAGE_CHARS
    for raw in blocks:
        block = Block.parse(raw)
        assert block is not None, raw
        block.validate_json()
        assert block.to_dict()["type"] == raw["type"]
        if raw["type"] == "section":
            assert len(raw["text"]["text"]) <= bk.MAX_SECTION_CHARS
        elif raw["type"] == "header":
            assert len(raw["text"]["text"]) <= 150
        elif raw["type"] == "context":
            assert len(raw["elements"]) <= bk.MAX_CONTEXT_ELEMENTS


def item_titles(messages) -> list[str]:
    """The bold first line of each item section, in order."""
    out = []
    for m in messages:
        for b in m["blocks"]:
            if b["type"] == "section" and b["text"].get("verbatim"):
                out.append(b["text"]["text"].split("\n")[0].strip("*"))
    return out


# -- pure rendering ---------------------------------------------------------------------------
def record(name: str, title: str = "A bulletin", url: str | None = "https://example.com/b") -> BulletinRecord:
    return BulletinRecord(name, name, "f" + name, title, "Publisher", "2025-06-01", url, True,
                          "2025-06-01T00:00:00+00:00", "")


def passage(source: str, n: int | None, title: str | None, text: str, section: str | None = "Section", start: int = 0) -> Passage:
    c = Citation("A bulletin", "Publisher", "2025-06-01", section, n, title, 1, "https://example.com/b", source,
                 start, start + len(text))
    return Passage(start + 1, text, c, "", 1, 1)


def test_first_sentences_are_verbatim_and_skip_a_repeated_title():
    p = passage("x.md", 1, "Title here", "- **Title here** (https://a.example/x): First sentence is quite short. Second one. Third.")
    got = first_sentences(p)
    assert got == "First sentence is quite short. Second one." and got in p.text
    long_first = "A" * 10 + " " + "word " * 40 + "end. Next sentence."
    assert first_sentences(passage("x.md", 1, None, long_first)) == long_first[: long_first.index(" Next")]
    huge = "word " * 300
    cut = first_sentences(passage("x.md", 1, None, huge))
    assert cut.endswith("…") and len(cut) <= 400 and huge.startswith(cut[:-1])


def test_items_are_first_passages_and_unnumbered_sections_count_as_items():
    ps = [passage("x.md", None, None, "Preamble.", section=None, start=0),
          passage("x.md", 1, "One", "One a.", start=10), passage("x.md", 1, "One", "One b.", start=20),
          passage("x.md", 2, "Two", "Two a.", start=30),
          passage("x.md", None, None, "Plain a.", section="Plain", start=40),
          passage("x.md", None, None, "Plain b.", section="Plain", start=50)]
    assert [p.text for p in item_passages(reversed(ps))] == ["One a.", "Two a.", "Plain a."]


def test_build_digest_groups_by_bulletin_then_section_escapes_and_links():
    evil = "Attention <!channel> & <@U1>: fined. Then more."
    b1 = NewBulletin(record("a.md", "Alpha <b>"), (passage("a.md", 1, "Fine", evil, section="Enforcement"),
                                                   passage("a.md", 2, "Guide", "Guide text.", section="Guidance", start=100)))
    b2 = NewBulletin(record("b.md", "Beta", url=None), (passage("b.md", 1, "Law", "Law text.", section="Laws"),))
    msgs = build_digest([b1, b2], day="2025-06-02", since=datetime(2025, 6, 1, 1, 0, tzinfo=timezone.utc), tz=TZ)
    assert len(msgs) == 1
    assert_valid(msgs[0])
    blocks = msgs[0]["blocks"]
    assert blocks[0]["type"] == "header" and blocks[0]["text"]["text"] == "Bulletin digest · 2025-06-02"
    assert "3 new items in 2 bulletins since 2025-06-01 09:00 CST" in blocks[1]["elements"][0]["text"]
    assert "3 new items" in msgs[0]["text"]
    assert item_titles(msgs) == ["1. Fine", "2. Guide", "1. Law"]
    flat = json.dumps(blocks, ensure_ascii=False)
    assert "<!channel>" not in flat and "&lt;!channel&gt; &amp; &lt;@U1&gt;: fined." in flat
    assert "&lt;b&gt;" in flat and "<https://example.com/b|Alpha &lt;b&gt;>" in flat
    headings = [b["elements"][0]["text"] for b in blocks[2:] if b["type"] == "context" and b["elements"][0]["text"].startswith("*")]
    assert headings == ["*Enforcement*", "*Guidance*", "*Laws*"]
    assert "> Guide text." in flat


def test_nothing_new_is_no_message_unless_asked():
    assert build_digest([], day="2025-06-02") == []
    msgs = build_digest([], day="2025-06-02", post_empty=True)
    assert len(msgs) == 1 and "Nothing new" in msgs[0]["text"]
    assert_valid(msgs[0])


def test_100_items_split_into_a_parent_and_thread_replies_each_valid():
    long = ("Sentence with <tags> & ampersands " * 30).strip() + ". Second."
    items = tuple(passage("big.md", i, f"Item {i} " + "t" * 250, long, section=f"Section {i // 7}", start=i * 1000)
                  for i in range(1, 101))
    bulletins = [NewBulletin(record("big.md", "B" * 300), items[:60]), NewBulletin(record("c.md", "C"), items[60:])]
    msgs = build_digest(bulletins, day="2025-06-02")
    assert len(msgs) > 2
    for m in msgs:
        assert_valid(m)
    assert msgs[0]["blocks"][0]["type"] == "header" and "100 new items" in msgs[0]["text"]
    assert len(item_titles(msgs[1:])) == 100 and item_titles(msgs[:1]) == []
    assert "(continued)" in json.dumps(msgs[2]["blocks"])


# -- posting, exactly once --------------------------------------------------------------------
def test_two_new_bulletins_one_digest_per_channel_in_order_and_a_rerun_posts_nothing(data_dir, fake, tmp_path, monkeypatch):
    sleeps = Sleeps()
    runner = make_runner(data_dir, fake, sleeps=sleeps)
    first = runner.run(["C1", "C2"], DAY1)  # the corpus is 31 days old: nothing new in the last 7 days
    assert [o.status for o in first] == ["empty", "empty"] and posts(fake) == []

    add_new_bulletins(tmp_path, data_dir, monkeypatch)
    outcomes = runner.run(["C1", "C2"], DAY2)
    assert [(o.channel, o.day, o.status, o.posted) for o in outcomes] == [("C1", "2025-06-02", "posted", 1),
                                                                          ("C2", "2025-06-02", "posted", 1)]
    for channel in ("C1", "C2"):
        [call] = posts(fake, channel)
        assert_valid(call.body)
        assert call.body.get("thread_ts") is None
        assert item_titles([call.body]) == ["1. Quokka Authority fines Zebra Corp", "2. Second quokka decision",
                                            "1. Guidance on marsupial cookies", "1. Wombat Act adopted"]
        flat = json.dumps(call.body, ensure_ascii=False)
        assert "4 new items in 2 bulletins since 2025-06-01 09:00 CST" in flat
        assert ("> The Quokka Authority fined Zebra Corp 2 million for tracking &lt;!channel&gt; users &amp; partners. "
                "It also ordered an audit.") in flat
        assert "> Short one. The second sentence is here." in flat and "Not this one" not in flat
        assert "<https://example.com/quokka?a=1&amp;b=2|Quokka Regulator Bulletin>" in flat

    again = make_runner(data_dir, fake).run(["C1", "C2"], DAY2 + timedelta(hours=3))  # a restart, a re-run
    assert [o.status for o in again] == ["done", "done"] and len(posts(fake)) == 2
    assert all(r.state == "done" for r in SQLiteStore(data_dir / "bot.sqlite").digests())
    assert sleeps.calls == []  # one post per channel: nothing to space


def test_the_next_day_lists_only_what_is_new_again(data_dir, fake, tmp_path, monkeypatch):
    runner = make_runner(data_dir, fake)
    runner.run(["C1"], DAY1)
    add_new_bulletins(tmp_path, data_dir, monkeypatch)
    runner.run(["C1"], DAY2)
    assert [o.status for o in runner.run(["C1"], DAY2 + timedelta(days=1))] == ["empty"]
    assert len(posts(fake)) == 1


def test_a_bulletin_ingested_while_a_digest_is_built_is_in_the_next_one(data_dir, fake, tmp_path, monkeypatch):
    """The window is the set of bulletins the last digest knew, not a timestamp race."""
    runner = make_runner(data_dir, fake)
    runner.run(["C1"], DAY1)
    add_new_bulletins(tmp_path, data_dir, monkeypatch)
    freeze_ingest_clock(monkeypatch, DAY1 - timedelta(hours=1))  # stamped before DAY1's digest, visible after it
    late = write_bulletin(tmp_path / "late", "late-2025-06", "# Late\n\n## S\n\n- **Late item**: Late text.\n",
                          "Late bulletin", "2025-06", "https://example.com/late")
    assert not ingest([late], data_dir, HashEncoder()).errors
    runner.run(["C1"], DAY2)
    assert "1. Late item" in item_titles([posts(fake)[0].body])


def test_first_digest_covers_the_last_n_days(data_dir, fake):
    runner = make_runner(data_dir, fake, first_days=40)
    [outcome] = runner.run(["C9"], DAY1)
    assert outcome.status == "posted" and outcome.messages > 2  # the whole corpus: parent + thread replies
    calls = posts(fake, "C9")
    parent_ts = calls[0].body.get("thread_ts")
    assert parent_ts is None and all(c.body["thread_ts"] == "1800000000.000001" for c in calls[1:])
    for c in calls:
        assert_valid(c.body)


def test_two_runs_at_once_post_once(data_dir, fake, tmp_path, monkeypatch):
    make_runner(data_dir, fake).run(["C1"], DAY1)
    add_new_bulletins(tmp_path, data_dir, monkeypatch)
    barrier = threading.Barrier(4)
    results = []

    def run():
        runner = make_runner(data_dir, fake, store=SQLiteStore(data_dir / "bot.sqlite"))  # its own connection
        barrier.wait()
        results.extend(runner.run(["C1"], DAY2))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(posts(fake, "C1")) == 1
    assert sorted(o.status for o in results).count("posted") == 1
    assert set(o.status for o in results) <= {"posted", "busy", "done"}


def test_a_429_honours_retry_after_then_posts_once(data_dir, fake, tmp_path, monkeypatch):
    make_runner(data_dir, fake).run(["C1"], DAY1)
    add_new_bulletins(tmp_path, data_dir, monkeypatch)
    fake.rate_limit_next("chat.postMessage", retry_after=1)
    [outcome] = make_runner(data_dir, fake).run(["C1"], DAY2)
    attempts = fake.calls_to("chat.postMessage")
    assert outcome.status == "posted" and [c.status for c in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 0.9


@pytest.mark.parametrize("error,status", [("not_in_channel", 200), ("internal_error", 500)])
def test_a_failed_post_is_logged_and_retried_at_the_next_run(data_dir, fake, tmp_path, monkeypatch, caplog, error, status):
    make_runner(data_dir, fake).run(["C1"], DAY1)
    add_new_bulletins(tmp_path, data_dir, monkeypatch)
    fake.fail_next("chat.postMessage", error, status=status)
    [failed] = make_runner(data_dir, fake).run(["C1"], DAY2)
    assert failed.status == "failed" and failed.error == error and len(fake.calls_to("chat.postMessage")) == 1
    assert error in caplog.text
    [resumed] = make_runner(data_dir, fake).run(["C1"], DAY2 + timedelta(hours=1))
    assert resumed.status == "posted" and len(fake.calls_to("chat.postMessage")) == 2
    assert make_runner(data_dir, fake).run(["C1"], DAY2 + timedelta(hours=2))[0].status == "done"


def test_a_failure_mid_thread_resumes_in_the_same_thread_without_reposting(data_dir, fake):
    sleeps = Sleeps()
    runner = make_runner(data_dir, fake, first_days=40, sleeps=sleeps)
    ok = 3  # the parent and two replies go through; the connection drops on the next one
    calls = {"n": 0}
    real = runner.client.chat_postMessage

    def flaky(**kw):
        calls["n"] += 1
        if calls["n"] == ok + 1:
            raise OSError("connection reset")
        return real(**kw)

    runner.client.chat_postMessage = flaky
    [failed] = runner.run(["C1"], DAY1)
    assert failed.status == "failed" and failed.posted == ok
    assert all(s >= MIN_POST_SPACING for s in sleeps.calls) and len(sleeps.calls) == ok
    [resumed] = make_runner(data_dir, fake, first_days=40).run(["C1"], DAY1 + timedelta(minutes=20))
    calls_now = posts(fake, "C1")
    assert resumed.status == "posted" and len(calls_now) == failed.messages
    assert len({json.dumps(c.body["blocks"]) for c in calls_now}) == failed.messages  # nothing posted twice
    assert all(c.body["thread_ts"] == "1800000000.000001" for c in calls_now[1:])


def test_posts_to_one_channel_are_spaced_at_least_one_second(data_dir, fake):
    sleeps = Sleeps()
    [outcome] = make_runner(data_dir, fake, first_days=40, sleeps=sleeps).run(["C1"], DAY1)
    assert outcome.messages > 2
    assert len(sleeps.calls) == outcome.messages - 1 and all(s >= MIN_POST_SPACING for s in sleeps.calls)


def test_a_crashed_claimers_claim_is_taken_over_after_it_expires(data_dir, fake, tmp_path, monkeypatch):
    store = SQLiteStore(data_dir / "bot.sqlite")
    make_runner(data_dir, fake, store=store).run(["C1"], DAY1)
    add_new_bulletins(tmp_path, data_dir, monkeypatch)
    assert store.claim_digest("C1", "2025-06-02", "crashed", DAY2.timestamp(), 900) is not None
    assert make_runner(data_dir, fake).run(["C1"], DAY2)[0].status == "busy"
    assert make_runner(data_dir, fake).run(["C1"], DAY2 + timedelta(seconds=901))[0].status == "posted"
    assert len(posts(fake)) == 1


def test_nothing_new_posts_nothing_or_nothing_new_when_configured(data_dir, fake):
    assert make_runner(data_dir, fake).run(["C1"], DAY1)[0].status == "empty"
    assert make_runner(data_dir, fake, post_empty=True).run(["C2"], DAY1)[0].status == "posted"
    [call] = posts(fake)
    assert call.body["channel"] == "C2" and "Nothing new" in call.body["text"]


# -- command line ---------------------------------------------------------------------------------
def test_cli_dry_run_prints_json_that_slacks_block_models_accept(data_dir, fake, monkeypatch, tmp_path):
    add_new_bulletins(tmp_path, data_dir, monkeypatch)
    monkeypatch.chdir(tmp_path)
    env = {"DIGEST_CHANNELS": "C1,C2", "DIGEST_TZ": "Asia/Shanghai", "SLACK_API_URL": fake.api_url}
    result = CliRunner().invoke(cli.main, ["digest", "--dry-run", "--since", "2025-05-20", "--data-dir", str(data_dir)],
                                env={**env, "SLACK_BOT_TOKEN": ""})
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [d["channel"] for d in lines] == ["C1", "C2"]
    for d in lines:
        assert set(d) == {"channel", "messages"} and len(d["messages"]) == 1
        for m in d["messages"]:
            assert set(m) == {"text", "blocks"}
            assert_valid(m)
        assert item_titles(d["messages"])[-1] == "1. Wombat Act adopted"
    assert fake.calls == [] and SQLiteStore(data_dir / "bot.sqlite").digests() == []


def test_cli_posts_once_per_channel_and_day(data_dir, fake, monkeypatch, tmp_path):
    add_new_bulletins(tmp_path, data_dir, monkeypatch)
    monkeypatch.chdir(tmp_path)
    env = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": fake.api_url, "DIGEST_FIRST_DAYS": "1"}
    args = ["digest", "--channel", "C7", "--since", "2025-05-31", "--data-dir", str(data_dir)]
    first = CliRunner().invoke(cli.main, args, env=env)
    assert first.exit_code == 0 and "C7" in first.output and "posted 1 message" in first.output, first.output
    second = CliRunner().invoke(cli.main, args, env=env)
    assert second.exit_code == 0 and "already posted" in second.output
    assert len(posts(fake, "C7")) == 1


def test_cli_without_a_channel_says_so(data_dir, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli.main, ["digest", "--dry-run", "--data-dir", str(data_dir)], env={"DIGEST_CHANNELS": ""})
    assert result.exit_code == 2 and "DIGEST_CHANNELS" in result.output


# -- settings and scheduling -------------------------------------------------------------------
def test_digest_settings_are_validated_and_name_the_variable():
    base = {"SLACK_BOT_TOKEN": "xoxb-x"}
    s = Settings.from_env({**base, "DIGEST_CHANNELS": "C123, C456,C123", "DIGEST_TIME": "7:05",
                           "DIGEST_TZ": "Asia/Shanghai", "DIGEST_FIRST_DAYS": "3", "DIGEST_POST_EMPTY": "yes"}, dotenv=None)
    assert (s.digest_channels, s.digest_time, s.digest_tz, s.digest_first_days, s.digest_post_empty) == (
        ("C123", "C456"), "07:05", "Asia/Shanghai", 3, True)
    d = Settings.from_env(base, dotenv=None)
    assert (d.digest_channels, d.digest_time, d.digest_tz, d.digest_first_days, d.digest_post_empty) == ((), "09:00", "UTC", 7, False)
    for name, bad in [("DIGEST_TIME", "24:00"), ("DIGEST_TIME", "9am"), ("DIGEST_TZ", "Mars/Olympus"),
                      ("DIGEST_CHANNELS", "#general"), ("DIGEST_FIRST_DAYS", "0"), ("DIGEST_POST_EMPTY", "maybe")]:
        with pytest.raises(SettingsError, match=name):
            Settings.from_env({**base, name: bad}, dotenv=None)
    assert Settings.from_env({}, dotenv=None, require_token=False).bot_token == ""


def test_scheduler_fires_at_the_local_time_and_its_job_posts(data_dir, fake):
    runner = make_runner(data_dir, fake, first_days=40)
    scheduler = start_scheduler(runner, ["C1"], "09:30", TZ, clock=lambda: DAY1)
    try:
        job = scheduler.get_job("digest")
        nxt = job.next_run_time
        assert (nxt.hour, nxt.minute, nxt.utcoffset()) == (9, 30, timedelta(hours=8))
        job.func()
        job.func()  # a second firing the same day posts nothing more
        scheduler.get_job("digest-retry").func()
    finally:
        scheduler.shutdown(wait=False)
    assert len(posts(fake, "C1")) == SQLiteStore(data_dir / "bot.sqlite").digest("C1", "2025-06-01").posted > 1


def test_a_store_outage_at_posting_time_postpones_the_digest_to_the_retry(data_dir, fake, monkeypatch):
    import sqlite3

    from bot.state.resilient import ResilientStore

    inner = SQLiteStore(data_dir / "bot.sqlite")
    down = {"on": True}
    real_digests = inner.digests

    def digests(*args, **kwargs):
        if down["on"]:
            raise sqlite3.OperationalError("disk I/O error")
        return real_digests(*args, **kwargs)

    monkeypatch.setattr(inner, "digests", digests)
    monkeypatch.setattr(inner, "ping", lambda: not down["on"])
    store = ResilientStore(inner, probe_every=0.05)
    scheduler = start_scheduler(make_runner(data_dir, fake, store=store, first_days=40), ["C1"], "09:30", TZ,
                                clock=lambda: DAY1)
    try:
        scheduler.get_job("digest").func()  # the store is down at posting time: postponed, not raised
        assert not posts(fake, "C1") and not store.available
        scheduler.get_job("digest-retry").func()  # still down: nothing yet
        assert not posts(fake, "C1")
        down["on"] = False
        deadline = time.monotonic() + 10
        while not store.available:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        scheduler.get_job("digest-retry").func()  # back: the retry posts the day's digest whole
    finally:
        scheduler.shutdown(wait=False)
    assert posts(fake, "C1") and inner.digest("C1", "2025-06-01").state == "done"


# -- a bulletin ingested while serving --------------------------------------------------------
def test_ingest_during_serve_the_next_question_and_digest_see_the_new_bulletin(data_dir, fake, tmp_path, monkeypatch):
    searcher = Searcher(data_dir, HashEncoder())
    with BotUnderTest(fake, searcher, data_dir) as bot:
        runner = DigestRunner(bot.store, client_for(fake), lambda: searcher.index, tz=TZ,
                              spacer=Spacer(Sleeps().sleep, Sleeps().monotonic))
        assert runner.run(["C5"], DAY1)[0].status == "empty"
        question = "quokka authority fines zebra corp marsupial"
        bot.send_event(mention(question, ts="10.1"))
        before = fake.wait_for("chat.postMessage")[0]
        assert "Quokka Authority" not in json.dumps(before.body)
        generation = searcher.index.generation

        add_new_bulletins(tmp_path, data_dir, monkeypatch)  # while the server runs

        bot.send_event(mention(question, ts="10.2"))
        after = fake.wait_for("chat.postMessage", 2)[1]
        bot.wait_idle()
        assert searcher.index.generation != generation
        assert "The Quokka Authority fined Zebra Corp 2 million" in json.dumps(after.body, ensure_ascii=False)
        [outcome] = runner.run(["C5"], DAY2)
        assert outcome.status == "posted"
        digest_call = posts(fake, "C5")[0]
        assert "1. Quokka Authority fines Zebra Corp" in item_titles([digest_call.body])
