"""The watched inbox (bot/server/inbox.py): stable files are ingested, half-written ones wait, e-mails'
PDF attachments become bulletins; the loop runs in a thread and stops on its event."""

from __future__ import annotations

import threading
import time
from email.message import EmailMessage
from pathlib import Path

from click.testing import CliRunner

from bot import cli
from bot.cli import options as cli_options
from bot.server.inbox import Inbox
from retrieval.index.passages import PassageIndex
from retrieval.ingest import ingest
from tests.pdfs import make_pdf

TEXT = "# Privacy Bulletin\n\n## Enforcement\n\n1. Nantong school fined\n\nThe regulator fined the school 50,000 yuan.\n"


def _inbox(tmp_path: Path, encoder, lines: list[str]) -> tuple[Inbox, Path]:
    data = tmp_path / "data"
    return Inbox(tmp_path / "inbox", lambda files: ingest(files, data, encoder), 0.05, echo=lines.append), data


def test_a_file_is_ingested_once_stable_for_one_interval(tmp_path: Path, encoder):
    lines: list[str] = []
    inbox, data = _inbox(tmp_path, encoder, lines)
    assert inbox.folder.is_dir()
    f = inbox.folder / "bulletin.md"
    f.write_text(TEXT[:20])  # half-written
    assert inbox.poll() == []  # first sight: not yet known to be stable
    f.write_text(TEXT)  # still growing
    assert inbox.poll() == []
    assert inbox.poll() == [f]  # unchanged since the last poll
    assert inbox.poll() == []  # not again while unchanged
    assert lines == ["inbox: 1 file(s): added bulletin.md"]
    assert [b.source_file for b in PassageIndex.load(data).bulletins()] == ["bulletin.md"]


def test_a_bad_file_is_one_line_and_the_others_ingest(tmp_path: Path, encoder):
    lines: list[str] = []
    inbox, _ = _inbox(tmp_path, encoder, lines)
    (inbox.folder / "good.md").write_text(TEXT)
    (inbox.folder / "bad.pdf").write_bytes(b"%PDF-1.4 truncated")
    inbox.poll()
    inbox.poll()
    assert len(lines) == 1 and "added good.md" in lines[0] and "bad.pdf: not a readable PDF" in lines[0]


def test_pdf_attachment_of_an_email_becomes_its_own_bulletin(tmp_path: Path, encoder):
    lines: list[str] = []
    inbox, data = _inbox(tmp_path, encoder, lines)
    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["Date"] = "Fwd: Privacy Update", "ACME Law <n@acme.example>", "Fri, 14 Mar 2025 09:30:00 +0000"
    msg.set_content("The regulator fined the school 50,000 yuan for camera footage.\n")
    pdf = make_pdf(tmp_path / "report.pdf", [[["## Outlook", "Next year brings more audits."]]])
    msg.add_attachment(pdf.read_bytes(), maintype="application", subtype="pdf", filename="report.pdf")
    (inbox.folder / "update.eml").write_bytes(msg.as_bytes())
    for _ in range(4):
        inbox.poll()
    assert (inbox.folder / "update--report.pdf").read_bytes() == pdf.read_bytes(), lines
    assert sorted(b.source_file for b in PassageIndex.load(data).bulletins()) == ["update--report.pdf", "update.eml"], lines


def test_the_loop_runs_in_a_thread_until_its_stop_event(tmp_path: Path, encoder):
    lines: list[str] = []
    inbox, data = _inbox(tmp_path, encoder, lines)
    stop = threading.Event()
    thread = threading.Thread(target=inbox.run, args=(stop,), daemon=True)
    thread.start()
    (inbox.folder / "bulletin.md").write_text(TEXT)
    deadline = time.monotonic() + 10
    while not lines and time.monotonic() < deadline:
        time.sleep(0.02)
    stop.set()
    thread.join(2)
    assert not thread.is_alive() and lines == ["inbox: 1 file(s): added bulletin.md"]


def test_cli_watch_uses_the_inbox_variable_and_stops_on_ctrl_c(tmp_path: Path, monkeypatch, encoder):
    monkeypatch.setattr(cli_options, "make_encoder", lambda model, data_dir: encoder)
    folder = tmp_path / "drop"

    def interrupt(self, stop):
        self.poll()
        raise KeyboardInterrupt

    monkeypatch.setattr("bot.server.inbox.Inbox.run", interrupt)
    res = CliRunner().invoke(cli.main, ["ingest", "--watch", "--interval", "0.1", "--data-dir", str(tmp_path / "d")],
                             env={"BULLETIN_BOT_INBOX_DIR": str(folder)})
    assert res.exit_code == 0, res.output
    assert folder.is_dir() and f"watching {folder}" in res.output and "stopped watching" in res.output
