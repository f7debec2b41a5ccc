"""Instrument and event extraction against the hand-checked sample (benchmarks/instruments_sample.jsonl).

Builds the instrument index of the shipped corpus straight from the parsed bulletins
(read_bulletin + passages_from: no encoder, no data directory), compares it with the gold sample
and prints instrument precision/recall over (item, instrument) pairs, alias resolution accuracy,
event precision/recall over (item, instrument, kind), date accuracy among matched events, every
miss and false positive, and the extraction time. The protocol is in docs/instruments.md.

    .venv/bin/python benchmarks/bench_instruments.py [--repeat 5] [--sample PATH] [--corpus DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from retrieval.chunking import Passage, passages_from  # noqa: E402
from retrieval.instruments.names import slug  # noqa: E402
from retrieval.instruments.timeline import InstrumentIndex, build_instruments, item_key  # noqa: E402
from retrieval.intake.sources import read_bulletin  # noqa: E402

SAMPLE = ROOT / "benchmarks" / "instruments_sample.jsonl"
CORPUS = ROOT / "corpus"


def gold_key(row: dict) -> tuple:
    """The item key (see retrieval.instruments.timeline.item_key) of a sample row."""
    if row["item_number"] is not None:
        return (row["source_file"], row["section"], row["item_number"])
    return (row["source_file"], row["section"], None, row["paragraph"])


def load_sample(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def corpus_passages(corpus: Path) -> list[Passage]:
    out: list[Passage] = []
    for f in sorted(corpus.glob("*.txt")):
        out += passages_from(read_bulletin(f))
    return out


def _matches(extracted: str, inst: dict) -> bool:
    """An extracted key names a gold instrument when it is its key or the slug of a name the item writes."""
    return extracted == inst["key"] or extracted in {slug(n) for n in inst["names"]}


def _first_dates(events: list[tuple[str, str, str | None]]) -> dict[tuple[str, str], str | None]:
    """(key, kind) → the first date stated for it in text order (None when no sentence of it gives one)."""
    out: dict[tuple[str, str], str | None] = {}
    for key, kind, date in events:
        if out.get((key, kind)) is None:
            out[(key, kind)] = date
    return out


def evaluate(sample: list[dict], index: InstrumentIndex) -> dict:
    """Compare the index with the sample; returns counts, rates and the lists of misses/false positives."""
    by_item: dict[tuple, list] = {}
    for e in index.events:
        if e.kind != "mentioned":
            by_item.setdefault(item_key(e.citation), []).append(e)
    r: dict = {"items": len(sample), "with_instruments": 0, "inst_tp_gold": 0, "inst_gold": 0, "inst_tp_ext": 0,
               "inst_ext": 0, "res_ok": 0, "res_n": 0, "ev_tp": 0, "ev_gold": 0, "ev_ext": 0, "date_ok": 0,
               "inst_miss": [], "inst_fp": [], "res_wrong": [], "ev_miss": [], "ev_fp": [], "date_wrong": []}
    for row in sample:
        key = gold_key(row)
        where = f"{row['source_file']} {row['section'] or '-'} #{row['item_number'] or 'p' + str(row['paragraph'])}"
        insts = row["instruments"]
        ext = list(index.about.get(key, ()))
        r["with_instruments"] += bool(insts)
        r["inst_gold"] += len(insts)
        r["inst_ext"] += len(ext)
        to_gold: dict[str, str] = {}
        for k in ext:
            hit = next((i["key"] for i in insts if _matches(k, i)), None)
            if hit:
                r["inst_tp_ext"] += 1
                to_gold[k] = hit
            else:
                r["inst_fp"].append(f"{where}: {k}")
        for i in insts:
            found = [k for k in ext if _matches(k, i)]
            if found:
                r["inst_tp_gold"] += 1
                r["res_n"] += 1
                if len(found) == 1 and (found[0] == i["key"] or not i["in_table"]):
                    r["res_ok"] += 1
                else:
                    r["res_wrong"].append(f"{where}: {i['key']} ← {found}")
            else:
                r["inst_miss"].append(f"{where}: {i['key']}")
        gold_ev = _first_dates([(e["key"], e["kind"], e["date"]) for e in row["events"]])
        evs = sorted(by_item.get(key, []), key=lambda e: e.citation.char_start)
        ext_ev = _first_dates([(to_gold.get(e.key, e.key), e.kind, e.date) for e in evs])
        r["ev_gold"] += len(gold_ev)
        r["ev_ext"] += len(ext_ev)
        for pair, date in gold_ev.items():
            if pair in ext_ev:
                r["ev_tp"] += 1
                if ext_ev[pair] == date:
                    r["date_ok"] += 1
                else:
                    r["date_wrong"].append(f"{where}: {pair[0]} {pair[1]}: gold {date}, got {ext_ev[pair]}")
            else:
                r["ev_miss"].append(f"{where}: {pair[0]} {pair[1]} {date}")
        for pair, date in ext_ev.items():
            if pair not in gold_ev:
                r["ev_fp"].append(f"{where}: {pair[0]} {pair[1]} {date}")
    return r


def _rate(n: int, d: int) -> str:
    return f"{n / d:.2f} ({n}/{d})" if d else "n/a (0/0)"


def report(r: dict) -> str:
    lines = [
        f"sample: {r['items']} items, {r['with_instruments']} about at least one instrument, "
        f"{r['inst_gold']} item-instrument pairs, {r['ev_gold']} events",
        f"instrument precision  {_rate(r['inst_tp_ext'], r['inst_ext'])}",
        f"instrument recall     {_rate(r['inst_tp_gold'], r['inst_gold'])}",
        f"alias resolution      {_rate(r['res_ok'], r['res_n'])}  (found pairs resolved to exactly one, right key)",
        f"event precision       {_rate(r['ev_tp'], r['ev_ext'])}  (instrument + kind)",
        f"event recall          {_rate(r['ev_tp'], r['ev_gold'])}",
        f"event date accuracy   {_rate(r['date_ok'], r['ev_tp'])}  (among matched events)",
    ]
    for title, name in (("instrument misses", "inst_miss"), ("instrument false positives", "inst_fp"),
                        ("resolution errors", "res_wrong"), ("event misses", "ev_miss"),
                        ("event false positives", "ev_fp"), ("wrong dates", "date_wrong")):
        lines.append(f"\n{title} ({len(r[name])}):")
        lines += [f"  {x}" for x in r[name]] or ["  (none)"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample", type=Path, default=SAMPLE)
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--repeat", type=int, default=5, help="times to time build_instruments (median printed)")
    ap.add_argument("--scale", type=int, nargs="*", default=[],
                    help="also time build_instruments on N copies of the corpus (as other bulletins), e.g. 20 200")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    passages = corpus_passages(args.corpus)
    parse_s = time.perf_counter() - t0
    times = []
    index = None
    for _ in range(max(1, args.repeat)):
        t0 = time.perf_counter()
        index = build_instruments(passages)
        times.append(time.perf_counter() - t0)
    assert index is not None
    sample = load_sample(args.sample)
    known = {item_key(p.citation) for p in passages}
    missing = [gold_key(row) for row in sample if gold_key(row) not in known]
    if missing:
        print(f"sample items not in the corpus: {missing}", file=sys.stderr)
        return 2
    print(report(evaluate(sample, index)))
    n_items = len(known)
    print(f"\nextraction: {len(passages)} passages, {n_items} items, "
          f"{len({k for ks in index.about.values() for k in ks})} instruments, "
          f"{sum(e.kind != 'mentioned' for e in index.events)} events; "
          f"build_instruments median {statistics.median(times) * 1000:.0f} ms over {len(times)} runs "
          f"(parse + chunk {parse_s * 1000:.0f} ms)")
    for copies in args.scale:
        scaled = [dataclasses.replace(p, citation=dataclasses.replace(p.citation, source_file=f"{i}-{p.citation.source_file}"))
                  for i in range(copies) for p in passages]
        t0 = time.perf_counter()
        big = build_instruments(scaled)
        took = time.perf_counter() - t0
        print(f"scale x{copies}: {len(scaled)} passages, {len(big.events)} events, build_instruments {took:.2f} s "
              f"({took / len(scaled) * 1e6:.0f} µs per passage), instruments.json {len(big.to_json()) / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
