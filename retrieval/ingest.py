"""Incremental, idempotent ingest: bulletin files → passages → vectors → a new index generation.

``ingest(paths, data_dir, encoder)`` compares each bulletin file's fingerprint (its bytes, its
metadata sidecar and the parser version) with the generation in force:

- unchanged bulletins keep their passages and vectors (nothing is embedded again);
- a changed bulletin's passages are replaced (a passage whose id and embedding text are unchanged
  keeps its vector);
- a bulletin whose file left a scanned directory, or no longer exists, leaves the index;
- a bad file is reported with its file and line; the others still ingest, and a bulletin already
  indexed from an earlier good version of that file stays as it was; a symbolic link that loops or
  leads nowhere (given, or in a scanned directory) is such a file, and a scanned directory holding no
  bulletin file is reported too ("no bulletin files in …").

When nothing changed, no generation is written; nor when the run would leave the index without
any bulletin (a mistyped path, an empty directory), unless ``allow_empty`` is given. The same content under two file names is ingested
once (the second file gets an error naming the first), so a bulletin never gives duplicate hits.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from retrieval.encoders.factory import Encoder
from retrieval.index.generations import BulletinRecord, ingest_lock, remove_stale_builds, write_generation
from retrieval.index.passages import PassageIndex
from retrieval.intake.limits import MAX_PASSAGES_PER_FILE, FileBounds
from retrieval.intake.metadata import METADATA_SUFFIX
from retrieval.intake.sources import find_bulletin_files, no_bulletin_files, read_bulletin, unreadable_link

from .chunking import DEFAULT_MAX_TOKENS, Passage, passages_from
from .errors import BulletinParseError, IndexMismatchError, IndexNotFoundError

log = logging.getLogger(__name__)

#: Bumped whenever parsing or chunking changes, so that every bulletin is re-parsed once.
#: 11: PDF reading order from the layout; 10: a heading in capitals ends the item above it; 9: markdown by
#: markdown-it-py, HTML by its main content and structure; 8: a bullet title may follow emoji; 7: passages carry
#: the PDF page
PARSER_VERSION = "11"


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
    refused: str | None = None  # why nothing was written: the run would have left the index empty
    #: per bulletin read in this run (added or updated): {"file", "title", "date", "date_source"}
    dates: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        """The ``--json`` shape: counts of bulletins, passages in the index, per-file errors, the
        warnings, and per bulletin read in this run its date and where it came from (``date_source``:
        ``sidecar``, ``document``, ``metadata`` or ``none``; see :mod:`retrieval.intake.dates`)."""
        return {
            "added": len(self.added), "updated": len(self.updated), "removed": len(self.removed),
            "unchanged": len(self.unchanged), "passages": self.passages,
            "errors": [{"file": e["file"], "error": f"line {e['line']}: {e['error']}" if e.get("line") else e["error"]}
                       for e in self.errors],
            "warnings": list(self.warnings),
            "bulletins": list(self.dates),
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


def _load_previous(data_dir: Path, encoder: Encoder, rebuild: bool,
                   report: IngestReport) -> tuple[PassageIndex | None, bool]:
    """The generation in force (None when there is none, or it fails its checks) and whether its
    vectors may be reused (not under ``rebuild``, nor when it was built with another model)."""
    try:
        prev = PassageIndex.load(data_dir)
    except IndexNotFoundError:
        return None, False
    except IndexMismatchError as exc:
        report.warnings.append(f"rebuilding the whole index: {exc}")
        return None, False
    if (prev.model, prev.dimension) != (encoder.name, encoder.dimension):
        if not rebuild:
            report.warnings.append(f"rebuilding the whole index: index generation {prev.generation} was built with "
                                   f"model {prev.model!r}, the configured model is {encoder.name!r}")
        return prev, False
    return prev, not rebuild


def _unique_files(files: list[Path]) -> list[Path]:
    """files without repeats: one file reached through two arguments (a directory and a file in it) is one file."""
    unique: dict[Path, Path] = {}
    for p in files:
        try:
            key = p.resolve()
        except (OSError, RuntimeError):
            key = p.absolute()
        unique.setdefault(key, p)
    return list(unique.values())


def _refusal(prev_bulletins: dict, paths: Sequence[str | Path], rebuild: bool) -> str:
    """The one sentence an ingest that would leave the index empty (or a rebuild that read nothing) answers instead."""
    if rebuild and prev_bulletins:
        return (f"not rebuilding: no bulletin file could be read from {', '.join(str(p) for p in paths) or 'no path'}, "
                "so the index in force is kept; check the paths given")
    if prev_bulletins:
        return (f"not ingesting: this run would remove all {len(prev_bulletins)} indexed bulletins and leave the index "
                "empty, so the index in force is kept; check the paths given, or pass --allow-empty to empty it")
    return (f"not ingesting: no bulletin could be ingested from {', '.join(str(p) for p in paths) or 'no path'}, and an "
            "empty index is not written; check the paths given, or pass --allow-empty")


def ingest(paths: Sequence[str | Path], data_dir: str | Path, encoder: Encoder, *, rebuild: bool = False,
           allow_empty: bool = False, max_tokens: int = DEFAULT_MAX_TOKENS, show_progress: bool = False,
           max_passages_per_file: int | None = None, max_pages_per_file: int | None = None,
           max_chars_per_file: int | None = None) -> IngestReport:
    """Bring the index in data_dir in line with the bulletin files under paths.

    Args:
        paths: bulletin files and/or directories (scanned non-recursively).
        data_dir: where index generations live (created if missing).
        encoder: embeds new passages; its ``name`` must match the index's, else all is re-embedded.
        rebuild: re-read every file given and re-embed every passage (a bulletin whose file cannot
            be read keeps its last good version, re-embedded).
        allow_empty: let the run write a generation holding no bulletin (by default such a run is
            refused: ``report.refused`` says why, and the generation in force stays).
        max_tokens: passage length limit in the encoder's word pieces.
        show_progress: draw a tqdm progress bar on stderr while embedding.
        max_passages_per_file: a file giving more passages is refused whole (its error says so); None:
            the default, 10,000 (:mod:`retrieval.intake.limits`; ``BULLETIN_BOT_MAX_PASSAGES_PER_FILE``
            in the settings).
        max_pages_per_file, max_chars_per_file: a PDF of more pages, or a file giving more characters of
            text, is refused whole; None: the defaults, 5,000 and 10,000,000
            (``BULLETIN_BOT_MAX_PAGES_PER_FILE``, ``BULLETIN_BOT_MAX_CHARS_PER_FILE``).

    Returns:
        An :class:`IngestReport`. Errors in single files are in ``report.errors``, never raised.

    Raises:
        ConfigurationError: a limit out of its range (``max_passages_per_file`` is an integer in 1..10,000,000).
    """
    data_dir = Path(data_dir)
    report = IngestReport()
    max_passages = MAX_PASSAGES_PER_FILE.value(max_passages_per_file)
    bounds = FileBounds.of(max_pages_per_file, max_chars_per_file)
    with ingest_lock(data_dir):
        remove_stale_builds(data_dir)  # a killed ingest's .partial directory: no build but ours can be running
        prev, reuse = _load_previous(data_dir, encoder, rebuild, report)
        try:
            return _ingest(paths, data_dir, encoder, prev, reuse, rebuild, allow_empty, max_tokens, show_progress,
                           report, max_passages, bounds)
        finally:
            if prev is not None:
                prev.close()


def _ingest(paths: Sequence[str | Path], data_dir: Path, encoder: Encoder, prev: PassageIndex | None, reuse: bool,
            rebuild: bool, allow_empty: bool, max_tokens: int, show_progress: bool, report: IngestReport,
            max_passages: int | None = None, bounds: FileBounds | None = None) -> IngestReport:
    prev_bulletins = {b.source_file: b for b in prev.bulletins()} if prev else {}
    prev_ids = prev.passage_ids_by_bulletin() if prev else {}
    files, dirs = find_bulletin_files(paths)
    files = _unique_files(files)
    scanned = {d.resolve() for d in dirs}
    found = {p.name for p in files}
    for d in dirs:  # a folder with nothing to read is said, not passed over (a mistyped or emptied folder)
        if not any(f.parent == d for f in files):
            if allow_empty:  # emptied on purpose: said, not an error
                report.warnings.append(no_bulletin_files(d))
            else:
                report.errors.append({"file": str(d), "error": no_bulletin_files(d), "line": None})

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

    def fail(path: Path, error: str, line: int | None = None) -> None:
        """A file's error; a bulletin indexed from an earlier good version of it stays (lose nothing)."""
        report.errors.append({"file": str(path), "error": error, "line": line})
        if path.name in prev_bulletins and path.name not in kept:
            kept[path.name] = prev_bulletins[path.name]

    for path in files:
        name = path.name
        try:
            if name in kept or name in new_passages:
                raise BulletinParseError(str(path), f"another bulletin file named {name} was already ingested in this run")
            if not path.exists():
                raise BulletinParseError(str(path), unreadable_link(path) or "no such file")
            if not path.is_file():
                raise BulletinParseError(str(path), "not a regular file")
            old = prev_bulletins.get(name)
            if old is not None and Path(old.path) != path.resolve() and Path(old.path).exists():
                raise BulletinParseError(str(path), f"a different bulletin file with the same name is already indexed "
                                         f"from {old.path}; rename one of them")
            fingerprint = file_fingerprint(path)
            if reuse and old is not None and old.fingerprint == fingerprint:
                kept[name] = BulletinRecord(**{**old.__dict__, "path": str(path.resolve())})
                report.unchanged.append(name)
                continue
            bulletin = read_bulletin(path, bounds)
            content_key = _content_key(bulletin.source_text)
            if seen_content.get(content_key, name) != name:
                raise BulletinParseError(str(path), f"same text as {seen_content[content_key]}, which is already ingested")
            seen_content[content_key] = name
            passages = passages_from(bulletin, max_tokens, encoder.count_tokens, max_passages)
        except BulletinParseError as exc:
            fail(path, exc.reason, exc.line)
            continue
        except OSError as exc:
            fail(path, f"cannot read the file: {exc.strerror or exc}")
            continue
        except RecursionError:
            fail(path, "its elements are nested too deeply to read (more than a few hundred levels)")
            continue
        except Exception as exc:  # noqa: BLE001 - one file's surprise is that file's error, never the run's
            log.debug("reading %s failed", path, exc_info=True)
            fail(path, f"cannot read the file ({type(exc).__name__}: {exc})")
            continue
        report.warnings.extend(f"{path}: {note}" for note in bulletin.notes)
        report.dates.append({"file": name, "title": bulletin.title, "date": bulletin.date,
                             "date_source": bulletin.date_source})
        if bulletin.date_source == "metadata":
            report.warnings.append(f"{path}: date {bulletin.date} comes only from the file's metadata, not from the "
                                   f"document; give the bulletin's date in {path.stem}{METADATA_SUFFIX} if it differs")
        if not bulletin.has_metadata:
            report.warnings.append(f"{path}: no metadata (add {path.stem}{METADATA_SUFFIX}); title taken from its first line"
                                   + ("" if bulletin.date else ", date unknown"))
        (report.updated if name in prev_bulletins else report.added).append(name)
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

    if not kept and not allow_empty:
        report.refused = _refusal(prev_bulletins, paths, rebuild=False)
    elif rebuild and prev_bulletins and not (report.added or report.updated):
        report.refused = _refusal(prev_bulletins, paths, rebuild=True)  # a mistyped path: nothing to rebuild from
    if report.refused:
        report.removed = []
    if report.refused or (prev is not None and reuse and not (report.added or report.updated or report.removed)):
        report.passages = len(prev) if prev is not None else 0
        report.generation = prev.generation if prev is not None else None
        return report

    passages, vectors = _assemble(prev, prev_ids, kept, new_passages, encoder, report, show_progress, reuse)
    bulletins = sorted(kept.values(), key=lambda b: b.source_file)
    report.generation = write_generation(data_dir, encoder.name, encoder.dimension, bulletins, passages, vectors)
    report.passages = len(passages)
    before = {pid for ids in prev_ids.values() for pid in ids}
    after = {p.id for p in passages}
    report.passages_added, report.passages_removed = len(after - before), len(before - after)
    return report


