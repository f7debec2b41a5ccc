"""Bounded work per PDF (retrieval/intake/limits.py, retrieval/intake/pdf.py): pages and characters per file
refused in one sentence naming the setting, before the PDF is parsed; every pdfplumber page closed once read;
a page of one endless line read as plain text; the watched inbox and the settings under the same limits
(the passages limit has its tests in test_limits.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

import retrieval.intake.pdf as pdf_module
from bot.config import IngestSettings, SettingsError
from bot.server.inbox import Inbox
from retrieval.errors import ConfigurationError, FileLimitError
from retrieval.ingest import ingest
from retrieval.intake.limits import FileBounds
from retrieval.intake.sources import read_bulletin
from tests.pdfs import make_layout_pdf, make_pdf

PAGE = [["## Enforcement", "The regulator fined the school in Nantong 50,000 yuan for camera footage."]]


def test_the_settings_read_the_page_and_character_limits_and_a_bad_value_is_named():
    settings = IngestSettings.from_env({"BULLETIN_BOT_MAX_PAGES_PER_FILE": "20", "BULLETIN_BOT_MAX_CHARS_PER_FILE": "9000"},
                                       dotenv=None)
    assert settings.ingest_limits() == {"max_passages_per_file": 10_000, "max_pages_per_file": 20, "max_chars_per_file": 9000}
    with pytest.raises(SettingsError, match="BULLETIN_BOT_MAX_PAGES_PER_FILE"):
        IngestSettings.from_env({"BULLETIN_BOT_MAX_PAGES_PER_FILE": "0"}, dotenv=None)
    with pytest.raises(ConfigurationError, match=r"pages per file \(BULLETIN_BOT_MAX_PAGES_PER_FILE\)"):
        FileBounds.of(max_pages=0)


def test_a_pdf_over_the_page_limit_is_refused_naming_the_setting(tmp_path: Path):
    pdf = make_pdf(tmp_path / "long.pdf", [PAGE, PAGE, PAGE])
    with pytest.raises(FileLimitError, match=r"it gives more than 2 pages, the limit per bulletin file "
                                             r"\(set BULLETIN_BOT_MAX_PAGES_PER_FILE to raise it\)"):
        read_bulletin(pdf, FileBounds.of(max_pages=2))


def test_characters_are_counted_before_a_pdf_is_parsed_and_bound_text_files_too(tmp_path: Path, monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr(pdf_module, "miner_page", lambda page: calls.append(1))  # must never be reached
    with pytest.raises(FileLimitError, match=r"more than 60 characters, the limit per bulletin file \(set "
                                             r"BULLETIN_BOT_MAX_CHARS_PER_FILE"):
        read_bulletin(make_pdf(tmp_path / "chars.pdf", [PAGE, PAGE]), FileBounds.of(max_chars=60))
    assert calls == []
    text = tmp_path / "big.md"
    text.write_text("# Bulletin\n\n" + "The regulator fined the school. " * 5)
    with pytest.raises(FileLimitError, match="characters, the limit per bulletin file"):
        read_bulletin(text, FileBounds.of(max_chars=60))


def test_ingest_refuses_a_pdf_over_a_limit_and_ingests_the_others(tmp_path: Path, encoder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "small.md").write_text("# Small\n\n## News\n\n1. Fine\n\nThe school was fined.\n")
    make_pdf(corpus / "three.pdf", [PAGE, PAGE, PAGE])
    report = ingest([corpus], tmp_path / "data", encoder, max_pages_per_file=2)
    assert report.added == ["small.md"]
    assert report.errors[0]["file"].endswith("three.pdf") and "BULLETIN_BOT_MAX_PAGES_PER_FILE" in report.errors[0]["error"]


def test_every_pdfplumber_page_is_closed_once_read(tmp_path: Path, monkeypatch):
    import pdfplumber.page

    closed: list[int] = []
    original = pdfplumber.page.Page.close

    def close(self):
        closed.append(self.page_number)
        original(self)

    monkeypatch.setattr(pdfplumber.page.Page, "close", close)
    read_bulletin(make_pdf(tmp_path / "pages.pdf", [PAGE, PAGE, PAGE, PAGE]))
    assert sorted(set(closed)) == [1, 2, 3, 4]


def test_a_page_of_one_endless_line_is_read_as_plain_text_not_laid_out(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(pdf_module, "MAX_LAYOUT_CHARS", 200)
    laid_out: list[int] = []
    original = pdf_module.miner_page
    monkeypatch.setattr(pdf_module, "miner_page", lambda page: laid_out.append(page.page_number) or original(page))
    line = "word " * 120
    pdf = make_layout_pdf(tmp_path / "line.pdf", [[("text", 10, 100, line, 4, False)],
                                                  [("para", 72, 100, 450, "A normal second page.", 10, False)]])
    b = read_bulletin(pdf)
    assert laid_out == [2]
    assert b.source_text.count("word") == 120 and "A normal second page." in b.source_text


def test_the_inbox_refuses_a_file_over_a_limit_in_its_line_and_ingests_the_rest(tmp_path: Path, encoder):
    limits = IngestSettings.from_env({"BULLETIN_BOT_MAX_PAGES_PER_FILE": "1"}, dotenv=None).ingest_limits()
    lines: list[str] = []
    inbox = Inbox(tmp_path / "inbox", lambda files: ingest(files, tmp_path / "data", encoder, **limits), 0.05,
                  echo=lines.append)
    make_pdf(inbox.folder / "two-pages.pdf", [PAGE, PAGE])
    (inbox.folder / "note.md").write_text("# Note\n\n## News\n\n1. Fine\n\nThe school was fined.\n")
    inbox.poll()
    inbox.poll()
    assert len(lines) == 1 and "added note.md" in lines[0]
    assert "two-pages.pdf: it gives more than 1 pages, the limit per bulletin file" in lines[0]
