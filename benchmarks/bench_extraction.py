"""Extraction fidelity: how much of each bulletin's gold text the extractors read verbatim, whole and in order.

    .venv/bin/python benchmarks/bench_extraction.py [DIR_OR_FILE ...] [--golds FILE.jsonl ...]

Defaults: corpus/ and ../shared/wild/docs/, golds from ../shared/eval/*.jsonl and
../shared/wild/questions.jsonl (``layout-`` golds included: the sentence as the document reads).
For every file that has golds it prints:

- ``verbatim``: golds found in the extracted text (whitespace-normalised, as ``bulletin-bot eval``
  compares them), and of those the ``layout-`` ones;
- ``quotable``: golds that lie inside one passage (what a hit can quote);
- ``order``: of the pairs of consecutive golds (ordered as a plain reference reading of the source
  has them: the file itself for text and markdown, the page's text nodes for HTML, pdfplumber's page
  text for PDF), the share the extraction keeps in the same order;
- ``ms``: time to extract and parse the file.

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from retrieval.chunking import passages_from  # noqa: E402
from retrieval.intake.sources import BULLETIN_SUFFIXES, extractor_for, read_bulletin  # noqa: E402

SHARED = ROOT.parent / "shared"
if not SHARED.exists():
    SHARED = Path("/work/shared")


def norm(s: str) -> str:
    return " ".join(s.split())


def reference_reading(path: Path) -> str:
    """A plain reading of the source, used only to order the golds."""
    if path.suffix.lower() == ".pdf":
        import pdfplumber

        with pdfplumber.open(str(path)) as pdf:
            return norm(" ".join(page.extract_text() or "" for page in pdf.pages))
    if path.suffix.lower() in (".html", ".htm"):
        from bs4 import BeautifulSoup

        soup = BeautifulSoup(path.read_text(encoding="utf-8", errors="replace"), "html.parser")
        for el in soup(["script", "style", "noscript", "template"]):
            el.decompose()
        for sup in soup.find_all("sup"):
            sup.insert_before("^")
        return re.sub(r"\s*\^\s*", "^", norm(soup.get_text(" ")))
    return norm(path.read_text(encoding="utf-8", errors="replace"))


def locate(text: str, gold: str) -> int:
    """Where gold (or its first words) starts in text; -1 when absent."""
    g = norm(gold)
    pos = text.find(g)
    if pos < 0:
        pos = text.find(" ".join(g.split()[:5]))
    return pos


def load_golds(files: list[Path]) -> dict[str, list[dict]]:
    golds: dict[str, list[dict]] = {}
    for f in files:
        for line in f.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            if row.get("gold", "").strip() and row.get("file"):
                golds.setdefault(row["file"], []).append(row)
    return golds


def measure(path: Path, golds: list[dict]) -> dict:
    t0 = time.perf_counter()
    text, _meta = extractor_for(path)(path.read_bytes(), str(path))
    bulletin = read_bulletin(path)
    passages = passages_from(bulletin)
    ms = (time.perf_counter() - t0) * 1000
    flat = norm(text)
    texts = [norm(p.text) for p in passages]
    found = [g for g in golds if norm(g["gold"]) in flat]
    layout = [g for g in golds if g["kind"].startswith("layout-")]
    quotable = [g for g in golds if any(norm(g["gold"]) in t for t in texts)]
    ref = reference_reading(path)
    placed = sorted(((locate(ref, g["gold"]), flat.find(norm(g["gold"]))) for g in found), key=lambda t: t[0])
    placed = [p for p in placed if p[0] >= 0]
    pairs = list(zip(placed, placed[1:]))
    in_order = sum(1 for a, b in pairs if a[1] <= b[1])
    return {"file": path.name, "golds": len(golds), "verbatim": len(found), "layout": len(layout),
            "layout_verbatim": sum(1 for g in layout if g in found), "quotable": len(quotable),
            "pairs": len(pairs), "in_order": in_order, "ms": ms, "passages": len(passages)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="*", type=Path, default=[ROOT / "corpus", SHARED / "wild" / "docs"])
    ap.add_argument("--golds", nargs="*", type=Path,
                    default=sorted((SHARED / "eval").glob("*.jsonl")) + [SHARED / "wild" / "questions.jsonl"])
    args = ap.parse_args(argv)
    golds = load_golds([g for g in args.golds if g.exists()])
    files: list[Path] = []
    for p in args.paths:
        files.extend(sorted(f for f in p.iterdir() if f.suffix.lower() in BULLETIN_SUFFIXES) if p.is_dir() else [p])
    print(f"{'file':55} {'golds':>5} {'verbatim':>9} {'layout':>7} {'quotable':>9} {'order':>7} {'passages':>8} {'ms':>7}")
    tot = {"golds": 0, "verbatim": 0, "layout": 0, "layout_verbatim": 0, "quotable": 0, "pairs": 0, "in_order": 0}
    for f in files:
        if f.name not in golds:
            continue
        r = measure(f, golds[f.name])
        for k in tot:
            tot[k] += r[k]
        order = f"{r['in_order']}/{r['pairs']}" if r["pairs"] else "-"
        print(f"{r['file']:55} {r['golds']:>5} {r['verbatim'] / r['golds']:>9.2f} "
              f"{r['layout_verbatim']:>3}/{r['layout']:<3} {r['quotable'] / r['golds']:>9.2f} {order:>7} "
              f"{r['passages']:>8} {r['ms']:>7.0f}")
    if tot["golds"]:
        print(f"\nall: {tot['verbatim']}/{tot['golds']} golds verbatim ({tot['verbatim'] / tot['golds']:.3f}), "
              f"layout- {tot['layout_verbatim']}/{tot['layout']}, {tot['quotable']}/{tot['golds']} inside one passage, "
              f"{tot['in_order']}/{tot['pairs']} consecutive pairs in reading order")
    return 0


if __name__ == "__main__":
    sys.exit(main())
