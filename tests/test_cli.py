"""The bulletin-bot command line: ingest, ask, stats (fake encoder), and a real subprocess run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot import cli
from bot.cli import options as cli_options
from tests.conftest import N_BULLETINS
from tests.fakes import HashEncoder


@pytest.fixture
def runner(monkeypatch) -> CliRunner:
    shared = HashEncoder()
    monkeypatch.setattr(cli_options, "make_encoder", lambda model, data_dir=None: shared)
    return CliRunner()


def test_ingest_json_then_ask_json(runner: CliRunner, tmp_path: Path, corpus_copy: Path):
    data = str(tmp_path / "data")
    res = runner.invoke(cli.main, ["ingest", str(corpus_copy), "--json", "--data-dir", data])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["added"] == N_BULLETINS and summary["errors"] == [] and summary["passages"] > 300
    res = runner.invoke(cli.main, ["ask", "Nantong middle school fined", "--top-k", "2", "--json", "--data-dir", data])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["query"] == "Nantong middle school fined" and isinstance(out["answered"], bool)
    assert len(out["hits"]) == 2
    assert set(out["hits"][0]["citation"]) == {"bulletin", "publisher", "date", "section", "item_number", "item_title",
                                               "paragraph", "url", "source_file", "char_start", "char_end", "page"}
    assert out["hits"][0]["citation"]["page"] is None  # a text bulletin has no pages
    c = out["hits"][0]["citation"]
    source = (corpus_copy / c["source_file"]).read_text()
    assert source[c["char_start"]:c["char_end"]] == out["hits"][0]["text"]


def test_data_dir_from_environment(runner: CliRunner, tmp_path: Path, corpus_copy: Path):
    env = {"BULLETIN_BOT_DATA_DIR": str(tmp_path / "envdata")}
    res = runner.invoke(cli.main, ["ingest", str(corpus_copy), "--json"], env=env)
    assert res.exit_code == 0
    assert (tmp_path / "envdata" / "CURRENT").exists()
    res = runner.invoke(cli.main, ["stats", "--json"], env=env)
    assert json.loads(res.stdout)["bulletins"] == N_BULLETINS


def test_ingest_reports_bad_file_with_line_and_still_ingests(runner: CliRunner, tmp_path: Path, corpus_copy: Path):
    (corpus_copy / "bad.txt").write_bytes(b"Title\n\nok line\n\xff bad\n")
    res = runner.invoke(cli.main, ["ingest", str(corpus_copy), "--data-dir", str(tmp_path / "d")])
    assert res.exit_code == 0
    assert f"{N_BULLETINS} added" in res.stdout
    assert f"{corpus_copy / 'bad.txt'}:4: not UTF-8" in res.stderr
    res = runner.invoke(cli.main, ["ingest", str(corpus_copy), "--json", "--data-dir", str(tmp_path / "d")])
    errors = json.loads(res.stdout)["errors"]
    assert errors == [{"file": str(corpus_copy / "bad.txt"), "error": errors[0]["error"]}]


def test_ingest_of_missing_path_fails(runner: CliRunner, tmp_path: Path):
    res = runner.invoke(cli.main, ["ingest", str(tmp_path / "nope.txt"), "--json", "--data-dir", str(tmp_path / "d")])
    assert res.exit_code == 1
    assert json.loads(res.stdout)["errors"][0]["file"] == str(tmp_path / "nope.txt")


def test_ask_on_empty_index_says_so_and_exits_non_zero(runner: CliRunner, tmp_path: Path):
    res = runner.invoke(cli.main, ["ask", "anything", "--data-dir", str(tmp_path / "empty")])
    assert res.exit_code == 2
    assert "no bulletins indexed yet — run `bulletin-bot ingest`" in res.stderr


def test_top_k_larger_than_corpus_returns_what_exists(runner: CliRunner, tmp_path: Path):
    d = tmp_path / "c"
    d.mkdir()
    # three items (a post without items would be one item, hence one hit)
    (d / "t.txt").write_text("T\n\n1. Fines\n\nFirst paragraph on fines.\n\n2. Cookies\n\nSecond paragraph on cookies.\n\n"
                             "3. Transfers\n\nThird on transfers.\n")
    runner.invoke(cli.main, ["ingest", str(d), "--data-dir", str(tmp_path / "data")])
    res = runner.invoke(cli.main, ["ask", "fines", "--top-k", "50", "--json", "--data-dir", str(tmp_path / "data")])
    hits = json.loads(res.stdout)["hits"]
    assert len(hits) == 3 and len({h["text"] for h in hits}) == 3


def test_ask_human_output_quotes_and_cites(runner: CliRunner, tmp_path: Path, corpus_copy: Path):
    data = str(tmp_path / "data")
    runner.invoke(cli.main, ["ingest", str(corpus_copy), "--data-dir", data])
    res = runner.invoke(cli.main, ["ask", "Nantong middle school fined RMB30,000", "--data-dir", data])
    assert res.exit_code == 0
    assert "[1] score" in res.stdout and "“" in res.stdout and "chars " in res.stdout


def test_stats_and_ask_without_index_in_a_subprocess(tmp_path: Path):
    """The installed console script: a clear sentence and exit 2, no traceback, no model load."""
    env = {**os.environ, "BULLETIN_BOT_DATA_DIR": str(tmp_path / "none")}
    bin_dir = Path(sys.executable).parent
    res = subprocess.run([str(bin_dir / "bulletin-bot"), "stats"], capture_output=True, text=True, env=env, timeout=60)
    assert res.returncode == 2
    assert "no bulletins indexed yet" in res.stderr and "Traceback" not in res.stderr


def test_ask_filter_options_are_applied_and_shown(runner: CliRunner, tmp_path: Path, corpus_copy: Path):
    data = str(tmp_path / "data")
    runner.invoke(cli.main, ["ingest", str(corpus_copy), "--data-dir", data])
    res = runner.invoke(cli.main, ["ask", "fine", "--section", "enforcement", "--since", "2024-10", "--json", "--data-dir", data])
    out = json.loads(res.stdout)
    assert out["filters"] == {"section": "enforcement", "since": "2024-10"}
    assert out["hits"] and all(h["citation"]["date"] >= "2024-10" for h in out["hits"])
    res = runner.invoke(cli.main, ["ask", "fine", "--since", "last year", "--data-dir", data])
    assert res.exit_code == 1 and "since: must be a real date written YYYY, YYYY-MM or YYYY-MM-DD, got 'last year'" in res.stderr
    res = runner.invoke(cli.main, ["ask", "fine section:enforcement", "--data-dir", data])
    assert "filters: section:enforcement" in res.stdout


def test_empty_question_is_refused(runner: CliRunner, tmp_path: Path):
    res = runner.invoke(cli.main, ["ask", "   ", "--data-dir", str(tmp_path / "d")])
    assert res.exit_code == 1 and "the question is empty" in res.stderr


def test_ingest_json_error_carries_the_line(runner: CliRunner, tmp_path: Path, corpus_copy: Path):
    (corpus_copy / "bad.txt").write_bytes(b"Title\n\nok\n\xff\n")
    res = runner.invoke(cli.main, ["ingest", str(corpus_copy), "--json", "--data-dir", str(tmp_path / "d")])
    assert json.loads(res.stdout)["errors"][0]["error"].startswith("line 4: not UTF-8")


def test_mistyped_path_with_rebuild_refuses_and_keeps_current(runner: CliRunner, tmp_path: Path, corpus_copy: Path):
    data = tmp_path / "data"
    assert runner.invoke(cli.main, ["ingest", str(corpus_copy), "--data-dir", str(data)]).exit_code == 0
    current = (data / "CURRENT").read_text()
    res = runner.invoke(cli.main, ["ingest", str(tmp_path / "corpuz"), "--rebuild", "--data-dir", str(data)])
    assert res.exit_code == 1
    assert (data / "CURRENT").read_text() == current
    assert "Traceback" not in res.output
    refusal = [line for line in res.stderr.splitlines() if "index in force is kept" in line]
    assert refusal == [f"error: not rebuilding: no bulletin file could be read from {tmp_path / 'corpuz'}, so the "
                       "index in force is kept; check the paths given"]
    res = runner.invoke(cli.main, ["stats", "--json", "--data-dir", str(data)])
    assert json.loads(res.stdout)["bulletins"] == N_BULLETINS


def test_allow_empty_empties_the_index(runner: CliRunner, tmp_path: Path, corpus_copy: Path):
    data = tmp_path / "data"
    runner.invoke(cli.main, ["ingest", str(corpus_copy), "--data-dir", str(data)])
    empty = tmp_path / "empty"
    empty.mkdir()
    res = runner.invoke(cli.main, ["ingest", str(empty), str(corpus_copy), "--data-dir", str(data)])
    assert res.exit_code == 0  # the corpus is still given: nothing is removed
    for f in corpus_copy.iterdir():
        f.unlink()
    res = runner.invoke(cli.main, ["ingest", str(corpus_copy), "--allow-empty", "--json", "--data-dir", str(data)])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["removed"] == N_BULLETINS and json.loads(res.stdout)["passages"] == 0


def test_ingest_of_an_empty_directory_exits_1_and_writes_nothing(runner: CliRunner, tmp_path: Path):
    empty = tmp_path / "empty"
    empty.mkdir()
    res = runner.invoke(cli.main, ["ingest", str(empty), "--data-dir", str(tmp_path / "data")])
    assert res.exit_code == 1
    assert "no bulletin" in res.stderr and "Traceback" not in res.output
    assert not (tmp_path / "data" / "CURRENT").exists()


def test_a_directory_and_a_file_in_it_are_not_a_duplicate(runner: CliRunner, tmp_path: Path, corpus_copy: Path):
    res = runner.invoke(cli.main, ["ingest", str(corpus_copy), str(corpus_copy / "privacy-news-digest-2024-02.txt"),
                                   "--json", "--data-dir", str(tmp_path / "data")])
    assert res.exit_code == 0
    assert json.loads(res.stdout)["errors"] == [] and json.loads(res.stdout)["added"] == N_BULLETINS


def test_eval_calibrate_that_cannot_fit_says_why_without_a_traceback(runner: CliRunner, indexed: Path, tmp_path: Path):
    questions = tmp_path / "q.jsonl"  # no item holds this gold: the verdict has nothing to separate
    questions.write_text(json.dumps({"id": "q1", "file": "china-cybersecurity-data-protection-2019-08.txt",
                                     "question": "what fine did the school in Nantong get", "gold": "no such words here",
                                     "kind": "number"}) + "\n")
    res = runner.invoke(cli.main, ["eval", str(questions), "--calibrate", "--data-dir", str(indexed)])
    assert res.exit_code == 1
    assert "cannot fit the verdict on these questions" in res.stderr
    assert "Traceback" not in res.output + res.stderr


def test_eval_calibrate_prints_the_verdict_table_and_says_why_the_margin_rule_was_not_refitted(
        runner: CliRunner, indexed: Path, tmp_path: Path, monkeypatch):
    from retrieval.search import calibration
    from retrieval.search.verdict_model import FEATURES

    def no_fit(*args, **kwargs):
        raise ValueError("no threshold abstains on at most 2% of the answerable questions")

    monkeypatch.setattr(calibration, "fit", no_fit)
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"id": "q1", "file": "china-cybersecurity-data-protection-2019-08.txt",
                                     "question": "what fine did the school in Nantong get", "gold": "RMB30,000",
                                     "kind": "number"}) + "\n")
    res = runner.invoke(cli.main, ["eval", str(questions), "--calibrate", "--data-dir", str(indexed)])
    assert res.exit_code == 0, res.output + res.stderr
    assert '["test/hash-encoder"]' in res.stdout and f"features = [{', '.join(repr(f) for f in FEATURES)}]" in res.stdout
    assert "not refitted: no threshold abstains" in res.stdout


def test_ingest_of_an_empty_folder_says_so_and_exits_1(runner: CliRunner, tmp_path: Path, corpus_copy: Path):
    data = str(tmp_path / "data")
    assert runner.invoke(cli.main, ["ingest", str(corpus_copy), "--data-dir", data]).exit_code == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    res = runner.invoke(cli.main, ["ingest", str(empty), "--data-dir", data])
    assert res.exit_code == 1, res.output
    assert f"error: {empty}: no bulletin files in {empty} (files ending .txt," in res.stderr


def test_ingest_with_a_symlink_loop_argument_ingests_the_others_and_names_the_loop(runner: CliRunner, tmp_path: Path,
                                                                                   corpus_copy: Path):
    loop = tmp_path / "loop.txt"
    loop.symlink_to(loop)
    ok = next(corpus_copy.glob("*.txt"))
    res = runner.invoke(cli.main, ["ingest", str(ok), str(loop), "--data-dir", str(tmp_path / "data")])
    assert res.exit_code == 0 and res.exception is None or isinstance(res.exception, SystemExit), res.output
    assert "1 added" in res.stdout and f"error: {loop}: a symbolic link that loops" in res.stderr
