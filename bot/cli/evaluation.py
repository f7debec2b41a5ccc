"""``bulletin-bot eval`` and ``bulletin-bot export-onnx``: measuring retrieval, and the ONNX export.

Registered on :data:`bot.cli.main`; the encoder comes from :func:`bot.cli.options.make_encoder` (looked up
when the command runs, so tests can replace it there).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from . import options
from .options import common_options

if TYPE_CHECKING:
    from retrieval.search.answer import Answer


@click.command(name="eval")
@click.argument("questions", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--top-k", type=click.IntRange(1, 50), default=10, show_default=True, help="Hits retrieved per question.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.option("--show-misses", is_flag=True, help="List the questions not answered at rank 1.")
@click.option("--calibrate", is_flag=True, help="Fit the 'no confident answer' rule on these questions and print it.")
@click.option("--part", type=click.Choice(["all", "tune", "check"]), default="all", show_default=True,
              help="Only the questions of this part of the hash split (sha256 of the id mod 3: 'check' is the third "
                   "never read question by question, so it prints figures only).")
@common_options
def eval_command(questions: tuple[Path, ...], top_k: int, as_json: bool, show_misses: bool, calibrate: bool,
                 part: str, data_dir: Path, model: str | None) -> None:
    """Measure retrieval on JSON Lines question sets (one or more, taken together): hit@1/3/5, MRR@10,
    the reply tiers (answerable questions that lost "answers", near-misses and off-topic questions
    refused) and the mean quoted characters per hit. With --json, each question too (id, tier,
    missing, the gold's rank, the top citation, the invariants broken), except in the check part."""
    from retrieval.search.evaluate import evaluate, load_questions, select_part, summarise

    if part == "check" and (show_misses or calibrate):
        raise click.UsageError("the check part is measured as a whole: --show-misses and --calibrate are refused with --part check")
    qs = select_part([q for path in questions for q in load_questions(path)], part)
    if not qs:
        raise click.ClickException(f"no questions in part {part!r} of {', '.join(p.name for p in questions)}")
    searcher = options.make_searcher(data_dir, model)
    searcher.collect_features = calibrate  # the fitted verdict's inputs, to refit it
    answers: dict[str, Answer] = {}

    def run(q: str):
        answers[q] = searcher.search(q, top_k=top_k)
        return answers[q]

    results = evaluate(qs, run, searcher.violations)
    figures = summarise(results)
    if calibrate:
        _calibrate(results, answers, questions, searcher)
        return
    if as_json:
        if part != "check":  # the check part is never listed question by question
            figures["questions"] = [r.to_dict() for r in results]
        click.echo(json.dumps(figures, indent=2))
        return
    keys = ["n", "hit@1", "hit@3", "hit@5", "mrr@10", "abstain_answerable", "refused_near_miss", "refused_offtopic",
            "quoted_chars", "invariant_violations"]
    fmt = lambda v: "-" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))  # noqa: E731
    click.echo(f"{'kind':14}" + "".join(f"{k:>19}" for k in keys) + "   tiers (answers/related/nothing)")
    for kind, row in [("ALL", figures)] + sorted(figures["by_kind"].items()):
        tiers = "/".join(str(row["tiers"][t]) for t in ("answers", "related", "nothing"))
        click.echo(f"{kind:14}" + "".join(f"{fmt(row[k]):>19}" for k in keys) + f"   {tiers}")
    if show_misses:
        broken = [r for r in results if r.violations]
        if broken:
            click.echo(f"\nreply invariants broken ({len(broken)}):")
            for r in broken:
                click.echo(f"  {r.question.id:12} {'; '.join(r.violations)}  {r.question.question}")
        misses = [r for r in results if r.question.answerable and r.rank != 1]
        wrong = [r for r in results if r.question.answerable == r.abstained]
        click.echo(f"\nnot answered at rank 1 ({len(misses)}):")
        for r in misses:
            click.echo(f"  {r.question.id:12} rank {r.rank or '>' + str(top_k):>4}  {r.question.question}")
        click.echo(f"\nwrong abstention decision ({len(wrong)}): answered an unanswerable question, or abstained on an answerable one")
        for r in wrong:
            what = "abstained on an answerable question" if r.abstained else "answered an unanswerable question"
            top = "no hits" if r.top_score is None else f"top score {r.top_score:.3f}"
            click.echo(f"  {r.question.id:12} {what:36} {r.tier:8} {top}  {r.question.question}")


def _calibrate(results, answers: dict[str, Answer], questions: tuple[Path, ...], searcher) -> None:
    """Refit the verdict model (:mod:`retrieval.search.verdict_model`) on these questions and print its table;
    then, when the margin/coverage rule can be fitted on what the rule verdict leaves, its table too."""
    from retrieval.search.calibration import fit
    from retrieval.search.tier import PROMOTE_GAP
    from retrieval.search.verdict_model import fit as fit_model
    from retrieval.search.verdict_model import question_rows

    names = ", ".join(p.name for p in questions)
    rows = [question_rows(answers[r.question.question].features, r.question.gold, answers[r.question.question].tier == "nothing")
            for r in results if answers[r.question.question].features]
    try:
        model, rep = fit_model(rows, promote_gap=PROMOTE_GAP)
    except ValueError as exc:
        raise click.ClickException(f"cannot fit the verdict on these questions: {exc}; "
                                   "retrieval/search/verdict_model.toml is left as it is") from None
    click.echo(model.to_toml(searcher.encoder.name,
                             f"paste into retrieval/search/verdict_model.toml (replacing this model's table)\n"
                             f"fitted with eval --calibrate on {names}: {rep['questions']} questions, {rep['items']} items;\n"
                             f"on them: false refusals {rep['false_refusals']:.3f}, unanswerable refused "
                             f"{rep['refused_unanswerable']:.3f}"))
    feats = []
    for r in results:
        answer = answers[r.question.question]
        if answer.signals:
            feats.append((*answer.signals, r.question.answerable, _judged(answer)))
    try:
        cal, crep = fit(feats, min_cosine=searcher.calibration.min_cosine)
    except ValueError as exc:  # no threshold meets the bound: say so, keep the table in force
        click.echo(f"# margin/coverage rule (used without a verdict model) not refitted: {exc}")
        return
    click.echo(f"# margin/coverage rule, for retrieval/search/calibration.toml: abstains on "
               f"{crep['abstain_unanswerable']:.0%} of unanswerable and {crep['abstain_answerable']:.0%} of answerable")
    click.echo(f'[{json.dumps(searcher.encoder.name)}]')
    for k, v in cal.to_dict().items():
        click.echo(f"{k} = {v}")


def _judged(answer) -> bool:
    """True when the first hit of an answer was judged to state what was asked (its verdict, before calibration)."""
    return bool(answer.hits) and answer.hits[0].answers is not False


@click.command(name="export-onnx")
@common_options
def export_onnx_command(data_dir: Path, model: str | None) -> None:
    """Export the embedding model to ONNX (fp32 and int8) in DATA_DIR/onnx, for BULLETIN_BOT_ENCODER=onnx
    or onnx-int8. Offline: made from the installed model package (needs torch, once)."""
    from retrieval.encoders.factory import onnx_dir, resolve_model
    from retrieval.encoders.onnx import export_onnx

    name, location = resolve_model(model)
    out = export_onnx(location, onnx_dir(Path(data_dir) / "onnx"), name)
    click.echo(f"exported {name} to {out} (model.onnx, model_int8.onnx)")
