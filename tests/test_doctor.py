"""bulletin-bot doctor against the fake Slack Web API: a good token, a bad one, missing scopes; .env.example."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot import cli
from bot.cli import options as cli_options
from bot.doctor import FAIL, OK, SKIP, check_scopes, manifest_scopes
from tests.fakes import HashEncoder
from tests.slack_fake import BOT_SCOPES, FakeSlack

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "manifest.yml"
TOKEN = "xoxb-42-42-doctorSecret"
APP_TOKEN = "xapp-1-A42-42-appSecret"
SIGNING = "signing-secret-for-doctor"
UNSET = ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_API_URL", "BULLETIN_BOT_DATA_DIR",
         "LOG_LEVEL", "LOG_FORMAT", "LOG_QUESTIONS", "BULLETIN_BOT_HTTP_PORT", "BULLETIN_BOT_FOLLOW_THREADS")


@pytest.fixture
def fake():
    with FakeSlack() as server:
        yield server


@pytest.fixture
def doctor(monkeypatch, tmp_path):
    """Run ``bulletin-bot doctor ARGS`` with ``env`` (nothing else from the environment or a .env);
    returns (exit code, output, checks by name from --json)."""
    monkeypatch.setattr(cli_options, "make_encoder", lambda model, data_dir=None: HashEncoder())
    monkeypatch.chdir(tmp_path)

    def run(env: dict, *args: str):
        result = CliRunner().invoke(cli.main, ["doctor", "--manifest", str(MANIFEST), "-vv", *args],
                                    env={**{k: None for k in UNSET}, **env})
        checks = {c["name"]: c for c in json.loads(result.stdout)} if "--json" in args else None
        return result.exit_code, result.output, checks  # output: stdout and stderr (the -vv log)

    return run


def good_env(fake, data_dir) -> dict:
    return {"SLACK_BOT_TOKEN": TOKEN, "SLACK_APP_TOKEN": APP_TOKEN, "SLACK_SIGNING_SECRET": SIGNING,
            "SLACK_API_URL": fake.api_url, "BULLETIN_BOT_DATA_DIR": str(data_dir)}


def test_all_good(doctor, fake, indexed):
    code, out, _ = doctor(good_env(fake, indexed))
    assert code == 0, out
    for name in ("configuration", "slack token", "scopes", "app token", "data directory", "state store", "index",
                 "model"):
        assert re.search(rf"^OK +{name} ", out, re.M), (name, out)
    assert "all checks passed" in out and "bulletin-bot (UBOT)" in out
    assert [c.method for c in fake.calls] == ["auth.test", "apps.connections.open"]
    assert TOKEN not in out and APP_TOKEN not in out and SIGNING not in out


def test_bad_token_says_what_to_fix_and_never_shows_it(doctor, fake, indexed):
    fake.fail_next("auth.test", "invalid_auth")
    code, out, checks = doctor(good_env(fake, indexed), "--json")
    assert code == 1
    assert checks["slack token"]["status"] == FAIL and "invalid_auth" in checks["slack token"]["detail"]
    assert "OAuth & Permissions" in checks["slack token"]["fix"] and "SLACK_BOT_TOKEN" in checks["slack token"]["fix"]
    assert checks["scopes"]["status"] == SKIP and checks["index"]["status"] == OK
    # the -vv debug log of the same run (slack_sdk's requests included) holds no secret either
    assert TOKEN not in out and APP_TOKEN not in out and SIGNING not in out and "Sending a request" in out


def test_missing_scope_and_bad_app_token(doctor, fake, indexed):
    fake.scopes = [s for s in BOT_SCOPES if s != "reactions:write"]
    fake.fail_next("apps.connections.open", "invalid_auth")
    code, out, _ = doctor(good_env(fake, indexed))
    assert code == 1
    assert re.search(r"^FAIL +scopes +the token lacks reactions:write", out, re.M), out
    assert "reinstall the app" in out
    assert re.search(r"^FAIL +app token +apps.connections.open answered invalid_auth", out, re.M)
    assert "App-Level Tokens" in out and APP_TOKEN not in out


def test_unreachable_slack_and_no_index(doctor, tmp_path):
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SIGNING, "SLACK_API_URL": "http://127.0.0.1:9/api/",
           "BULLETIN_BOT_DATA_DIR": str(tmp_path / "empty")}
    code, out, checks = doctor(env, "--json")
    assert code == 1
    assert checks["configuration"]["status"] == OK and "HTTP mode" in checks["configuration"]["detail"]
    assert checks["slack token"]["status"] == FAIL and "SLACK_API_URL" in checks["slack token"]["fix"]
    assert checks["index"]["status"] == FAIL and "bulletin-bot ingest" in checks["index"]["fix"]
    assert checks["model"]["status"] == OK and checks["data directory"]["status"] == OK


@pytest.mark.parametrize("env, detail", [
    ({}, "SLACK_BOT_TOKEN is not set"),
    ({"SLACK_BOT_TOKEN": TOKEN, "BULLETIN_BOT_HTTP_PORT": "0x"}, "BULLETIN_BOT_HTTP_PORT must be an integer"),
    ({"SLACK_BOT_TOKEN": TOKEN}, "neither SLACK_APP_TOKEN nor SLACK_SIGNING_SECRET is set"),
])
def test_configuration_failures_name_the_variable(doctor, tmp_path, env, detail):
    code, out, checks = doctor(env, "--json")
    assert code == 1
    assert checks["configuration"]["status"] == FAIL and detail in checks["configuration"]["detail"]
    assert checks["configuration"]["fix"] and TOKEN not in out


def test_model_that_is_not_the_index_model(doctor, fake, indexed, monkeypatch):
    monkeypatch.setattr(cli_options, "make_encoder", lambda model, data_dir=None: HashEncoder(dimension=32, name="other/model"))
    code, _, checks = doctor(good_env(fake, indexed), "--json")
    assert code == 1 and checks["model"]["status"] == FAIL
    assert "BULLETIN_BOT_MODEL=test/hash-encoder" in checks["model"]["fix"]


def test_manifest_scopes_and_follow_threads():
    assert manifest_scopes(MANIFEST) == list(BOT_SCOPES)
    assert check_scopes(",".join(BOT_SCOPES), MANIFEST).status == OK
    follow = check_scopes(",".join(BOT_SCOPES), MANIFEST, follow_threads=True)
    assert follow.status == FAIL and "channels:history" in follow.detail
    assert check_scopes(None, MANIFEST).status == "warn"


def test_env_example_lists_every_variable_the_program_reads():
    """.env.example names each variable read by bot/config.py, the CLI options and the retrieval package."""
    example = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.M))
    sources = [ROOT / "bot" / "config.py", *sorted((ROOT / "bot" / "cli").glob("*.py")),
               *sorted((ROOT / "retrieval" / "encoders").glob("*.py"))]
    read = set()
    for path in sources:
        text = path.read_text()
        read |= set(re.findall(r'get\(\s*"([A-Z][A-Z0-9_]+)"', text))  # config's get("NAME")
        read |= set(re.findall(r'_(?:int|bool|channels|hhmm|zone)\(get, "([A-Z][A-Z0-9_]+)"', text))
        read |= set(re.findall(r'envvar="([A-Z][A-Z0-9_]+)"', text))
        read |= set(re.findall(r'^[A-Z_]+_ENV = "([A-Z][A-Z0-9_]+)"', text, re.M))
    read |= {"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "LOG_LEVEL", "LOG_FORMAT", "LOG_QUESTIONS"}
    read -= {"XDG_CACHE_HOME"}  # the desktop standard's cache root, not a bot setting: named in BULLETIN_BOT_ONNX_DIR's comment
    assert read - listed == set(), f"add to .env.example: {sorted(read - listed)}"
    lines = example.splitlines()
    assignment = re.compile(r"^#?\s*[A-Z][A-Z0-9_]+=")
    for i, line in enumerate(lines):  # each variable has its own comment on the line above
        if assignment.match(line):
            assert i > 0 and lines[i - 1].startswith("#") and not assignment.match(lines[i - 1]), line
