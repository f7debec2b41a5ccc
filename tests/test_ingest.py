"""Incremental, idempotent ingest: re-ingest, update, removal, duplicates and per-file errors."""

from __future__ import annotations

from pathlib import Path

from retrieval.index.generations import current_generation
from retrieval.index.passages import PassageIndex
from retrieval.ingest import ingest
from retrieval.search.searcher import Searcher
from tests.conftest import N_BULLETINS

SEED = "china-cybersecurity-data-protection-2019-08.txt"


def _assert_ids_and_metadata_in_step(data_dir: Path) -> None:
    """Every stored vector, searched for, returns its own passage first (ids and metadata agree)."""
    idx = PassageIndex.load(data_dir)
    passages = list(idx.iter_passages())
    assert len(passages) == len(idx)
    vectors = idx.vectors(p.id for p in passages)
    results = idx.search(vectors, 1)
    for p, row in zip(passages, results):
        top_id, score = row[0]
        if top_id != p.id:  # an exact duplicate embedding may tie; it must then have the same text
            assert idx.passages([top_id])[top_id].embedding_text == p.embedding_text
        assert score > 0.999


def test_reingest_of_unchanged_corpus_embeds_nothing(indexed: Path, corpus_copy: Path, encoder):
    generation = current_generation(indexed)
    encoder.encoded = 0
    report = ingest([corpus_copy], indexed, encoder)
    assert report.to_dict() == {"added": 0, "updated": 0, "removed": 0, "unchanged": N_BULLETINS,
                                "passages": len(PassageIndex.load(indexed)), "errors": [], "warnings": [],
                                "bulletins": []}
    assert encoder.encoded == 0
    assert current_generation(indexed) == generation  # nothing changed: no new generation


def test_changed_bulletin_replaces_its_passages(indexed: Path, corpus_copy: Path, encoder):
    seed = corpus_copy / SEED
    seed.write_text(seed.read_text().replace("RMB30,000", "RMB45,000"))
    encoder.encoded = 0
    report = ingest([corpus_copy], indexed, encoder)
    assert report.updated == [SEED] and len(report.unchanged) == N_BULLETINS - 1
    assert 0 < encoder.encoded < 10  # only the changed paragraph (and its later neighbours' ids) re-embedded
    answer = Searcher(indexed, encoder).search("middle school Nantong fined RMB", top_k=10)
    texts = " ".join(h.text for h in answer.hits)
    assert "RMB45,000" in texts and "RMB30,000" not in texts
    _assert_ids_and_metadata_in_step(indexed)


def test_removed_bulletin_leaves_the_index(indexed: Path, corpus_copy: Path, encoder):
    before = len(PassageIndex.load(indexed))
    (corpus_copy / SEED).unlink()
    report = ingest([corpus_copy], indexed, encoder)
    assert report.removed == [SEED]
    idx = PassageIndex.load(indexed)
    assert SEED not in {b.source_file for b in idx.bulletins()}
    assert all(p.citation.source_file != SEED for p in idx.iter_passages())
    assert len(idx) < before
    answer = Searcher(indexed, encoder).search("Nantong middle school RMB30,000", top_k=10)
    assert all(h.citation.source_file != SEED for h in answer.hits)
    _assert_ids_and_metadata_in_step(indexed)


def test_same_bulletin_twice_never_gives_duplicate_hits(indexed: Path, corpus_copy: Path, encoder):
    ingest([corpus_copy], indexed, encoder)
    (corpus_copy / "copy-of-seed.txt").write_text((corpus_copy / SEED).read_text())
    report = ingest([corpus_copy], indexed, encoder)
    assert [e["file"] for e in report.errors] == [str(corpus_copy / "copy-of-seed.txt")]
    assert "same text as" in report.errors[0]["error"]
    answer = Searcher(indexed, encoder).search("Nantong middle school fined", top_k=20)
    texts = [h.text for h in answer.hits]
    assert len(texts) == len(set(texts))


