"""A watched inbox: bulletin files dropped into a folder are ingested (``bulletin-bot ingest --watch``).

:class:`Inbox` polls a folder every ``interval`` seconds. A file is ingested once its size and
modification time have stayed the same for one whole interval (so a file still being written or
copied waits), and again whenever it changes. A PDF attached to an ``.eml`` newsletter is saved
beside it as ``<e-mail stem>--<attachment name>`` and so becomes a bulletin of its own. Each ingest
logs one line; a bad file is reported once (until it changes) and never stops the others.

The folder is ``--inbox`` or ``BULLETIN_BOT_INBOX_DIR``, default ``DATA_DIR/inbox`` (created if missing; read
by :mod:`bot.cli.commands`).
"""

from __future__ import annotations

import logging
import os
import re
import threading
from pathlib import Path
from typing import Callable

from retrieval.intake.sources import is_bulletin_file

log = logging.getLogger("bot.server.inbox")

#: Default polling interval, in seconds.
DEFAULT_INTERVAL = 2.0

#: Ingests the given files and returns an :class:`~retrieval.ingest.IngestReport`.
IngestFn = Callable[[list[Path]], object]


class Inbox:
    """Polls ``folder`` and ingests stable bulletin files with ``ingest``.

    Args:
        folder: the watched folder (created if missing; not recursive).
        ingest: called with the list of files ready to ingest; returns an IngestReport (its
            ``added``, ``updated``, ``unchanged`` and ``errors`` are read for the log line).
        interval: seconds between polls (> 0); a file must be unchanged over one interval.
        echo: where the one line per ingest goes (default: the ``bot.server.inbox`` logger at INFO).
    """

    def __init__(self, folder: Path, ingest: IngestFn, interval: float = DEFAULT_INTERVAL,
                 echo: Callable[[str], None] | None = None):
        if interval <= 0:
            raise ValueError(f"interval must be > 0 seconds, got {interval}")
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.ingest, self.interval = ingest, interval
        self.echo = echo or log.info
        self._seen: dict[str, tuple[int, int]] = {}  # name -> (size, mtime_ns) at the previous poll
        self._done: dict[str, tuple[int, int]] = {}  # name -> (size, mtime_ns) when last ingested (or failed)

    def poll(self) -> list[Path]:
        """One look at the folder: ingest the files stable since the previous poll; returns them."""
        now: dict[str, tuple[int, int]] = {}
        for path in self.folder.iterdir():
            try:
                if is_bulletin_file(path):
                    st = path.stat()
                    now[path.name] = (st.st_size, st.st_mtime_ns)
            except OSError:
                continue  # vanished between listing and stat
        ready = [self.folder / name for name, state in sorted(now.items())
                 if self._seen.get(name) == state and self._done.get(name) != state and state[0] > 0]
        self._seen = now
        if not ready:
            return []
        for path in ready:
            if path.suffix.lower() == ".eml":
                self._save_attachments(path)
        report = self.ingest(ready)
        for path in ready:
            self._done[path.name] = now[path.name]
        self.echo(_summary(ready, report))
        return ready

    def run(self, stop: threading.Event) -> None:
        """Poll every ``interval`` seconds until ``stop`` is set (a poll's error is logged, not raised)."""
        while not stop.is_set():
            try:
                self.poll()
            except Exception:  # noqa: BLE001 - the watcher outlives one bad poll
                log.exception("inbox %s: polling failed; trying again in %.1f s", self.folder, self.interval)
            stop.wait(self.interval)

    def _save_attachments(self, eml: Path) -> None:
        """Save the e-mail's PDF attachments beside it (atomically) so they are ingested too."""
        from retrieval.intake.email import pdf_attachments

        try:
            attachments = pdf_attachments(eml.read_bytes())
        except Exception:  # noqa: BLE001 - a broken e-mail is reported by its ingest
            return
        for name, data in attachments:
            safe = re.sub(r"[^\w.-]+", "_", Path(name).name).strip("._") or "attachment.pdf"
            if not safe.lower().endswith(".pdf"):
                safe += ".pdf"
            target = self.folder / f"{eml.stem}--{safe}"
            if target.exists() and target.read_bytes() == data:
                continue
            tmp = self.folder / f".{target.name}.part"
            tmp.write_bytes(data)
            os.replace(tmp, target)
            self.echo(f"inbox: saved PDF attachment {name} of {eml.name} as {target.name}")


def start_watching(folder: Path, ingest: IngestFn, interval: float, stop: threading.Event) -> threading.Thread:
    """Run an :class:`Inbox` on ``folder`` in a daemon thread until ``stop`` is set (``serve`` uses it)."""
    inbox = Inbox(folder, ingest, interval)
    log.info("watching %s every %g s for bulletin files", inbox.folder, interval)
    thread = threading.Thread(target=inbox.run, args=(stop,), name="inbox", daemon=True)
    thread.start()
    return thread


def watch(folder: Path, ingest: IngestFn, interval: float, echo: Callable[[str], None]) -> None:
    """Run an :class:`Inbox` on folder in this thread until Ctrl-C (KeyboardInterrupt), saying so through echo."""
    inbox = Inbox(folder, ingest, interval, echo=echo)
    echo(f"watching {inbox.folder} every {interval:g} s (Ctrl-C stops)")
    stop = threading.Event()
    try:
        inbox.run(stop)
    except KeyboardInterrupt:
        stop.set()
        echo("stopped watching the inbox")


def _summary(files: list[Path], report) -> str:
    """The one log line of an ingest: what each file became, and each error in a sentence."""
    parts = [f"{k} {', '.join(getattr(report, k))}" for k in ("added", "updated", "unchanged") if getattr(report, k, None)]
    errors = [f"{Path(e['file']).name}: {e['error']}" for e in getattr(report, "errors", [])]
    if errors:
        parts.append("not ingested " + "; ".join(errors))
    if getattr(report, "refused", None):
        parts.append(report.refused)
    return f"inbox: {len(files)} file(s): " + ("; ".join(parts) or "nothing to do")
