"""The ONNX export of the embedding model: made once, kept in a cache keyed by the model's checksum, verified.

Where it lives: under a cache root (:func:`retrieval.encoders.factory.onnx_dir`: ``$BULLETIN_BOT_ONNX_DIR``,
else ``$XDG_CACHE_HOME/bulletin-bot/onnx``, i.e. ``~/.cache/…``), one directory per model checksum,
``<model>-<first 16 hex digits of the sha256 over the model directory's files>``. Why there and not in the
data directory: the export depends on the model only, not on the bulletins, so ``make install`` can make it
before any data directory exists, every data directory (and every clone of the project on the machine)
shares one export, and a new virtualenv whose model package holds the same bytes finds it again instead of
paying torch's import and the export (~20 s) once more. A different model, or a changed model file, has
another checksum and so its own export; one made by an older recipe is not reused (:data:`EXPORT_RECIPE`
is part of the key).

What a directory holds: ``model.onnx`` (fp32: BERT exported with eager attention, then fused by onnxruntime's
transformer optimizer into its Attention, EmbedLayerNormalization, SkipLayerNormalization and BiasGelu
kernels), ``model_int8.onnx`` (the default-attention export dynamically quantised to int8, byte for byte
what recipe 1 made, so int8 generations and their calibration stay valid), ``tokenizer.json`` and
``export.json``: the model, its checksum, the recipe, the library versions and each file's sha256, size and
modification time. Before its vectors are trusted, the export's fp32 file was checked against torch itself
(cosine ≥ :data:`MIN_COSINE` on probe texts; a fused graph that misses it is replaced by the plain export).
On load a file whose size or modification time differs from ``export.json`` is checksummed again, and
re-exported when its sha256 no longer matches: a torn or altered file is never run.

Computing the model's checksum reads its ~90 MB of weights (~0.1–0.3 s here), so it is remembered in the
cache's ``models.json`` under the model directory's path, sizes and modification times, and recomputed only
when one of those changes: a cold ``ask`` stats a dozen files instead of hashing the weights.

Exporting needs torch and transformers (which the project installs for it and for ``BULLETIN_BOT_ENCODER=torch``);
it runs offline from the local model directory and under a lock, so two processes starting at once export once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import warnings
from pathlib import Path
from typing import Iterator

from retrieval.errors import ConfigurationError

log = logging.getLogger(__name__)

#: File names inside an export directory.
FP32_FILE, INT8_FILE, TOKENIZER_FILE, EXPORT_MANIFEST = "model.onnx", "model_int8.onnx", "tokenizer.json", "export.json"
#: Bumped whenever the export makes different files (2: eager attention, fused fp32 graph, verified against torch).
EXPORT_RECIPE = "2"
#: ONNX opset used for the export.
OPSET = 17
#: The lowest cosine between the export's fp32 vectors and torch's, on the probe texts, for the fused graph to be kept.
MIN_COSINE = 0.99999
#: Texts the export is checked on (short, long, non-ASCII, past the 256-word-piece window).
PROBE_TEXTS = ("What fine did the school in Nantong get?",
               "The European Commission fined Apple €500 million and Meta €200 million under the DMA. " * 3,
               "个人信息保护法 Datenschutz-Grundverordnung — données personnelles",
               "Guidelines " * 300)
_MEMO_FILE = "models.json"


def _model_files(model_dir: Path) -> list[tuple[str, Path]]:
    """(relative path, path) of every regular file under model_dir, sorted; hidden files and folders left out."""
    out = []
    for path in model_dir.rglob("*"):
        rel = path.relative_to(model_dir)
        if path.is_file() and not any(part.startswith(".") for part in rel.parts):
            out.append((rel.as_posix(), path))
    return sorted(out)


def model_checksum(model_dir: str | Path, root: str | Path) -> str:
    """sha256 hex over a local model directory's files (their relative paths and bytes) and :data:`EXPORT_RECIPE`.

    Remembered in ``<root>/models.json`` by the directory's path and its files' sizes and modification times
    (see the module docstring); a memo that cannot be written costs only the hashing next time.
    """
    model_dir = Path(model_dir).resolve()
    files = _model_files(model_dir)
    stamp = [[rel, p.stat().st_size, p.stat().st_mtime_ns] for rel, p in files]
    memo_path = Path(root) / _MEMO_FILE
    try:
        memo = json.loads(memo_path.read_text(encoding="utf-8"))
        if not isinstance(memo, dict):
            memo = {}
    except (OSError, ValueError):
        memo = {}
    entry = memo.get(str(model_dir))
    if isinstance(entry, dict) and entry.get("stamp") == stamp and entry.get("recipe") == EXPORT_RECIPE:
        return str(entry["sha256"])
    h = hashlib.sha256(f"bulletin-bot onnx export recipe {EXPORT_RECIPE}\0".encode())
    for rel, path in files:
        h.update(rel.encode() + b"\0")
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        h.update(b"\0")
    digest = h.hexdigest()
    memo[str(model_dir)] = {"stamp": stamp, "recipe": EXPORT_RECIPE, "sha256": digest}
    with contextlib.suppress(OSError):
        memo_path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(memo_path, json.dumps(memo, indent=1))
    return digest


def export_dir_for(name: str, model_dir: str | Path, root: str | Path) -> Path:
    """Where, under the cache root, the export of the model in model_dir lives (it may not exist yet)."""
    slug = re.sub(r"[^0-9A-Za-z._-]+", "-", name.split("/")[-1]).strip("-.")[:60] or "model"
    return Path(root) / f"{slug}-{model_checksum(model_dir, root)[:16]}"


def _file_checksum(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def verified_file(export_dir: Path, file_name: str, model_sha256: str) -> bool:
    """True when export_dir holds file_name as ``export.json`` recorded it, for the model of checksum
    model_sha256 (sizes and modification times compared; the sha256 recomputed only when one differs)."""
    try:
        manifest = json.loads((export_dir / EXPORT_MANIFEST).read_text(encoding="utf-8"))
        recorded = manifest["files"][file_name]
        if manifest.get("model_sha256") != model_sha256 or manifest.get("recipe") != EXPORT_RECIPE:
            return False
        st = (export_dir / file_name).stat()
        if [st.st_size, st.st_mtime_ns] == [recorded["size"], recorded["mtime_ns"]]:
            return True
        ok = _file_checksum(export_dir / file_name) == recorded["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if not ok:
        log.warning("%s/%s does not match its checksum in %s: exporting again", export_dir, file_name, EXPORT_MANIFEST)
    return ok


@contextlib.contextmanager
def _export_lock(root: Path, key: str) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f".{key}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_export(name: str, model_dir: str | Path, root: str | Path, file_name: str = FP32_FILE,
                  force: bool = False) -> Path:
    """The path of file_name in the verified export of the model in model_dir, exporting it first when the
    cache holds none (or a broken one), or always with force. Returns e.g.
    ``~/.cache/bulletin-bot/onnx/all-MiniLM-L6-v2-<key>/model.onnx``.

    Raises:
        ConfigurationError: model_dir is no local model directory, or the cache cannot be written (naming
            ``BULLETIN_BOT_ONNX_DIR``).
    """
    model_dir = Path(model_dir)
    out = export_dir_for(name, model_dir, root)
    checksum = model_checksum(model_dir, root)
    if not force and verified_file(out, file_name, checksum):
        return out / file_name
    try:
        with _export_lock(out.parent, out.name):
            if force or not verified_file(out, file_name, checksum):  # another process may have exported meanwhile
                log.info("no ONNX export of %s in %s yet: exporting it once (about 20 s)", name, out)
                export_onnx(model_dir, out, name, checksum)
    except PermissionError as exc:
        raise ConfigurationError(f"cannot write the ONNX export into {out.parent} ({exc.strerror}); set "
                                 "BULLETIN_BOT_ONNX_DIR to a writable directory, or run `bulletin-bot export-onnx` as a "
                                 "user who can") from None
    return out / file_name


def export_onnx(model_dir: str | Path, out_dir: str | Path, name: str, model_sha256: str | None = None) -> Path:
    """Export a local sentence-transformers BERT model to ONNX (fused fp32 and int8) in out_dir.

    Args:
        model_dir: the model directory (``config.json``, ``model.safetensors``, ``tokenizer.json``).
        out_dir: created if needed; written atomically (a temporary directory, then renamed).
        name: the model's name, recorded in ``export.json``.
        model_sha256: the model's :func:`model_checksum` (computed when not given).

    Returns:
        out_dir as a Path.

    Raises:
        ConfigurationError: when model_dir has no ``tokenizer.json`` or ``config.json``.
    """
    model_dir, out_dir = Path(model_dir), Path(out_dir)
    for needed in ("config.json", TOKENIZER_FILE):
        if not (model_dir / needed).exists():
            raise ConfigurationError(f"{model_dir}: no {needed}; an ONNX export needs a local model directory")
    model_sha256 = model_sha256 or model_checksum(model_dir, out_dir.parent)
    import onnxruntime
    import torch  # only the export needs torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = out_dir.with_name(f".{out_dir.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        plain = tmp / "plain.onnx"  # the int8 file is quantised from the default-attention export, as in recipe 1,
        _torch_export(_load_bert(model_dir, "sdpa"), plain)  # so its vectors (and calibration) stay the same
        quantize_dynamic(str(plain), str(tmp / INT8_FILE), weight_type=QuantType.QInt8)
        plain.unlink()
        bert = _load_bert(model_dir, "eager")
        raw = tmp / "raw.onnx"
        _torch_export(bert, raw)
        reference = _torch_vectors(bert, model_dir)
        fused = _fuse(raw, tmp / FP32_FILE, bert.config)
        cosine = _min_cosine(tmp / FP32_FILE, model_dir, reference) if fused else 0.0
        if cosine < MIN_COSINE:
            if fused:
                log.warning("the fused ONNX graph of %s gives cosine %.6f to torch (< %s): keeping the plain export",
                            name, cosine, MIN_COSINE)
            os.replace(raw, tmp / FP32_FILE)
            cosine = _min_cosine(tmp / FP32_FILE, model_dir, reference)
        raw.unlink(missing_ok=True)
        if cosine < MIN_COSINE:
            raise ConfigurationError(f"the ONNX export of {name} does not reproduce torch's vectors (cosine "
                                     f"{cosine:.6f}); use BULLETIN_BOT_ENCODER=torch")
        shutil.copy2(model_dir / TOKENIZER_FILE, tmp / TOKENIZER_FILE)
        files = {}
        for f in (FP32_FILE, INT8_FILE, TOKENIZER_FILE):
            st = (tmp / f).stat()
            files[f] = {"sha256": _file_checksum(tmp / f), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
        manifest = {"model": name, "model_sha256": model_sha256, "source": str(model_dir), "recipe": EXPORT_RECIPE,
                    "opset": OPSET, "fused": fused, "min_cosine_to_torch": round(cosine, 7),
                    "torch": torch.__version__, "onnxruntime": onnxruntime.__version__, "files": files}
        _write_atomic(tmp / EXPORT_MANIFEST, json.dumps(manifest, indent=2))
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("exported %s to ONNX in %s (fused: %s, cosine to torch ≥ %.6f)", name, out_dir, fused, cosine)
    return out_dir


def _load_bert(model_dir: Path, attention: str):
    """The model's transformer; "eager" attention's MatMul/Softmax pattern is what onnxruntime's optimizer fuses
    into one Attention kernel, "sdpa" is transformers' default."""
    from transformers import AutoModel

    return AutoModel.from_pretrained(str(model_dir), attn_implementation=attention).eval().requires_grad_(False)


