"""Sources of clips, chosen by ``source.name`` (a registry: adding a source is a function and a YAML)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path

from vid2skill.artifacts import file_hash, stable_hash
from vid2skill.errors import ConfigError
from vid2skill.ingest.datasets import epic_source, ssv2_source, urls_source
from vid2skill.ingest.types import Clip, ClipSet, safe_id
from vid2skill.parallel import map_items
from vid2skill.registry import Registry
from vid2skill.video import list_videos

log = logging.getLogger(__name__)

SOURCES: Registry[Callable] = Registry("source")
# Per source, the configuration keys naming files or folders outside the workspace that it reads:
# their fingerprint (:func:`input_fingerprint`) is part of the ingest stage's key.
SOURCE_INPUTS: dict[str, tuple[str, ...]] = {}


def register(name: str, inputs: tuple[str, ...] = ()):
    """Decorator: make ``fn(cfg, out_dir, workers) -> ClipSet`` the source ``source.name=<name>``;
    ``inputs`` names its configuration keys that point outside the workspace."""

    def deco(fn):
        SOURCE_INPUTS[name] = inputs
        return SOURCES.register(name)(fn)

    return deco


def stat_facts(path: Path) -> list:
    """[size, modification time ns] of a file, or [None, None] where it cannot be read."""
    try:
        st = path.stat()
        return [st.st_size, st.st_mtime_ns]
    except OSError:  # a dangling link or an unreadable file: fingerprinted as such, reported by the source
        return [None, None]


def input_fingerprint(cfg) -> str | None:
    """A cheap fingerprint of what the source reads outside the workspace: per file its name, size
    and modification time (a folder: every video file under it; ``file://`` URLs: their files), so that
    a video added to, removed from or edited in a folder, or an edited label file, reruns ingest.
    None for sources that read nothing outside (synthetic)."""
    from omegaconf import OmegaConf

    keys = SOURCE_INPUTS.get(str(cfg.name), ())
    if not keys:
        return None
    facts = {}
    for key in keys:
        value = OmegaConf.select(cfg, key, throw_on_missing=False)
        values = list(value) if OmegaConf.is_list(value) else [value]
        for v in values:
            if v is None and key == "labels":  # an optional labels file not given
                continue
            text = str(v) if v is not None else ""
            if key == "urls":
                if not text.startswith("file://"):
                    continue
                text = text[len("file://") :]
            path = Path(text).expanduser()
            if path.is_dir():
                facts[text] = {
                    str(f.relative_to(path)): stat_facts(f) for f in list_videos(path, recursive=True)
                }
            else:
                facts[text] = stat_facts(path)
    if cfg.name == "folder" and cfg.labels is None and "csv" in str(cfg.label_from):
        from vid2skill.ingest.labels import find_labels  # the labels.csv the folder source finds by itself

        found = (
            find_labels(Path(str(cfg.path)).expanduser()) if not OmegaConf.is_missing(cfg, "path") else None
        )
        if found is not None:
            facts["labels.csv"] = [str(found), *stat_facts(found)]
    return stable_hash(facts)


def _synthetic_job(job: tuple, cfg_dict: dict, out_dir: str) -> Clip:
    from omegaconf import OmegaConf

    from vid2skill.ingest.synthetic.generator import (
        SYNTHETIC_HAND,
        HandMeshCache,
        generate_clip,
        load_ground_truth,
    )

    skill, seed, key = job
    cfg = OmegaConf.create(cfg_dict)
    gt_json = Path(out_dir) / f"synthetic_{skill}_{seed:05d}_gt.json"
    video = gt_json.with_name(f"synthetic_{skill}_{seed:05d}.mp4")
    if gt_json.exists() and video.exists():  # resume: reuse a clip made by the same configuration
        meta, arrays = load_ground_truth(gt_json)
        if meta.get("key") == key:
            K = arrays["K"]
            return Clip(
                meta["clip_id"],
                str(video.resolve()),
                "synthetic",
                file_hash(video),
                skill,
                [K[0, 0], K[1, 1], K[0, 2], K[1, 2]],
                str(gt_json.resolve()),
                hand=SYNTHETIC_HAND,
            )
    meshes = HandMeshCache(cfg.cache_dir, cfg.curl_levels, cfg.mesh_voxel_m)
    return generate_clip(cfg, skill, seed, out_dir, meshes, key=key)


@register("synthetic")
def synthetic_source(cfg, out_dir: Path, workers: int) -> ClipSet:
    """Render ``clips_per_skill`` demonstrations of each skill (seeds ``seed + i``), in parallel."""
    from omegaconf import OmegaConf

    out_dir.mkdir(parents=True, exist_ok=True)
    cfg_dict = OmegaConf.to_container(cfg, resolve=True)
    cfg_dict.setdefault("cache_dir", str(out_dir.parent.parent / "cache"))
    from vid2skill.ingest.synthetic import RENDER_VERSION

    key = stable_hash(
        {
            "render": RENDER_VERSION,
            **{k: v for k, v in cfg_dict.items() if k not in ("clips_per_skill", "cache_dir")},
        }
    )
    jobs = [(skill, cfg.seed + i, key) for skill in cfg.skills for i in range(cfg.clips_per_skill)]
    fn = functools.partial(_synthetic_job, cfg_dict=cfg_dict, out_dir=str(out_dir))
    clips, failures = [], []
    for (skill, seed, _), clip, err in map_items(fn, jobs, workers, "ingest: rendering synthetic clips"):
        if err:
            failures.append({"item": f"{skill}/{seed}", "error": err})
        else:
            clips.append(clip)
    return ClipSet(clips, failures)


@register("folder", inputs=("path", "labels"))
def folder_source(cfg, out_dir: Path, workers: int) -> ClipSet:
    """Every video under ``cfg.path``, with the weak labels ``label_from`` names (in priority order):
    ``csv`` (a labels CSV: ``source.labels``, else ``labels.csv`` in the folder or its parent; its bad rows
    are reported and skipped), ``subfolder`` (the video's folder's name), ``filename`` (its file name)."""
    from omegaconf import OmegaConf

    from vid2skill.ingest.labels import folder_texts, label_readers
    from vid2skill.ingest.lexicon import lexicon_of

    if OmegaConf.is_missing(cfg, "path"):
        raise ConfigError("source=folder needs source.path=DIR (the folder of videos)")
    root = Path(str(cfg.path)).expanduser()
    if not root.is_dir():
        raise ConfigError(f"source.path={cfg.path}: not a folder; give a folder of videos")
    videos = list_videos(root, recursive=cfg.recursive)
    if not videos:
        raise ConfigError(
            f"source.path={root}: no video files found (looked for mp4, mov, avi, mkv, webm, gif, ...)"
        )
    readers, lexicon = label_readers(cfg.label_from), lexicon_of(cfg)
    labels_path = Path(str(cfg.labels)).expanduser() if cfg.labels else None
    texts, problems = folder_texts(videos, root, readers, lexicon, labels_path)
    out = video_clips(videos, "folder", {}, texts_of=lambda v: texts.get(v.resolve(), []), lexicon=lexicon)
    out.failures += [
        {"item": f"{p['file']} row {p['row']}", "error": p["error"]} for p in problems
    ]  # logged by the stage
    return out


def video_clips(
    videos: list[Path],
    source: str,
    seen: dict[str, str],
    label_of=lambda v: None,
    texts_of=None,
    lexicon=None,
) -> ClipSet:
    """One clip per readable video, named by its stem and content hash. Content in ``seen``
    (hash -> where it was seen; updated) is skipped: the same video twice is one clip. Its weak label
    is ``label_of(video)``, or, given ``texts_of`` (video -> ``[{"source", "text"}]`` in priority order),
    chosen from those texts by ``lexicon`` (:func:`vid2skill.ingest.labels.with_labels`)."""
    from vid2skill.ingest.labels import with_labels
    from vid2skill.ingest.lexicon import default_lexicon

    clips, failures = [], []
    for v in videos:
        try:
            h = file_hash(v)
        except OSError as e:
            failures.append({"item": str(v), "error": f"cannot read {v}: {e.strerror}"})
            continue
        if h in seen:
            log.info("skipping %s: same content as %s", v, seen[h])
            continue
        seen[h] = str(v)
        clip = Clip(f"{safe_id(v.stem)}_{h[:6]}", str(v.resolve()), source, h, label_of(v))
        if texts_of is not None:
            clip = with_labels(clip, texts_of(v), lexicon or default_lexicon())
        clips.append(clip)
    return ClipSet(clips, failures)


register("epic", inputs=("annotations", "videos"))(epic_source)
register("ssv2", inputs=("labels", "videos"))(ssv2_source)
register("urls", inputs=("urls",))(urls_source)


def ingest(cfg, out_dir: Path, workers: int) -> ClipSet:
    """The ingest stage: build the ClipSet of the configured source."""
    return SOURCES.get(cfg.name)(cfg, out_dir, workers)
