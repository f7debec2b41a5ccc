"""Index generations: consistency checks on load, -1 padding, atomic switch, crash mid-build."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import faiss
import numpy as np
import pytest

from retrieval.errors import IndexMismatchError, IndexNotFoundError
from retrieval.index import generations as index_mod  # write_generation and its helpers live there
from retrieval.index.generations import current_generation
from retrieval.index.passages import PassageIndex
from retrieval.ingest import ingest
from retrieval.search.searcher import Searcher
from tests.conftest import N_BULLETINS


def _gen_path(data_dir: Path) -> Path:
    return data_dir / "generations" / current_generation(data_dir)


def _tamper_store(data_dir: Path, sql: str) -> None:
    """Run sql on the current generation's store and record its new checksum (see _rehash)."""
    conn = sqlite3.connect(_gen_path(data_dir) / "passages.sqlite")
    conn.execute(sql)
    conn.commit()
    conn.close()
    _rehash(data_dir)


def _rehash(data_dir: Path) -> None:
    """Record the tampered files' checksums, so that the deeper consistency checks are what must catch it."""
    gen = _gen_path(data_dir)
    manifest = json.loads((gen / "manifest.json").read_text())
    manifest["files"] = {f: index_mod.file_checksum(gen / f) for f in manifest["files"]}
    (gen / "manifest.json").write_text(json.dumps(manifest))


def test_empty_data_dir_raises_index_not_found(tmp_path: Path, encoder):
    with pytest.raises(IndexNotFoundError, match="no bulletins indexed yet — run `bulletin-bot ingest`"):
        PassageIndex.load(tmp_path / "nothing")
    with pytest.raises(IndexNotFoundError):
        Searcher(tmp_path / "nothing", encoder).search("anything")


def test_load_checks_model(indexed: Path):
    idx = PassageIndex.load(indexed, model="test/hash-encoder")
    assert len(idx) == idx.manifest["passage_count"] > 0
    with pytest.raises(IndexMismatchError, match="built with model 'test/hash-encoder'.*configured model is 'other'"):
        PassageIndex.load(indexed, model="other")


def test_count_mismatch_between_faiss_and_store_is_refused(indexed: Path):
    _tamper_store(indexed, "DELETE FROM passages WHERE id = (SELECT id FROM passages LIMIT 1)")
    with pytest.raises(IndexMismatchError, match="store holds"):
        PassageIndex.load(indexed)


def test_id_mismatch_is_refused(indexed: Path):
    _tamper_store(indexed, "UPDATE passages SET id = 12345 WHERE id = (SELECT id FROM passages LIMIT 1)")
    with pytest.raises(IndexMismatchError, match="passage ids differ"):
        PassageIndex.load(indexed)


def test_corrupt_faiss_file_is_refused(indexed: Path):
    (_gen_path(indexed) / "index.faiss").write_bytes(b"not a faiss index")
    _rehash(indexed)
    with pytest.raises(IndexMismatchError, match="index.faiss is corrupt or truncated"):
        PassageIndex.load(indexed)


def test_flipped_bytes_in_a_generation_file_are_detected(indexed: Path):
    for name in ("index.faiss", "passages.sqlite"):
        f = _gen_path(indexed) / name
        original = f.read_bytes()
        data = bytearray(original)
        for i in range(200, 1200):
            data[i] ^= 0x5A
        f.write_bytes(bytes(data))
        with pytest.raises(IndexMismatchError, match=f"{name} changed since it was written"):
            PassageIndex.load(indexed)
        f.write_bytes(original)
    assert len(PassageIndex.load(indexed)) > 0


def test_orphan_passages_are_refused(indexed: Path):
    _tamper_store(indexed, "DELETE FROM bulletins WHERE source_file = (SELECT source_file FROM bulletins LIMIT 1)")
    with pytest.raises(IndexMismatchError, match="belong to no bulletin"):
        PassageIndex.load(indexed)


@pytest.mark.parametrize("manifest", ["[]", '"x"', '{"generation": "g"}'])
def test_garbled_manifest_is_refused(indexed: Path, manifest: str):
    (_gen_path(indexed) / "manifest.json").write_text(manifest)
    with pytest.raises(IndexMismatchError, match="manifest.json lacks or garbles"):
        PassageIndex.load(indexed)


@pytest.mark.parametrize("content", [b"\xff\xfe\x00garbage", b"../../etc", b"a/b"])
def test_garbled_current_pointer_is_refused(indexed: Path, content: bytes):
    (indexed / "CURRENT").write_bytes(content)
    with pytest.raises(IndexMismatchError, match="CURRENT"):
        PassageIndex.load(indexed)


def test_missing_manifest_is_refused(indexed: Path):
    (_gen_path(indexed) / "manifest.json").unlink()
    with pytest.raises(IndexMismatchError, match="manifest"):
        PassageIndex.load(indexed)