def test_bad_files_are_reported_and_the_others_ingest(tmp_path: Path, corpus_copy: Path, encoder):
    (corpus_copy / "empty.txt").write_bytes(b"")
    (corpus_copy / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (corpus_copy / "latin1.txt").write_bytes("Titre\n\nCaf\xe9 cr\xe8me.\n".encode("latin-1"))
    (corpus_copy / "headings.md").write_text("# Only a title\n\n## And a section\n")
    report = ingest([corpus_copy], tmp_path / "data", encoder)
    errors = {Path(e["file"]).name: e for e in report.errors}
    assert set(errors) == {"empty.txt", "binary.txt", "latin1.txt", "headings.md"}
    assert "empty" in errors["empty.txt"]["error"]
    assert "binary" in errors["binary.txt"]["error"]
    assert "not UTF-8" in errors["latin1.txt"]["error"] and errors["latin1.txt"]["line"] == 3
    assert "no paragraphs" in errors["headings.md"]["error"]
    assert len(report.added) == N_BULLETINS


def test_a_broken_new_version_keeps_the_last_good_one(indexed: Path, corpus_copy: Path, encoder):
    before = {p.id for p in PassageIndex.load(indexed).iter_passages(SEED)}
    (corpus_copy / SEED).write_bytes(b"\xff\xfe broken")
    report = ingest([corpus_copy], indexed, encoder)
    assert report.errors and report.removed == [] and report.updated == []
    assert {p.id for p in PassageIndex.load(indexed).iter_passages(SEED)} == before


def test_file_without_metadata_ingests_with_a_warning(tmp_path: Path, encoder):
    d = tmp_path / "c"
    d.mkdir()
    (d / "bare.txt").write_text("Bare Bulletin Title\n\nA paragraph with content.\n")
    report = ingest([d], tmp_path / "data", encoder)
    assert report.added == ["bare.txt"]
    assert any("no metadata" in w and "date unknown" in w for w in report.warnings)
    b, = PassageIndex.load(tmp_path / "data").bulletins()
    assert b.title == "Bare Bulletin Title" and b.date is None


def test_ingesting_one_file_does_not_remove_the_others(indexed: Path, corpus_copy: Path, encoder, tmp_path: Path):
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "one.txt").write_text("One\n\nA single paragraph about quokkas.\n")
    report = ingest([extra / "one.txt"], indexed, encoder)
    assert report.added == ["one.txt"] and report.removed == []
    assert len(PassageIndex.load(indexed).bulletins()) == N_BULLETINS + 1


def test_model_change_reembeds_everything(indexed: Path, corpus_copy: Path):
    from tests.fakes import HashEncoder

    other = HashEncoder(dimension=32, name="test/other")
    report = ingest([corpus_copy], indexed, other)
    assert any("rebuilding" in w for w in report.warnings)
    idx = PassageIndex.load(indexed, model="test/other")
    assert idx.dimension == 32 and other.encoded == len(idx)


def test_report_counts_passages_added_and_removed(indexed: Path, corpus_copy: Path, encoder):
    seed_ids = {p.id for p in PassageIndex.load(indexed).iter_passages(SEED)}
    (corpus_copy / SEED).unlink()
    report = ingest([corpus_copy], indexed, encoder)
    assert report.passages_removed == len(seed_ids) and report.passages_added == 0


def test_copy_under_another_name_in_a_later_run_is_refused(indexed: Path, corpus_copy: Path, encoder, tmp_path: Path):
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "x.txt").write_text((corpus_copy / SEED).read_text())
    report = ingest([other / "x.txt"], indexed, encoder)
    assert report.added == [] and "same text as " + SEED in report.errors[0]["error"]


def test_renamed_file_moves_its_bulletin(indexed: Path, corpus_copy: Path, encoder):
    (corpus_copy / SEED).rename(corpus_copy / "renamed.txt")
    report = ingest([corpus_copy], indexed, encoder)
    assert report.errors == [] and report.added == ["renamed.txt"] and report.removed == [SEED]


