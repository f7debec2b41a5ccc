"""retrieval.encoders.factory.make_encoder: the factory the CLI builds its encoder with (the seam for ONNX)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from retrieval.encoders.factory import DEFAULT_MODEL_NAME, SentenceTransformerEncoder, make_encoder
from retrieval.errors import ConfigurationError
from tests.conftest import ROOT


def test_torch_backend_is_sentence_transformers():
    encoder = make_encoder(None)
    assert isinstance(encoder, SentenceTransformerEncoder)
    assert (encoder.name, encoder.dimension) == (DEFAULT_MODEL_NAME, 384)
    assert make_encoder(DEFAULT_MODEL_NAME, backend="torch").name == DEFAULT_MODEL_NAME


def test_unknown_backend_names_the_value_and_the_known_ones():
    with pytest.raises(ConfigurationError) as exc:
        make_encoder(None, backend="tensorrt")
    assert "'tensorrt'" in str(exc.value) and "torch" in str(exc.value) and "onnx-int8" in str(exc.value)


def test_the_factory_does_not_import_sentence_transformers():
    code = ("import sys; from retrieval.encoders.factory import make_encoder; e = make_encoder(None); e.dimension; "
            "assert 'sentence_transformers' not in sys.modules and 'torch' not in sys.modules, 'imported eagerly'")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


def test_the_cli_builds_its_encoder_with_the_factory(monkeypatch):
    import retrieval.encoders.factory as encoder_mod
    from bot.cli import options as cli_options

    seen = []
    monkeypatch.setitem(encoder_mod.BACKENDS, "torch", lambda model: seen.append(model) or "an encoder")
    assert cli_options.make_encoder("some/model") == "an encoder" and seen == ["some/model"]
