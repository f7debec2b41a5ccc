"""bulletin-bot eval: rank matching, metrics, the question-file format and the CLI output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot import cli
from bot.cli import options as cli_options
from retrieval.chunking import Citation, Passage
from retrieval.errors import ConfigurationError
from retrieval.search.answer import Answer, Hit
from retrieval.search.evaluate import Question, QuestionResult, answer_rank, load_questions, summarise
from tests.fakes import HashEncoder


def _answer(*texts: str, answered: bool = True) -> Answer:
    c = Citation("B", None, None, None, None, None, 1, None, "b.txt", 0, 1)
    return Answer("q", [Hit(Passage(i, t, c, ""), 1.0 - i / 10, i + 1) for i, t in enumerate(texts)], answered)


def test_answer_rank_normalises_whitespace():
    a = _answer("nothing here", "the fine was\u00a0 RMB30,000\nin total")
    assert answer_rank("fine was RMB30,000 in", a) == 2
    assert answer_rank("absent", a) is None


def _result(kind: str, gold: str, rank, abstained: bool) -> QuestionResult:
    return QuestionResult(Question("x", "f", "q", gold, kind), rank, abstained, 0.5)


def test_summarise_figures():
    results = [_result("fact", "g", 1, False), _result("fact", "g", 2, False), _result("number", "g", None, True),
               _result("number", "g", 4, False), _result("unanswerable", "", None, True), _result("unanswerable", "", None, False)]
    s = summarise(results)
    assert s["n"] == 6
    assert s["hit@1"] == 0.25 and s["hit@3"] == 0.5 and s["hit@5"] == 0.75
    assert s["mrr@10"] == round((1 + 0.5 + 0.25) / 4, 4)
    assert s["abstain_unanswerable"] == 0.5 and s["abstain_answerable"] == 0.25
    assert s["by_kind"]["fact"]["hit@1"] == 0.5 and s["by_kind"]["unanswerable"]["hit@1"] is None


def test_load_questions_reports_the_bad_line(tmp_path: Path):
    f = tmp_path / "q.jsonl"
    f.write_text('{"id": "a", "question": "ok?", "gold": "x", "kind": "fact"}\n{"id": "b", "gold": "x"}\n')
    with pytest.raises(ConfigurationError, match=r"q.jsonl:2: not a question line"):
        load_questions(f)
    for bad, msg in [('{"question": 5}', "non-empty"), ('{"question": null}', "non-empty"), ("[1, 2]", "non-empty"),
                     ('{"question": "fines", "gold": 12}', "gold")]:
        f.write_text(bad + "\n")
        with pytest.raises(ConfigurationError, match=msg):
            load_questions(f)
    f.write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigurationError, match="not UTF-8"):
        load_questions(f)
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(ConfigurationError, match="no questions"):
        load_questions(tmp_path / "empty.jsonl")


def test_eval_cli_json(tmp_path: Path, corpus_copy: Path, monkeypatch):
    shared = HashEncoder()
    monkeypatch.setattr(cli_options, "make_encoder", lambda model, data_dir=None: shared)
    runner = CliRunner()
    data = str(tmp_path / "data")
    assert runner.invoke(cli.main, ["ingest", str(corpus_copy), "--data-dir", data]).exit_code == 0
    q = tmp_path / "q.jsonl"
    q.write_text("\n".join(json.dumps(d) for d in [
        {"id": "1", "file": "china-cybersecurity-data-protection-2019-08.txt", "kind": "number",
         "question": "Nantong middle school fined RMB30,000 person directly responsible", "gold": "fined RMB30,000"},
        {"id": "2", "file": "x.txt", "kind": "unanswerable", "question": "penguin migration statistics", "gold": ""},
    ]) + "\n")
    res = runner.invoke(cli.main, ["eval", str(q), "--json", "--data-dir", data])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    for key in ("hit@1", "hit@3", "hit@5", "mrr@10", "abstain_unanswerable", "abstain_answerable", "n"):
        assert key in out
    assert out["n"] == 2 and out["hit@1"] == 1.0
    table = runner.invoke(cli.main, ["eval", str(q), "--data-dir", data])
    assert "hit@1" in table.stdout and "number" in table.stdout
