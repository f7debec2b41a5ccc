"""Timelines against the hand audit (benchmarks/timeline_gold.jsonl): the five measures of issue 23.

The gold file holds two kinds of records (protocol in docs/instruments.md, "Timeline audit"):

- ``{"type": "event", "key", "kind", "kinds", "date", "file", "sentence", "also", "optional", "part"}`` —
  one event an item's sentences state about an instrument: every event of the six audited instruments
  (EU AI Act, EU-US DPF, GDPR, Data Act, DMA/DSA, CCPA) in every shipped bulletin, and every event of
  every instrument in four bulletins of four publishers (HSF, MoFo, Securiti, TechGDPR). ``sentence``
  (and the restatements in ``also``) are verbatim; ``kinds`` are the kinds accepted (``kind`` first);
  ``date`` is the ISO date the text states (the sentence, or a Securiti item's ``Date:`` line) or null.
  ``optional`` events (judgement calls) count for no recall; extracting them is no error.
- ``{"type": "instrument", "key", "names", "in_table", "subject", "files", "part"}`` — every real
  instrument the corpus names; ``subject``: an item reports on it (these count for instrument recall).

Measures, each for the tuning part, the check part and both (``part`` of a record is fixed in the gold):

- **event recall**: required gold events found — an extracted event of that instrument, of an accepted
  kind, quoting a sentence that overlaps one of the gold sentences (each extracted event counts once);
- **event precision** (instrument + kind): extracted events in the audit's scope (an audited
  instrument, or any instrument in a fully audited bulletin) that match a gold event, optional or not;
- **date accuracy**: among found gold events whose text states a date, those whose extracted date
  equals it, with no matching extracted event giving another date ("invented" counts the found
  undated events that were given a date);
- **later developments**: the marks ``InstrumentIndex.later_developments`` puts on each item, against
  the marks the rule gives on the gold events (an event of the same instrument in another item, placed
  after the item's own stages — event date, else bulletin date — at a higher stage, or a later
  deadline): precision and recall over (item, instrument, marking event);
- **instrument list**: the instruments ``timeline --list`` shows: share that are real and not split
  (a key that matches no gold instrument, or a second key of one, is an error), and recall of the gold
  instruments some item reports on; plus listed names ``timeline`` cannot resolve and hidden keys.

Prints the figures, then (tuning part only, unless ``--details check``) every miss and error.

    .venv/bin/python benchmarks/bench_timelines.py [--gold PATH] [--corpus DIR] [--details tune|check|none]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_instruments import CORPUS, corpus_passages  # noqa: E402
from retrieval.instruments import view  # noqa: E402
from retrieval.instruments.events import STAGE  # noqa: E402
from retrieval.instruments.names import slug  # noqa: E402
from retrieval.instruments.timeline import SUPERSEDING, InstrumentIndex, build_instruments, item_key  # noqa: E402
from retrieval.text import compare_dates  # noqa: E402

GOLD = ROOT / "benchmarks" / "timeline_gold.jsonl"
#: The audited instruments (every bulletin) and the fully audited bulletins (every instrument).
AUDITED = frozenset({"eu-ai-act", "eu-us-dpf", "gdpr", "eu-data-act", "eu-dma", "eu-dsa", "us-ccpa"})
FULL_AUDIT = frozenset({"china-cybersecurity-data-protection-2019-08.txt", "mofo-european-digital-compliance-2025-05.txt",
                        "securiti-privacy-roundup-2025-04.txt", "techgdpr-digest-2025-05-03-16.txt"})
#: The split, fixed before any rule was changed: the check part is every record of these instruments
#: or of these bulletins; the rest is the tuning part.
CHECK_KEYS = frozenset({"eu-us-dpf", "eu-data-act", "eu-dma", "eu-dsa", "us-ccpa"})
CHECK_FILES = frozenset({"china-cybersecurity-data-protection-2019-08.txt", "techgdpr-digest-2025-05-03-16.txt"})
PARTS = ("tune", "check")


def part_of(key: str | None, file: str) -> str:
    """The part ("tune" or "check") of a record of instrument ``key`` in bulletin ``file``."""
    return "check" if key in CHECK_KEYS or file in CHECK_FILES else "tune"


@dataclass
class Gold:
    """The gold file, located in the corpus: each event's sentence spans and item."""

    events: list[dict]
    instruments: list[dict]
    to_gold: dict[str, str] = field(default_factory=dict)  # extracted key → gold key

    def gold_key(self, extracted: str) -> str | None:
        return self.to_gold.get(extracted)


