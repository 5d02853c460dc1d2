"""The versioned skill library: one card per skill, each version in its own folder.

Layout: ``<workspace>/skills/v0001/library.{json,npz}``, ``v0002/...``; ``LATEST`` names the newest.
A new version is written in full under a fresh folder name before ``LATEST`` moves, so an
interrupted write never damages an older version, and old versions stay readable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vid2skill.artifacts import atomic_write_text, read_artifact, resolved_path, stored_path, write_artifact
from vid2skill.errors import ArtifactError
from vid2skill.skills.segment import ContactTrajectory, Segments

LIBRARY_SCHEMA = 1
_ROT = "#rotvec"  # array key suffix of a member's rotations (absent in libraries written before them)
_IMG = "#image"  # array key suffix of a member's image path (absent in libraries written before it)


@dataclass
class SkillCard:
    """One skill: its members (with provenance), prototype, statistics and what was made from it.

    ``trajectories`` maps clip id to its (N, 3) contact-frame wrist path; ``prototype`` is their mean.
    ``rotations`` maps clip id to its (N, 3) rotation of the hand since the grasp (rotation vectors,
    contact frame); a library written before rotations were kept has none (read as no rotation).
    ``images`` maps clip id to its (N, 3) image path (``ContactTrajectory.image_path``), likewise,
    and ``approaches`` to its ``ContactTrajectory.approach``. ``ups`` maps clip id to gravity's up (3,)
    in its contact frame, where segmentation knew it (labelled clips); else contact z is taken.
    ``held_axes`` maps clip id to ``ContactTrajectory.held_axis`` (3,), where it was known.
    """

    name: str
    members: list[dict]  # {clip, source, path, label}
    trajectories: dict[str, np.ndarray]
    durations_s: dict[str, float]
    stats: dict = field(default_factory=dict)
    made: dict = field(default_factory=dict)  # {"demos": ..., "policy": ..., "stale": bool}
    rotations: dict[str, np.ndarray] = field(default_factory=dict)
    images: dict[str, np.ndarray] = field(default_factory=dict)
    approaches: dict[str, float] = field(default_factory=dict)
    ups: dict[str, list[float]] = field(default_factory=dict)
    held_axes: dict[str, list[float]] = field(default_factory=dict)

    def rotation(self, clip: str) -> np.ndarray:
        """(N, 3) rotation vectors of a member, zeros if the library kept none."""
        return self.rotations.get(clip, np.zeros_like(self.trajectories[clip]))

    def up(self, clip: str) -> np.ndarray:
        """Gravity's up (3,) in a member's contact frame (contact z where the library kept none)."""
        return np.asarray(self.ups.get(clip, [0.0, 0.0, 1.0]), dtype=float)

    def held_axis(self, clip: str) -> np.ndarray | None:
        """The axis of what a member's hand held at its grasp (3,), contact frame; None if not kept."""
        axis = self.held_axes.get(clip)
        return None if axis is None else np.asarray(axis, dtype=float)

    def image(self, clip: str) -> np.ndarray:
        """(N, 3) image path of a member, zeros if the library kept none."""
        return self.images.get(clip, np.zeros_like(self.trajectories[clip]))

    def member(self, clip: str) -> ContactTrajectory:
        """A member as the ContactTrajectory its descriptors are measured on. The card keeps what the
        descriptors and the retargeting read (path, rotation, image path, approach, duration); the
        aperture, the camera axes and where the grasp lay in the track are not kept."""
        traj = self.trajectories[clip]
        return ContactTrajectory(
            traj,
            np.zeros(len(traj)),
            self.durations_s[clip],
            np.eye(3),
            Segments(0, 0, 0, 0),
            self.rotation(clip),
            self.image(clip),
            self.approaches.get(clip, float("nan")),
            self.held_axis(clip),
        )

    @property
    def prototype(self) -> np.ndarray:
        return np.mean(list(self.trajectories.values()), axis=0)


