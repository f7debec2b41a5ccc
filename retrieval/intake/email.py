"""E-mail newsletters (``.eml``, as saved or forwarded from a mail client) as bulletins.

``eml_to_text(data, file)`` parses the message with the standard library (``email``,
``policy=default``). Its HTML part becomes the bulletin through the same extraction as an HTML page
(:func:`retrieval.intake.html.html_to_text`); a message with only a text part is taken as plain text.

- title: the Subject without ``Fwd:``/``FW:``/``Fw:`` prefixes; date: the Date header (ISO
  ``YYYY-MM-DD``); publisher: the sender's display name — of the forwarded message's ``From:`` line
  when the e-mail is a forward; link: a "view in browser"/"view online" link, else the page's
  canonical link;
- left out (not passages): tracking pixels and images (no text), the "view in browser" line,
  unsubscribe/preferences footers, and quoted forwarding headers (``---------- Forwarded message
  ---------``, ``From: … Sent: … To: … Subject: …``).

PDF attachments are not part of the bulletin: :func:`pdf_attachments` returns them (the watched
inbox, :mod:`bot.server.inbox`, saves each as a bulletin file of its own), and ``attachments`` in the
metadata names them.
"""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from email.message import EmailMessage, MIMEPart
from email.utils import getaddresses, parsedate_to_datetime

from retrieval.errors import BulletinParseError
from retrieval.text import decode_bulletin_bytes

_FWD_PREFIX = re.compile(r"^\s*((fwd?|fw)\s*:\s*)+", re.IGNORECASE)
_FORWARD_MARK = re.compile(r"^\s*(-{2,}\s*(forwarded message|original message)\s*-{2,}|begin forwarded message:?)\s*$",
                           re.IGNORECASE)
_HEADER_LINE = re.compile(r"^\s*\**(from|sent|date|to|cc|bcc|subject|reply-to)\**\s*:", re.IGNORECASE)
_FOOTER = re.compile(r"unsubscribe|manage (your )?(e-?mail )?(preferences|subscription)|update your preferences|"
                     r"you (are )?receiv(ed|ing) this (e-?mail|message|newsletter)|opt[ -]out", re.IGNORECASE)
_VIEW = re.compile(r"view (this (e-?mail|newsletter|message) )?(in (your |a )?browser|online|as a web ?page)",
                   re.IGNORECASE)
#: A footer or "view in browser" block longer than this is kept (it is more than a footer).
MAX_FOOTER_CHARS = 400


def _message(data: bytes, file: str) -> EmailMessage:
    if not data.strip():
        raise BulletinParseError(file, "the file is empty")
    msg = message_from_bytes(data, policy=policy.default)
    if not isinstance(msg, EmailMessage) or not (msg["From"] or msg["Subject"] or msg["Date"]):
        raise BulletinParseError(file, "not an e-mail message (no From, Subject or Date header)")
    return msg


def eml_to_text(data: bytes, file: str) -> tuple[str, dict[str, str]]:
    """The newsletter's text as blank-line separated blocks, and its metadata.

    Returns:
        (text, metadata) with ``title``, ``date``, ``publisher``, ``url`` when found,
        ``attachments`` (comma-separated PDF attachment names) when there are any, and ``unread``
        (one note per line) when a part could not be read: a part in a charset Python does not
        know (and whose bytes are not UTF-8) is passed over for the next readable text or HTML part.

    Raises:
        BulletinParseError: not an e-mail, no text or HTML part (or none that can be decoded), or
            nothing left once footers and forwarding headers are removed.
    """
    msg = _message(data, file)
    body, content, unread = _readable_body(msg, file)
    if isinstance(content, bytes):
        content = decode_bulletin_bytes(content, file)
    meta: dict[str, str] = {}
    if unread:
        meta["unread"] = "\n".join(unread)
    if body.get_content_type() == "text/html":
        from .html import html_to_text

        link = _view_link(content)
        text, page_meta = html_to_text(content, main_only=False)  # an e-mail has no site around it
        meta.update({k: v for k, v in page_meta.items() if k in ("url",)})
        if link:
            meta["url"] = link
    else:
        text = content.replace("\r\n", "\n").replace("\r", "\n")
    blocks, forwarded_from = _clean_blocks(text)
    if not blocks:
        raise BulletinParseError(file, "the e-mail has no text once its footers and forwarding headers are left out")
    subject = _FWD_PREFIX.sub("", str(msg["Subject"] or "")).strip()
    if subject:
        meta["title"] = subject
    try:
        if msg["Date"]:
            meta["date"] = parsedate_to_datetime(str(msg["Date"])).date().isoformat()
            meta["date_source"] = "document"  # the message's own Date header
    except (TypeError, ValueError):
        pass
    sender = forwarded_from or (getaddresses([str(msg["From"])])[0][0] if msg["From"] else "")
    if sender.strip():
        meta["publisher"] = sender.strip().strip('"')
    names = [name for name, _ in pdf_attachments(msg)]
    if names:
        meta["attachments"] = ",".join(names)
    return "\n\n".join(blocks) + "\n", meta


