"""Bounded work per file (retrieval/intake/limits.py, retrieval/intake/pdf.py): pages, characters and
passages per file refused in one sentence naming the setting; every pdfplumber page closed once read; a page
of one endless line read as plain text; the watched inbox under the same limits."""

from __future__ import annotations

from pathlib import Path

import pytest

import retrieval.intake.pdf as pdf_module
from bot.server.inbox import Inbox
from retrieval.errors import BulletinParseError, ConfigurationError
from retrieval.ingest import ingest
from retrieval.intake.limits import FileLimits, file_limits
from retrieval.intake.sources import read_bulletin
from tests.pdfs import make_layout_pdf, make_pdf

PAGE = [["## Enforcement", "The regulator fined the school in Nantong 50,000 yuan for camera footage."]]


def test_limits_come_from_the_environment_and_a_bad_value_is_named():
    assert file_limits({}) == FileLimits()
    assert file_limits({"BULLETIN_BOT_MAX_PAGES": "20", "BULLETIN_BOT_MAX_CHARS": "1_000_000"}).max_chars == 1_000_000
    with pytest.raises(ConfigurationError, match=r"BULLETIN_BOT_MAX_PASSAGES must be a whole number >= 1, got '0'"):
        file_limits({"BULLETIN_BOT_MAX_PASSAGES": "0"})


def test_a_pdf_over_the_page_limit_is_refused_naming_the_setting(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("BULLETIN_BOT_MAX_PAGES", "2")
    pdf = make_pdf(tmp_path / "long.pdf", [PAGE, PAGE, PAGE])
    with pytest.raises(BulletinParseError, match=r"too large: 3 pages, more than the limit of 2 pages per file "
                                                 r"\(set BULLETIN_BOT_MAX_PAGES to raise it\)"):
        read_bulletin(pdf)


def test_characters_are_counted_before_a_pdf_is_parsed_and_bound_text_files_too(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("BULLETIN_BOT_MAX_CHARS", "60")
    calls: list[int] = []
    monkeypatch.setattr(pdf_module, "plumber_page", lambda page: calls.append(1))  # must never be reached
    with pytest.raises(BulletinParseError, match=r"more than the limit of 60 characters per file \(set BULLETIN_BOT_MAX_CHARS"):
        read_bulletin(make_pdf(tmp_path / "chars.pdf", [PAGE, PAGE]))
    assert calls == []
    text = tmp_path / "big.md"
    text.write_text("# Bulletin\n\n" + "The regulator fined the school. " * 5)
    with pytest.raises(BulletinParseError, match="characters per file"):
        read_bulletin(text)


def test_a_file_making_too_many_passages_is_that_files_error_and_the_others_ingest(tmp_path: Path, monkeypatch,
                                                                                   encoder):
    monkeypatch.setenv("BULLETIN_BOT_MAX_PASSAGES", "3")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "small.md").write_text("# Small\n\n## News\n\n1. Fine\n\nThe school was fined.\n")
    (corpus / "many.md").write_text("# Many\n\n## News\n\n" + "".join(f"{i}. Item {i}\n\nText of item {i}.\n\n" for i in range(1, 9)))
    report = ingest([corpus], tmp_path / "data", encoder)
    assert report.added == ["small.md"]
    assert report.errors[0]["file"].endswith("many.md")
    assert "more than the limit of 3 passages per file (set BULLETIN_BOT_MAX_PASSAGES to raise it)" in report.errors[0]["error"]


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
    original = pdf_module.plumber_page
    monkeypatch.setattr(pdf_module, "plumber_page", lambda page: laid_out.append(page.page_number) or original(page))
    line = "word " * 120
    pdf = make_layout_pdf(tmp_path / "line.pdf", [[("text", 10, 100, line, 4, False)],
                                                  [("para", 72, 100, 450, "A normal second page.", 10, False)]])
    b = read_bulletin(pdf)
    assert laid_out == [2]
    assert b.source_text.count("word") == 120 and "A normal second page." in b.source_text


def test_the_inbox_refuses_a_file_over_a_limit_in_its_line_and_ingests_the_rest(tmp_path: Path, monkeypatch, encoder):
    monkeypatch.setenv("BULLETIN_BOT_MAX_PAGES", "1")
    lines: list[str] = []
    inbox = Inbox(tmp_path / "inbox", lambda files: ingest(files, tmp_path / "data", encoder), 0.05, echo=lines.append)
    make_pdf(inbox.folder / "two-pages.pdf", [PAGE, PAGE])
    (inbox.folder / "note.md").write_text("# Note\n\n## News\n\n1. Fine\n\nThe school was fined.\n")
    inbox.poll()
    inbox.poll()
    assert len(lines) == 1 and "added note.md" in lines[0]
    assert "two-pages.pdf: too large: 2 pages, more than the limit of 1 page per file" in lines[0]
