"""Logging: LOG_* settings validated, secrets masked in every record, the one structured line per answer."""

from __future__ import annotations

import io
import json
import logging

import pytest
from click.testing import CliRunner

from bot import logs
from bot.config import LogSettings, Settings, SettingsError
from retrieval.search.searcher import Searcher
from tests.fakes import HashEncoder
from tests.slack_client import BotUnderTest, mention, message
from tests.slack_fake import FakeSlack

TOKEN = "xoxb-1111-2222-SeCrEtBoT"
SIGNING = "0123456789abcdef-signing"
QUESTION = "can an employer geolocate remote workers in smart working"


@pytest.fixture
def captured():
    """A redacting handler on the root logger writing into a buffer; removed afterwards."""
    buf = io.StringIO()
    handler = logs.configure("DEBUG", "text", secrets=[TOKEN, SIGNING], stream=buf)
    yield buf
    logging.getLogger().removeHandler(handler)


# -- settings ------------------------------------------------------------------------------------
def test_log_settings_defaults_and_values():
    s = LogSettings.from_env({}, dotenv=None)
    assert (s.level, s.format, s.questions, s.secrets) == (None, "text", False, ())
    s = LogSettings.from_env({"LOG_LEVEL": "info", "LOG_FORMAT": "JSON", "LOG_QUESTIONS": "yes",
                              "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SIGNING}, dotenv=None)
    assert (s.level, s.format, s.questions, set(s.secrets)) == ("INFO", "json", True, {TOKEN, SIGNING})
    assert TOKEN not in repr(s) and SIGNING not in repr(s)


@pytest.mark.parametrize("env, msg", [
    ({"LOG_LEVEL": "loud"}, "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got 'loud'"),
    ({"LOG_FORMAT": "xml"}, "LOG_FORMAT must be text or json, got 'xml'"),
    ({"LOG_QUESTIONS": "sometimes"}, "LOG_QUESTIONS must be true or false, got 'sometimes'"),
])
def test_bad_log_settings_name_the_variable(env, msg):
    with pytest.raises(SettingsError) as info:
        LogSettings.from_env({**env, "SLACK_BOT_TOKEN": TOKEN}, dotenv=None)
    assert msg in str(info.value) and TOKEN not in str(info.value)


@pytest.mark.parametrize("env, msg", [
    ({"BULLETIN_BOT_HTTP_PORT": "http"}, "BULLETIN_BOT_HTTP_PORT must be an integer between 1 and 65535, got 'http'"),
    ({"BULLETIN_BOT_HTTP_PORT": "70000"}, "BULLETIN_BOT_HTTP_PORT must be between 1 and 65535, got 70000"),
    ({"LOG_QUESTIONS": "2"}, "LOG_QUESTIONS must be true or false"),
])
def test_serve_settings_name_the_bad_variable(env, msg):
    with pytest.raises(SettingsError) as info:
        Settings.from_env({"SLACK_BOT_TOKEN": TOKEN, **env}, dotenv=None)
    assert msg in str(info.value) and TOKEN not in str(info.value)


def test_serve_settings_host_port_and_questions():
    s = Settings.from_env({"SLACK_BOT_TOKEN": TOKEN, "BULLETIN_BOT_HTTP_PORT": "8080", "LOG_QUESTIONS": "1"},
                          dotenv=None)
    assert (s.http_host, s.http_port, s.log_questions) == ("0.0.0.0", 8080, True)
    assert Settings.from_env({"SLACK_BOT_TOKEN": TOKEN}, dotenv=None, http_port=0).http_port == 0
    assert TOKEN not in repr(s) and TOKEN not in str(s)


def test_cli_refuses_a_bad_log_format_in_one_line(tmp_path, monkeypatch):
    from bot.cli import main

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["stats", "--data-dir", str(tmp_path)], env={"LOG_FORMAT": "xml"})
    assert result.exit_code == 1
    assert "error: LOG_FORMAT must be text or json, got 'xml'" in result.output and "Traceback" not in result.output


# -- redaction -----------------------------------------------------------------------------------
def test_secrets_are_masked_in_message_args_extra_and_traceback(captured):
    log = logging.getLogger("bot.test")
    log.info("token %s and secret %s", TOKEN, SIGNING)
    log.warning("user pasted xoxp-9999-8888-abc and xapp-1-A0-123-def", extra={"question": f"why {TOKEN}?"})
    try:
        raise RuntimeError(f"auth failed for {TOKEN}")
    except RuntimeError:
        log.exception("call failed")
    logging.getLogger("slack_sdk.web").debug("headers %s", {"Authorization": f"Bearer {TOKEN}"})
    out = captured.getvalue()
    assert TOKEN not in out and SIGNING not in out
    assert "xoxp-" not in out and "xapp-" not in out and "xoxb-" not in out
    assert out.count(logs.MASK) >= 6 and "RuntimeError" in out and "call failed" in out


def test_json_lines_carry_the_extra_fields(tmp_path):
    buf = io.StringIO()
    handler = logs.configure("INFO", "json", secrets=[TOKEN], stream=buf)
    try:
        logging.getLogger("bot.x").info("hello %s", TOKEN, extra={"surface": "dm", "hits": 2, "q": TOKEN})
    finally:
        logging.getLogger().removeHandler(handler)
    line = json.loads(buf.getvalue().strip())
    assert line["level"] == "INFO" and line["logger"] == "bot.x" and line["time"].endswith("Z")
    assert (line["message"], line["surface"], line["hits"], line["q"]) == (f"hello {logs.MASK}", "dm", 2, logs.MASK)


def test_configure_replaces_its_own_handler_only():
    root = logging.getLogger()
    other = logging.NullHandler()
    root.addHandler(other)
    try:
        first = logs.configure("INFO", "text", stream=io.StringIO())
        second = logs.configure("WARNING", "json", stream=io.StringIO())
        assert first not in root.handlers and second in root.handlers and other in root.handlers
        assert root.level == logging.WARNING
    finally:
        root.removeHandler(other)
        root.removeHandler(logging.getLogger().handlers[-1])


def test_short_secrets_are_not_masked():
    assert logs.RedactingFilter(["abc"]).redact("abc def") == "abc def"


# -- the line per answered question --------------------------------------------------------------
@pytest.fixture
def fake():
    with FakeSlack() as server:
        yield server


def _answer_lines(buf: io.StringIO) -> list[dict]:
    lines = [json.loads(line) for line in buf.getvalue().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == "answer"]


def test_one_structured_line_per_answered_question_and_no_secret_in_any_log(fake, indexed):
    buf = io.StringIO()
    handler = logs.configure("DEBUG", "json", secrets=["xoxb-test-token", "test-signing-secret"], stream=buf)
    try:
        with BotUnderTest(fake, Searcher(indexed, HashEncoder()), indexed) as bot:
            bot.send_event(mention(QUESTION, ts="100.1", channel="C9"))
            bot.send_event(message("zebra quokka xylophone", ts="100.2", channel="D4"))
            bot.send_command(QUESTION, fake.response_url("c1"), channel="C5")
            bot.wait_idle()
        with BotUnderTest(fake, Searcher(indexed, HashEncoder()), indexed, log_questions=True) as bot:
            bot.send_event(mention(QUESTION, ts="100.3", channel="C9"))
            bot.wait_idle()
    finally:
        logging.getLogger().removeHandler(handler)
    out = buf.getvalue()
    assert "xoxb-test-token" not in out and "test-signing-secret" not in out
    lines = _answer_lines(buf)
    first, last = lines[:3], lines[3:]  # the first three were answered concurrently, in any order
    assert sorted((e["surface"], e["channel"]) for e in first) == [("command", "C5"), ("dm", "D4"), ("mention", "C9")]
    assert [(e["surface"], e["channel"]) for e in last] == [("mention", "C9")]
    for line in lines:
        assert line["level"] == "INFO" and line["logger"] == "bot.slack.listeners"
        assert isinstance(line["latency_ms"], int) and line["latency_ms"] >= 0
        assert isinstance(line["hits"], int) and line["hits"] >= 0
        assert line["outcome"] in ("answered", "abstained")
        assert f"surface={line['surface']} channel={line['channel']}" in line["message"]
    assert all("question" not in line for line in first) and QUESTION not in json.dumps(first)
    assert last[0]["question"] == QUESTION and json.dumps(QUESTION) in last[0]["message"]


def test_create_app_honours_log_questions(fake, indexed):
    for on in (False, True):
        with BotUnderTest(fake, Searcher(indexed, HashEncoder()), indexed, log_questions=on) as bot:
            assert bot.app.responder.log_questions is on


def test_the_text_format_line(caplog):
    from bot.slack.listeners.reply import AnswerLog

    with caplog.at_level(logging.INFO, logger="bot.slack.listeners"):
        AnswerLog("thread", "C1", "a question", hits=3, answered=False, tier="related").emit(with_question=False)
    record = caplog.records[-1]
    assert record.getMessage().startswith("answer surface=thread channel=C1 latency_ms=")
    assert record.getMessage().endswith("hits=3 outcome=abstained tier=related") and record.outcome == "abstained"
    assert record.tier == "related"
