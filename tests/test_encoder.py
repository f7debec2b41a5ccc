"""retrieval.encoders.factory.make_encoder: the factory the CLI builds its encoder with (the seam for ONNX)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from retrieval.encoders.factory import DEFAULT_MODEL_NAME, SentenceTransformerEncoder, make_encoder
from retrieval.encoders.onnx import OnnxEncoder
from retrieval.errors import ConfigurationError
from tests.conftest import ROOT


def test_the_default_backend_is_fp32_onnx_under_the_models_own_name(monkeypatch):
    encoder = make_encoder(None)
    assert isinstance(encoder, OnnxEncoder) and not encoder.quantized
    assert (encoder.name, encoder.dimension) == (DEFAULT_MODEL_NAME, 384)  # the name torch generations carry
    monkeypatch.setenv("BULLETIN_BOT_ENCODER", "torch")
    assert isinstance(make_encoder(None), SentenceTransformerEncoder)


def test_torch_backend_is_sentence_transformers():
    encoder = make_encoder(None, backend="torch")
    assert isinstance(encoder, SentenceTransformerEncoder)
    assert (encoder.name, encoder.dimension) == (DEFAULT_MODEL_NAME, 384)


def test_unknown_backend_names_the_value_and_the_known_ones():
    with pytest.raises(ConfigurationError) as exc:
        make_encoder(None, backend="tensorrt")
    assert "'tensorrt'" in str(exc.value) and "torch" in str(exc.value) and "onnx-int8" in str(exc.value)


def test_the_factory_does_not_import_sentence_transformers():
    code = ("import sys; from retrieval.encoders.factory import make_encoder\n"
            "for backend in ('torch', 'onnx', 'onnx-int8'):\n    make_encoder(None, backend=backend).dimension\n"
            "assert not {'sentence_transformers', 'torch', 'onnxruntime'} & set(sys.modules), 'imported eagerly'")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


def test_the_cli_builds_its_encoder_with_the_factory(monkeypatch):
    import retrieval.encoders.factory as encoder_mod
    from bot.cli import options as cli_options

    seen = []
    monkeypatch.setitem(encoder_mod.BACKENDS, "onnx", lambda model: seen.append(model) or "an encoder")
    assert cli_options.make_encoder("some/model") == "an encoder" and seen == ["some/model"]
