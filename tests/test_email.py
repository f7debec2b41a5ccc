"""E-mail newsletters (retrieval/intake/email.py), on .eml files written with the standard library."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from retrieval.errors import BulletinParseError
from retrieval.ingest import ingest
from retrieval.intake.email import eml_to_text, pdf_attachments
from retrieval.intake.sources import read_bulletin
from tests.fakes import HashEncoder
from tests.pdfs import make_pdf

HTML = """<html><head><link rel="canonical" href="https://acme.example/news/canonical"></head><body>
<p><a href="https://acme.example/news/2025-03?utm=mail">View this email in your browser</a></p>
<h1>Privacy Update March 2025</h1>
<h2>Enforcement</h2>
<ul><li><b>School fined in Nantong</b>: the regulator fined a middle school 50,000 yuan for camera footage.</li>
<li><b>Cookie banners</b>: the authority issued guidance on consent withdrawal.</li></ul>
<img src="https://track.example/open.gif?id=42" width="1" height="1" alt="">
<p>You are receiving this email because you subscribed. <a href="https://acme.example/u">Unsubscribe</a>
| <a href="https://acme.example/p">Manage preferences</a></p>
</body></html>"""
TEXT = "Privacy Update March 2025\n\nThe regulator fined a middle school 50,000 yuan.\n\nUnsubscribe: https://acme.example/u\n"


def newsletter(subject: str = "Fwd: FW: Privacy Update March 2025", html: str | None = HTML,
               sender: str = "ACME Law LLP <news@acme.example>") -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["To"] = subject, sender, "compliance@firm.example"
    msg["Date"] = "Fri, 14 Mar 2025 09:30:00 +0000"
    msg.set_content(TEXT)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg


def write(path: Path, msg: EmailMessage) -> Path:
    path.write_bytes(msg.as_bytes())
    return path


def test_html_part_becomes_the_bulletin_with_headers_as_metadata(tmp_path: Path):
    b = read_bulletin(write(tmp_path / "update.eml", newsletter()))
    assert b.title == "Privacy Update March 2025" and b.date == "2025-03-14" and b.publisher == "ACME Law LLP"
    assert b.url == "https://acme.example/news/2025-03?utm=mail"
    texts = [p.text for _, _, p in b.paragraphs()]
    assert any("50,000 yuan" in t for t in texts)
    assert not any("Unsubscribe" in t or "receiving this" in t or "browser" in t for t in b.source_text.split("\n"))


def test_text_part_when_there_is_no_html(tmp_path: Path):
    b = read_bulletin(write(tmp_path / "plain.eml", newsletter(subject="Privacy Update", html=None)))
    assert "50,000 yuan" in b.source_text and "Unsubscribe" not in b.source_text and b.title == "Privacy Update"


def test_canonical_link_when_there_is_no_view_in_browser_link(tmp_path: Path):
    text, meta = eml_to_text(newsletter(html=HTML.replace("View this email in your browser", "Home")).as_bytes(), "x.eml")
    assert meta["url"] == "https://acme.example/news/canonical"


def test_forwarding_headers_are_not_passages_and_the_original_sender_is_the_publisher(tmp_path: Path):
    forwarded = ("<div>FYI, see below.</div><div class=gmail_quote>---------- Forwarded message ---------<br>"
                 "From: <b>ACME Law LLP</b> &lt;news@acme.example&gt;<br>Date: Fri, 14 Mar 2025<br>"
                 "Subject: Privacy Update March 2025<br>To: me@firm.example<br></div>"
                 "<p>From: Jane Doe<br>Sent: Friday, March 14, 2025 10:00<br>To: Team<br>Subject: FW: update</p>")
    forwarded = HTML.replace("<body>", "<body>" + forwarded)
    msg = newsletter(html=forwarded, sender="Jane Doe <jane@firm.example>")
    text, meta = eml_to_text(msg.as_bytes(), "f.eml")
    assert "Forwarded message" not in text and "Sent:" not in text and "Subject:" not in text
    assert "FYI, see below." in text and "50,000 yuan" in text
    assert meta["publisher"] == "ACME Law LLP"


def test_pdf_attachments_are_reported_and_returned(tmp_path: Path):
    msg = newsletter()
    pdf = make_pdf(tmp_path / "report.pdf", [[["## Outlook", "Next year brings more audits."]]])
    msg.add_attachment(pdf.read_bytes(), maintype="application", subtype="pdf", filename="report.pdf")
    text, meta = eml_to_text(msg.as_bytes(), "a.eml")
    assert meta["attachments"] == "report.pdf"
    assert pdf_attachments(msg.as_bytes()) == [("report.pdf", pdf.read_bytes())]


def test_a_bad_eml_is_that_files_error_and_the_others_ingest(tmp_path: Path, encoder):
    write(tmp_path / "good.eml", newsletter())
    (tmp_path / "bad.eml").write_bytes(b"just some words, no headers at all\n")
    (tmp_path / "empty.eml").write_bytes(b"")
    report = ingest([tmp_path], tmp_path / "data", encoder)
    assert report.added == ["good.eml"]
    assert sorted(Path(e["file"]).name for e in report.errors) == ["bad.eml", "empty.eml"]
    with pytest.raises(BulletinParseError, match="not an e-mail"):
        read_bulletin(tmp_path / "bad.eml")


# -- a part in a charset nobody knows: read what can be read, say what could not ----------------------------
def _raw_alternative(html_charset: str, html_bytes: bytes, plain: bytes | None = TEXT.encode()) -> bytes:
    parts = []
    if plain is not None:
        parts.append(b'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n' + plain)
    parts.append(f'Content-Type: text/html; charset="{html_charset}"\r\n'.encode()
                 + b"Content-Transfer-Encoding: 8bit\r\n\r\n" + html_bytes)
    body = b"".join(b"--XYZ\r\n" + p + b"\r\n" for p in parts) + b"--XYZ--\r\n"
    return (b"From: ACME Law LLP <news@acme.example>\r\nSubject: Privacy Update\r\nDate: Fri, 14 Mar 2025 09:30:00 +0000"
            b'\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="XYZ"\r\n\r\n' + body)


def test_a_part_in_an_unknown_charset_is_reported_and_the_readable_part_read(tmp_path: Path):
    raw = _raw_alternative("x-klingon", b"<html><body><p>\xff\xfe\xfa garbled</p></body></html>")
    path = tmp_path / "mixed.eml"
    path.write_bytes(raw)
    b = read_bulletin(path)
    assert "50,000 yuan" in b.source_text  # the text/plain alternative was read
    assert b.notes == ["its text/html part is in the charset 'x-klingon', which is unknown (and not UTF-8), so it "
                       "was not read; its text/plain alternative was"]
    report = ingest([path], tmp_path / "data", HashEncoder())
    assert report.added == ["mixed.eml"] and not report.errors
    assert f"{path}: {b.notes[0]}" in report.warnings


def test_an_unknown_charset_label_on_utf8_text_is_read_as_utf8_and_said(tmp_path: Path):
    html = "<html><body><h1>Privacy Update</h1><p>The regulator fined a café 8,000 yuan.</p></body></html>"
    text, meta = eml_to_text(_raw_alternative("x-mac-unknown", html.encode("utf-8"), plain=None), "u.eml")
    assert "café 8,000 yuan" in text
    assert meta["unread"] == "its text/html part is labelled with the unknown charset 'x-mac-unknown'; it was read as UTF-8"


def test_an_e_mail_whose_only_text_is_unreadable_is_one_sentence():
    raw = _raw_alternative("x-klingon", b"<p>\xff\xfe\xfa</p>", plain=None)
    with pytest.raises(BulletinParseError, match="its text/html part is in the charset 'x-klingon', which is unknown"):
        eml_to_text(raw, "bad.eml")


def test_a_newsletter_without_main_element_is_read_whole(tmp_path: Path):
    # an e-mail has no site around it: its sections are all read, none is taken for page chrome
    html = ("<html><body><table><tr><td><h2>Enforcement</h2><p>The regulator fined a telecom operator EUR 1.2 "
            "million for spam calls to its former customers.</p></td></tr><tr><td><h2>Guidance</h2><p>New guidance "
            "on cookie banners was published and applies from March.</p></td></tr></table></body></html>")
    text, _meta = eml_to_text(newsletter(html=html).as_bytes(), "n.eml")
    assert "EUR 1.2 million" in text and "cookie banners" in text and "## Guidance" in text
