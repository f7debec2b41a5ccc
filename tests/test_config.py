"""bot.config: Settings.from_env validates, names the bad variable, and never shows a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings, SettingsError

ENV = {"SLACK_BOT_TOKEN": "xoxb-secret-bot", "SLACK_APP_TOKEN": "xapp-secret-app", "SLACK_SIGNING_SECRET": "sekrit"}


def test_defaults_and_secrets_hidden():
    s = Settings.from_env(ENV, dotenv=None)
    assert (s.api_url, s.top_k, s.workers, s.follow_threads, s.socket_mode) == ("https://slack.com/api/", 3, 4, False, True)
    assert "secret" not in repr(s) and "sekrit" not in repr(s)


def test_values_and_overrides():
    env = {**ENV, "SLACK_API_URL": "http://127.0.0.1:9/api", "BULLETIN_BOT_TOP_K": "5",
           "BULLETIN_BOT_FOLLOW_THREADS": "true", "SLACK_APP_TOKEN": ""}
    s = Settings.from_env(env, dotenv=None, data_dir="/tmp/d")
    assert (s.api_url, s.top_k, s.follow_threads, s.socket_mode) == ("http://127.0.0.1:9/api/", 5, True, False)
    assert s.store_path == Path("/tmp/d/bot.sqlite")


def test_dotenv_fills_in_but_the_environment_wins(tmp_path):
    (tmp_path / ".env").write_text("SLACK_BOT_TOKEN=xoxb-from-file\nBULLETIN_BOT_WORKERS=7\n")
    s = Settings.from_env({"BULLETIN_BOT_WORKERS": "2"}, dotenv=tmp_path / ".env")
    assert (s.bot_token, s.workers) == ("xoxb-from-file", 2)


@pytest.mark.parametrize("env, message", [
    ({}, "SLACK_BOT_TOKEN is not set"),
    ({"SLACK_BOT_TOKEN": "nope"}, "SLACK_BOT_TOKEN does not look like"),
    ({**ENV, "SLACK_APP_TOKEN": "xoxb-wrong"}, "SLACK_APP_TOKEN does not look like"),
    ({**ENV, "SLACK_API_URL": "slack.com"}, "SLACK_API_URL must be an http(s) URL, got 'slack.com'"),
    ({**ENV, "BULLETIN_BOT_TOP_K": "0"}, "BULLETIN_BOT_TOP_K must be between 1 and 10, got 0"),
    ({**ENV, "BULLETIN_BOT_WORKERS": "many"}, "BULLETIN_BOT_WORKERS must be an integer between 1 and 64, got 'many'"),
    ({**ENV, "BULLETIN_BOT_DEDUPE_SECONDS": "60"}, "BULLETIN_BOT_DEDUPE_SECONDS must be between 600"),
    ({**ENV, "BULLETIN_BOT_FOLLOW_THREADS": "maybe"}, "BULLETIN_BOT_FOLLOW_THREADS must be true or false"),
])
def test_bad_settings_name_the_variable(env, message):
    with pytest.raises(SettingsError) as info:
        Settings.from_env(env, dotenv=None)
    assert message in str(info.value) and "secret" not in str(info.value)


def test_http_mode_needs_the_signing_secret():
    with pytest.raises(SettingsError, match="SLACK_SIGNING_SECRET is not set"):
        Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1"}, dotenv=None).require_signing_secret()


@pytest.mark.parametrize("args, env, code, message", [
    ([], {"SLACK_BOT_TOKEN": "xoxb-1"}, 2, "set SLACK_APP_TOKEN for Socket Mode, or pass --http"),
    (["--http"], {"SLACK_BOT_TOKEN": "xoxb-1"}, 1, "SLACK_SIGNING_SECRET is not set"),
    ([], {}, 1, "SLACK_BOT_TOKEN is not set"),
])
def test_serve_refuses_to_start_without_what_its_mode_needs(args, env, code, message, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from bot.cli import main

    runner = CliRunner()
    blank = {k: None for k in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_API_URL")}
    monkeypatch.chdir(tmp_path)  # no .env from the working directory
    result = runner.invoke(main, ["serve", *args], env={**blank, **env})
    assert result.exit_code == code and message in result.output


def test_queue_size_setting():
    assert Settings.from_env(ENV, dotenv=None).queue_size == 100
    assert Settings.from_env({**ENV, "BULLETIN_BOT_QUEUE_SIZE": "25"}, dotenv=None).queue_size == 25
    for bad, message in (("0", "BULLETIN_BOT_QUEUE_SIZE must be between 1 and 10000, got 0"),
                         ("lots", "BULLETIN_BOT_QUEUE_SIZE must be an integer between 1 and 10000, got 'lots'")):
        with pytest.raises(SettingsError, match=message):
            Settings.from_env({**ENV, "BULLETIN_BOT_QUEUE_SIZE": bad}, dotenv=None)


def test_retention_days_setting():
    assert Settings.from_env(ENV, dotenv=None).retention_days == 90
    assert Settings.from_env({**ENV, "BULLETIN_BOT_RETENTION_DAYS": "30"}, dotenv=None).retention_days == 30
    with pytest.raises(SettingsError, match="BULLETIN_BOT_RETENTION_DAYS must be between 1 and 3650, got 0"):
        Settings.from_env({**ENV, "BULLETIN_BOT_RETENTION_DAYS": "0"}, dotenv=None)


def test_inbox_and_upload_settings():
    base = {"SLACK_BOT_TOKEN": "xoxb-x", "BULLETIN_BOT_DATA_DIR": "/srv/data"}
    d = Settings.from_env(base, dotenv=None)
    assert (d.inbox_path, d.ingest_allowed_users, d.upload_max_mb) == (Path("/srv/data/inbox"), (), 20)
    s = Settings.from_env({**base, "BULLETIN_BOT_INBOX_DIR": "/srv/drop", "BULLETIN_BOT_UPLOAD_MAX_MB": "5",
                           "BULLETIN_BOT_INGEST_ALLOWED_USERS": "U1, W2,U1"}, dotenv=None)
    assert (s.inbox_path, s.ingest_allowed_users, s.upload_max_mb) == (Path("/srv/drop"), ("U1", "W2"), 5)
    for name, bad in [("BULLETIN_BOT_INGEST_ALLOWED_USERS", "@alice"), ("BULLETIN_BOT_UPLOAD_MAX_MB", "0")]:
        with pytest.raises(SettingsError, match=name):
            Settings.from_env({**base, name: bad}, dotenv=None)


def test_faiss_threads_setting():
    from bot.config import SearchSettings

    assert SearchSettings.from_env({}, dotenv=None).faiss_threads == 1
    assert SearchSettings.from_env({"BULLETIN_BOT_FAISS_THREADS": "2"}, dotenv=None).faiss_threads == 2
    assert Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-x", "BULLETIN_BOT_FAISS_THREADS": "4"}, dotenv=None).faiss_threads == 4
    with pytest.raises(SettingsError, match="BULLETIN_BOT_FAISS_THREADS must be between 1 and 256, got 0"):
        SearchSettings.from_env({"BULLETIN_BOT_FAISS_THREADS": "0"}, dotenv=None)


def test_the_data_directory_alone(tmp_path):
    from bot.config import data_dir_from_env

    assert data_dir_from_env({}, dotenv=None) == Path("./data")
    (tmp_path / ".env").write_text("BULLETIN_BOT_DATA_DIR=/from/dotenv\n")
    assert data_dir_from_env({}, dotenv=tmp_path / ".env") == Path("/from/dotenv")
    assert data_dir_from_env({"BULLETIN_BOT_DATA_DIR": "/srv"}, dotenv=tmp_path / ".env") == Path("/srv")
