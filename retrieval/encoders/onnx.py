"""The default encoder: the packaged sentence-transformers model as ONNX, run with onnxruntime, no torch.

:class:`OnnxEncoder` embeds with ``tokenizers`` + ``onnxruntime`` only, from the export that
:mod:`retrieval.encoders.export` makes once and keeps in a cache keyed by the model's checksum (``make
install`` makes it; else the first use does, the one step that imports torch). A process that ingests,
asks, serves or posts a digest never imports torch or sentence-transformers.

Pooling and normalisation are sentence-transformers' for this model (``1_Pooling/config.json``: mean over
the attention mask; ``modules.json``: then L2 normalisation), so the fp32 vectors are torch's (cosine
≥ 0.99999, checked by the export; figures: docs/retrieval.md). The int8 form is onnxruntime's
``quantize_dynamic`` with int8 weights
(https://onnxruntime.ai/docs/performance/model-optimizations/quantization.html): other vectors, recorded
as ``<model>@onnx-int8``.

Speed: texts are tokenized without padding (the packaged ``tokenizer.json`` pads every text to 128 word
pieces, ten times a question's length), batched by length so a batch pads to its own longest text, and run
on onnxruntime's fused transformer kernels.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from retrieval.errors import ConfigurationError

from .export import FP32_FILE, INT8_FILE, TOKENIZER_FILE, ensure_export

log = logging.getLogger(__name__)

#: The model's input window in word pieces, special tokens included (all-MiniLM-L6-v2: 256).
MAX_LENGTH = 256
#: Env var: onnxruntime intra-op threads (default :data:`DEFAULT_THREADS`).
THREADS_ENV = "BULLETIN_BOT_ONNX_THREADS"
#: Intra-op threads when none are set: measured in benchmarks/bench_peers.py (1 vs 2 on this project's 2 cores).
DEFAULT_THREADS = 2


def load_tokenizer(path: str | Path, truncate: bool = True):
    """A ``tokenizers.Tokenizer`` from tokenizer.json: never padding, truncating at :data:`MAX_LENGTH` unless told not to."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path))
    tok.no_padding()  # the packaged file pads to a fixed 128: a question would run as 128 word pieces
    if truncate:
        tok.enable_truncation(MAX_LENGTH)
    else:
        tok.no_truncation()
    return tok


def batch_arrays(encodings) -> tuple[np.ndarray, np.ndarray]:
    """(input_ids, attention_mask), int64 arrays of shape (len(encodings), longest), zero-padded on the right."""
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(encodings), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    for row, e in enumerate(encodings):
        ids[row, :len(e.ids)] = e.ids
        mask[row, :len(e.ids)] = e.attention_mask
    return ids, mask


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean of hidden (batch, tokens, dim) over the mask's tokens, L2-normalised: float32 (batch, dim)."""
    summed = np.einsum("btd,bt->bd", hidden, mask.astype(hidden.dtype))
    pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
    return (pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)).astype(np.float32)


class OnnxEncoder:
    """Embeds with the cached ONNX export of a local model: tokenizers + onnxruntime, no torch.

    Args:
        name: the model's name (the int8 backend records ``<name>@onnx-int8``: its vectors differ).
        model_dir: the local model directory the export is made from and keyed by.
        cache_root: the export cache (default :func:`retrieval.encoders.export.cache_root`).
        quantized: run ``model_int8.onnx`` instead of the fused fp32 ``model.onnx``.
        threads: onnxruntime intra-op threads (default ``$BULLETIN_BOT_ONNX_THREADS``, else :data:`DEFAULT_THREADS`).
        batch_size: texts per forward pass (texts are sorted by length first).

    Raises:
        ConfigurationError: a bad batch_size or thread count; no tokenizer in model_dir (from ``encode``:
            no export and none can be made).
    """

    def __init__(self, name: str, model_dir: str | Path, cache_root: str | Path | None = None,
                 quantized: bool = False, threads: int | None = None, batch_size: int = 32):
        if batch_size <= 0:
            raise ConfigurationError(f"batch_size must be > 0, got {batch_size}")
        threads = threads if threads is not None else _threads_from_env()
        if threads <= 0:
            raise ConfigurationError(f"threads must be > 0, got {threads}")
        self.model_name, self.model_dir = name, Path(model_dir)
        self.cache_root = Path(cache_root) if cache_root is not None else None
        self.name = f"{name}@onnx-int8" if quantized else name
        self.backend = "onnx-int8" if quantized else "onnx"
        self.quantized, self.batch_size, self.threads = quantized, batch_size, threads
        self.dimension = 384
        self._session = None
        tokenizer_file = self.model_dir / TOKENIZER_FILE
        if not tokenizer_file.exists():
            raise ConfigurationError(f"{self.model_dir}: no {TOKENIZER_FILE}; the ONNX backends need a local model")
        self._tokenizer = load_tokenizer(tokenizer_file)
        self._count = load_tokenizer(tokenizer_file, truncate=False)

    def export_file(self) -> Path:
        """The verified ONNX file this encoder runs, exported first when the cache holds none."""
        return ensure_export(self.model_name, self.model_dir, INT8_FILE if self.quantized else FP32_FILE,
                             self.cache_root)

    def _load(self):
        if self._session is None:
            import onnxruntime as ort

            opts = ort.SessionOptions()
            opts.intra_op_num_threads = self.threads
            opts.inter_op_num_threads = 1
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            self._session = ort.InferenceSession(str(self.export_file()), opts, providers=["CPUExecutionProvider"])
            out = self._session.get_outputs()[0].shape[-1]
            if isinstance(out, int):
                self.dimension = out
        return self._session

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts. Returns float32 array of shape (len(texts), dimension), rows L2-normalised, in texts' order."""
        if len(texts) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        session = self._load()
        encodings = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))  # a batch pads to its own longest
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            rows = order[start:start + self.batch_size]
            ids, mask = batch_arrays([encodings[i] for i in rows])
            hidden = session.run(None, {"input_ids": ids, "attention_mask": mask,
                                        "token_type_ids": np.zeros_like(ids)})[0]
            out[rows] = mean_pool(hidden, mask)
        return out

    def count_tokens(self, text: str) -> int:
        """Word pieces of text under the model's tokenizer (special tokens excluded)."""
        return len(self._count.encode(text, add_special_tokens=False).ids)


def _threads_from_env() -> int:
    value = os.environ.get(THREADS_ENV, "").strip()
    if not value:
        return DEFAULT_THREADS
    try:
        return int(value)
    except ValueError:
        raise ConfigurationError(f"{THREADS_ENV} must be a whole number of threads, got {value!r}") from None
