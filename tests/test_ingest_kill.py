"""A ``kill -9`` at any point of an ingest leaves the previous generation serving (issue 12).

Each case runs an ingest in a subprocess that SIGKILLs itself from inside a patched function at one
stage of writing a new generation; the data directory must then still load the generation in force
before (same name, same passage count, a search answers), and a fresh ingest must succeed.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from retrieval.index.generations import current_generation
from retrieval.index.passages import PassageIndex
from retrieval.ingest import ingest
from retrieval.search.searcher import Searcher
from tests.conftest import ROOT

#: Runs ``ingest([corpus], data, HashEncoder())`` and kills itself (SIGKILL) at the stage argv[1] names.
_SCRIPT = r'''
import os, signal, sys
from pathlib import Path

import retrieval.index.generations as gen
import retrieval.ingest as ing
from tests.fakes import HashEncoder

stage, corpus, data = sys.argv[1:4]


def die():
    os.kill(os.getpid(), signal.SIGKILL)


def die_after(module, name, when=lambda *a, **k: True):
    real = getattr(module, name)

    def wrapper(*args, **kwargs):
        out = real(*args, **kwargs)
        if when(*args, **kwargs):
            die()
        return out
    setattr(module, name, wrapper)


real_replace = os.replace


def replace(src, dst, *args, **kwargs):
    if stage == "before-current" and Path(dst).name == "CURRENT":
        die()  # CURRENT's new text is written and synced to its temporary file, not yet in place
    real_replace(src, dst, *args, **kwargs)
    if stage == "generation-in-place" and Path(dst).parent.name == gen.GENERATIONS_DIR:
        die()  # the new generation's directory is complete, CURRENT still names the old one


if stage == "embedded":
    die_after(ing, "_embed")
elif stage == "faiss-written":
    die_after(gen, "_write_faiss")
elif stage == "store-written":
    die_after(gen, "_write_store")
elif stage == "manifest-written":
    die_after(gen, "_write_atomic", lambda path, text: Path(path).name == "manifest.json")
os.replace = replace
ing.ingest([corpus], data, HashEncoder())
sys.exit(3)  # the stage was never reached
'''

STAGES = ["embedded", "faiss-written", "store-written", "manifest-written", "generation-in-place", "before-current"]


def _serving(data_dir: Path, encoder) -> tuple[str | None, int]:
    idx = PassageIndex.load(data_dir)
    try:
        name, count = idx.generation, len(idx)
    finally:
        idx.close()
    assert current_generation(data_dir) == name
    answer = Searcher(data_dir, encoder).search("middle school Nantong fined RMB", top_k=5)
    assert answer.hits, "a search on the generation in force found nothing"
    return name, count


@pytest.mark.parametrize("stage", STAGES)
def test_kill_9_during_ingest_leaves_the_previous_generation_serving(stage, indexed, corpus_copy, encoder):
    before = _serving(indexed, encoder)
    (corpus_copy / "zebras.txt").write_text("Zebra bulletin\n\nSection\n\n1. Item\n\nA new paragraph about zebras.\n")

    run = subprocess.run([sys.executable, "-c", _SCRIPT, stage, str(corpus_copy), str(indexed)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == -signal.SIGKILL, f"not killed at {stage}: rc {run.returncode}\n{run.stderr[-2000:]}"

    assert _serving(indexed, encoder) == before
    report = ingest([corpus_copy], indexed, encoder)
    assert not report.errors and report.added == ["zebras.txt"]
    after = _serving(indexed, encoder)
    assert after[0] != before[0] and after[1] > before[1]


def test_the_unfinished_build_of_a_killed_ingest_is_removed_by_the_next_ingest(indexed, corpus_copy, encoder):
    (corpus_copy / "zebras.txt").write_text("Zebra bulletin\n\nSection\n\n1. Item\n\nA new paragraph about zebras.\n")
    run = subprocess.run([sys.executable, "-c", _SCRIPT, "store-written", str(corpus_copy), str(indexed)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == -signal.SIGKILL, run.stderr[-2000:]
    partial = [d for d in (indexed / "generations").iterdir() if d.name.endswith(".partial")]
    assert len(partial) == 1 and (partial[0] / "passages.sqlite").exists()  # what the kill left
    (corpus_copy / "zebras.txt").unlink()
    generation = current_generation(indexed)
    report = ingest([corpus_copy], indexed, encoder)  # nothing changed: no generation written, yet it is cleaned
    assert report.unchanged and current_generation(indexed) == generation
    assert not partial[0].exists()
