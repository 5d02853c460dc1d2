"""notebooks/explore_workspace.ipynb runs top to bottom on a workspace (executed with nbclient)."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "explore_workspace.ipynb"


def _outputs(nb, kind: str) -> list:
    return [
        o
        for cell in nb.cells
        if cell.cell_type == "code"
        for o in cell.get("outputs", [])
        if o.get("output_type") == kind
    ]


def test_the_notebook_walks_through_a_workspace(pipeline_ws, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat", reason="the dev extra brings nbformat, nbclient and ipykernel")
    nbclient = pytest.importorskip("nbclient", reason="the dev extra brings nbformat, nbclient and ipykernel")
    from PIL import Image

    ws, _ = pipeline_ws
    monkeypatch.setenv("VID2SKILL_WORKSPACE", str(ws))  # the kernel inherits the environment
    monkeypatch.setenv("VID2SKILL_SKILL", "slide_open")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()

    text = "".join(o.get("text", "") for o in _outputs(nb, "stream"))
    assert "library v0001: 2 skills" in text
    episode = json.loads(
        next(line for line in text.splitlines() if line.startswith("episode: "))[len("episode: ") :]
    )
    # the notebook's episode is evaluation episode 0 of slide_open: the same scene, so the same outcome
    assert episode["skill"] == "slide_open" and episode["recorded_success"] == episode["success"]
    assert episode["steps"] > 10
    images = [o["data"] for o in _outputs(nb, "display_data")]
    gifs = [Image.open(io.BytesIO(base64.b64decode(d["image/gif"]))) for d in images if "image/gif" in d]
    assert len(gifs) == 1 and gifs[0].n_frames > 5
    assert sum("image/png" in d for d in images) == 2  # the skill's trajectories and the hand track
