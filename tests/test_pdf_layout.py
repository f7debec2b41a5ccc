"""PDF reading order from the layout (retrieval/intake/pdf_layout.py, pdf_document.py): columns per region,
table rows between rules, running headers, footnotes, hyphenation by the document's words, margin
numbers, headings, the cover and its date, continued paragraphs — on PDFs drawn with reportlab."""

from __future__ import annotations

from pathlib import Path

from retrieval.chunking import passages_from
from retrieval.intake.pdf import pdf_to_text
from retrieval.intake.sources import read_bulletin
from tests.pdfs import make_layout_pdf

P1 = ("The authority opened the year with a review of every complaint it received about cameras "
      "in schools and published the figures in full.")
LEFT = ("Left column: the regulator fined the school in Nantong fifty thousand yuan for keeping "
        "camera footage of pupils for three years without any reason.")
RIGHT = ("Right column: the ministry issued new guidance on cookie banners, and withdrawing consent "
         "must now be as easy as giving it on every website.")
P2 = ("Below both columns the bulletin turns to transfers, where the commission adopted two new "
      "adequacy decisions in the same month.")
C1 = "First of three: processors in the health sector face audits next spring under the new plan."
C2 = "Second of three: the data protection officer of a bank was dismissed and the court reinstated him."
C3 = "Third of three: a telecom operator must delete location data after six months at the latest."


def _text(path: Path) -> str:
    text, _ = pdf_to_text(path.read_bytes(), str(path))
    return " ".join(text.split())


def test_columns_are_found_per_region_two_then_three(tmp_path: Path):
    pdf = make_layout_pdf(tmp_path / "regions.pdf", [[
        ("text", 72, 70, "Quarterly Enforcement Review", 16, True),
        ("para", 72, 100, 450, P1, 10, False),
        ("para", 72, 160, 210, LEFT, 10, False), ("para", 312, 160, 210, RIGHT, 10, False),
        ("para", 72, 260, 450, P2, 10, False),
        ("para", 72, 320, 140, C1, 10, False), ("para", 250, 320, 140, C2, 10, False),
        ("para", 428, 320, 140, C3, 10, False),
    ]])
    text = _text(pdf)
    positions = [text.find(s) for s in (P1, LEFT, RIGHT, P2, C1, C2, C3)]
    assert -1 not in positions, text  # each paragraph verbatim: no column read across
    assert positions == sorted(positions)


def test_table_rows_between_rules_are_read_row_by_row_and_a_one_line_cell_stays_apart(tmp_path: Path):
    a = ("The institution shall ensure that appropriate resources, in terms of both quality and quantity, "
         "are available for information risk management.")
    b = "With regard to measures to ensure that the quality of resources remains appropriate."
    c = ("The management board shall be informed regularly, but at least once a quarter, in particular "
         "about the results of the risk analysis.")
    d = "The risk situation also includes external threats."
    pdf = make_layout_pdf(tmp_path / "table.pdf", [[
        ("rule", 50, 545, 90),
        ("text", 52, 110, "2.3.", 10, False), ("para", 80, 110, 222, a, 10, False), ("para", 318, 110, 222, b, 10, False),
        ("rule", 50, 545, 170),
        ("text", 52, 190, "3.11.", 10, False), ("para", 80, 190, 222, c, 10, False), ("text", 318, 190, d, 10, False),
        ("rule", 50, 545, 250),
    ]])
    text = _text(pdf)
    assert "2.3. " + a in text and "3.11. " + c in text and d in text and b in text
    assert text.index(a) < text.index(b) < text.index(c) < text.index(d)


def test_running_headers_that_name_each_chapter_are_left_out(tmp_path: Path):
    chapters = ["Introduction", "Introduction", "Fines", "Fines", "Outlook"]
    pages = [[("text", 72, 40, f"ACME Bulletin {chapter}", 8, False), ("text", 500, 810, str(n), 8, False),
              ("para", 72, 120, 450, f"Body text of page {n} tells what happened in chapter {chapter.lower()}.", 10, False)]
             for n, chapter in enumerate(chapters, start=1)]
    text = _text(make_layout_pdf(tmp_path / "running.pdf", pages))
    assert "ACME Bulletin" not in text
    assert all(f"Body text of page {n} tells" in text for n in range(1, 6))