def load_gold(path: Path, passages: list, texts: dict[str, str]) -> Gold:
    """Read the gold file; give each event its ``spans`` [(start, end)] in the source and its ``items``."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    by_file: dict[str, list] = {}
    for p in passages:
        by_file.setdefault(p.citation.source_file, []).append(p)
    for ps in by_file.values():
        ps.sort(key=lambda p: p.citation.char_start)
    events, instruments = [], []
    for r in rows:
        if r["type"] == "instrument":
            instruments.append(r)
            continue
        text = texts[r["file"]]
        spans, items = [], set()
        for s in [r["sentence"], *r["also"]]:
            start = text.find(s)
            if start < 0:
                raise SystemExit(f"gold sentence not in {r['file']}: {s[:80]!r}")
            while start >= 0:
                item = _item_at(by_file.get(r["file"], []), start, s)
                if item is not None:
                    spans.append((start, start + len(s)))
                    items.add(item)
                start = text.find(s, start + 1)
        r["spans"], r["items"] = spans, items
        events.append(r)
    gold = Gold(events, instruments)
    for g in instruments:
        for form in [g["key"], *(slug(n) for n in g["names"])]:
            gold.to_gold.setdefault(form, g["key"])
    return gold


def _item_at(ps: list, offset: int, sentence: str):
    """The item whose passage holds ``offset``; for an item title (not in any passage), the item it heads."""
    for p in ps:
        if p.citation.char_start <= offset < p.citation.char_end:
            return item_key(p.citation)
    for p in ps:  # a title line: the next passage's item, when that item has this title
        if p.citation.char_start > offset:
            title = p.citation.item_title or ""
            return item_key(p.citation) if title and (sentence in title or title in sentence) else None
    return None


def _overlaps(spans, start: int, end: int) -> bool:
    return any(s < end and start < e for s, e in spans)


def _matches(gold: Gold, e, g: dict) -> bool:
    c = e.citation
    return (c.source_file == g["file"] and gold.gold_key(e.key) == g["key"] and e.kind in g["kinds"]
            and _overlaps(g["spans"], c.char_start, c.char_end))


def _in_scope(gold: Gold, key: str, file: str) -> bool:
    return gold.gold_key(key) in AUDITED or file in FULL_AUDIT


def _rate(n: int, d: int) -> str:
    return f"{n / d:.2f} ({n}/{d})" if d else "n/a (0/0)"


def evaluate(gold: Gold, index: InstrumentIndex, bulletin_dates: dict[str, str | None]) -> dict:
    """Every count of the five measures, per part, with the lists of misses and errors."""
    r: dict = {p: {"ev_gold": 0, "ev_found": 0, "ev_ext": 0, "ev_ok": 0, "dated": 0, "date_ok": 0, "undated": 0,
                   "invented": 0, "mk_gold": 0, "mk_found": 0, "mk_ext": 0, "mk_ok": 0, "ls": 0, "ls_ok": 0,
                   "subj": 0, "subj_found": 0, "misses": [], "fps": [], "dates": [], "mk_miss": [], "mk_fp": [],
                   "ls_bad": [], "subj_miss": []} for p in PARTS}
    extracted = [e for e in index.events if e.kind != "mentioned"]
    # events: recall with each extracted event used once, a same-date one preferred
    used: set[int] = set()
    found_by: dict[int, list] = {}
    required = [g for g in gold.events if not g["optional"]]
    for gi, g in sorted(enumerate(gold.events), key=lambda t: (t[1]["optional"], t[1]["date"] is None)):
        cands = [(i, e) for i, e in enumerate(extracted) if _matches(gold, e, g)]
        found_by[gi] = [e for _, e in cands]
        free = [t for t in cands if t[0] not in used]
        pick = next((t for t in free if t[1].date == g["date"]), free[0] if free else None)
        if g["optional"]:
            continue
        s = r[g["part"]]
        s["ev_gold"] += 1
        where = f"{g['file'][:24]} {g['key']} {g['kind']} {g['date']}: {g['sentence'][:90]}"
        if pick is None:
            s["misses"].append(where)
            continue
        used.add(pick[0])
        s["ev_found"] += 1
        legit = {o["date"] for o in gold.events if o is not g and o["key"] == g["key"] and o["date"]
                 and set(o["kinds"]) & set(g["kinds"]) and _overlaps(o["spans"], *g["spans"][0])} if g["spans"] else set()
        others = {e.date for e in found_by[gi] if e.date} - legit
        if g["date"]:
            s["dated"] += 1
            if pick[1].date == g["date"] and others <= {g["date"]}:
                s["date_ok"] += 1
            else:
                s["dates"].append(f"{where} — got {sorted(others) or [None]}")
        else:
            s["undated"] += 1
            if others:
                s["invented"] += 1
                s["dates"].append(f"{where} — invented {sorted(others)}")
    for e in extracted:
        c = e.citation
        if not _in_scope(gold, e.key, c.source_file):
            continue
        s = r[part_of(gold.gold_key(e.key), c.source_file)]
        s["ev_ext"] += 1
        if any(_matches(gold, e, g) for g in gold.events):
            s["ev_ok"] += 1
        else:
            s["fps"].append(f"{c.source_file[:24]} #{c.item_number} {e.key} {e.kind} {e.date}: {e.text[:90]}")
    _later_developments(gold, index, required, bulletin_dates, r)
    _listing(gold, index, r)
    return r


def _when(g: dict, bulletin_dates: dict[str, str | None]) -> str:
    return g["date"] or bulletin_dates.get(g["file"]) or ""


def gold_marks(required: list[dict], bulletin_dates: dict[str, str | None]) -> set[tuple]:
    """(item, instrument key, index of the marking gold event in ``required``) by the rule of issue 23."""
    marks: set[tuple] = set()
    items = {(item, g["key"]) for g in required for item in g["items"]}
    for item, key in items:
        own = [g for g in required if g["key"] == key and item in g["items"]]
        stages = [g for g in own if g["kind"] in STAGE]
        deadlines = [g for g in own if g["kind"] == "deadline"]
        if not stages and not deadlines:
            continue
        stage = max((STAGE[g["kind"]] for g in stages), default=-1)
        own_when = max(_when(g, bulletin_dates) for g in stages + deadlines)
        own_deadline = max((_when(g, bulletin_dates) for g in deadlines), default="")
        for li, g in enumerate(required):
            if g["key"] != key or item in g["items"] or g["kind"] not in SUPERSEDING:
                continue
            when = _when(g, bulletin_dates)
            if not when or not own_when or compare_dates(when, own_when) <= 0:
                continue
            if STAGE.get(g["kind"], -1) > stage or (g["kind"] == "deadline" and compare_dates(when, own_deadline or when) > 0):
                marks.add((item, key, li))
    return marks


def _later_developments(gold: Gold, index: InstrumentIndex, required: list[dict],
                        bulletin_dates: dict[str, str | None], r: dict) -> None:
    want = gold_marks(required, bulletin_dates)
    for item, key, li in want:
        r[part_of(key, item[0])]["mk_gold"] += 1
    first_cite: dict[tuple, object] = {}
    for e in index.events:
        first_cite.setdefault(item_key(e.citation), e.citation)
    got: set[tuple] = set()
    for item, cite in first_cite.items():
        for e in index.later_developments(cite):
            gkey = gold.gold_key(e.key)
            if not _in_scope(gold, e.key, item[0]) and not _in_scope(gold, e.key, e.citation.source_file):
                continue
            s = r[part_of(gkey, item[0])]
            s["mk_ext"] += 1
            hits = [li for li, g in enumerate(required) if _matches(gold, e, g) and (item, g["key"], li) in want]
            if hits:
                s["mk_ok"] += 1
                got.update((item, gkey, li) for li in hits)
            else:
                s["mk_fp"].append(f"{item[0][:24]} #{item[2] if len(item) == 3 else item}: {e.key} {e.kind} {e.date} "
                                  f"({e.citation.source_file[:24]}): {e.text[:80]}")
    for mark in want - got:
        item, key, li = mark
        g = required[li]
        r[part_of(key, item[0])]["mk_miss"].append(f"{item[0][:24]} #{item[2] if len(item) == 3 else item}: {key} "
                                                   f"{g['kind']} {g['date']} ({g['file'][:24]}): {g['sentence'][:80]}")
    for item, key, li in got:
        r[part_of(key, item[0])]["mk_found"] += 1


def _listing(gold: Gold, index: InstrumentIndex, r: dict) -> None:
    files_of: dict[str, set[str]] = {}
    for item, keys in index.about.items():
        for k in keys:
            files_of.setdefault(k, set()).add(item[0])
    by_key = {g["key"]: g for g in gold.instruments}
    seen: set[str] = set()
    listed = [inst for inst, _n in view.listing(index)]
    for inst in listed:
        gkey = gold.gold_key(inst.key)
        files = files_of.get(inst.key, set())
        part = by_key[gkey]["part"] if gkey else ("check" if files and files <= CHECK_FILES else "tune")
        s = r[part]
        s["ls"] += 1
        if gkey is None:
            s["ls_bad"].append(f"not an instrument of the audit: {inst.key} ({inst.name})")
        elif gkey in seen:
            s["ls_bad"].append(f"split: {inst.key} ({inst.name}) is also {gkey}")
        else:
            s["ls_ok"] += 1
        if gkey:
            seen.add(gkey)
        if view.find(index, inst.name) != inst.key:
            s["ls_bad"].append(f"listed but `timeline {inst.name}` does not find it")
    for g in gold.instruments:
        if g["subject"]:
            s = r[g["part"]]
            s["subj"] += 1
            if g["key"] in seen:
                s["subj_found"] += 1
            else:
                s["subj_miss"].append(f"{g['key']} ({g['names'][0]})")
    hidden = sorted({k for ks in index.about.values() for k in ks} - set(index.table.instruments))
    r["hidden"] = hidden


def _sum(r: dict, name: str, parts=PARTS) -> int:
    return sum(r[p][name] for p in parts)


def report(r: dict, details: str, columns: str = "all") -> str:
    cols = (("tune", ("tune",)), ("check", ("check",)), ("all", PARTS)) if columns == "all" else (("tune", ("tune",)),)
    rows = [("event recall", "ev_found", "ev_gold"), ("event precision (instrument + kind)", "ev_ok", "ev_ext"),
            ("dates right where the text states one", "date_ok", "dated"),
            ("undated events given a date (invented)", "invented", "undated"),
            ("later-development marks: precision", "mk_ok", "mk_ext"), ("later-development marks: recall", "mk_found", "mk_gold"),
            ("instruments listed: real, not split", "ls_ok", "ls"), ("instrument recall (reported on)", "subj_found", "subj")]
    lines = [f"{'measure':42s} " + " ".join(f"{c:>16s}" for c, _ in cols)]
    for label, n, d in rows:
        lines.append(f"{label:42s} " + " ".join(f"{_rate(_sum(r, n, ps), _sum(r, d, ps)):>16s}" for _, ps in cols))
    lines.append(f"hidden keys (about, not listed): {len(r['hidden'])} {r['hidden'][:8]}")
    if details in PARTS:
        s = r[details]
        for title, name in (("event misses", "misses"), ("event errors (no gold event of that instrument and kind)", "fps"),
                            ("dates", "dates"), ("later-development marks missing", "mk_miss"),
                            ("later-development marks wrong", "mk_fp"), ("instruments listed wrongly", "ls_bad"),
                            ("instruments not listed", "subj_miss")):
            lines.append(f"\n{title} — {details} part ({len(s[name])}):")
            lines += [f"  {x}" for x in s[name]] or ["  (none)"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gold", type=Path, default=GOLD)
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--details", choices=("tune", "check", "none"), default="tune",
                    help="which part's misses and errors to print (the check part is read once, at the end)")
    ap.add_argument("--columns", choices=("tune", "all"), default="all",
                    help="figures of the tuning part only (while tuning), or of every part")
    args = ap.parse_args(argv)
    passages = corpus_passages(args.corpus)
    texts = {f.name: f.read_text(encoding="utf-8") for f in sorted(args.corpus.glob("*.txt"))}
    dates = {p.citation.source_file: p.citation.date for p in passages}
    gold = load_gold(args.gold, passages, texts)
    index = build_instruments(passages)
    ev = gold.events
    print(f"gold: {len(ev)} events ({sum(not g['optional'] for g in ev)} required: "
          + ", ".join(f"{p} {sum(1 for g in ev if not g['optional'] and g['part'] == p)}" for p in PARTS)
          + f"), {len(gold.instruments)} instruments ({sum(g['subject'] for g in gold.instruments)} reported on)\n")
    print(report(evaluate(gold, index, dates), args.details, args.columns))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
