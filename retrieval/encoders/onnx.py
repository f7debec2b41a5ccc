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
#: Intra-op threads for one text (a question). Measured in benchmarks/bench_peers.py on 2 shared cores: a
#: question runs in ~3 ms on one thread, and a second thread adds a barrier per kernel that costs more than it
#: saves, far more when the cores are busy (a server answering several questions at once, other processes).
QUERY_THREADS = 1


def batch_threads() -> int:
    """Intra-op threads for a batch of texts (an ingest): the machine's cores, at most 4."""
    return max(1, min(4, os.cpu_count() or 1))


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
        cache_root: the export cache's root (:func:`retrieval.encoders.factory.onnx_dir` gives the configured one).
        quantized: run ``model_int8.onnx`` instead of the fused fp32 ``model.onnx``.
        threads: onnxruntime intra-op threads for every call; None (the default): :data:`QUERY_THREADS` for one
            text and :func:`batch_threads` for more, one session each, made on first use, so a process that only
            answers questions holds one (the factory passes ``$BULLETIN_BOT_ONNX_THREADS``).
        batch_size: texts per forward pass (texts are sorted by length first).

    Raises:
        ConfigurationError: a bad batch_size or thread count; no tokenizer in model_dir (from ``encode``:
            no export and none can be made).
    """

    def __init__(self, name: str, model_dir: str | Path, cache_root: str | Path,
                 quantized: bool = False, threads: int | None = None, batch_size: int = 32):
        if batch_size <= 0:
            raise ConfigurationError(f"batch_size must be > 0, got {batch_size}")
        if threads is not None and threads <= 0:
            raise ConfigurationError(f"threads must be > 0, got {threads}")
        self.model_name, self.model_dir = name, Path(model_dir)
        self.cache_root = Path(cache_root)
        self.name = f"{name}@onnx-int8" if quantized else name
        self.backend = "onnx-int8" if quantized else "onnx"
        self.quantized, self.batch_size, self.threads = quantized, batch_size, threads
        self.dimension = 384
        self._sessions: dict[int, object] = {}
        tokenizer_file = self.model_dir / TOKENIZER_FILE
        if not tokenizer_file.exists():
            raise ConfigurationError(f"{self.model_dir}: no {TOKENIZER_FILE}; the ONNX backends need a local model")
        self._tokenizer = load_tokenizer(tokenizer_file)
        self._count = load_tokenizer(tokenizer_file, truncate=False)

    def export_file(self) -> Path:
        """The verified ONNX file this encoder runs, exported first when the cache holds none."""
        return ensure_export(self.model_name, self.model_dir, self.cache_root,
                             INT8_FILE if self.quantized else FP32_FILE)

    def threads_for(self, n_texts: int) -> int:
        """The intra-op threads a call embedding n_texts runs on."""
        if self.threads is not None:
            return self.threads
        return QUERY_THREADS if n_texts <= 1 else batch_threads()

    def _load(self, threads: int):
        session = self._sessions.get(threads)
        if session is None:
            import onnxruntime as ort

            opts = ort.SessionOptions()
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            session = ort.InferenceSession(str(self.export_file()), opts, providers=["CPUExecutionProvider"])
            out = session.get_outputs()[0].shape[-1]
            if isinstance(out, int):
                self.dimension = out
            self._sessions[threads] = session
        return session

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts. Returns float32 array of shape (len(texts), dimension), rows L2-normalised, in texts' order."""
        if len(texts) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        session = self._load(self.threads_for(len(texts)))
        encodings = self._tokenizer.encode_batch(list(texts))
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for rows in _batches([len(e.ids) for e in encodings], self.batch_size):  # similar lengths, bounded memory
            ids, mask = batch_arrays([encodings[i] for i in rows])
            hidden = session.run(None, {"input_ids": ids, "attention_mask": mask,
                                        "token_type_ids": np.zeros_like(ids)})[0]
            out[rows] = mean_pool(hidden, mask)
        return out

    def count_tokens(self, text: str) -> int:
        """Word pieces of text under the model's tokenizer (special tokens excluded)."""
        return len(self._count.encode(text, add_special_tokens=False).ids)


#: The most attention cells (texts × tokens²) one forward pass may hold: 32 texts of 128 tokens. The
#: attention scores grow with the square of the longest text of a batch, so 32 texts of 256 tokens
#: took about 1 GB; long texts go fewer at a time (8 of 256), with the same vectors.
MAX_ATTENTION_CELLS = 32 * 128 * 128


def _batches(lengths: list[int], batch_size: int) -> list[list[int]]:
    """Row indexes grouped into forward passes: similar lengths together (shortest first), at most
    ``batch_size`` texts and :data:`MAX_ATTENTION_CELLS` cells (texts × longest²) a pass."""
    out: list[list[int]] = []
    for r in sorted(range(len(lengths)), key=lambda r: lengths[r]):
        if out and len(out[-1]) < batch_size and (len(out[-1]) + 1) * lengths[r] ** 2 <= MAX_ATTENTION_CELLS:
            out[-1].append(r)
        else:
            out.append([r])
    return out