def test_footnote_markers_leave_sentences_and_footnotes_are_passages_of_their_page(tmp_path: Path):
    body = ("The requesting authority said the models raise a number of wide-ranging concerns^{3} and "
            "that they impact data subjects across the union^{4}. As more and more models are trained, they "
            "affect a large number of data subjects")
    pdf = make_layout_pdf(tmp_path / "notes.pdf", [
        [("text", 72, 70, "Opinion on models", 16, True), ("para", 72, 100, 450, body, 10, False),
         ("rule", 72, 200, 760), ("text", 72, 775, "^{3} Request, p. 1.", 8, False),
         ("text", 72, 786, "^{4} Ibid.", 8, False)],
        [("para", 72, 80, 450, "throughout the union, and several authorities already received complaints.", 10, False)],
    ])
    b = read_bulletin(pdf)
    text = " ".join(b.source_text.split())
    assert "wide-ranging concerns and that they impact data subjects across the union. As more" in text
    assert "a large number of data subjects throughout the union, and several authorities" in text
    passages = {p.text: p.citation.page for p in passages_from(b)}
    assert passages["3 Request, p. 1."] == 1 and passages["4 Ibid."] == 1
    continued = next(t for t in passages if t.endswith("already received complaints."))
    assert passages[continued] == 1 and "As more and more models" in continued
    for p in passages_from(b):
        assert b.source_text[p.citation.char_start:p.citation.char_end] == p.text


def test_hyphens_at_line_ends_are_joined_or_kept_by_the_documents_own_words(tmp_path: Path):
    para = ("Good risk management needs a risk assessment that is based on facts. The board adopted "
            "a risk- based approach to its manage- ment of vendors and wrote new regula- tions for them.")
    text = _text(make_layout_pdf(tmp_path / "hyphens.pdf", [[("para", 72, 100, 450, para, 10, False)]]))
    assert "a risk-based approach to its management of vendors and wrote new regulations for them." in text


def test_margin_numbers_stay_in_front_and_a_bold_heading_is_not_glued_to_its_paragraph(tmp_path: Path):
    para = "Some respondents commented on the level of granularity they need when defining services."
    pdf = make_layout_pdf(tmp_path / "margin.pdf", [[
        ("text", 90, 100, "Granularity and proportionality", 10, True),
        ("text", 50, 113, "2.10", 10, True), ("para", 90, 113, 400, para, 10, False),
        ("text", 50, 150, "2.11", 10, True), ("para", 90, 150, 400, "Additionally, five respondents asked for more.", 10, False),
    ]])
    text, _ = pdf_to_text(pdf.read_bytes(), str(pdf))
    blocks = text.strip().split("\n\n")
    assert "Granularity and proportionality" in blocks
    assert "2.10 " + para in blocks and "2.11 Additionally, five respondents asked for more." in blocks


def test_a_cover_page_is_one_passage_and_gives_the_printed_date(tmp_path: Path):
    pdf = make_layout_pdf(tmp_path / "cover.pdf", [
        [("text", 100, 300, "Opinion 28/2024 on data protection", 18, True),
         ("text", 100, 325, "aspects of AI models", 18, True), ("text", 100, 380, "Adopted on 17 December 2024", 16, True)],
        [("para", 72, 100, 450, "The opinion answers four questions of the requesting authority.", 10, False)],
    ], created=None)
    b = read_bulletin(pdf)
    assert (b.date, b.date_source) == ("2024-12-17", "document")
    first = passages_from(b)[0]
    assert " ".join(first.text.split()) == "Opinion 28/2024 on data protection aspects of AI models Adopted on 17 December 2024"
    assert first.citation.page == 1


def test_a_month_printed_on_the_cover_as_of_dates_the_bulletin(tmp_path: Path):
    pdf = make_layout_pdf(tmp_path / "asof.pdf", [
        [("text", 100, 300, "Sanctions Tracker", 20, True), ("text", 100, 340, "as of June 2025", 14, False)],
        [("para", 72, 100, 450, "Fines imposed in the first half of the year, by authority.", 10, False)],
    ])
    assert (read_bulletin(pdf).date, read_bulletin(pdf).date_source) == ("2025-06", "document")


