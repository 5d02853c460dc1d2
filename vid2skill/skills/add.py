"""Growing the library: ``vid2skill add <video|folder|url> [skill=NAME]``.

New clips are extracted and segmented like the rest; each joins the skill most common among its
``cluster.assign_neighbours`` nearest library members (ties: the skill with the nearest member;
0 = the skill at the least mean distance), or, when its mean distance to that skill's members is
more than that skill's own spread (``cluster.novel_factor`` times the 90th percentile of its
members' distances to each other), it founds a proposed new skill named by its motion signature. ``skill=NAME`` assigns every new clip
to NAME (creating it if needed). Each decision is recorded (``clip``, ``skill``, ``distance``,
``novel``), a new library version is written, and the skills that changed are marked stale.

Adds are serialised by a lock on the library folder, so two at once both land, one after the other.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
from collections import Counter
from pathlib import Path

import numpy as np

from vid2skill.artifacts import atomic_write_json
from vid2skill.errors import ConfigError, Vid2SkillError
from vid2skill.extract.types import TrackSet
from vid2skill.ingest.sources import video_clips
from vid2skill.ingest.types import ClipSet
from vid2skill.skills.cluster import motion_signature, signature_stats
from vid2skill.skills.features import features
from vid2skill.skills.library import SkillCard, SkillLibrary, summary_stats
from vid2skill.skills.segment import ContactTrajectory, Segments
from vid2skill.skills.stage import outlier_members, segment_tracks
from vid2skill.video import list_videos

log = logging.getLogger(__name__)


@contextlib.contextmanager
def library_lock(root: Path):
    """An exclusive lock on the library folder for the time of one read-modify-write."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def collect_clips(target: str, seen_hashes: set[str]) -> ClipSet:
    """Clips for a video file, a folder of videos or a ``file://`` URL; content already in the
    workspace (``seen_hashes``) is skipped. Other URLs need a network and yt-dlp, which this build does not fetch with."""
    if target.startswith("file://"):
        target = target[len("file://"):]
    elif "://" in target:
        raise ConfigError(f"{target}: only local files, folders and file:// URLs can be added here "
                          "(download the video first, e.g. with yt-dlp, then add the file)")
    path = Path(target).expanduser()
    if path.is_dir():
        videos = list_videos(path)
        if not videos:
            raise ConfigError(f"{path}: no video files in this folder")
    elif path.is_file():
        videos = [path]
    else:
        raise ConfigError(f"{target}: no such file or folder")
    return video_clips(videos, "add", {h: "the workspace" for h in seen_hashes})


def as_trajectory(card: SkillCard, clip: str) -> ContactTrajectory:
    """A library member rebuilt as a ContactTrajectory (what its descriptors are measured on)."""
    traj = card.trajectories[clip]
    return ContactTrajectory(traj, np.zeros(len(traj)), card.durations_s[clip], np.eye(3), Segments(0, 0, 0, 0),
                             card.rotation(clip), card.image(clip), card.approaches.get(clip, float("nan")))


def require_descriptor_inputs(lib: SkillLibrary, cfg) -> None:
    """The descriptors measure the image path and the approach: a library written before both were
    kept cannot be extended with them."""
    if str(cfg.get("features", "path")) == "descriptors" and any(
            c not in card.images or c not in card.approaches for card in lib.skills.values() for c in card.trajectories):
        raise Vid2SkillError(f"add: library v{lib.version:04d} was written before image paths and approaches were kept, "
                             "which the descriptors need; run `vid2skill cluster force=true` to rebuild it "
                             "(or add with cluster.features=path)")


def decide(lib: SkillLibrary, trajs: dict[str, ContactTrajectory], cfg, skill: str | None) -> list[dict]:
    """Per new clip: the nearest skill and its distance, or a proposed new skill."""
    names = sorted(lib.skills)
    members = [(n, c) for n in names for c in lib.skills[n].trajectories]
    require_descriptor_inputs(lib, cfg)
    old = [as_trajectory(lib.skills[n], c) for n, c in members]
    feats = features(old + list(trajs.values()), cfg)
    f_old, f_new = feats[: len(old)], feats[len(old):]
    owner = np.array([n for n, _ in members])
    spread = {}
    for n in names:
        f = f_old[owner == n]
        d = np.linalg.norm(f[:, None] - f[None], axis=-1)
        others = d[~np.eye(len(f), dtype=bool)]
        spread[n] = float(np.percentile(others, 90)) if len(others) else float(cfg.novel_distance)
    decisions = []
    for (clip, tr), f in zip(trajs.items(), f_new):
        dist = {n: float(np.linalg.norm(f_old[owner == n] - f, axis=1).mean()) for n in names}
        if skill is not None:
            decisions.append({"clip": clip, "skill": skill, "distance": round(dist.get(skill, float("nan")), 4),
                              "novel": skill not in lib.skills})
            continue
        nearest = (_vote(f_old, owner, f, int(cfg.get("assign_neighbours", 0))) or min(dist, key=dist.get)) if dist else None
        if nearest is not None and dist[nearest] <= cfg.novel_factor * max(spread[nearest], 1e-6):
            decisions.append({"clip": clip, "skill": nearest, "distance": round(dist[nearest], 4), "novel": False})
        else:
            name = f"new_{motion_signature([tr])}"
            decisions.append({"clip": clip, "skill": name, "distance": round(dist[nearest], 4) if nearest else None,
                              "novel": True, "nearest": nearest})
    return decisions


