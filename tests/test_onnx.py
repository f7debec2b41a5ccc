"""The ONNX encoder backends (onnx, the default, and onnx-int8): an offline export of the packaged model kept in a
cache keyed by the model's checksum and verified, torch's vectors without torch."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import retrieval.encoders.export as export_mod
from retrieval.encoders.export import (
    EXPORT_MANIFEST,
    FP32_FILE,
    INT8_FILE,
    ensure_export,
    export_dir_for,
    model_checksum,
)
from retrieval.encoders.factory import DEFAULT_MODEL_NAME, SentenceTransformerEncoder, make_encoder, resolve_model
from retrieval.encoders.onnx import OnnxEncoder
from retrieval.errors import ConfigurationError, IndexMismatchError
from retrieval.index.passages import PassageIndex
from retrieval.ingest import ingest
from retrieval.search.searcher import Searcher
from tests.conftest import CORPUS, ONE_BULLETIN, ROOT
from tests.fakes import HashEncoder

TEXTS = ["What fine did the school in Nantong get?",
         "The European Commission has fined Apple €500 million and Meta €200 million under the DMA.",
         "Guidelines " * 300]  # longer than the model's 256 word pieces: truncated like sentence-transformers


@pytest.fixture(scope="module")
def export_root(tmp_path_factory) -> Path:
    """One export cache for the module, filled on first use by the default backend (as ingest or ask would)."""
    root = tmp_path_factory.mktemp("onnx-cache")
    make_encoder(None, export_dir=root).encode(["warm up"])
    return root


def _no_export(*args, **kwargs):
    raise AssertionError("exported again")


@pytest.mark.model
def test_the_export_gives_torchs_vectors_and_int8_close_ones(export_root: Path):
    torch_vectors = SentenceTransformerEncoder().encode(TEXTS)
    fp32 = make_encoder(None, export_dir=export_root)
    int8 = make_encoder(None, backend="onnx-int8", export_dir=export_root)
    assert fp32.name == DEFAULT_MODEL_NAME and int8.name == DEFAULT_MODEL_NAME + "@onnx-int8"
    v32, v8 = fp32.encode(TEXTS), int8.encode(TEXTS)
    assert v32.shape == v8.shape == (3, 384) and v32.dtype == np.float32
    assert np.allclose(np.linalg.norm(v8, axis=1), 1.0, atol=1e-5)
    assert ((v32 * torch_vectors).sum(axis=1) > 0.9999).all()
    cos8 = (v8 * torch_vectors).sum(axis=1)
    assert (cos8[:2] > 0.9).all() and cos8[2] > 0.8  # quantisation costs most on a degenerate repeated word
    assert fp32.count_tokens("Nantong school") == SentenceTransformerEncoder().count_tokens("Nantong school")
    # one text alone, or among longer ones (sorted and padded by length), gets the same vector
    assert np.allclose(fp32.encode(TEXTS[:1])[0], v32[0], atol=1e-5)


@pytest.mark.model
def test_the_export_is_made_once_keyed_by_the_model_checksum_and_verified(export_root: Path, monkeypatch):
    name, location = resolve_model(None)
    directory = export_dir_for(name, location, export_root)
    assert directory.name.startswith("all-MiniLM-L6-v2-") and directory.name.endswith(
        model_checksum(location, export_root)[:16])
    manifest = json.loads((directory / EXPORT_MANIFEST).read_text(encoding="utf-8"))
    assert manifest["fused"] and manifest["min_cosine_to_torch"] >= 0.9999
    monkeypatch.setattr(export_mod, "export_onnx", _no_export)
    assert ensure_export(name, location, export_root, FP32_FILE) == directory / FP32_FILE  # cached: no export
    assert ensure_export(name, location, export_root, INT8_FILE) == directory / INT8_FILE


@pytest.mark.model
def test_an_altered_export_file_is_exported_again(export_root: Path, tmp_path: Path, monkeypatch):
    root = tmp_path / "cache"
    shutil.copytree(export_root, root)
    name, location = resolve_model(None)
    directory = export_dir_for(name, location, root)
    with open(directory / INT8_FILE, "r+b") as fh:  # the same size, other bytes, a new mtime
        fh.seek(1000)
        byte = fh.read(1)
        fh.seek(1000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    calls = []
    monkeypatch.setattr(export_mod, "export_onnx", lambda *a, **k: calls.append(a))
    ensure_export(name, location, root, INT8_FILE)
    assert calls and calls[0][1] == directory
    # the fp32 file was not touched: only a changed modification time triggers a checksum, and it still matches
    calls.clear()
    os.utime(directory / FP32_FILE)
    ensure_export(name, location, root, FP32_FILE)
    assert not calls


def test_another_model_gets_another_export_and_the_checksum_is_remembered(tmp_path: Path, monkeypatch):
    model = tmp_path / "model"
    (model / "1_Pooling").mkdir(parents=True)
    (model / "config.json").write_text("{}")
    (model / "1_Pooling" / "config.json").write_text('{"pooling_mode_mean_tokens": true}')
    first = model_checksum(model, tmp_path / "cache")
    assert json.loads((tmp_path / "cache" / "models.json").read_text())[str(model.resolve())]["sha256"] == first
    reads = []
    real_open = open
    monkeypatch.setattr("builtins.open", lambda f, *a, **k: reads.append(str(f)) or real_open(f, *a, **k))
    assert model_checksum(model, tmp_path / "cache") == first and not any("config.json" in r for r in reads)
    monkeypatch.undo()
    (model / "config.json").write_text('{"hidden_size": 8}')  # a changed file: its size differs, so it is hashed again
    second = model_checksum(model, tmp_path / "cache")
    assert second != first
    assert export_dir_for("org/tiny", model, tmp_path / "cache").name == f"tiny-{second[:16]}"


@pytest.mark.model
def test_ask_timeline_stats_digest_and_serve_on_the_default_backend_never_import_torch(export_root: Path, tmp_path: Path):
    data = tmp_path / "data"
    ingest([ONE_BULLETIN], data, make_encoder(None, export_dir=export_root))
    code = ("import sys\nfrom bot.cli import main\n"
            "for args in (['ask', 'what fine did the school in Nantong get'], ['timeline', '--list'], ['stats'],\n"
            "             ['digest', '--channel', 'C0123', '--dry-run']):\n"
            f"    sys.argv = ['bulletin-bot', *args, '--data-dir', {str(data)!r}]\n"
            "    try:\n        main()\n    except SystemExit as exc:\n        assert not exc.code, (args, exc.code)\n"
            "from bot.cli.options import make_encoder\nfrom bot.server.serve import load_searcher\n"
            f"load_searcher({str(data)!r}, make_encoder(None)).search('fines')  # what serve loads before answering\n"
            "assert 'onnxruntime' in sys.modules\n"
            "assert 'torch' not in sys.modules and 'sentence_transformers' not in sys.modules, 'torch imported'\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BULLETIN_BOT_")}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**env, "BULLETIN_BOT_ONNX_DIR": str(export_root)},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "RMB30,000" in done.stdout


@pytest.mark.model
def test_a_generation_embedded_with_torch_is_served_by_the_onnx_default(export_root: Path, tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for f in CORPUS.glob("privacy-news-digest-2023-05-14.*"):
        shutil.copy(f, corpus / f.name)
    data = tmp_path / "data"
    torch_encoder = SentenceTransformerEncoder()
    ingest([corpus], data, torch_encoder)
    onnx_encoder = make_encoder(None, export_dir=export_root)
    question = "what did the regulator fine"
    by_torch = Searcher(data, torch_encoder).search(question, top_k=5)
    by_onnx = Searcher(data, onnx_encoder).search(question, top_k=5)
    assert [h.citation for h in by_onnx.hits] == [h.citation for h in by_torch.hits]
    assert [round(h.score, 4) for h in by_onnx.hits] == [round(h.score, 4) for h in by_torch.hits]
    assert by_onnx.tier == by_torch.tier
    report = ingest([corpus], data, onnx_encoder)  # and an ingest on the new default reuses torch's vectors
    assert report.embedded == 0 and not report.warnings


def test_vectors_of_two_backends_are_never_mixed(tmp_path: Path):
    data = tmp_path / "data"
    ingest([CORPUS], data, HashEncoder(name="m@onnx-int8"))
    with pytest.raises(IndexMismatchError, match="BULLETIN_BOT_ENCODER=onnx-int8") as exc:
        PassageIndex.load(data, model="m")
    assert "ingest --rebuild" in str(exc.value)


def test_an_onnx_backend_needs_a_local_model_with_a_tokenizer(tmp_path: Path, monkeypatch):
    with pytest.raises(ConfigurationError, match="tokenizer.json"):
        OnnxEncoder("some/model", tmp_path / "no-model", tmp_path / "onnx")
    name, location = resolve_model(None)
    with pytest.raises(ConfigurationError, match="batch_size"):
        OnnxEncoder(name, location, tmp_path / "onnx", batch_size=0)
    encoder = OnnxEncoder(name, location, tmp_path / "onnx")
    assert encoder.threads_for(1) == 1 and encoder.threads_for(64) == min(4, os.cpu_count() or 1)
    for bad in ("two", "0"):
        monkeypatch.setenv("BULLETIN_BOT_ONNX_THREADS", bad)
        with pytest.raises(ConfigurationError, match=f"BULLETIN_BOT_ONNX_THREADS.*'{bad}'"):
            make_encoder(None, export_dir=tmp_path / "onnx")
    monkeypatch.setenv("BULLETIN_BOT_ONNX_THREADS", "2")
    assert make_encoder(None, export_dir=tmp_path / "onnx").threads_for(1) == 2


def test_long_passages_go_fewer_to_a_forward_pass_so_memory_stays_bounded():
    """Attention memory grows with texts × tokens²: 32 texts of 256 tokens took about 1 GB, so long texts are
    batched fewer at a time (the vectors do not change: each text is encoded on its own row)."""
    from retrieval.encoders.onnx import MAX_ATTENTION_CELLS, _batches

    lengths = [256] * 20 + [20] * 40 + [128] * 3
    batches = _batches(lengths, 32)
    assert sorted(r for b in batches for r in b) == list(range(len(lengths)))
    assert all(len(b) <= 32 and len(b) * max(lengths[r] for r in b) ** 2 <= MAX_ATTENTION_CELLS for b in batches)
    assert max(len(b) for b in batches if lengths[b[0]] == 256) == 8 and max(len(b) for b in batches) == 32
