"""Where an uploaded bulletin is saved in the inbox folder: a name of its own, and who uploaded it.

An upload never replaces another person's bulletin. Each upload is recorded in ``<inbox>/.uploads.json``
(a hidden file, never read as a bulletin): stored file name → ``{"user", "name" (as uploaded),
"file_id", "at" (Unix seconds)}``. Then:

- the same user re-uploading the same name replaces their own earlier file (wherever it was stored);
- any other upload whose name is taken — a file in the inbox (uploaded by someone else, or dropped there),
  or a bulletin indexed under that name from another folder — is stored under the next free name
  ``<stem>-2<ending>``, ``-3``…, and both are kept;
- a name with nothing usable before its ending (``..md``, ``.md``) is stored as ``upload-<file id><ending>``,
  so it keeps its ending and is read as what it is.

Choosing the name and writing the file (a hidden temporary file, then ``os.replace``) happen under an
exclusive ``flock`` on ``<inbox>/.uploads.lock``: one upload at a time, across threads and processes
sharing the folder.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import threading
import time
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from retrieval.intake.sources import EXTRACTORS

log = logging.getLogger("bot.slack.listeners")

RECORD = ".uploads.json"
LOCK = ".uploads.lock"
_thread_lock = threading.Lock()  # flock is per open file; threads of one process also queue here


@dataclass(frozen=True)
class Stored:
    """Where an upload went.

    Attributes:
        path: the file written in the inbox.
        replaced: it replaced the same user's earlier upload of the same name.
        clash: the name asked for, when another bulletin already had it (the upload is ``path.name`` instead).
        unnamed: the name had nothing usable before its ending, so ``path.name`` was made up.
    """

    path: Path
    replaced: bool = False
    clash: str | None = None
    unnamed: bool = False


def split_name(name: str) -> tuple[str, str]:
    """(stem, ending) of an uploaded file's name: the ending is the longest key of
    :data:`~retrieval.intake.sources.EXTRACTORS` it ends with (lower case), else its suffix; the stem is
    made safe (no folders, only letters, digits, ``.``, ``-``, ``_``; no leading or trailing dots)."""
    base = Path(name.replace("\\", "/")).name
    ending = next((s for s in sorted(EXTRACTORS, key=len, reverse=True) if base.lower().endswith(s)),
                  Path(base).suffix.lower())
    stem = base[:len(base) - len(ending)] if ending else base
    return re.sub(r"[^\w.-]+", "_", stem).strip("._"), ending


def store_upload(folder: str | Path, name: str, data: bytes, *, user: str | None, file_id: str | None,
                 taken: Iterable[str] = ()) -> Stored:
    """Save an upload's bytes into ``folder`` (created if missing) under a name of its own (see the module).

    Args:
        name: the file's name in Slack.
        user: the uploader's user id (only their own earlier upload of ``name`` is ever replaced).
        file_id: Slack's file id (names an upload whose name is unusable).
        taken: names of bulletins indexed from elsewhere, which an upload must not take either.

    Raises:
        OSError: the folder or the file cannot be written.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stem, ending = split_name(name)
    unnamed = not stem
    if unnamed:
        stem = "upload-" + (re.sub(r"[^\w-]+", "_", file_id or "") or "file")
    with _locked(folder):
        record = _read_record(folder)
        mine = next((stored for stored, entry in record.items()
                     if entry.get("user") == user and user and entry.get("name") == name
                     and (folder / stored).exists()), None)
        if mine is not None:
            target, replaced, clash = folder / mine, True, None
        else:
            busy = {p.name for p in folder.iterdir()} | set(taken) | set(record)
            wanted = stem + ending
            target, n = folder / wanted, 1
            while target.name in busy:
                n += 1
                target = folder / f"{stem}-{n}{ending}"
            replaced, clash = False, (wanted if target.name != wanted and not unnamed else None)
        tmp = folder / f".{target.name}.upload"
        tmp.write_bytes(data)
        os.replace(tmp, target)
        record[target.name] = {"user": user, "name": name, "file_id": file_id, "at": time.time()}
        _write_record(folder, record)
    if clash:
        log.info("upload %s by %s stored as %s: another bulletin is named %s", name, user, target.name, clash)
    return Stored(target, replaced, clash, unnamed)


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    with _thread_lock, open(folder / LOCK, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _read_record(folder: Path) -> dict[str, dict]:
    path = folder / RECORD
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("%s cannot be read (%s): uploads are treated as nobody's until it is rewritten", path, exc)
        return {}
    return {k: v for k, v in record.items() if isinstance(v, dict)} if isinstance(record, dict) else {}


def _write_record(folder: Path, record: dict[str, dict]) -> None:
    alive = {k: v for k, v in record.items() if (folder / k).exists()}  # a deleted upload is forgotten
    tmp = folder / f".{RECORD}.tmp"
    tmp.write_text(json.dumps(alive, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, folder / RECORD)
