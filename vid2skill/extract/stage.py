"""The extract stage: one HandTrack per clip, in parallel, resumable, with a quality table."""

from __future__ import annotations

import functools
import logging
from dataclasses import asdict
from pathlib import Path

import numpy as np

from vid2skill.artifacts import atomic_write_json, atomic_write_text, read_artifact, stable_hash
from vid2skill.errors import NoHandError, VideoError
from vid2skill.extract.types import HANDTRACK_SCHEMA, HandTrack, TrackSet
from vid2skill.ingest.types import Clip, ClipSet
from vid2skill.parallel import map_items
from vid2skill.video import VideoInfo, probe

log = logging.getLogger(__name__)


def _frames_to_read(item: tuple[dict, VideoInfo | str]) -> float:
    """How many frames a clip (an ``asdict(Clip)`` with its probe) spans, as the cost of extracting it (0 if
    unreadable)."""
    clip, info = item
    if not isinstance(info, VideoInfo):  # an unreadable clip fails at once in its job, with its own message
        return 0.0
    start, end = clip.get("start_s") or 0.0, clip.get("end_s")
    span = (end - start) * info.fps if end is not None else info.frames - start * info.fps
    return float(max(span, 0.0))


def _labels(clip: Clip) -> dict:
    """The clip's weak label for the record: its text, and where the lexicon read skills from it, those and
    their source."""
    out = {"label": clip.label}
    if clip.skills is not None:
        out.update(skills=list(clip.skills), label_source=clip.label_source)
    return out


def _quality(track: HandTrack | None, clip: Clip, error: str | None, path: str | None) -> dict:
    if track is None:
        return {
            "clip": clip.clip_id,
            "frames": 0,
            "frames_with_hand": 0,
            "detection_rate": 0.0,
            "mean_confidence": 0.0,
            "max_jump_m": None,
            "error": error,
            "track": None,
            **_labels(clip),
        }
    return {
        "clip": clip.clip_id,
        "frames": int(len(track.detected)),
        "frames_with_hand": int(track.detected.sum()),
        "detection_rate": round(track.detection_rate, 4),
        "mean_confidence": round(float(track.confidence[track.detected].mean()), 4)
        if track.detected.any()
        else 0.0,
        "max_jump_m": round(float(track.meta["max_jump_m"]), 4),
        "error": None,
        "track": path,
        **_labels(clip),
    }


def _probe_once(path: str) -> VideoInfo | str:
    """A clip's probe, or why it failed: probed once per batch (an undecodable file makes its
    decoders print their complaints each time it is opened)."""
    try:
        return probe(path)
    except (VideoError, OSError) as e:
        return str(e)


def _extract_job(
    item: tuple[dict, VideoInfo | str], cfg_dict: dict, out_dir: str, viz_dir: str | None = None
) -> tuple[dict, str]:
    from omegaconf import OmegaConf

    from vid2skill.extract.hands import EXTRACTOR_VERSION, extract_clip
    from vid2skill.extract.lifter import lifter_hash
    from vid2skill.extract.truth import track_from_ground_truth

    clip_dict, info = item
    clip = Clip(**clip_dict)
    cfg = OmegaConf.create(cfg_dict)
    key = stable_hash(
        {
            "cfg": cfg_dict,
            "clip": clip.content_hash,
            "seg": [clip.start_s, clip.end_s],
            "hand": clip.hand,
            "schema": HANDTRACK_SCHEMA,
            "extractor": EXTRACTOR_VERSION,
            "lifter": lifter_hash(cfg.lifter) if cfg.lifter.enabled else None,
        }
    )
    path = Path(out_dir) / clip.clip_id
    if path.with_suffix(".json").exists():  # resume
        try:
            meta, _ = read_artifact(path, "HandTrack", HANDTRACK_SCHEMA)
            if meta.get("meta", {}).get("key") == key:
                track = HandTrack.load(path)
                if viz_dir and not _viz_done(viz_dir, clip.clip_id, key):
                    _write_viz(track, clip, viz_dir, key)
                return _quality(track, clip, None, str(path)), key
        except Exception as e:  # unreadable leftovers are recomputed
            log.debug("recomputing %s: %s", path, e)
    if not isinstance(info, VideoInfo):
        raise VideoError(info)
    try:
        track = extract_clip(clip, cfg, info)
        if cfg.ground_truth:
            track = track_from_ground_truth(track, clip)
    except (
        NoHandError
    ) as e:  # a readable video without a hand to follow: recorded as such (``add`` calls it unsegmented)
        return {**_quality(None, clip, str(e), None), "no_hand": True}, key
    track.meta["key"] = key
    track.save(path)
    if viz_dir:
        _write_viz(track, clip, viz_dir, key)
    return _quality(track, clip, None, str(path)), key


def _viz_stamp(viz_dir: str, clip_id: str) -> Path:
    """The file recording which track a clip's drawings show (written after them)."""
    return Path(viz_dir) / f"{clip_id}.key"


def _viz_done(viz_dir: str, clip_id: str, key: str) -> bool:
    stamp = _viz_stamp(viz_dir, clip_id)
    return stamp.exists() and stamp.read_text() == key


def _write_viz(track: HandTrack, clip: Clip, viz_dir: str, key: str) -> None:
    """The annotated video and plot of a track, then the stamp of the track they show."""
    from vid2skill.extract.viz import visualise

    visualise(track, clip.path, Path(viz_dir))
    atomic_write_text(_viz_stamp(viz_dir, clip.clip_id), key)


def extract(cfg, clips: ClipSet, out_dir: Path, workers: int, viz: bool = False) -> TrackSet:
    """Extract every clip; failures are recorded per clip and the batch goes on.

    With ``viz``, each clip's annotated video and plot are written to ``out_dir/viz``.
    """
    from omegaconf import OmegaConf

    out_dir.mkdir(parents=True, exist_ok=True)
    cfg_dict = OmegaConf.to_container(cfg, resolve=True)
    fn = functools.partial(
        _extract_job,
        cfg_dict=cfg_dict,
        out_dir=str(out_dir / "tracks"),
        viz_dir=str(out_dir / "viz") if viz else None,
    )
    records = []
    items = [(asdict(c), _probe_once(c.path)) for c in clips.clips]
    for (clip, _), out, err in map_items(fn, items, workers, "extract: hand tracks", _frames_to_read):
        records.append(out[0] if out else _quality(None, Clip(**clip), err, None))
    trackset = TrackSet(records)
    atomic_write_json(
        out_dir / "quality.json",
        [{k: r[k] for k in r if k not in ("track", "label", "skills", "label_source")} for r in records],
    )
    ok = trackset.ok()
    if ok:
        log.info(
            "extract: %d/%d clips, hand in %.1f%% of frames",
            len(ok),
            len(records),
            100 * np.sum([r["frames_with_hand"] for r in ok]) / max(1, np.sum([r["frames"] for r in ok])),
        )
    return trackset
