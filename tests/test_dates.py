"""A bulletin's date and its source: sidecar > printed in the document > file metadata or name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from retrieval.ingest import ingest
from retrieval.intake.dates import file_name_date, find_date, printed_date
from retrieval.intake.sources import read_bulletin


@pytest.mark.parametrize("text, iso", [
    ("4 February 2025 • 3 minute read", "2025-02-04"), ("Published February 4, 2025", "2025-02-04"),
    ("Feb. 4 2025", "2025-02-04"), ("in the version of 16.08.2021", "2021-08-16"), ("as of June 2025", "2025-06"),
    ("on 10/31/2023", "2023-10-31"), ("on 31/10/2023", "2023-10-31"), ("2025-04-21T10:00:00Z", "2025-04-21"),
    ("on 03/04/2025", None), ("30 February 2025", "2025-02"),  # no such day: the month still holds
    ("no date here, only 2025", None),
])
def test_find_date(text: str, iso: str | None):
    found = find_date(text)
    assert (found[0] if found else None) == iso


def test_printed_date_prefers_a_labelled_line_and_ignores_dates_in_prose():
    assert printed_date(["# Monthly digest", "The Act was adopted on 12 July 2024 after long talks in Brussels.",
                         "Date: 3 May 2025"]) == "2025-05-03"
    assert printed_date(["The Act was adopted on 12 July 2024 after long talks in the Council."]) is None
    assert printed_date(["# Privacy digest, 14 May 2023", "Intro."]) == "2023-05-14"
    assert printed_date(["Intro paragraph."] * 20 + ["Date: 3 May 2025"]) is None  # too far down


def test_file_name_date():
    assert file_name_date("2018-07-10-Email-update.md") == "2018-07-10"
    assert file_name_date("digest-2024-02.txt") == "2024-02"
    assert file_name_date("report-2024-13.pdf") is None and file_name_date("v1234-56.md") is None


def _write(d: Path, name: str, text: str, sidecar: str | None = None) -> Path:
    f = d / name
    f.write_text(text, encoding="utf-8")
    if sidecar is not None:
        (d / (f.stem + ".meta.toml")).write_text(sidecar, encoding="utf-8")
    return f


def test_sources_in_order(tmp_path: Path):
    printed = "# Digest\n\nDate: 3 May 2025\n\nThe regulator fined a bank.\n"
    cases = {
        "sidecar": (_write(tmp_path, "a-2020-01-01.txt", printed, 'title = "A"\ndate = "2025-05"\n'), "2025-05"),
        "document": (_write(tmp_path, "b-2020-01-01.txt", printed), "2025-05-03"),
        "front matter": (_write(tmp_path, "c.md", "+++\ndate = 2021-12-16T12:58:43Z\n+++\n\nBody text.\n"), "2021-12-16"),
        "name": (_write(tmp_path, "2018-07-10-email.md", "---\ntitle: ASD update\n---\n\nGood morning.\n"), "2018-07-10"),
        "none": (_write(tmp_path, "e.txt", "# Digest\n\nThe regulator fined a bank.\n"), None),
    }
    sources = {"sidecar": "sidecar", "document": "document", "front matter": "document", "name": "metadata",
               "none": "none"}
    for case, (path, date) in cases.items():
        b = read_bulletin(path)
        assert (b.date, b.date_source) == (date, sources[case]), case


def test_printed_date_beats_the_html_meta_date(tmp_path: Path):
    page = ("<html><head><title>T</title><meta name='date' content='2024-01-09'></head><body><main>"
            "<h1>Alert</h1><p>Published 4 February 2025</p><p>The authority fined a retailer.</p></main></body></html>")
    b = read_bulletin(_write(tmp_path, "alert.html", page))
    assert (b.date, b.date_source) == ("2025-02-04", "document")
    b = read_bulletin(_write(tmp_path, "alert2.html", page.replace("<p>Published 4 February 2025</p>", "")))
    assert (b.date, b.date_source) == ("2024-01-09", "metadata")


def test_ingest_json_reports_date_and_source_and_warns_on_metadata_only(tmp_path: Path, encoder, monkeypatch):
    d = tmp_path / "c"
    d.mkdir()
    _write(d, "2018-07-10-email.md", "---\ntitle: ASD update\n---\n\nGood morning. ASD is now a statutory body.\n")
    _write(d, "digest.txt", "# Digest\n\nThe regulator fined a bank.\n", 'title = "Digest"\ndate = "2025-05-03"\n')
    report = ingest([d], tmp_path / "data", encoder)
    by_file = {r["file"]: r for r in report.to_dict()["bulletins"]}
    assert by_file["2018-07-10-email.md"]["date"] == "2018-07-10"
    assert by_file["2018-07-10-email.md"]["date_source"] == "metadata"
    assert by_file["digest.txt"]["date_source"] == "sidecar"
    assert any("2018-07-10-email.md: date 2018-07-10 comes only from the file's metadata" in w for w in report.warnings)
    assert not any("digest.txt" in w for w in report.warnings)

    from bot import cli
    from bot.cli import options as cli_options

    monkeypatch.setattr(cli_options, "make_encoder", lambda model, data_dir=None: encoder)
    res = CliRunner().invoke(cli.main, ["ingest", str(d), "--json", "--data-dir", str(tmp_path / "data2")])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert {r["file"]: (r["date"], r["date_source"]) for r in out["bulletins"]} == {
        "2018-07-10-email.md": ("2018-07-10", "metadata"), "digest.txt": ("2025-05-03", "sidecar")}
    assert any("only from the file's metadata" in w for w in out["warnings"])
    res = CliRunner().invoke(cli.main, ["ingest", str(d), "--data-dir", str(tmp_path / "data3")])
    assert "added: 2018-07-10-email.md (date 2018-07-10, from the metadata)" in res.stdout