def test_same_file_name_from_another_directory_is_refused(tmp_path: Path, encoder):
    a, b = tmp_path / "A", tmp_path / "B"
    a.mkdir(), b.mkdir()
    (a / "digest.txt").write_text("Digest A\n\nAbout alpacas.\n")
    (b / "digest.txt").write_text("Digest B\n\nAbout bisons.\n")
    ingest([a], tmp_path / "data", encoder)
    report = ingest([b], tmp_path / "data", encoder)
    assert report.updated == [] and "same name is already indexed" in report.errors[0]["error"]
    assert PassageIndex.load(tmp_path / "data").bulletins()[0].title == "Digest A"


def test_rebuild_reembeds_and_reports_updates(indexed: Path, corpus_copy: Path, encoder):
    encoder.encoded = 0
    report = ingest([corpus_copy], indexed, encoder, rebuild=True)
    assert len(report.updated) == N_BULLETINS and report.added == [] and encoder.encoded == report.passages


# -- an ingest never empties the index by accident (issue 12) --------------------------------
def test_mistyped_path_changes_nothing_even_with_rebuild(indexed: Path, tmp_path: Path, encoder):
    generation = current_generation(indexed)
    for rebuild in (False, True):
        report = ingest([tmp_path / "corpuz"], indexed, encoder, rebuild=rebuild)
        assert [e["error"] for e in report.errors] == ["no such file"]
        assert report.generation == generation and report.removed == [] and report.embedded == 0
        assert current_generation(indexed) == generation
    assert report.refused.startswith("not rebuilding: no bulletin file could be read")
    assert len(PassageIndex.load(indexed).bulletins()) == N_BULLETINS


def test_rebuild_from_a_directory_emptied_by_mistake_is_refused(indexed: Path, corpus_copy: Path, encoder):
    generation = current_generation(indexed)
    for f in corpus_copy.iterdir():
        f.unlink()
    report = ingest([corpus_copy], indexed, encoder, rebuild=True)
    assert f"would remove all {N_BULLETINS} indexed bulletins" in report.refused and "--allow-empty" in report.refused
    assert current_generation(indexed) == generation


def test_removing_every_bulletin_is_refused_unless_allowed(indexed: Path, corpus_copy: Path, encoder):
    generation = current_generation(indexed)
    for f in corpus_copy.iterdir():
        f.unlink()
    report = ingest([corpus_copy], indexed, encoder)
    assert report.refused and current_generation(indexed) == generation
    report = ingest([corpus_copy], indexed, encoder, allow_empty=True)
    assert report.refused is None and len(report.removed) == N_BULLETINS
    assert current_generation(indexed) != generation and len(PassageIndex.load(indexed)) == 0


def test_empty_directory_writes_no_generation(tmp_path: Path, encoder):
    (tmp_path / "empty").mkdir()
    report = ingest([tmp_path / "empty"], tmp_path / "data", encoder)
    assert report.refused and report.generation is None
    assert current_generation(tmp_path / "data") is None
    assert not (tmp_path / "data" / "generations").exists() or not list((tmp_path / "data" / "generations").iterdir())


def test_rebuild_keeps_the_last_good_version_of_an_unreadable_file(indexed: Path, corpus_copy: Path, encoder,
                                                                  monkeypatch):
    import retrieval.ingest as ingest_module

    before = {p.id: p.text for p in PassageIndex.load(indexed).iter_passages(SEED)}
    real = ingest_module.file_fingerprint

    def unreadable(path):
        if path.name == SEED:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(ingest_module, "file_fingerprint", unreadable)
    encoder.encoded = 0
    report = ingest([corpus_copy], indexed, encoder, rebuild=True)
    assert [Path(e["file"]).name for e in report.errors] == [SEED]
    assert "Permission denied" in report.errors[0]["error"]
    assert SEED not in report.removed and len(report.updated) == N_BULLETINS - 1
    idx = PassageIndex.load(indexed)
    assert {p.id: p.text for p in idx.iter_passages(SEED)} == before
    assert encoder.encoded == len(idx)  # --rebuild re-embeds everything, the kept bulletin too
    _assert_ids_and_metadata_in_step(indexed)


