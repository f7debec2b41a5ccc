"""The test suite does not inherit the bot's variables from the shell that runs it (conftest.py scrubs them)."""

from __future__ import annotations

import os
import subprocess
import sys

from bot.config import LogSettings, Settings
from tests.conftest import ROOT

BOT_VARIABLE_PREFIXES = ("SLACK_", "BULLETIN_BOT_", "LOG_", "DIGEST_")


def test_no_bot_variable_is_visible_inside_a_test():
    assert not [name for name in os.environ if name.startswith(BOT_VARIABLE_PREFIXES)]
    assert LogSettings.from_env(dotenv=None) == LogSettings()
    assert Settings.from_env(dotenv=None, require_token=False) == Settings(bot_token="")


def test_a_shell_with_bad_bot_variables_does_not_fail_the_suite():
    env = {**os.environ, "LOG_FORMAT": "xml", "LOG_LEVEL": "LOUD", "BULLETIN_BOT_TOP_K": "99", "DIGEST_TZ": "Nowhere"}
    res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "tests/test_evaluate.py::test_eval_cli_json", "tests/test_environment.py::"
                          "test_no_bot_variable_is_visible_inside_a_test"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
