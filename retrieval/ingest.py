"""Incremental, idempotent ingest: bulletin files → passages → vectors → a new index generation.

``ingest(paths, data_dir, encoder)`` compares each bulletin file's fingerprint (its bytes, its
metadata sidecar and the parser version) with the generation in force:

- unchanged bulletins keep their passages and vectors (nothing is embedded again);
- a changed bulletin's passages are replaced (a passage whose id and embedding text are unchanged
  keeps its vector);
- a bulletin whose file left a scanned directory, or no longer exists, leaves the index;
- a bad file is reported with its file and line; the others still ingest, and a bulletin already
  indexed from an earlier good version of that file stays as it was.

When nothing changed, no generation is written. The same content under two file names is ingested
once (the second file gets an error naming the first), so a bulletin never gives duplicate hits.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .bulletin import METADATA_SUFFIX, find_bulletin_files, read_bulletin
from .chunking import DEFAULT_MAX_TOKENS, Passage, passages_from
from .encoder import Encoder
from .errors import BulletinParseError, IndexMismatchError, IndexNotFoundError, RetrievalError
from .index import BulletinRecord, PassageIndex, ingest_lock, write_generation

log = logging.getLogger(__name__)

#: Bumped whenever parsing or chunking changes, so that every bulletin is re-parsed once.
PARSER_VERSION = "5"


@dataclass
class IngestReport:
    """What an ingest run did. Lists hold bulletin file names; ``passages`` counts the passages in the index after the run."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)  # {"file", "error", "line"}
    warnings: list[str] = field(default_factory=list)
    passages: int = 0
    embedded: int = 0
    passages_added: int = 0
    passages_removed: int = 0
    generation: str | None = None

    def to_dict(self) -> dict:
        """The ``--json`` shape: counts of bulletins, passages in the index, and per-file errors."""
        return {
            "added": len(self.added), "updated": len(self.updated), "removed": len(self.removed),
            "unchanged": len(self.unchanged), "passages": self.passages,
            "errors": [{"file": e["file"], "error": f"line {e['line']}: {e['error']}" if e.get("line") else e["error"]}
                       for e in self.errors],
        }


def _content_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def file_fingerprint(path: Path) -> str:
    """sha256 hex over the bulletin's bytes, its sidecar's bytes and :data:`PARSER_VERSION`."""
    h = hashlib.sha256(PARSER_VERSION.encode() + b"\0")
    h.update(path.read_bytes())
    sidecar = path.with_name(path.stem + METADATA_SUFFIX)
    if sidecar.exists():
        h.update(b"\0meta\0" + sidecar.read_bytes())
    return h.hexdigest()


def _load_previous(data_dir: Path, encoder: Encoder, rebuild: bool, report: IngestReport) -> PassageIndex | None:
    if rebuild:
        return None
    try:
        return PassageIndex.load(data_dir, model=encoder.name)
    except IndexNotFoundError:
        return None
    except IndexMismatchError as exc:
        report.warnings.append(f"rebuilding the whole index: {exc}")
        return None


def _indexed_names(data_dir: Path) -> set[str]:
    """Names of the bulletins in the generation in force, without checking it (for reporting only)."""
    try:
        index = PassageIndex.load(data_dir)
    except RetrievalError:
        return set()
    try:
        return {b.source_file for b in index.bulletins()}
    finally:
        index.close()