def _torch_export(bert, path: Path) -> None:
    import torch

    class _Hidden(torch.nn.Module):  # keyword arguments: the forward signature differs across versions
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    names = ("input_ids", "attention_mask", "token_type_ids")
    dummy = tuple(torch.ones((1, 8), dtype=torch.int64) for _ in names)
    axes = {k: {0: "batch", 1: "tokens"} for k in (*names, "last_hidden_state")}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes on shape-dependent Python branches: the probes check the result
        torch.onnx.export(_Hidden().eval(), dummy, str(path), input_names=list(names),
                          output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=OPSET, dynamo=False)


def _fuse(raw: Path, out: Path, config) -> bool:
    """Fuse raw's BERT graph into onnxruntime's transformer kernels, into out; False when that fails."""
    try:
        from onnxruntime.transformers.optimizer import optimize_model

        model = optimize_model(str(raw), model_type="bert", num_heads=int(config.num_attention_heads),
                               hidden_size=int(config.hidden_size), opt_level=1, use_gpu=False)
        model.save_model_to_file(str(out))
    except Exception as exc:  # noqa: BLE001 - the plain export still works; say why the fused one is missing
        log.warning("could not fuse the ONNX graph (%s: %s): keeping the plain export", type(exc).__name__, exc)
        return False
    stats = model.get_fused_operator_statistics()
    log.info("fused ONNX graph: %s", {k: v for k, v in stats.items() if v})
    return True


def _probe_inputs(model_dir: Path):
    import numpy as np

    from .onnx import batch_arrays, load_tokenizer

    encodings = load_tokenizer(model_dir / TOKENIZER_FILE).encode_batch(list(PROBE_TEXTS))
    ids, mask = batch_arrays(encodings)
    return ids, mask, np.zeros_like(ids)


def _torch_vectors(bert, model_dir: Path):
    import torch

    from .onnx import mean_pool

    ids, mask, types = _probe_inputs(model_dir)
    with torch.no_grad():
        hidden = bert(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask),
                      token_type_ids=torch.from_numpy(types)).last_hidden_state.numpy()
    return mean_pool(hidden, mask)


def _min_cosine(onnx_file: Path, model_dir: Path, reference) -> float:
    import onnxruntime as ort

    from .onnx import mean_pool

    ids, mask, types = _probe_inputs(model_dir)
    session = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    hidden = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})[0]
    return float((mean_pool(hidden, mask) * reference).sum(axis=1).min())
