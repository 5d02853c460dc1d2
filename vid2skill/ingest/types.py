"""Artifacts of the ingest stage: clips of human video with their weak labels and provenance."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from vid2skill.artifacts import read_artifact, resolved_path, stored_path, write_artifact

CLIPSET_SCHEMA = 1


SAFE_ID_MAX = 100  # characters: a clip id names files (with a suffix and a temporary prefix) within 255 bytes


def safe_id(text: str) -> str:
    """A filesystem-safe clip id part: letters, digits, '-' and '_' kept, everything else '_', at most
    ``SAFE_ID_MAX`` characters."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)[:SAFE_ID_MAX]


@dataclass(frozen=True)
class Clip:
    """One video (or a segment of one) of a person doing a task.

    Attributes:
        clip_id: unique, filesystem-safe name.
        path: absolute path of the video file (kept relative to the artifact when inside the workspace).
        source: which source produced it (``synthetic``, ``folder``, ...).
        content_hash: hash of the video bytes (and segment bounds); the same video twice is one clip.
        label: weak label from the source (a skill name, a verb), or None.
        intrinsics: [fx, fy, cx, cy] in pixels when the source knows the camera, else None.
        ground_truth: path of a ground-truth ``.npz`` (synthetic clips), else None.
        start_s / end_s: segment bounds in seconds within the video, None for the whole file.
        hand: the acting hand ("right" or "left") when the source knows it (an annotation, or the
            generator), else None: extraction then decides from the video.
        label_texts: every weak label text the clip has, ``[{"source", "text"}]`` (a labels.csv row, an
            EPIC verb and noun, an SSv2 template, its sub-folder's or file's name, a URL's title), or None.
        skills: the skills (in order) the lexicon read from ``label`` (``open``/``close`` still to be
            decided by the motion, ``novel:<verb>`` for a verb it does not know; ``[]``: the label says
            the clip shows none), None when no text gave a usable label.
        label_source: the source whose text is ``label`` (the first, in the configured priority, that
            the lexicon could read), or None.
    """

    clip_id: str
    path: str
    source: str
    content_hash: str
    label: str | None = None
    intrinsics: list | None = None
    ground_truth: str | None = None
    start_s: float | None = None
    end_s: float | None = None
    hand: str | None = None
    label_texts: list | None = None
    skills: list | None = None
    label_source: str | None = None


@dataclass
class ClipSet:
    """The clips a source produced, and the items it could not turn into clips (with why)."""

    clips: list[Clip]
    failures: list[dict] = field(default_factory=list)
    config_hash: str = ""

    def save(self, path: str | Path, workspace: str | Path | None = None) -> None:
        """Write the set; paths of files inside ``workspace`` are kept relative to the artifact."""
        base = Path(path).parent
        clips = [
            asdict(
                replace(
                    c,
                    path=stored_path(c.path, base, workspace),
                    ground_truth=stored_path(c.ground_truth, base, workspace),
                )
            )
            for c in self.clips
        ]
        write_artifact(
            path,
            "ClipSet",
            CLIPSET_SCHEMA,
            {"config_hash": self.config_hash, "clips": clips, "failures": self.failures},
        )

    @classmethod
    def load(cls, path: str | Path) -> ClipSet:
        meta, _ = read_artifact(path, "ClipSet", CLIPSET_SCHEMA)
        base = Path(path).parent
        clips = [
            Clip(
                **{
                    **c,
                    "path": resolved_path(c["path"], base),
                    "ground_truth": resolved_path(c.get("ground_truth"), base),
                }
            )
            for c in meta["clips"]
        ]
        return cls(clips, meta.get("failures", []), meta.get("config_hash", ""))

    def labels(self) -> list[str | None]:
        return [c.label for c in self.clips]