def _vote(f_old: np.ndarray, owner: np.ndarray, f: np.ndarray, k: int) -> str | None:
    """The skill most common among the ``k`` library members nearest to ``f`` (ties: the one with
    the nearest member); None when ``k`` is 0. Three staged sets of eight skills, each added to a
    library labelled from the other two: 72% of clips to their own skill with k = 5, 59% by mean distance."""
    if k <= 0:
        return None
    d = np.linalg.norm(f_old - f, axis=1)
    votes = Counter(owner[np.argsort(d)[:k]].tolist())
    return max(votes, key=lambda n: (votes[n], -float(d[owner == n].min())))


def add_to_library(lib: SkillLibrary, decisions: list[dict], trajs: dict[str, ContactTrajectory],
                   records: dict[str, dict], outlier_fraction: float) -> SkillLibrary:
    """The next library: members added where ``decisions`` say, changed skills marked stale."""
    skills = dict(lib.skills)
    for d in decisions:
        name, clip, tr = d["skill"], d["clip"], trajs[d["clip"]]
        card = skills.get(name) or SkillCard(name, [], {}, {}, {})
        card = SkillCard(name, card.members + [{"clip": clip, "label": records[clip].get("label"),
                                                "track": records[clip]["track"], "added": True}],
                         {**card.trajectories, clip: tr.position_m}, {**card.durations_s, clip: tr.duration_s},
                         dict(card.stats), {**card.made, "stale": True}, {**card.rotations, clip: tr.rotvec},
                         {**card.images, clip: tr.image_path}, {**card.approaches, clip: tr.approach}, dict(card.ups))
        card.stats.update(summary_stats(list(card.trajectories.values()), list(card.durations_s.values())))
        card.stats["outliers"] = outlier_members(card.trajectories, card.durations_s, outlier_fraction)
        card.stats.update(signature_stats([as_trajectory(card, c) for c in card.trajectories]))
        skills[name] = card
    clustering = dict(lib.clustering)
    clustering["assignment"] = {**clustering.get("assignment", {}), **{d["clip"]: d["skill"] for d in decisions}}
    return SkillLibrary(lib.version, skills, clustering, lib.config_hash)


def run_add(cfg, ws: Path, target: str, skill: str | None, workers: int) -> dict:
    """Extract, assign and record the clips of ``target``; returns the new version and the decisions."""
    from vid2skill.extract.stage import extract

    root, add_dir = ws / "skills", ws / "add"
    require_descriptor_inputs(SkillLibrary.load(root), cfg.cluster)  # clear errors before any work: no library, or too old a one
    index = add_dir / "tracks"
    known = {c.content_hash for c in ClipSet.load(ws / "ingest" / "clips").clips} if (ws / "ingest" / "clips.json").exists() else set()
    if index.with_suffix(".json").exists():
        known |= {r.get("content_hash") for r in TrackSet.load(index).records}
    clips = collect_clips(target, known)
    if not clips.clips:
        why = "; ".join(f["error"] for f in clips.failures) or "every video is already in the workspace"
        raise Vid2SkillError(f"add: nothing new to add from {target}: {why}")
    tracks = extract(cfg.extract, clips, add_dir, workers)
    for rec, clip in zip(tracks.records, clips.clips):
        rec["content_hash"] = clip.content_hash
    segments, seg_records, unsegmented = segment_tracks(tracks.ok(), cfg.cluster)
    failures = (list(clips.failures) + [{"item": r["clip"], "error": r["error"]} for r in tracks.failures()]
                + [{"item": f["clip"], "error": f["error"]} for f in unsegmented])
    trajs = {r["clip"]: tr for r, tr in zip(seg_records, segments)}  # one decision per grasp
    records = {r["clip"]: r for r in seg_records}
    if not trajs:
        raise Vid2SkillError("add: no new clip could be segmented: " + "; ".join(f"{f['item']}: {f['error']}" for f in failures))
    with library_lock(root):  # read the newest version, write the next: concurrent adds land one after the other
        # Checked again under the lock: another add of the same video may have finished meanwhile.
        previous = TrackSet.load(index) if index.with_suffix(".json").exists() else TrackSet([])
        landed = {r.get("content_hash") for r in previous.records}
        late = sorted({r["clip"] for r in records.values() if r.get("content_hash") in landed})
        if late:
            log.info("add: %s already added by another run meanwhile; left out", ", ".join(late))
            trajs = {c: tr for c, tr in trajs.items() if records[c].get("content_hash") not in landed}
            records = {c: r for c, r in records.items() if c in trajs}
        if not trajs:
            raise Vid2SkillError(f"add: nothing new to add from {target}: every video was added by another run meanwhile")
        lib = SkillLibrary.load(root)
        decisions = decide(lib, trajs, cfg.cluster, skill)
        new = add_to_library(lib, decisions, trajs, records, cfg.cluster.outlier_fraction)
        folder = new.save(root, workspace=ws)
        atomic_write_json(folder / "add_decisions.json", decisions)
        added = {r.get("source_clip", r["clip"]) for r in records.values()}
        TrackSet(previous.records + [r for r in tracks.records if r["clip"] in added]).save(index, workspace=ws)
    for d in decisions:
        log.info("add: %s -> %s (distance %s)%s", d["clip"], d["skill"], d["distance"], " NEW skill proposed" if d["novel"] else "")
    for f in failures:
        log.warning("add: %s: %s", f["item"], f["error"])
    return {"version": new.version, "decisions": decisions, "failures": failures}