def test_faiss_padding_never_becomes_a_hit(tmp_path: Path, encoder):
    f = tmp_path / "c" / "tiny.txt"
    f.parent.mkdir()
    # two items, so that search may return two hits (a post without items is one item)
    f.write_text("Tiny bulletin\n\n1. Cookies\n\nOnly one paragraph about cookies.\n\n2. Fines\n\nAnd a second about fines.\n")
    data = tmp_path / "data"
    ingest([f.parent], data, encoder)
    idx = PassageIndex.load(data)
    assert len(idx) == 2
    # ask FAISS directly for more than exists: it pads with -1, which search() must drop
    raw_scores, raw_ids = idx._faiss.search(encoder.encode(["cookies"]), 5)
    assert (raw_ids == -1).sum() == 3
    hits = idx.search(encoder.encode(["cookies"]), 50)[0]
    assert len(hits) == 2 and all(pid >= 0 for pid, _ in hits)
    answer = Searcher(data, encoder).search("cookies", top_k=50)
    assert len(answer.hits) == 2
    assert len({h.passage.id for h in answer.hits}) == 2
    assert answer.hits[0].text == "Only one paragraph about cookies."


def test_crash_between_faiss_write_and_store_write_keeps_previous_generation(
        indexed: Path, corpus_copy: Path, encoder, monkeypatch):
    before = current_generation(indexed)
    count_before = len(PassageIndex.load(indexed))
    (corpus_copy / "new.txt").write_text("New bulletin\n\nSection\n\n1. Item\n\nA brand new paragraph about zebras.\n")

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("simulated crash after index.faiss was written")

    monkeypatch.setattr(index_mod, "_write_store", crash)
    with pytest.raises(KeyboardInterrupt):
        ingest([corpus_copy], indexed, encoder)
    assert current_generation(indexed) == before
    idx = PassageIndex.load(indexed)
    assert len(idx) == count_before
    assert not [d for d in (indexed / "generations").iterdir() if d.name.endswith(".partial")]
    monkeypatch.undo()
    report = ingest([corpus_copy], indexed, encoder)
    assert report.added == ["new.txt"] and current_generation(indexed) != before


def test_manifest_records_the_build(indexed: Path):
    manifest = json.loads((_gen_path(indexed) / "manifest.json").read_text())
    for key in ("model", "dimension", "passage_count", "versions", "corpus_fingerprint", "created_at", "ids_sha256"):
        assert key in manifest
    assert manifest["dimension"] == 64 and manifest["versions"]["faiss"] == faiss.__version__


def test_vectors_round_trip_by_id(indexed: Path, encoder):
    idx = PassageIndex.load(indexed)
    some = list(idx.iter_passages())[:5]
    vecs = idx.vectors(p.id for p in some)
    expected = encoder.encode([p.embedding_text for p in some])
    assert np.allclose(vecs, expected, atol=1e-6)


def test_a_data_directory_with_uri_characters_in_its_path_works(tmp_path: Path, corpus_copy: Path, encoder):
    from bot.state.sqlite import SQLiteStore
    from retrieval.search.searcher import Searcher

    data = tmp_path / "odd #1 ?x=y %41%" / "data"
    report = ingest([corpus_copy], data, encoder)
    assert report.errors == [] and len(report.added) == N_BULLETINS
    idx = PassageIndex.load(data)
    assert len(idx.bulletins()) == N_BULLETINS and len(list(idx.iter_passages())) == len(idx)
    encoder.encoded = 0
    again = ingest([corpus_copy], data, encoder)
    assert len(again.unchanged) == N_BULLETINS and encoder.encoded == 0  # the generation in force was read, not rebuilt
    answer = Searcher(data, encoder).search("Nantong middle school fined", top_k=3)
    assert answer.hits and "Nantong" in " ".join(h.text for h in answer.hits)
    store = SQLiteStore(data / "bot.sqlite")
    answer_id = store.record_answer("q", [1, 2])
    assert store.answer(answer_id).passage_ids == [1, 2]
    assert (data / "bot.sqlite").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["odd #1 ?x=y %41%"]  # no file at a cut-off path


def test_a_large_generation_is_approximate_and_filters_stay_exact(tmp_path, corpus_copy, encoder, monkeypatch):
    """Above APPROX_MIN_PASSAGES the FAISS index is IVF; a narrow filter is still searched exactly."""
    import faiss
    import numpy as np

    import retrieval.index.generations as generations
    from retrieval.ingest import ingest as run_ingest

    monkeypatch.setattr(generations, "APPROX_MIN_PASSAGES", 100)
    monkeypatch.setattr(generations, "IVF_NPROBE", 1)  # probe one list: unfiltered search may miss, filtered may not
    data = tmp_path / "data"
    run_ingest([corpus_copy], data, encoder)
    idx = PassageIndex.load(data)
    assert faiss.extract_index_ivf(idx._faiss).nlist == int(4 * np.sqrt(len(idx)))  # IVF, 4·√n lists
    rows = idx.catalog()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    assert np.allclose(np.linalg.norm(idx.vectors(ids[:5]), axis=1), 1.0, atol=1e-5)
    query = idx.vectors(ids[7:8])
    allowed = ids[::37]  # a handful of passages scattered over the lists
    hits = idx.search(query, 3, allowed_ids=allowed)[0]
    exact = sorted(((float(idx.vectors([a])[0] @ query[0]), int(a)) for a in allowed), reverse=True)[:3]
    assert [pid for pid, _ in hits] == [pid for _, pid in exact]
    assert idx.search(query, 1)[0][0][0] == ids[7]  # its own vector is found in its own list