def test_a_directory_and_a_file_in_it_are_one_file(tmp_path: Path, corpus_copy: Path, encoder):
    report = ingest([corpus_copy, corpus_copy / SEED, Path(str(corpus_copy) + "/./" + SEED)], tmp_path / "data", encoder)
    assert report.errors == [] and len(report.added) == N_BULLETINS


def test_deeply_nested_html_is_only_that_files_error(tmp_path: Path, corpus_copy: Path, encoder):
    deep = corpus_copy / "deep.html"
    deep.write_text("<html><body>" + "<div>" * 1200 + "<p>Deep text.</p>" + "</div>" * 1200 + "</body></html>")
    report = ingest([corpus_copy], tmp_path / "data", encoder)
    assert [e["file"] for e in report.errors] == [str(deep)]
    assert "nested too deeply" in report.errors[0]["error"]
    assert len(report.added) == N_BULLETINS


def test_an_unexpected_exception_is_that_files_error(indexed: Path, corpus_copy: Path, encoder, monkeypatch):
    import retrieval.ingest as ingest_module

    before = {p.id for p in PassageIndex.load(indexed).iter_passages(SEED)}
    (corpus_copy / SEED).write_text((corpus_copy / SEED).read_text() + "\nA new closing paragraph.\n")
    real = ingest_module.read_bulletin

    def broken(path):
        if Path(path).name == SEED:
            raise ValueError("something deep inside broke")
        return real(path)

    monkeypatch.setattr(ingest_module, "read_bulletin", broken)
    report = ingest([corpus_copy], indexed, encoder)
    assert report.errors == [{"file": str(corpus_copy / SEED), "line": None,
                              "error": "cannot read the file (ValueError: something deep inside broke)"}]
    assert {p.id for p in PassageIndex.load(indexed).iter_passages(SEED)} == before


# -- paths that lead nowhere: said, never a traceback, never skipped unseen ------------------------------------
def test_a_symlink_loop_given_as_an_argument_is_one_error_and_the_others_ingest(tmp_path: Path, corpus_copy: Path,
                                                                                encoder):
    loop = tmp_path / "loop.txt"
    loop.symlink_to(loop)
    report = ingest([corpus_copy / SEED, loop], tmp_path / "data", encoder)
    assert report.added == [SEED]
    assert report.errors == [{"file": str(loop), "line": None,
                              "error": "a symbolic link that loops (it leads back to itself), so there is nothing to read"}]


def test_loops_and_dangling_links_inside_a_folder_are_reported(tmp_path: Path, corpus_copy: Path, encoder):
    (corpus_copy / "loop.md").symlink_to(corpus_copy / "loop.md")
    (corpus_copy / "a.md").symlink_to(corpus_copy / "b.md")
    (corpus_copy / "b.md").symlink_to(corpus_copy / "a.md")  # a loop of two
    (corpus_copy / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    (corpus_copy / "notes.rtf").symlink_to(corpus_copy / "notes.rtf")  # not a bulletin name: not ours to report
    report = ingest([corpus_copy], tmp_path / "data", encoder)
    assert len(report.added) == N_BULLETINS
    errors = {Path(e["file"]).name: e["error"] for e in report.errors}
    assert set(errors) == {"loop.md", "a.md", "b.md", "gone.txt"}
    assert errors["loop.md"].startswith("a symbolic link that loops") and errors["a.md"] == errors["loop.md"]
    assert errors["gone.txt"] == f"a symbolic link to {tmp_path / 'nowhere.txt'}, which does not exist"


def test_a_folder_without_bulletin_files_is_said(indexed: Path, tmp_path: Path, encoder):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.rtf").write_text("not a bulletin")
    generation = current_generation(indexed)
    report = ingest([empty], indexed, encoder)
    assert report.errors == [{"file": str(empty), "line": None, "error": f"no bulletin files in {empty} (files ending "
                              ".txt, .md, .markdown, .html, .htm, .pdf, .eml)"}]
    assert not (report.added or report.updated or report.removed) and current_generation(indexed) == generation
