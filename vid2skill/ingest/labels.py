"""Weak labels from a ``labels.csv`` beside a folder of videos (the format of ``../shared/data``):
one row per video, ``file`` relative to the CSV's folder and ``skills`` the skills it shows, in order,
``;``-separated (``none`` for a clip that shows none)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from vid2skill.errors import ConfigError

REQUIRED = ("file", "skills")


@dataclass(frozen=True)
class LabelRow:
    video: Path  # resolved
    skills: list[str]  # in order, lower case; empty for "none"
    row: int  # line number in the CSV


def split_skills(text: str | None) -> list[str]:
    """``"pick; Place"`` -> ``["pick", "place"]``; empty parts and ``none`` dropped."""
    return [s for s in (x.strip().lower() for x in (text or "").split(";")) if s and s != "none"]


def read_labels(path: str | Path) -> tuple[list[LabelRow], list[dict]]:
    """(rows, problems): a row naming a missing video or with an empty ``skills`` cell is reported in
    ``problems`` (``{"row", "error"}``) and skipped; a CSV without the columns is a ConfigError."""
    path = Path(path).expanduser()
    try:
        f = open(path, newline="", encoding="utf-8-sig")
    except OSError as e:
        raise ConfigError(f"cannot read the labels file {path}: {e.strerror}") from None
    rows, problems = [], []
    with f:
        try:
            reader = csv.DictReader(f)
            missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
            if missing:
                raise ConfigError(f"{path}: missing column(s) {', '.join(missing)}; a labels CSV needs file,skills")
            for n, r in enumerate(reader, start=2):
                name, text = (r.get("file") or "").strip(), (r.get("skills") or "").strip()
                video = (path.parent / name).resolve()
                if not name or not video.is_file():
                    problems.append({"row": n, "error": f"no video at {video}; row skipped"})
                elif not text:
                    problems.append({"row": n, "error": f"{name}: empty skills cell (write none for a clip without a skill); row skipped"})
                else:
                    rows.append(LabelRow(video, split_skills(text), n))
        except (UnicodeDecodeError, csv.Error) as e:
            raise ConfigError(f"{path}: not a readable CSV ({e}); save it as UTF-8 with a file,skills header") from None
    return rows, problems


def find_labels(folder: Path) -> Path | None:
    """``labels.csv`` in ``folder`` or its parent (where ``../shared/data`` keeps it), if any."""
    for candidate in (folder / "labels.csv", folder.parent / "labels.csv"):
        if candidate.is_file():
            return candidate
    return None
