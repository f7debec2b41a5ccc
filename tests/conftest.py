"""Shared fixtures: a deterministic fake encoder and data directories ingested from the shipped corpus.

The shipped corpus is indexed once per session (:func:`shipped_index`); :func:`indexed` gives each test
its own copy of that data directory (a copy costs milliseconds, an ingest about a second), and
:func:`corpus_copy` a fresh copy of the corpus, always at the session's one corpus path, where the
copied index expects its files (it records each bulletin's resolved path).
"""

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
#: One shipped bulletin (the one the real-model tests ask about: the Nantong school's fine), for tests
#: that embed with the real model; its sidecar comes with it.
ONE_BULLETIN = CORPUS / "china-cybersecurity-data-protection-2019-08.txt"

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


@pytest.fixture(scope="session")
def shipped_corpus(tmp_path_factory) -> Path:
    """The session's one path for a copy of the shipped corpus (see :func:`corpus_copy`)."""
    return tmp_path_factory.mktemp("shipped") / "corpus"


@pytest.fixture(scope="session")
def shipped_index(shipped_corpus: Path) -> Path:
    """The shipped corpus at :func:`shipped_corpus`, indexed once for the session with the fake encoder.
    Never handed to a test as is: :func:`indexed` copies it."""
    shutil.copytree(CORPUS, shipped_corpus)
    data_dir = shipped_corpus.parent / "data"
    report = ingest([shipped_corpus], data_dir, HashEncoder())
    assert not report.errors, report.errors
    return data_dir


@pytest.fixture
def corpus_copy(shipped_corpus: Path, shipped_index: Path) -> Path:
    """A writable copy of the shipped corpus/ (bulletins and their .meta.toml sidecars), fresh for each
    test, at the session's corpus path (so :func:`indexed` knows its files). Its parent is not the
    test's: put other files under ``tmp_path``."""
    shutil.rmtree(shipped_corpus, ignore_errors=True)
    shutil.copytree(CORPUS, shipped_corpus)
    return shipped_corpus


@pytest.fixture
def indexed(tmp_path: Path, corpus_copy: Path, shipped_index: Path) -> Path:
    """This test's data directory holding an index of the whole shipped corpus (in :func:`corpus_copy`),
    built with the fake encoder: a copy of :func:`shipped_index`, so a test may change it freely."""
    data_dir = tmp_path / "data"
    shutil.copytree(shipped_index, data_dir)
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
