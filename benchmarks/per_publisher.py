"""Per-publisher figures of the answer tier (false refusals, near-misses refused, hit@1), printed as a table.

    BULLETIN_BOT_ENCODER=onnx .venv/bin/python benchmarks/per_publisher.py DATA_DIR QUESTIONS.jsonl...

A question's publisher is the one of its ``file`` (from the ``.meta.toml`` beside the bulletin in corpus/ or
../shared/wild/docs/); off-topic questions (no file) are left out. The dev3 check part (retrieval.search.evaluate
.split_part) is never included: it is measured as a whole only (``bulletin-bot eval … --part check``).
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import tomllib

from bot.cli.options import make_encoder
from retrieval.search.evaluate import answer_rank, load_questions, split_part
from retrieval.search.searcher import Searcher

ROOT = Path(__file__).resolve().parent.parent
META_DIRS = [ROOT / "corpus", ROOT.parent.parent / "shared" / "wild" / "docs", Path("/work/shared/wild/docs")]


def publisher_of(file: str) -> str | None:
    for d in META_DIRS:
        meta = d / (Path(file).stem + ".meta.toml")
        if meta.exists():
            return tomllib.loads(meta.read_text(encoding="utf-8")).get("publisher") or Path(file).stem
    return None


def main(data_dir: str, paths: list[str]) -> None:
    searcher = Searcher(data_dir, make_encoder(None, Path(data_dir)))
    rows: dict[str, list[tuple[bool, str, int | None]]] = defaultdict(list)
    for path in paths:
        for q in load_questions(path):
            if "dev3" in path and split_part(q.id) == "check":
                continue
            pub = publisher_of(q.file) if q.file else None
            if pub is None:
                continue
            a = searcher.search(q.question, top_k=10)
            rows[pub].append((q.answerable, a.tier, answer_rank(q.gold, a) if q.answerable else None))
    print(f"{'publisher':48} {'answerable':>10} {'false ref.':>10} {'hit@1':>6} {'near-miss':>9} {'refused':>8}")
    for pub, rs in sorted(rows.items()):
        ans = [r for r in rs if r[0]]
        una = [r for r in rs if not r[0]]
        fr = sum(r[1] != "answers" for r in ans)
        h1 = sum(r[2] == 1 for r in ans)
        ref = sum(r[1] != "answers" for r in una)
        print(f"{pub[:48]:48} {len(ans):>10} {fr / len(ans) if ans else 0:>10.3f} {h1 / len(ans) if ans else 0:>6.3f} "
              f"{len(una):>9} {ref / len(una) if una else 0:>8.3f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
