"""Reading an index generation's manifest back, with every check a load makes before serving it.

:func:`checked_manifest` refuses a generation whose manifest is unreadable or garbled, whose files
are missing or changed since they were written (sha256 in the manifest), or that was embedded with
another model or encoder backend — each refusal one sentence with the command that mends it.
"""

from __future__ import annotations

import json
from pathlib import Path

from retrieval.errors import IndexMismatchError

from .generations import MANIFEST_TYPES, file_checksum


def checked_manifest(path: Path, name: str, model: str | None = None) -> dict:
    """The manifest of generation ``name`` (directory ``path``), its files' checksums and model checked.

    Raises:
        IndexMismatchError: no readable manifest, a field missing or garbled, a file missing,
            unreadable or changed since it was written, or another model (or encoder backend) than
            ``model`` — each with the command that mends it.
    """
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexMismatchError(f"index generation {name} has no readable manifest ({exc.__class__.__name__}); "
                                 "run `bulletin-bot ingest --rebuild`") from None
    bad = [k for k, t in MANIFEST_TYPES.items() if not isinstance(manifest, dict) or not isinstance(manifest.get(k), t)]
    if bad:
        raise IndexMismatchError(f"index generation {name}: manifest.json lacks or garbles {', '.join(bad)}; "
                                 "run `bulletin-bot ingest --rebuild`")
    for file_name, checksum in manifest["files"].items():
        try:
            actual = file_checksum(path / file_name)
        except OSError:
            raise IndexMismatchError(f"index generation {name}: {file_name} is missing or unreadable; "
                                     "run `bulletin-bot ingest --rebuild`") from None
        if actual != checksum:
            raise IndexMismatchError(f"index generation {name}: {file_name} changed since it was written (checksum "
                                     "mismatch); run `bulletin-bot ingest --rebuild`")
    if model is not None and manifest.get("model") != model:
        built, wanted = str(manifest.get("model")), model
        if built.split("@")[0] == wanted.split("@")[0]:  # the same model on another encoder backend
            raise IndexMismatchError(
                f"index generation {name} was embedded with encoder backend {_backend(built)} but the configured "
                f"backend is {_backend(wanted)}: set BULLETIN_BOT_ENCODER={_backend(built).split(' ')[0]}, or run "
                "`bulletin-bot ingest --rebuild` to re-embed with the configured one (vectors of two backends are "
                "never mixed)")
        raise IndexMismatchError(
            f"index generation {name} was built with model {built!r} but the configured model is "
            f"{wanted!r}; run `bulletin-bot ingest --rebuild` to re-embed"
        )
    return manifest


def _backend(model: str) -> str:
    """The encoder backend a recorded model name stands for ("<model>@onnx-int8" → onnx-int8)."""
    return model.split("@", 1)[1] if "@" in model else "torch (or onnx: the same vectors)"
