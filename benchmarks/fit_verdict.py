"""Fit the verdict model (retrieval/search/verdict_model.py) and print rules vs model vs leave-one-publisher-out.

    BULLETIN_BOT_ENCODER=onnx .venv/bin/python benchmarks/fit_verdict.py CORPUS_DATA ALL_DATA [--write]

CORPUS_DATA: an index of corpus/ (dev, dev2 and the dev3 tuning part are searched there); ALL_DATA: corpus/ plus
the nine wild documents (wild/questions.jsonl). The dev3 check part (retrieval.search.evaluate.split_part) is
never read. Every question is searched once with the rule verdict (the tier it gets is the "rules" column), and
the features of its first items are kept; the model's tier is then simulated exactly as the searcher sets it
(retrieval.search.verdict_model.simulate). Leave-one-publisher-out: for each publisher (of the question's
``file``, from the ``.meta.toml`` beside it), fit without that publisher's questions, measure on them; pooled.
Off-topic questions (no file) are always in the fitting part. ``--write`` prints the table fitted on all of it
for retrieval/search/verdict_model.toml.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from per_publisher import publisher_of  # noqa: E402

from bot.cli.options import make_encoder  # noqa: E402
from retrieval.search.evaluate import answer_rank, load_questions, split_part  # noqa: E402
from retrieval.search.searcher import Searcher  # noqa: E402
from retrieval.search.tier import PROMOTE_GAP  # noqa: E402
from retrieval.search.verdict_model import QuestionRows, fit, question_rows, simulate  # noqa: E402

SHARED = Path("/work/shared")
SETS = [("dev+dev2", "corpus", [SHARED / "eval/dev_questions.jsonl", SHARED / "eval/dev2_questions.jsonl"]),
        ("dev3 tune", "corpus", [SHARED / "eval/dev3_questions.jsonl"]),
        ("wild", "all", [SHARED / "wild/questions.jsonl"])]
CACHE = Path("/tmp/bulletin-bot-verdict-rows.json")


def collect(corpus_data: str, all_data: str) -> list[dict]:
    """One record per question of the tuning sets: set, publisher, kind, rule tier, rule hit@1, and its rows."""
    out = []
    for name, which, paths in SETS:
        data = corpus_data if which == "corpus" else all_data
        searcher = Searcher(data, make_encoder(None, Path(data)), verdict_model=False, collect_features=True)
        for path in paths:
            for q in load_questions(path):
                if "dev3" in path.name and split_part(q.id) == "check":
                    continue
                a = searcher.search(q.question, top_k=10)
                rows = question_rows(a.features, q.gold, a.tier == "nothing")
                out.append({"set": name, "publisher": publisher_of(q.file) if q.file else None, "kind": q.kind,
                            "rule_tier": a.tier, "rule_hit1": answer_rank(q.gold, a) == 1 if q.answerable else None,
                            "rows": [list(map(list, rows.features)), list(rows.holds_gold), list(rows.names_all),
                                     rows.answerable, rows.off_topic_floor]})
    return out


def as_rows(rec: dict) -> QuestionRows:
    f, g, n, a, o = rec["rows"]
    return QuestionRows(tuple(map(tuple, f)), tuple(g), tuple(n), a, o)


def figures(recs: list[dict], answered: list[bool], hit1: list[bool | None]) -> str:
    """"hit@1 / false refusals (n) / near-misses refused (n) / off-topic refused" of a group of questions."""
    ans = [i for i, r in enumerate(recs) if r["rows"][3]]
    near = [i for i, r in enumerate(recs) if not r["rows"][3] and r["kind"] != "offtopic"]
    off = [i for i, r in enumerate(recs) if not r["rows"][3] and r["kind"] == "offtopic"]

    def share(ix: list[int], pred) -> str:
        return f"{sum(pred(i) for i in ix) / len(ix):.3f}" if ix else "-"
    return (f"{share(ans, lambda i: hit1[i]):>6} {share(ans, lambda i: not answered[i]):>7} ({len(ans):>3}) "
            f"{share(near, lambda i: not answered[i]):>7} ({len(near):>3}) {share(off, lambda i: not answered[i]):>6}")


def rules(recs: list[dict]) -> str:
    """:func:`figures` of the tiers the rule verdict gave."""
    return figures(recs, [r["rule_tier"] == "answers" for r in recs], [r["rule_hit1"] for r in recs])


def model_outcome(model, recs: list[dict]) -> tuple[list[bool], list[bool | None]]:
    rows = [as_rows(r) for r in recs]
    probs = [[model.probability(f) for f in q.features] for q in rows]
    sim = simulate(rows, probs, model.threshold, PROMOTE_GAP)
    hit1 = [(q.holds_gold[lead if lead is not None else 0] if q.holds_gold else False) if q.answerable else None
            for q, (_, lead) in zip(rows, sim)]
    return [s for s, _ in sim], hit1


def main(argv: list[str]) -> None:
    write = "--write" in argv
    args = [a for a in argv if not a.startswith("--")]
    if CACHE.exists() and "--cached" in argv:
        recs = json.loads(CACHE.read_text())
    else:
        recs = collect(args[0], args[1])
        CACHE.write_text(json.dumps(recs))
    model, rep = fit([as_rows(r) for r in recs], promote_gap=PROMOTE_GAP)
    answered, hit1 = model_outcome(model, recs)
    lopo_answered: list[bool] = [False] * len(recs)
    lopo_hit1: list[bool | None] = [None] * len(recs)
    pubs = sorted({r["publisher"] for r in recs if r["publisher"]})
    for pub in pubs:
        train = [r for r in recs if r["publisher"] != pub]
        test = [i for i, r in enumerate(recs) if r["publisher"] == pub]
        m, _ = fit([as_rows(r) for r in train], promote_gap=PROMOTE_GAP)
        a, h = model_outcome(m, [recs[i] for i in test])
        for j, i in enumerate(test):
            lopo_answered[i], lopo_hit1[i] = a[j], h[j]
    head = f"{'hit@1':>6} {'false r.':>7} {'(n)':>5} {'near-m.':>7} {'(n)':>5} {'off-t.':>6}"
    print(f"{'group':40} {'mechanism':10} {head}")
    groups = [(name, [i for i, r in enumerate(recs) if r["set"] == name]) for name, _, _ in SETS]
    groups.append(("all tuning questions", list(range(len(recs)))))
    for name, ix in groups:
        sub = [recs[i] for i in ix]
        print(f"{name:40} {'rules':10} {rules(sub)}")
        print(f"{'':40} {'model':10} {figures(sub, [answered[i] for i in ix], [hit1[i] for i in ix])}")
    with_pub = [i for i, r in enumerate(recs) if r["publisher"]]
    sub = [recs[i] for i in with_pub]
    print(f"{'LOPO, pooled (questions with a file)':40} {'rules':10} {rules(sub)}")
    print(f"{'':40} {'model':10} {figures(sub, [answered[i] for i in with_pub], [hit1[i] for i in with_pub])}")
    print(f"{'':40} {'LOPO':10} {figures(sub, [lopo_answered[i] for i in with_pub], [lopo_hit1[i] for i in with_pub])}")
    for pub in pubs:
        ix = [i for i, r in enumerate(recs) if r["publisher"] == pub]
        sub = [recs[i] for i in ix]
        print(f"  {pub[:38]:38} {'rules':10} {rules(sub)}")
        print(f"  {'':38} {'LOPO':10} {figures(sub, [lopo_answered[i] for i in ix], [lopo_hit1[i] for i in ix])}")
    print(f"\nfit on all: {json.dumps(rep)}")
    if write:
        print(model.to_toml(make_encoder(None, Path(args[0])).name if args else "?",
                            f"Fitted with: BULLETIN_BOT_ENCODER=onnx python benchmarks/fit_verdict.py data/corpus data/all --write\n"
                            f"({rep['questions']} questions of dev, dev2, the dev3 tuning part and wild; {rep['items']} items):\n"
                            f"on them false refusals {rep['false_refusals']:.3f}, unanswerable refused {rep['refused_unanswerable']:.3f}"))


if __name__ == "__main__":
    main(sys.argv[1:])