def _assemble(prev: PassageIndex | None, prev_ids: dict[str, list[int]], kept: dict[str, BulletinRecord],
              new_passages: dict[str, list[Passage]], encoder: Encoder, report: IngestReport,
              show_progress: bool, reuse: bool = True) -> tuple[list[Passage], np.ndarray]:
    """All passages of the new generation and their vectors, reusing stored vectors where possible
    (never when ``reuse`` is False: then every passage is embedded again)."""
    passages: list[Passage] = []
    reuse_ids: list[int] = []
    for name in sorted(kept):
        if name in new_passages:
            continue
        old = prev.passages(prev_ids.get(name, [])) if prev else {}
        ordered = sorted(old.values(), key=lambda p: p.citation.char_start)
        passages.extend(ordered)
        reuse_ids.extend(p.id for p in ordered)
    if not reuse:
        everything = passages + [p for name in sorted(new_passages) for p in new_passages[name]]
        report.embedded = len(everything)
        return everything, _embed(encoder, everything, show_progress)
    reused = prev.vectors(reuse_ids) if prev and reuse_ids else np.zeros((0, encoder.dimension), dtype=np.float32)

    fresh: list[Passage] = [p for name in sorted(new_passages) for p in new_passages[name]]
    old_fresh = prev.passages(p.id for p in fresh) if prev else {}
    same = [p for p in fresh if p.id in old_fresh and old_fresh[p.id].embedding_text == p.embedding_text]
    to_embed = [p for p in fresh if not (p.id in old_fresh and old_fresh[p.id].embedding_text == p.embedding_text)]
    same_vectors = prev.vectors([p.id for p in same]) if prev is not None and same else np.zeros((0, encoder.dimension), dtype=np.float32)
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
