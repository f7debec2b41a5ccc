"""Shared fixtures: a deterministic fake encoder and data directories ingested from the shipped corpus."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from retrieval.ingest import ingest
from tests import pg  # reads BULLETIN_BOT_TEST_DATABASE_URL now, before _clean_bot_environment clears it
from tests.fakes import HashEncoder

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
#: Bulletins shipped in corpus/ (each .txt there is one).
N_BULLETINS = len(list(CORPUS.glob("*.txt")))

#: Prefixes of the environment variables the bot reads (bot/config.py, bot/cli/options.py): a test never
#: inherits them from the shell that runs pytest.
BOT_VARIABLE_PREFIXES = ("SLACK_", "BULLETIN_BOT_", "LOG_", "DIGEST_")


@pytest.fixture(autouse=True)
def _clean_bot_environment(monkeypatch) -> None:
    """Remove every variable the bot reads, so ``LOG_FORMAT=xml pytest`` tests the defaults."""
    for name in list(os.environ):
        if name.startswith(BOT_VARIABLE_PREFIXES):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def encoder() -> HashEncoder:
    """A fresh hash-seeded fake encoder (64 dimensions)."""
    return HashEncoder()


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped corpus/ (bulletins and their .meta.toml sidecars)."""
    dst = tmp_path / "corpus"
    shutil.copytree(CORPUS, dst)
    return dst


@pytest.fixture
def indexed(tmp_path: Path, corpus_copy: Path, encoder: HashEncoder) -> Path:
    """A data directory holding an index of the whole shipped corpus, built with the fake encoder."""
    data_dir = tmp_path / "data"
    report = ingest([corpus_copy], data_dir, encoder)
    assert not report.errors, report.errors
    return data_dir


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The URL of the real PostgreSQL server for the tests (see :mod:`tests.pg`): skips without one,
    fails when one is configured but unreachable."""
    if pg.TEST_DATABASE_URL is None:
        pytest.skip(pg.SKIP_REASON)
    pg.check_reachable(pg.TEST_DATABASE_URL)
    return pg.TEST_DATABASE_URL


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """:func:`pg_server`'s URL, with the database emptied for this test."""
    pg.reset(pg_server)
    return pg_server