@dataclass
class SkillLibrary:
    version: int
    skills: dict[str, SkillCard]
    clustering: dict = field(default_factory=dict)  # k, silhouette, assignment per clip
    config_hash: str = ""

    def save(
        self,
        root: str | Path,
        workspace: str | Path | None = None,
        extras: Callable[[Path], None] | None = None,
    ) -> Path:
        """Write this library as the next version under ``root`` and point LATEST at it; members'
        track paths inside ``workspace`` are kept relative to the version's folder. ``extras(folder)``
        writes files that belong to the version before the version is complete (its ``library.json``
        is written last), so they land with it or not at all."""
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        self.version = latest_version(root) + 1
        folder = version_dir(root, self.version)
        if extras is not None:
            folder.mkdir(parents=True, exist_ok=True)
            extras(folder)
        arrays, cards = {}, {}
        for name, card in self.skills.items():
            members = [
                {**m, "track": stored_path(m["track"], folder, workspace)} if m.get("track") else m
                for m in card.members
            ]
            cards[name] = {
                "members": members,
                "durations_s": card.durations_s,
                "stats": card.stats,
                "made": card.made,
                "approaches": card.approaches,
                "ups": card.ups,
                "held_axes": card.held_axes,
            }
            for clip, traj in card.trajectories.items():
                arrays[f"{name}/{clip}"] = traj
            for clip, rot in card.rotations.items():
                arrays[f"{name}/{clip}{_ROT}"] = rot
            for clip, img in card.images.items():
                arrays[f"{name}/{clip}{_IMG}"] = img
        write_artifact(
            folder / "library",
            "SkillLibrary",
            LIBRARY_SCHEMA,
            {
                "version": self.version,
                "skills": cards,
                "clustering": self.clustering,
                "config_hash": self.config_hash,
            },
            arrays,
        )
        atomic_write_text(root / "LATEST", f"{folder.name}\n")
        return folder

    @classmethod
    def load(cls, root: str | Path, version: int | None = None) -> SkillLibrary:
        root = Path(root)
        if version is None:
            version = latest_version(root)
            if version == 0:
                raise ArtifactError(f"no skill library under {root}; run `vid2skill cluster` first")
        meta, arrays = read_artifact(version_dir(root, version) / "library", "SkillLibrary", LIBRARY_SCHEMA)
        skills = {}
        for name, card in meta["skills"].items():
            mine = {k.split("/", 1)[1]: v for k, v in arrays.items() if k.split("/", 1)[0] == name}
            trajs = {k: v for k, v in mine.items() if not k.endswith((_ROT, _IMG))}
            rots = {k[: -len(_ROT)]: v for k, v in mine.items() if k.endswith(_ROT)}
            imgs = {k[: -len(_IMG)]: v for k, v in mine.items() if k.endswith(_IMG)}
            members = [
                {**m, "track": resolved_path(m["track"], version_dir(root, version))} if m.get("track") else m
                for m in card["members"]
            ]
            skills[name] = SkillCard(
                name,
                members,
                trajs,
                card["durations_s"],
                card["stats"],
                card["made"],
                rots,
                imgs,
                card.get("approaches", {}),
                card.get("ups", {}),
                card.get("held_axes", {}),
            )
        return cls(meta["version"], skills, meta.get("clustering", {}), meta.get("config_hash", ""))


def version_dir(root: str | Path, version: int) -> Path:
    """The folder of a library version under the library's root (``v0001/``, ...)."""
    return Path(root) / f"v{int(version):04d}"


def latest_version(root: str | Path) -> int:
    """Newest complete version under root (0 if none); trusts LATEST only if its folder is complete."""
    root = Path(root)
    versions = sorted(
        int(p.name[1:]) for p in root.glob("v[0-9][0-9][0-9][0-9]") if (p / "library.json").exists()
    )
    latest = root / "LATEST"
    if latest.exists():
        name = latest.read_text().strip()
        if (root / name / "library.json").exists():
            return max(int(name[1:]), versions[-1] if versions else 0)
    return versions[-1] if versions else 0


def summary_stats(trajs: list[np.ndarray], durations: list[float]) -> dict:
    ends = np.array([t[-1] for t in trajs])
    return {
        "clips": len(trajs),
        "mean_end_m": np.round(ends.mean(axis=0), 4).tolist(),
        "std_end_m": np.round(ends.std(axis=0), 4).tolist(),
        "mean_duration_s": round(float(np.mean(durations)), 3),
    }
