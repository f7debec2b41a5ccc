"""Encoders: texts → L2-normalised float32 vectors of shape (n, dimension).

- :mod:`.factory` — the :class:`Encoder` protocol, :func:`make_encoder` (backend from
  ``BULLETIN_BOT_ENCODER``: ``onnx`` (default), ``torch``, ``onnx-int8``), :func:`resolve_model` and the
  sentence-transformers (torch) backend;
- :mod:`.onnx` — the torch-free ONNX backend (:class:`~retrieval.encoders.onnx.OnnxEncoder`);
- :mod:`.export` — the ONNX export, made once into a cache keyed by the model's checksum, and verified.

Importing this package imports neither torch nor onnxruntime: backends load on first use.
"""

from __future__ import annotations

from .factory import Encoder, SentenceTransformerEncoder, make_encoder, resolve_model

__all__ = ["Encoder", "SentenceTransformerEncoder", "make_encoder", "resolve_model"]