class _Unreadable(ValueError):
    """A text part whose charset Python does not know and whose bytes are not UTF-8 either."""


def _readable_body(msg: EmailMessage, file: str) -> tuple[MIMEPart, str | bytes, list[str]]:
    """The body part to read — the HTML, else the text part (:meth:`EmailMessage.get_body`), else the next
    inline text or HTML part that can be decoded — its content, and a note for each part that could not
    be read (or was read as UTF-8 under an unknown charset label).

    Raises:
        BulletinParseError: no text or HTML part, or none that can be decoded.
    """
    preferred = msg.get_body(preferencelist=("html", "plain"))
    inline: list[MIMEPart] = [p for p in msg.walk() if p.get_content_type() in ("text/html", "text/plain")
              and p.get_content_disposition() != "attachment" and p is not preferred]
    inline.sort(key=lambda p: p.get_content_type() != "text/html")  # stable: HTML first, then in order
    candidates: list[MIMEPart] = ([preferred] if preferred is not None else []) + inline
    if not candidates:
        raise BulletinParseError(file, "the e-mail has no text or HTML part")
    notes: list[str] = []
    for part in candidates:
        try:
            content, note = _content(part)
        except _Unreadable as exc:
            notes.append(str(exc))
            continue
        if notes:
            notes[-1] += f"; its {part.get_content_type()} alternative was"
        return part, content, notes + ([note] if note else [])
    raise BulletinParseError(file, "; ".join(notes))


def _content(part: MIMEPart) -> tuple[str | bytes, str | None]:
    """A part's decoded content, and a note when its charset label was unknown but its bytes are UTF-8."""
    try:
        return part.get_content(), None
    except (LookupError, UnicodeError):
        charset = part.get_content_charset() or "?"
        raw = part.get_payload(decode=True)
        raw = raw if isinstance(raw, bytes) else b""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _Unreadable(f"its {part.get_content_type()} part is in the charset {charset!r}, which is unknown "
                              "(and not UTF-8), so it was not read") from None
        return text, f"its {part.get_content_type()} part is labelled with the unknown charset {charset!r}; it was read as UTF-8"


def pdf_attachments(msg: EmailMessage | bytes) -> list[tuple[str, bytes]]:
    """The PDF attachments of a message (or of its bytes): (file name, PDF bytes) pairs, in order."""
    if isinstance(msg, bytes):
        msg = message_from_bytes(msg, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    out = []
    for i, part in enumerate(msg.iter_attachments(), start=1):
        name = part.get_filename() or f"attachment-{i}.pdf"
        if part.get_content_type() == "application/pdf" or name.lower().endswith(".pdf"):
            payload = part.get_content()
            if isinstance(payload, bytes):
                out.append((name, payload))
    return out


def _view_link(html: str) -> str | None:
    """The href of a "view in browser"/"view online" link, when it is an http(s) URL."""
    from bs4 import BeautifulSoup

    for a in BeautifulSoup(html, "html.parser").find_all("a", href=True):
        if _VIEW.search(a.get_text(" ")) and str(a["href"]).startswith(("http://", "https://")):
            return str(a["href"])
    return None


def _clean_blocks(text: str) -> tuple[list[str], str | None]:
    """The text's blocks without forwarding headers, footers and "view in browser" lines, and the
    display name of a forwarded message's ``From:`` line (or None)."""
    blocks, sender = [], None
    for block in re.split(r"\n\s*\n", text):
        lines = [ln for ln in block.split("\n") if ln.strip()]
        if not lines:
            continue
        if all(_FORWARD_MARK.match(ln) or _HEADER_LINE.match(ln) for ln in lines):
            for ln in lines:
                m = re.match(r"^\s*\**from\**\s*:\s*(.+)$", ln, re.IGNORECASE)
                if m and sender is None:
                    sender = getaddresses([m.group(1)])[0][0] or None
            continue
        kept = [ln for ln in lines if not (_FORWARD_MARK.match(ln) or _HEADER_LINE.match(ln))]
        if len(kept) != len(lines) and any(_FORWARD_MARK.match(ln) for ln in lines):
            lines = kept  # a forward marker glued to the first block of the original message
        joined = "\n".join(lines)
        if len(joined) <= MAX_FOOTER_CHARS and (_FOOTER.search(joined) or _VIEW.search(joined)):
            continue
        blocks.append(joined)
    return blocks, sender
