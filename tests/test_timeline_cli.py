"""``bulletin-bot timeline``: an instrument's events through the shipped bulletins, one line each, oldest first."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot import cli
from bot.cli import options as cli_options
from bot.cli.timeline import MAX_QUOTE_CHARS, format_quote
from tests.fakes import HashEncoder

#: One event line: date, labels, “quote” (maybe shortened), — citation ending "(file, chars a–b)".
LINE = re.compile(r"^(?P<date>\S.*?)\s{2,}(?P<labels>\S.*?)  “(?P<quote>.*)”"
                  r"(?: \(quote shortened: (?P<full>\d+) characters in full\))?  — (?P<cite>.*)"
                  r"\((?P<file>[^()]+), chars (?P<start>\d+)–(?P<end>\d+)\)$")
ALIASES = [("AI Act", "eu-ai-act"), ("artificial intelligence act", "eu-ai-act"), ("DPF", "eu-us-dpf"),
           ("EU-US Data Privacy Framework", "eu-us-dpf"), ("the EU AI Act", "eu-ai-act")]


@pytest.fixture
def run(indexed: Path):
    runner = CliRunner()

    def invoke(*args: str, data_dir: Path = indexed):
        return runner.invoke(cli.main, ["timeline", *args, "--data-dir", str(data_dir)])

    return invoke


def event_lines(output: str) -> list[re.Match]:
    """The event lines of the text output (after the name, the count line and a blank line)."""
    lines = output.rstrip("\n").split("\n")
    assert lines[2] == "", output
    found = [LINE.match(line) for line in lines[3:]]
    assert all(found), [line for line, m in zip(lines[3:], found) if not m]
    return [m for m in found if m]


@pytest.mark.parametrize("name,key", ALIASES)
def test_json_timeline_is_dated_in_order_from_two_bulletins_and_verbatim(run, corpus_copy: Path, name: str, key: str):
    res = run(*name.split(), "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert set(out) == {"instrument", "events"}
    assert out["instrument"]["key"] == key
    assert set(out["instrument"]) == {"key", "name", "aliases", "numbers", "jurisdiction", "regulator"}
    events = out["events"]
    assert len(events) >= 3
    assert all(set(e) == {"key", "kind", "date", "when", "text", "actor", "citation"} for e in events)
    assert all(e["key"] == key and e["when"] for e in events)  # every event placed by a date
    whens = [e["when"] for e in events]
    assert whens == sorted(whens)
    assert len({e["citation"]["source_file"] for e in events}) >= 2
    for e in events:
        c = e["citation"]
        assert e["when"] == (e["date"] or c["date"])
        source = (corpus_copy / c["source_file"]).read_text(encoding="utf-8")
        assert source[c["char_start"]:c["char_end"]] == e["text"]


@pytest.mark.parametrize("name", ["AI Act", "DPF", "GDPR"])
def test_text_lines_quote_the_bulletin_at_the_cited_offsets_in_date_order(run, corpus_copy: Path, name: str):
    res = run(name)
    assert res.exit_code == 0, res.output
    events = json.loads(run(name, "--json").stdout)["events"]
    head = res.stdout.split("\n")
    assert head[0].startswith(json.loads(run(name, "--json").stdout)["instrument"]["name"])
    assert re.fullmatch(r"\d+ events? from \d+ bulletins?, oldest first:", head[1])
    lines = event_lines(res.stdout)
    # one line per sentence and date: the JSON's events grouped
    assert len(lines) == len({(e["citation"]["source_file"], e["citation"]["char_start"], e["when"]) for e in events})
    whens = []
    for m in lines:
        source = (corpus_copy / m["file"]).read_text(encoding="utf-8")
        flat = " ".join(source[int(m["start"]):int(m["end"])].split())
        if m["full"]:  # shortened: a prefix, ending with an ellipsis, and saying how long the whole is
            assert m["quote"].endswith("…") and flat.startswith(m["quote"][:-1]) and int(m["full"]) == len(flat)
            assert len(flat) > MAX_QUOTE_CHARS >= len(m["quote"])
        else:
            assert m["quote"] == flat
        bulletin = re.match(r"\(bulletin of (\S+)\)$", m["date"].strip())
        date = bulletin.group(1) if bulletin else m["date"].strip()
        assert re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", date), m["date"]
        assert f" · {date[:4]}" in m["cite"] or bulletin is None  # the bulletin's date is the cited one
        whens.append(date)
        assert m["cite"].count(" · ") >= 2 and "¶" in m["cite"]
    assert whens == sorted(whens)


def test_one_sentence_stating_two_kinds_is_one_line_and_long_quotes_are_shortened(run):
    # "… which were finalized on March 22, 2024 and took effect immediately.": two kinds, one date, one line
    res = run("Regulations on Promoting and Regulating Cross-Border Data")
    lines = event_lines(res.stdout)
    assert any(m["labels"] == "adopted · in force" and m["date"].strip() == "2024-03-22" for m in lines)
    res = run("AI Act")
    lines = event_lines(res.stdout)
    assert any(m["full"] for m in lines)  # the 2023 draft's sentence is over 300 characters
    assert "(bulletin of 2023-05-14)" in res.stdout


def test_format_quote_says_when_it_shortens():
    assert format_quote("A  short\nsentence.") == "“A short sentence.”"
    long = "word " * 100
    quoted = format_quote(long)
    assert quoted.endswith("…” (quote shortened: 499 characters in full)")
    assert len(quoted.split("”")[0]) <= MAX_QUOTE_CHARS + 1


def test_unknown_name_exits_1_with_the_nearest_names(run):
    res = run("Digital", "Servises", "Act")
    assert res.exit_code == 1
    assert res.stdout == ""
    assert "No instrument called “Digital Servises Act” in the bulletins. Nearest: Digital Services Act (DSA)" \
        in res.stderr
    res = run("xyzzy")
    assert res.exit_code == 1
    assert "No instrument called “xyzzy” in the bulletins. Known instruments: " in res.stderr
    assert "AI Act (EU)" in res.stderr and "Traceback" not in res.output


def test_a_name_known_to_the_table_but_in_no_bulletin_is_not_found(run):
    res = run("PIPL")  # in the alias table, but no shipped bulletin item is about it
    assert res.exit_code == 1
    assert "No bulletin reports on Personal Information Protection Law (PIPL) yet." in res.stderr
    assert "Bermuda" not in res.stderr


def test_list_names_every_instrument_with_its_items(run):
    res = run("--list")
    assert res.exit_code == 0, res.output
    listed = json.loads(run("--list", "--json").stdout)["instruments"]
    names = [i["name"] for i in listed]
    assert names == sorted(names) and "AI Act (EU)" in names and "EU-U.S. Data Privacy Framework (DPF)" in names
    assert all(i["items"] >= 1 for i in listed)
    ai = next(i for i in listed if i["key"] == "eu-ai-act")
    assert ai["items"] >= 2
    assert res.stdout.split("\n")[0] == f"{len(listed)} instruments in the bulletins (items about each, name, key):"
    assert re.search(rf"^\s+{ai['items']}  AI Act \(EU\)  \[eu-ai-act\]$", res.stdout, re.M)


def test_no_name_is_a_usage_error(run):
    res = run()
    assert res.exit_code == 2 and "name an instrument" in res.output


def test_empty_index_gives_the_error_ask_gives(run, tmp_path: Path, monkeypatch):
    empty = tmp_path / "nothing"
    res = run("AI Act", data_dir=empty)
    monkeypatch.setattr(cli_options, "make_encoder", lambda model, data_dir=None: HashEncoder())
    asked = CliRunner().invoke(cli.main, ["ask", "what fines", "--data-dir", str(empty)])
    assert res.exit_code == asked.exit_code == 2
    assert res.stderr == asked.stderr
    assert "no bulletins indexed yet — run `bulletin-bot ingest`" in res.stderr
