"""Peak memory and time of ingesting one hostile PDF, and what a serving process keeps afterwards (issue 18, item 3).

Writes two PDFs with reportlab (in a temporary folder, or --keep DIR):

- ``one-line.pdf``: a single page holding one endless line of text (about 127 KB on disk);
- ``pages-2000.pdf``: 2,000 full pages (--pages N for another count).

Then, for each file, in a fresh process:

- **extract**: ``read_bulletin`` and ``passages_from`` only (the PDF reading itself);
- **ingest**: ``retrieval.ingest.ingest([file], data_dir, encoder)`` into an empty data directory, as
  ``bulletin-bot ingest FILE`` does (the encoder of ``--encoder``, ``onnx`` by default, read from
  ``$BULLETIN_BOT_ONNX_DIR`` or ./data/onnx: export it once with ``bulletin-bot export-onnx``; ``fake``
  for the tests' hash encoder, which costs no memory);
- **serve**: a process that first loads a Searcher over an index of corpus/ (as ``serve`` does), notes its
  resident size, ingests the file as an upload or the inbox does (the same ``ingest`` call), and notes
  its size again after the ingest returned.

Prints one line per file and mode: peak resident set size (``ru_maxrss``), seconds, passages or the
file's error. Run: ``.venv/bin/python benchmarks/bench_pdf_memory.py [--pages 2000] [--encoder onnx]``.
The goal (issue 18): peak < 600 MB for any single-file ingest, and the serving process back within
100 MB of its idle size afterwards.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

WORDS = ("regulator authority fined school footage consent guidance withdrawal cookie banner processor audit health "
         "sector bank officer court reinstated telecom location delete months transfer adequacy decision commission "
         "controller breach notification deadline hours impact tolerance resilience service important business "
         "supervisory requirement institution management information security risk analysis").split()


def make_one_line(path: Path, target_bytes: int = 127_000) -> Path:
    """One page with one line of random words, grown until the file is about ``target_bytes``."""
    from reportlab.pdfgen import canvas

    rng = random.Random(7)
    n = 20_000
    while True:
        c = canvas.Canvas(str(path))
        c.setFont("Helvetica", 10)
        c.drawString(20, 400, " ".join(rng.choice(WORDS) + str(rng.randint(0, 99)) for _ in range(n)))
        c.showPage()
        c.save()
        size = path.stat().st_size
        if size >= target_bytes * 0.95:
            return path
        n = int(n * target_bytes / size * 1.02)


def make_pages(path: Path, pages: int) -> Path:
    """``pages`` A4 pages of about 50 lines of running text each (about 3,500 characters; paragraphs of about twelve lines), a
    running header, a page number, and a heading every tenth page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    rng = random.Random(11)
    c = canvas.Canvas(str(path), pagesize=A4)
    for n in range(1, pages + 1):
        c.setFont("Helvetica", 8)
        c.drawString(72, 810, "Hostile Bulletin · Annual compilation")
        c.drawString(290, 30, str(n))
        y = 780
        if n % 10 == 1:
            c.setFont("Helvetica-Bold", 14)
            c.drawString(72, y, f"Chapter {n // 10 + 1}")
            y -= 28
        c.setFont("Helvetica", 10)
        while y > 60:  # sentences of about three lines, paragraphs of about twelve
            words = [rng.choice(WORDS) for _ in range(rng.randint(7, 10))]
            end = "." if rng.random() < 0.3 else ""
            last = bool(end) and rng.random() < 0.25
            c.drawString(72, y, " ".join(words) + end)
            y -= 24 if last else 14
        c.showPage()
    c.save()
    return path


CHILD = textwrap.dedent("""
    import gc, json, os, resource, sys, time
    from pathlib import Path
    mode, file, data, encoder_kind = sys.argv[1:5]

    def rss_mb():
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def encoder():
        if encoder_kind == "fake":
            from tests.fakes import HashEncoder
            return HashEncoder()
        from retrieval.encoders.factory import make_encoder
        return make_encoder(backend=encoder_kind, export_dir=os.environ.get("BULLETIN_BOT_ONNX_DIR") or "data/onnx")

    out = {}
    start = time.perf_counter()
    try:
        if mode == "extract":
            from retrieval.chunking import passages_from
            from retrieval.intake.sources import read_bulletin
            out["passages"] = len(passages_from(read_bulletin(Path(file))))
        elif mode == "ingest":
            from retrieval.ingest import ingest
            enc = encoder()
            start = time.perf_counter()
            report = ingest([Path(file)], Path(data), enc)
            out["passages"] = report.passages
            out["error"] = report.errors[0]["error"] if report.errors else None
        else:  # serve: a Searcher over corpus/ first, then the upload's ingest in the same process
            from retrieval.ingest import ingest
            from retrieval.search.searcher import Searcher
            enc = encoder()
            ingest([Path("corpus")], Path(data), enc)
            searcher = Searcher(Path(data), enc)
            searcher.search("what fine did the school in Nantong get", top_k=3)
            gc.collect()
            out["idle_mb"] = rss_mb()
            start = time.perf_counter()
            report = ingest([Path(file)], Path(data), enc)
            out["error"] = report.errors[0]["error"] if report.errors else None
            searcher.search("what fine did the school in Nantong get", top_k=3)
            gc.collect()
            out["after_mb"] = rss_mb()
    except Exception as exc:  # a refused file is a figure too
        out["error"] = f"{type(exc).__name__}: {exc}"
    out["seconds"] = time.perf_counter() - start
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))
""")


def run(mode: str, file: Path, encoder: str) -> dict:
    with tempfile.TemporaryDirectory() as data:
        env_data = Path(data)
        res = subprocess.run([sys.executable, "-c", CHILD, mode, str(file), str(env_data), encoder], cwd=ROOT,
                             capture_output=True, text=True)
    if res.returncode != 0 or not res.stdout.strip():
        return {"error": (res.stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=2000, help="pages of the long PDF (default 2000)")
    ap.add_argument("--encoder", default="onnx", help="onnx (default), onnx-int8, torch or fake")
    ap.add_argument("--modes", default="extract,ingest,serve", help="comma-separated: extract, ingest, serve")
    ap.add_argument("--keep", type=Path, help="write the PDFs here (and reuse them) instead of a temporary folder")
    args = ap.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-pdf-"))
    folder.mkdir(parents=True, exist_ok=True)
    one = folder / "one-line.pdf"
    many = folder / f"pages-{args.pages}.pdf"
    if not one.exists():
        make_one_line(one)
    if not many.exists():
        make_pages(many, args.pages)
    print(f"encoder {args.encoder}; files in {folder}")
    for f in (one, many):
        print(f"{f.name}: {f.stat().st_size / 1024:.0f} KB")
        for mode in args.modes.split(","):
            r = run(mode, f, args.encoder)
            extra = f"  idle {r['idle_mb']:.0f} MB -> after {r['after_mb']:.0f} MB (+{r['after_mb'] - r['idle_mb']:.0f} MB)" \
                if "idle_mb" in r and "after_mb" in r else ""
            what = f"error: {r['error']}" if r.get("error") else f"{r.get('passages', '-')} passages"
            print(f"  {mode:8} peak RSS {r.get('peak_mb', 0):7.0f} MB  {r.get('seconds', 0):7.1f} s  {what}{extra}")


if __name__ == "__main__":
    main()
