"""Saving and loading typed artifacts: a JSON header beside an ``.npz`` of arrays, written atomically.

Every header records the artifact kind, its schema version and the hash of the configuration and
inputs that produced it. The JSON file is written last, so a crash between the two writes leaves an
artifact that :func:`read_artifact` treats as missing rather than half-written.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from vid2skill.errors import ArtifactError


def atomic_save_figure(fig, path: str | os.PathLike, dpi: int = 90) -> None:
    """Lay out a matplotlib figure, write it as PNG atomically and close it."""
    import io

    import matplotlib.pyplot as plt

    fig.tight_layout()
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=dpi)
    plt.close(fig)
    atomic_write_bytes(path, png.getvalue())


def current_umask() -> int:
    """The process's umask, read without changing it where Linux says it (``/proc/self/status``)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere: set and restore (not thread-safe, but only where /proc lacks it)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write bytes so that readers see the old file or the new one, never a torn one.

    The file gets the permissions a plain ``open`` would give it (``0o666 & ~umask``): ``mkstemp``
    makes its temporary file private (0600), which would hide a shared workspace from teammates.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~current_umask())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


@contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``path``; when the block succeeds it replaces ``path``
    whole (readers see the old folder or the new one, never a half-written one), and on an error it
    is removed and ``path`` is left as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        yield tmp
        old = path.with_name(f".{path.name}.{os.getpid()}.old")
        if path.exists():
            os.replace(path, old)
        os.replace(tmp, path)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write text so that readers see the old file or the new one, never a torn one."""
    atomic_write_bytes(path, text.encode())


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


def atomic_save_npz(path: str | os.PathLike, **arrays: np.ndarray) -> None:
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def stable_hash(obj: Any, length: int = 16) -> str:
    """Hash of a JSON-serialisable object that does not depend on key order."""
    text = json.dumps(obj, sort_keys=True, default=_json_default, separators=(",", ":"))
    return hashlib.sha1(text.encode()).hexdigest()[:length]


def file_hash(path: str | os.PathLike, length: int = 16) -> str:
    """Content hash of a file (the same video added twice has the same hash)."""
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:length]


def stored_path(
    path: str | os.PathLike | None, base: str | os.PathLike, workspace: str | os.PathLike | None
) -> str | None:
    """``path`` as an artifact in folder ``base`` keeps it: relative to ``base`` when it lies inside
    ``workspace`` (so a copied or moved workspace reads its own files), absolute otherwise (a user's
    video elsewhere). ``workspace`` None keeps every path as given."""
    if path is None or workspace is None:
        return None if path is None else str(path)
    p = Path(os.path.abspath(os.path.expanduser(str(path))))
    root = Path(os.path.abspath(os.path.expanduser(str(workspace))))
    if p != root and root not in p.parents:
        return str(path)
    return os.path.relpath(p, os.path.abspath(os.path.expanduser(str(base))))


def resolved_path(text: str | None, base: str | os.PathLike) -> str | None:
    """A path read from an artifact in folder ``base``: relative ones (see :func:`stored_path`) are
    joined to ``base``; absolute ones (every path in artifacts written before) are kept."""
    if text is None or os.path.isabs(text):
        return text
    return os.path.normpath(os.path.join(os.path.abspath(os.path.expanduser(str(base))), text))


def write_artifact(
    path: str | os.PathLike, kind: str, schema: int, meta: dict, arrays: dict | None = None
) -> None:
    """Write ``<path>.npz`` (if arrays) then ``<path>.json`` (the commit marker)."""
    path = Path(path)
    if arrays:
        atomic_save_npz(path.with_suffix(".npz"), **arrays)
    atomic_write_json(path.with_suffix(".json"), {"kind": kind, "schema": schema, **meta})


def read_artifact(path: str | os.PathLike, kind: str, schema: int) -> tuple[dict, dict]:
    """Read an artifact written by :func:`write_artifact`; raise ArtifactError if absent or incompatible."""
    path = Path(path)
    header = path.with_suffix(".json")
    if not header.exists():
        raise ArtifactError(f"no {kind} artifact at {header}; run the stage that makes it first")
    try:
        meta = json.loads(header.read_text())
    except ValueError as e:  # JSONDecodeError, or bytes that are not UTF-8
        raise ArtifactError(f"{header} is not valid JSON ({e}); delete it and rerun the stage") from e
    if not isinstance(meta, dict):
        raise ArtifactError(f"{header} does not hold an artifact header; delete it and rerun the stage")
    if meta.get("kind") != kind or meta.get("schema") != schema:
        raise ArtifactError(
            f"{header} holds {meta.get('kind')} schema {meta.get('schema')}, expected {kind} schema "
            f"{schema}; rerun the stage that makes it"
        )
    arrays = {}
    npz = path.with_suffix(".npz")
    if npz.exists():
        try:
            with np.load(npz, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        except (zipfile.BadZipFile, zlib.error, ValueError, EOFError, OSError, KeyError) as e:
            raise ArtifactError(
                f"{npz} is damaged ({type(e).__name__}: {e}); delete it and rerun the stage that makes it"
            ) from e
    return meta, arrays