def test_an_ocr_layer_over_a_scan_is_read_as_it_is(tmp_path: Path):
    pdf = make_layout_pdf(tmp_path / "ocr.pdf", [[
        ("invisible", 72, 100, "Scanned decision: the authority fined the clinic 20,000 euros.", 11)]])
    assert "Scanned decision: the authority fined the clinic 20,000 euros." in _text(pdf)


def test_glyph_codes_no_engine_maps_are_left_out_and_reported_per_page(tmp_path: Path):
    from tests.pdfs import make_unmapped_font_pdf

    pdf = make_unmapped_font_pdf(tmp_path / "unmapped.pdf")
    text, meta = pdf_to_text(pdf.read_bytes(), str(pdf))
    assert "Released on 14 March 2025 by the authority." in text
    assert "(cid:" not in text and not any(ord(ch) < 32 and ch not in "\n" for ch in text)
    assert not any("\ue000" <= ch <= "\uf8ff" for ch in text)
    assert "page(s) 2 (" in meta["unread"] and "OCR those pages" in meta["unread"]
    b = read_bulletin(pdf)
    assert len(b.notes) == 1 and "glyph codes" in b.notes[0]


def test_the_reading_with_fewer_glyph_codes_wins():
    from retrieval.intake.pdf_engines import PageContent, best_reading
    from retrieval.intake.pdf_layout import Char

    def reading(texts: list[str], engine: str) -> PageContent:
        return PageContent([Char(t, 10 * i, 10 * i + 6, 0, 10, 10) for i, t in enumerate(texts)], engine=engine)

    miner = reading(["(cid:54)", "(cid:72)", "(cid:83)", " ", "1"], "pdfplumber")
    pdfium = reading(["S", "e", "p", " ", "1"], "pypdfium2")
    assert best_reading([miner, pdfium]).engine == "pypdfium2"
    bullets = reading(["\uf0a1", " ", "T", "e", "x", "t"], "pdfplumber")  # a symbol-font bullet is no lost text
    assert best_reading([bullets, reading(["•", " ", "T", "e", "x", "t"], "pypdfium2")]).engine == "pdfplumber"


def test_pdfium_and_pdfminer_read_the_same_blocks_and_rules_and_pdfminer_reads_pdfplumbers_characters(tmp_path: Path):
    """The fallback engine feeds the same layout (a table between rules reads alike through both), and the
    direct pdfminer reading gives exactly pdfplumber's characters."""
    import pdfplumber
    import pypdfium2

    from retrieval.intake.pdf_document import page_lines
    from retrieval.intake.pdf_engines import miner_page, pdfium_page
    from retrieval.intake.pdf_layout import page_blocks

    pdf = make_layout_pdf(tmp_path / "both.pdf", [[
        ("rule", 50, 545, 90), ("text", 52, 110, "2.3.", 10, False),
        ("para", 80, 110, 222, LEFT, 10, False), ("para", 318, 110, 222, RIGHT, 10, False),
        ("rule", 50, 545, 170), ("para", 80, 190, 450, "A wide- ranging note^{3} under the rule.", 10, False)]])

    def blocks(content) -> list[str]:
        laid = page_blocks(content.chars, content.rules, content.vrules, 1, content.height)
        return [b.text for b in page_lines(laid, 1, content.width, content.height).blocks]

    with pdfplumber.open(pdf) as doc:
        page = doc.pages[0]
        by_miner = miner_page(page)
        assert [(c.text, round(c.x0, 3), round(c.top, 3), round(c.bottom, 3), round(c.size, 3), c.font) for c in by_miner.chars] \
            == [(c["text"], round(c["x0"], 3), round(c["top"], 3), round(c["bottom"], 3), round(c["size"], 3), c["fontname"])
                for c in page.chars]
        page.close()
    document = pypdfium2.PdfDocument(str(pdf))
    by_pdfium = pdfium_page(document[0])
    document.close()
    assert len(by_pdfium.rules) == len(by_miner.rules) == 2
    assert blocks(by_pdfium) == blocks(by_miner)
    assert blocks(by_miner)[:3] == [LEFT, RIGHT, "A wide- ranging note under the rule."]
