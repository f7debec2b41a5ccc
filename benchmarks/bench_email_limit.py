"""A huge e-mail newsletter against the passages-per-file limit: how long until it is refused, and at what memory.

Writes an ``.eml`` of ``--paragraphs`` distinct paragraphs (plain text, or HTML with ``--html``; about
110 bytes each, so 600,000 make ~67 MB), then ingests it in a fresh process (fake encoder: nothing is
embedded either way) with the limit in force (``BULLETIN_BOT_MAX_PASSAGES_PER_FILE``, default 10,000),
and prints the wall time, the refusal and that process's peak RSS. Without the limit every paragraph
would be embedded: at ~36 passages/s on 2 cores (benchmarks/README.md) 600,000 take ~4.6 hours.

    .venv/bin/python benchmarks/bench_email_limit.py                    # 600,000 paragraphs, text/plain
    .venv/bin/python benchmarks/bench_email_limit.py --html --paragraphs 550000

Prints figures only.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[3])
from retrieval.ingest import ingest
from tests.fakes import HashEncoder
t = time.perf_counter()
report = ingest([sys.argv[1]], sys.argv[2], HashEncoder())
print(json.dumps({"seconds": time.perf_counter() - t, "errors": report.errors, "added": report.added,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def write_newsletter(path: Path, paragraphs: int, html: bool) -> None:
    para = "The authority fined company number {i} for a breach of the rules on direct marketing consent, case {i}."
    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["Date"] = "Huge digest", "ACME <n@acme.example>", "Fri, 14 Mar 2025 09:30:00 +0000"
    if html:
        msg.set_content("see the HTML part")
        body = "".join(f"<p>{para.format(i=i)}</p>" for i in range(paragraphs))
        msg.add_alternative(f"<html><body>{body}</body></html>", subtype="html")
    else:
        msg.set_content("\n\n".join(para.format(i=i) for i in range(paragraphs)))
    path.write_bytes(msg.as_bytes())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--paragraphs", type=int, default=600_000)
    parser.add_argument("--html", action="store_true", help="an HTML part instead of text/plain")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        eml = Path(tmp) / "huge.eml"
        write_newsletter(eml, args.paragraphs, args.html)
        run = subprocess.run([sys.executable, "-c", _CHILD, str(eml), str(Path(tmp) / "data"), str(ROOT)],
                             capture_output=True, text=True, check=True)
        out = json.loads(run.stdout.strip().splitlines()[-1])
        size = eml.stat().st_size / 1e6
    kind = "HTML" if args.html else "text/plain"
    print(f"{kind} e-mail, {args.paragraphs:,} paragraphs, {size:.1f} MB")
    print(f"ingest: {out['seconds']:.1f} s, peak RSS {out['peak_rss_mb']:.0f} MB, added {out['added']}")
    for e in out["errors"]:
        print(f"refused: {e['error']}")


if __name__ == "__main__":
    main()
