"""Images as ``data:`` URIs, so that the report is one file that still shows everything when copied."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np

_MIME = {".png": "image/png", ".gif": "image/gif"}


def data_uri(data: bytes, mime: str) -> str:
    """``data:<mime>;base64,...`` for the bytes of one image."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def file_uri(path: str | Path) -> str:
    """A PNG or GIF file as a data URI (its type from its suffix)."""
    path = Path(path)
    mime = _MIME.get(path.suffix.lower())
    if mime is None:
        raise ValueError(f"{path}: only {sorted(_MIME)} images are embedded in the report")
    return data_uri(path.read_bytes(), mime)


def figure_uri(fig, dpi: int = 80) -> str:
    """A matplotlib figure, laid out, as a PNG data URI; the figure is closed."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return data_uri(buf.getvalue(), "image/png")


def array_uri(rgb: np.ndarray, max_side_px: int = 320) -> str:
    """An RGB uint8 image (H, W, 3), shrunk to at most ``max_side_px``, as a PNG data URI."""
    from PIL import Image

    img = Image.fromarray(np.ascontiguousarray(rgb))
    img.thumbnail((max_side_px, max_side_px))
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return data_uri(buf.getvalue(), "image/png")


def pyplot():
    """matplotlib's pyplot on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
