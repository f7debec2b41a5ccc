"""PDF bulletins (retrieval/intake/pdf.py): reading order, running headers/footers, hyphenation, pages in
citations, metadata, and the errors of scanned, encrypted and broken files — on PDFs made with reportlab."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli.formatting import format_citation
from bot.slack.citations import render_citation
from retrieval.chunking import Citation, passages_from
from retrieval.errors import BulletinParseError
from retrieval.index.passages import PassageIndex
from retrieval.ingest import ingest
from retrieval.intake.pdf import pdf_to_text
from retrieval.intake.sources import read_bulletin
from retrieval.search.searcher import Searcher
from tests.pdfs import HEADER, make_pdf, make_scanned_pdf

PAGE1 = [["## Enforcement", "The regulator fined the school in", "Nantong 50,000 yuan for its enforce-",
          "ment failures on camera footage.", "", "A second left paragraph follows."],
         ["## Guidance", "The authority issued new guid-", "ance on cookie banners and consent",
          "withdrawal for websites.", "", "Right column second paragraph."]]
PAGE2 = [["## Outlook", "Next year brings more audits of", "processors in the health sector."]]
PAGE3 = [["## Contacts", "Write to the privacy team with any", "questions about these decisions."]]


@pytest.fixture
def bulletin_pdf(tmp_path: Path) -> Path:
    return make_pdf(tmp_path / "acme-2025-03.pdf", [PAGE1, PAGE2, PAGE3])


def test_two_columns_drawn_row_by_row_are_read_column_by_column(bulletin_pdf: Path):
    text, _ = pdf_to_text(bulletin_pdf.read_bytes(), str(bulletin_pdf))
    left = text.index("The regulator fined the school in Nantong 50,000 yuan for its enforcement failures")
    assert left < text.index("A second left paragraph follows.") < text.index("## Guidance")
    assert "The authority issued new guidance on cookie banners and consent withdrawal for websites." in text


def test_running_header_and_page_numbers_are_not_text(bulletin_pdf: Path):
    text, _ = pdf_to_text(bulletin_pdf.read_bytes(), str(bulletin_pdf))
    assert HEADER not in text and "ACME Law" not in text
    assert "Page 1 of 3" not in text and "of 3" not in text


def test_hyphen_at_a_line_end_is_joined(bulletin_pdf: Path):
    text, _ = pdf_to_text(bulletin_pdf.read_bytes(), str(bulletin_pdf))
    assert "enforcement failures" in text and "guidance on" in text and "enforce-" not in text


def test_headings_become_items_and_passages_carry_their_page(bulletin_pdf: Path):
    b = read_bulletin(bulletin_pdf)  # larger-font lines are headings; an itemless bulletin gets one item per heading
    assert [i.title for s in b.sections for i in s.items] == ["Enforcement", "Guidance", "Outlook", "Contacts"]
    pages = {p.text.split()[0]: p.citation.page for p in passages_from(b)}
    assert pages["The"] == 1 and pages["Next"] == 2 and pages["Write"] == 3
    for p in passages_from(b):
        assert b.source_text[p.citation.char_start:p.citation.char_end] == p.text


def test_title_and_date_from_the_pdf_metadata_unless_a_sidecar_gives_them(bulletin_pdf: Path):
    b = read_bulletin(bulletin_pdf)
    assert (b.title, b.date) == ("Privacy Bulletin March 2025", "2025-03-14")
    bulletin_pdf.with_name("acme-2025-03.meta.toml").write_text('title = "ACME March"\ndate = "2025-03-01"\n')
    b = read_bulletin(bulletin_pdf)
    assert (b.title, b.date) == ("ACME March", "2025-03-01")


def test_scanned_pdf_says_ocr_it_first(tmp_path: Path):
    with pytest.raises(BulletinParseError, match="no text layer: OCR it first"):
        read_bulletin(make_scanned_pdf(tmp_path / "scan.pdf"))


def test_encrypted_and_broken_pdfs_are_one_sentence_each(tmp_path: Path):
    locked = make_pdf(tmp_path / "locked.pdf", [PAGE2], encrypt="secret")
    with pytest.raises(BulletinParseError) as locked_exc:  # the reason, not the path (this test's own name has "encrypted")
        read_bulletin(locked)
    assert locked_exc.value.reason == "the PDF is encrypted (password-protected): save an unprotected copy"
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage")
    with pytest.raises(BulletinParseError, match="not a readable PDF") as exc:
        read_bulletin(broken)
    assert exc.value.file == str(broken)


def test_bad_pdfs_are_reported_and_the_good_one_is_ingested_and_cited_by_page(tmp_path: Path, bulletin_pdf: Path,
                                                                              encoder):
    make_scanned_pdf(tmp_path / "scan.pdf")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 truncated")
    make_pdf(tmp_path / "locked.pdf", [PAGE3], encrypt="secret")
    data = tmp_path / "data"
    report = ingest([tmp_path], data, encoder)
    assert report.added == ["acme-2025-03.pdf"]
    assert sorted(Path(e["file"]).name for e in report.errors) == ["broken.pdf", "locked.pdf", "scan.pdf"]
    (locked,) = [e for e in report.errors if e["file"].endswith("locked.pdf")]
    assert locked["error"].startswith("the PDF is encrypted (password-protected)"), locked
    index = PassageIndex.load(data)
    assert {p.citation.page for p in index.iter_passages()} == {1, 2, 3}
    assert index.catalog()[0][14] in (1, 2, 3)
    index.close()
    hit = Searcher(data, encoder).search("audits of processors in the health sector", top_k=1).hits[0]
    assert hit.citation.page == 2 and hit.citation.to_dict()["page"] == 2
    assert "p. 2" in format_citation(hit.citation) and "p. 2" in render_citation(hit.citation)


def test_citations_without_a_page_render_as_before():
    c = Citation("B", None, "2025", "S", 1, "T", 2, None, "b.txt", 0, 5)
    assert c.to_dict()["page"] is None
    assert "p." not in format_citation(c) and "p." not in render_citation(c)


def test_a_generation_written_before_pages_still_loads_with_no_page(indexed: Path, encoder):
    """A format-1 store has no page column: its passages and catalog rows read page as None."""
    import json
    import sqlite3

    from retrieval.index.generations import current_generation, file_checksum

    gen = indexed / "generations" / current_generation(indexed)
    conn = sqlite3.connect(gen / "passages.sqlite")
    conn.execute("ALTER TABLE passages DROP COLUMN page")
    conn.commit()
    conn.close()
    manifest = json.loads((gen / "manifest.json").read_text())
    manifest["files"]["passages.sqlite"] = file_checksum(gen / "passages.sqlite")
    (gen / "manifest.json").write_text(json.dumps(manifest))
    index = PassageIndex.load(indexed)
    assert {p.citation.page for p in index.iter_passages()} == {None} and index.catalog()[0][14] is None
    index.close()
    assert Searcher(indexed, encoder).search("fine data protection authority", top_k=1).hits[0].citation.page is None
