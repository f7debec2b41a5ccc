"""retrieval.intake.sources: the table from file ending to extractor decides which files are bulletins."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.intake import sources
from retrieval.intake.sources import BULLETIN_SUFFIXES, HTML_SUFFIXES, find_bulletin_files, read_bulletin


def test_the_table_gives_the_suffixes_read_before():
    assert BULLETIN_SUFFIXES[:5] == (".txt", ".md", ".markdown", ".html", ".htm")
    assert ".pdf" in BULLETIN_SUFFIXES
    assert HTML_SUFFIXES == (".html", ".htm")
    assert sources.extractor_for("a.HTM") is sources.extract_html
    assert sources.extractor_for("a.md") is sources.extract_text
    assert sources.extractor_for("notes.unknown") is sources.extract_text  # a file named directly


def test_one_line_in_the_table_adds_a_kind_of_bulletin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "a.txt").write_text("Title\n\nA paragraph.\n", encoding="utf-8")
    (tmp_path / "b.rtf").write_bytes(b"Subject line\n\nThe mail body.\n")

    def extract_mail(data: bytes, file: str, bounds: object = None) -> tuple[str, dict[str, str]]:
        return data.decode("utf-8").upper(), {"publisher": "Mail"}

    assert [f.name for f in find_bulletin_files([tmp_path])[0]] == ["a.txt"]
    monkeypatch.setitem(sources.EXTRACTORS, ".rtf", extract_mail)
    assert [f.name for f in find_bulletin_files([tmp_path])[0]] == ["a.txt", "b.rtf"]
    bulletin = read_bulletin(tmp_path / "b.rtf")
    assert bulletin.publisher == "Mail" and bulletin.paragraphs()[0][2].text == "THE MAIL BODY."