def ingest(paths: list[str | Path], data_dir: str | Path, encoder: Encoder, *, rebuild: bool = False,
           max_tokens: int = DEFAULT_MAX_TOKENS, show_progress: bool = False) -> IngestReport:
    """Bring the index in data_dir in line with the bulletin files under paths.

    Args:
        paths: bulletin files and/or directories (scanned non-recursively).
        data_dir: where index generations live (created if missing).
        encoder: embeds new passages; its ``name`` must match the index's model, else all is re-embedded.
        rebuild: ignore the generation in force and re-embed everything.
        max_tokens: passage length limit in the encoder's word pieces.
        show_progress: draw a tqdm progress bar on stderr while embedding.

    Returns:
        An :class:`IngestReport`. Errors in single files are in ``report.errors``, never raised.
    """
    data_dir = Path(data_dir)
    report = IngestReport()
    with ingest_lock(data_dir):
        prev = _load_previous(data_dir, encoder, rebuild, report)
        # bulletins indexed before a --rebuild are reported as updated, not added
        known_before = set() if prev is not None else _indexed_names(data_dir)
        prev_bulletins = {b.source_file: b for b in prev.bulletins()} if prev else {}
        prev_ids = prev.passage_ids_by_bulletin() if prev else {}
        files, dirs = find_bulletin_files(paths)
        scanned = {d.resolve() for d in dirs}
        found = {p.name for p in files}

        def leaves(old: BulletinRecord) -> bool:
            """An indexed bulletin whose file left a scanned directory, or no longer exists."""
            old_path = Path(old.path)
            return old.source_file not in found and (old_path.parent in scanned or not old_path.exists())

        kept: dict[str, BulletinRecord] = {}
        new_passages: dict[str, list[Passage]] = {}
        # the text of every bulletin that stays indexed, so a copy under another name is refused
        seen_content: dict[str, str] = {_content_key(old.source_text): name for name, old in prev_bulletins.items()
                                        if not leaves(old)}
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")

        for path in files:
            name = path.name
            try:
                if name in kept or name in new_passages:
                    raise BulletinParseError(str(path), f"another bulletin file named {name} was already ingested in this run")
                if not path.exists():
                    raise BulletinParseError(str(path), "no such file")
                if not path.is_file():
                    raise BulletinParseError(str(path), "not a regular file")
                old = prev_bulletins.get(name)
                if old is not None and Path(old.path) != path.resolve() and Path(old.path).exists():
                    raise BulletinParseError(str(path), f"a different bulletin file with the same name is already indexed "
                                             f"from {old.path}; rename one of them")
                fingerprint = file_fingerprint(path)
                if old is not None and old.fingerprint == fingerprint:
                    kept[name] = BulletinRecord(**{**old.__dict__, "path": str(path.resolve())})
                    report.unchanged.append(name)
                    continue
                bulletin = read_bulletin(path)
                content_key = _content_key(bulletin.source_text)
                if seen_content.get(content_key, name) != name:
                    raise BulletinParseError(str(path), f"same text as {seen_content[content_key]}, which is already ingested")
                seen_content[content_key] = name
                passages = passages_from(bulletin, max_tokens, encoder.count_tokens)
            except BulletinParseError as exc:
                report.errors.append({"file": exc.file, "error": exc.reason, "line": exc.line})
                if name in prev_bulletins and name not in kept:
                    kept[name] = prev_bulletins[name]  # keep the last good version: lose nothing
                continue
            except OSError as exc:
                report.errors.append({"file": str(path), "error": f"cannot read the file: {exc.strerror or exc}", "line": None})
                if name in prev_bulletins and name not in kept:
                    kept[name] = prev_bulletins[name]
                continue
            if not bulletin.has_metadata:
                report.warnings.append(f"{path}: no metadata (add {path.stem}{METADATA_SUFFIX}); title taken from its first line, date unknown")
            (report.updated if name in prev_bulletins or name in known_before else report.added).append(name)
            new_passages[name] = passages
            kept[name] = BulletinRecord(
                source_file=name, path=str(path.resolve()), fingerprint=fingerprint, title=bulletin.title,
                publisher=bulletin.publisher, date=bulletin.date, url=bulletin.url, has_metadata=bulletin.has_metadata,
                ingested_at=now,
                source_text=bulletin.source_text,
            )

        for name, old in prev_bulletins.items():
            if name in kept:
                continue
            if leaves(old):
                report.removed.append(name)
            else:
                kept[name] = old  # ingested from elsewhere and still there: not ours to drop

        if prev is not None and not (report.added or report.updated or report.removed):
            report.passages = len(prev)
            report.generation = prev.generation
            prev.close()
            return report

        passages, vectors = _assemble(prev, prev_ids, kept, new_passages, encoder, report, show_progress)
        bulletins = sorted(kept.values(), key=lambda b: b.source_file)
        report.generation = write_generation(data_dir, encoder.name, encoder.dimension, bulletins, passages, vectors)
        report.passages = len(passages)
        before = {pid for ids in prev_ids.values() for pid in ids}
        after = {p.id for p in passages}
        report.passages_added, report.passages_removed = len(after - before), len(before - after)
        if prev is not None:
            prev.close()
    return report


def _assemble(prev: PassageIndex | None, prev_ids: dict[str, list[int]], kept: dict[str, BulletinRecord],
              new_passages: dict[str, list[Passage]], encoder: Encoder, report: IngestReport,
              show_progress: bool) -> tuple[list[Passage], np.ndarray]:
    """All passages of the new generation and their vectors, reusing stored vectors where possible."""
    passages: list[Passage] = []
    reuse_ids: list[int] = []
    for name in sorted(kept):
        if name in new_passages:
            continue
        old = prev.passages(prev_ids.get(name, [])) if prev else {}
        ordered = sorted(old.values(), key=lambda p: p.citation.char_start)
        passages.extend(ordered)
        reuse_ids.extend(p.id for p in ordered)
    reused = prev.vectors(reuse_ids) if prev and reuse_ids else np.zeros((0, encoder.dimension), dtype=np.float32)

    fresh: list[Passage] = [p for name in sorted(new_passages) for p in new_passages[name]]
    old_fresh = prev.passages(p.id for p in fresh) if prev else {}
    same = [p for p in fresh if p.id in old_fresh and old_fresh[p.id].embedding_text == p.embedding_text]
    to_embed = [p for p in fresh if not (p.id in old_fresh and old_fresh[p.id].embedding_text == p.embedding_text)]
    same_vectors = prev.vectors([p.id for p in same]) if same else np.zeros((0, encoder.dimension), dtype=np.float32)
    embedded = _embed(encoder, to_embed, show_progress)
    report.embedded = len(to_embed)
    return passages + same + to_embed, np.vstack([reused, same_vectors, embedded]).astype(np.float32)


def _embed(encoder: Encoder, passages: list[Passage], show_progress: bool, batch: int = 64) -> np.ndarray:
    if not passages:
        return np.zeros((0, encoder.dimension), dtype=np.float32)
    from tqdm import tqdm

    out = []
    with tqdm(total=len(passages), desc="embedding passages", unit="passage", disable=not show_progress) as bar:
        for start in range(0, len(passages), batch):
            chunk = passages[start:start + batch]
            out.append(encoder.encode([p.embedding_text for p in chunk]))
            bar.update(len(chunk))
    return np.vstack(out)
