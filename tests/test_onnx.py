"""The ONNX encoder backends: an offline export of the packaged model, torch's vectors without torch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from retrieval.encoders.factory import DEFAULT_MODEL_NAME, SentenceTransformerEncoder, make_encoder, resolve_model
from retrieval.encoders.onnx import EXPORT_MANIFEST, INT8_FILE, OnnxEncoder
from retrieval.errors import ConfigurationError, IndexMismatchError
from retrieval.index.passages import PassageIndex
from retrieval.ingest import ingest
from tests.conftest import CORPUS, ONE_BULLETIN, ROOT
from tests.fakes import HashEncoder

TEXTS = ["What fine did the school in Nantong get?",
         "The European Commission has fined Apple €500 million and Meta €200 million under the DMA.",
         "Guidelines " * 300]  # longer than the model's 256 word pieces: truncated like sentence-transformers


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory) -> Path:
    """One export for the module, made on first use by the fp32 backend (as serve or ask would)."""
    where = tmp_path_factory.mktemp("onnx") / "onnx"
    make_encoder(None, backend="onnx", export_dir=where).encode(["warm up"])
    return where


@pytest.mark.model
def test_the_export_gives_torchs_vectors_and_int8_close_ones(export_dir: Path):
    torch_vectors = SentenceTransformerEncoder().encode(TEXTS)
    fp32 = make_encoder(None, backend="onnx", export_dir=export_dir)
    int8 = make_encoder(None, backend="onnx-int8", export_dir=export_dir)
    assert fp32.name == DEFAULT_MODEL_NAME and int8.name == DEFAULT_MODEL_NAME + "@onnx-int8"
    v32, v8 = fp32.encode(TEXTS), int8.encode(TEXTS)
    assert v32.shape == v8.shape == (3, 384) and v32.dtype == np.float32
    assert np.allclose(np.linalg.norm(v8, axis=1), 1.0, atol=1e-5)
    assert ((v32 * torch_vectors).sum(axis=1) > 0.9999).all()
    cos8 = (v8 * torch_vectors).sum(axis=1)
    assert (cos8[:2] > 0.9).all() and cos8[2] > 0.8  # quantisation costs most on a degenerate repeated word
    assert (export_dir / INT8_FILE).exists() and (export_dir / EXPORT_MANIFEST).exists()
    assert fp32.count_tokens("Nantong school") == SentenceTransformerEncoder().count_tokens("Nantong school")


@pytest.mark.model
def test_asking_with_an_onnx_backend_never_imports_torch(export_dir: Path, tmp_path: Path):
    data = tmp_path / "data"
    ingest([ONE_BULLETIN], data, make_encoder(None, backend="onnx", export_dir=export_dir))
    os.symlink(export_dir, data / "onnx")
    code = ("import sys\nfrom bot.cli import main\n"
            f"sys.argv = ['bulletin-bot', 'ask', 'what fine did the school in Nantong get', '--data-dir', {str(data)!r}]\n"
            "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
            "assert 'torch' not in sys.modules and 'sentence_transformers' not in sys.modules, 'torch imported'\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BULLETIN_BOT_")}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**env, "BULLETIN_BOT_ENCODER": "onnx"},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "RMB30,000" in done.stdout


def test_vectors_of_two_backends_are_never_mixed(tmp_path: Path):
    data = tmp_path / "data"
    ingest([CORPUS], data, HashEncoder(name="m@onnx-int8"))
    with pytest.raises(IndexMismatchError, match="BULLETIN_BOT_ENCODER=onnx-int8") as exc:
        PassageIndex.load(data, model="m")
    assert "ingest --rebuild" in str(exc.value)


def test_an_onnx_backend_needs_a_local_model_with_a_tokenizer(tmp_path: Path):
    with pytest.raises(ConfigurationError, match="tokenizer.json"):
        OnnxEncoder("some/model", tmp_path / "no-model", tmp_path / "onnx")
    name, location = resolve_model(None)
    with pytest.raises(ConfigurationError, match="batch_size"):
        OnnxEncoder(name, location, tmp_path / "onnx", batch_size=0)


def test_long_passages_go_fewer_to_a_forward_pass_so_memory_stays_bounded():
    """Attention memory grows with texts × tokens²: 32 texts of 256 tokens took about 1 GB, so long texts are
    batched fewer at a time (the vectors do not change: each text is encoded on its own row)."""
    from retrieval.encoders.onnx import MAX_ATTENTION_CELLS, _batches

    lengths = [256] * 20 + [20] * 40 + [128] * 3
    batches = _batches(lengths, 32)
    assert sorted(r for b in batches for r in b) == list(range(len(lengths)))
    assert all(len(b) <= 32 and len(b) * max(lengths[r] for r in b) ** 2 <= MAX_ATTENTION_CELLS for b in batches)
    assert max(len(b) for b in batches if lengths[b[0]] == 256) == 8 and max(len(b) for b in batches) == 32
