"""Growing the library: ``vid2skill add <video|folder|url> [skill=NAME]``.

New clips are extracted and segmented like the rest; each joins the skill most common among its
``cluster.assign_neighbours`` nearest library members (ties: the skill with the nearest member;
0 = the skill at the least mean distance), or, when its mean distance to that skill's members is
more than that skill's own spread (``cluster.novel_factor`` times the 90th percentile of its
members' distances to each other), it founds a proposed new skill named by its motion signature.
``skill=NAME`` assigns every new clip to NAME (creating it if needed); a clip with a weak label
(``labels.add_from``: a labels.csv beside it, its sub-folder, its file name) is cut into its
labelled skills in order, as ``cluster.group_by=label`` cuts them, and each goes to its label's
skill. Each decision is recorded (``clip``,
``skill``, ``distance``, ``novel``, ``confidence``: calibrated on the library's own members,
``source_of_label``: ``user``, ``label:<source>`` or ``motion``, and ``status``: ``assigned``,
``uncertain`` below ``cluster.uncertain_below``, ``novel``, or ``unsegmented`` with its ``reason``
when the clip's grasp cannot be found); a new library version is written when a clip joins a skill,
and the skills that changed are marked stale. The cluster stage's record then takes a new run id (as
a rerun of cluster would), so that ``retarget`` and the stages after it rerun on the new version.

Adds are serialised by a lock on the library folder, so two at once both land, one after the other.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
from collections import Counter
from pathlib import Path

import numpy as np

from vid2skill.artifacts import atomic_write_json, stable_hash
from vid2skill.errors import ConfigError, Vid2SkillError
from vid2skill.extract.types import TrackSet
from vid2skill.ingest.sources import video_clips
from vid2skill.ingest.types import ClipSet
from vid2skill.skills.cluster import motion_signature
from vid2skill.skills.features import features
from vid2skill.skills.library import SkillCard, SkillLibrary
from vid2skill.skills.segment import ContactTrajectory
from vid2skill.skills.stage import card_with, segment_tracks
from vid2skill.video import list_videos
from vid2skill.workspace import Workspace

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


def finish_interrupted_add(layout: Workspace) -> bool:
    """Complete the bookkeeping of an add killed after its library version landed: the newest
    version written by an add (it holds ``add_decisions.json`` and ``add_tracks``) puts its tracks
    in the index of added tracks, and becomes the cluster stage record's version and the last
    decisions, as the add would have left them. True when anything was completed; idempotent."""
    import json

    from vid2skill.skills.library import latest_version, version_dir

    root = layout.skills
    if not root.is_dir():
        return False
    latest = latest_version(root)
    folder = version_dir(root, latest)
    written = folder / "add_decisions.json"
    if not written.exists():
        return False  # the newest version came from cluster, or no add landed
    done = False
    index = layout.added_tracks
    indexed = TrackSet.load(index) if index.with_suffix(".json").exists() else TrackSet([])
    hashes = {r.get("content_hash") for r in indexed.records}
    landed = folder / "add_tracks"
    if landed.with_suffix(".json").exists():
        missing = [r for r in TrackSet.load(landed).records if r.get("content_hash") not in hashes]
        if missing:
            TrackSet(indexed.records + missing).save(index, workspace=layout.root)
            done = True
    record = layout.read_stage_record("cluster")
    if record is not None and record.get("summary", {}).get("version") != latest:
        lib = SkillLibrary.load(root)
        layout.renew_stage_record(
            "cluster",
            {
                "version": latest,
                "folder": str(folder),
                "skills": {n: len(c.members) for n, c in lib.skills.items()},
            },
        )
        done = True
    last = layout.add_decisions
    if not last.exists() or json.loads(last.read_text()).get("version") != latest:
        last.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(last, {"version": latest, "decisions": json.loads(written.read_text())})
        done = True
    return done


def collect_clips(target: str, seen_hashes: set[str]) -> ClipSet:
    """Clips for a video file, a folder of videos or a ``file://`` URL; content already in the
    workspace (``seen_hashes``) is skipped. Other URLs need a network and yt-dlp, which this build
    does not fetch with."""
    if target.startswith("file://"):
        target = target[len("file://") :]
    elif "://" in target:
        raise ConfigError(
            f"{target}: only local files, folders and file:// URLs can be added here "
            "(download the video first, e.g. with yt-dlp, then add the file)"
        )
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


def local_path(target: str) -> Path:
    """The file or folder ``target`` names (a ``file://`` URL's path)."""
    return Path(target[len("file://") :] if target.startswith("file://") else target).expanduser()


def target_id(target: str) -> str:
    """What ``target`` names, whatever folder the command ran in: a local file's or folder's
    resolved path, else the URL's text."""
    path = local_path(target)
    return str(path.resolve()) if path.exists() else target


def target_fingerprint(target: str) -> str:
    """A cheap fingerprint of what an add of ``target`` reads outside the workspace (the add stage's
    inputs): per video its name, size and modification time, and the labels.csv its weak labels may
    come from; a URL that names no local file, by its text. An unchanged target is not added twice;
    a video added to its folder, or an edited one, makes a new add."""
    from vid2skill.ingest.labels import find_labels
    from vid2skill.ingest.sources import stat_facts

    path = local_path(target)
    if path.is_dir():
        facts: object = {str(f.relative_to(path)): stat_facts(f) for f in list_videos(path)}
    elif path.exists():
        facts = stat_facts(path)
    else:
        return stable_hash({"target": target})
    labels = find_labels(path if path.is_dir() else path.parent)
    return stable_hash(
        {
            "target": target_id(target),
            "videos": facts,
            "labels": labels and [str(labels), *stat_facts(labels)],
        }
    )


def require_descriptor_inputs(lib: SkillLibrary, cfg) -> None:
    """The descriptors measure the image path and the approach: a library written before both were
    kept cannot be extended with them."""
    if str(cfg.features) == "descriptors" and any(
        c not in card.images or c not in card.approaches
        for card in lib.skills.values()
        for c in card.trajectories
    ):
        raise Vid2SkillError(
            f"add: library v{lib.version:04d} was written before image paths and approaches were kept, "
            "which the descriptors need; run `vid2skill cluster force=true` to rebuild it "
            "(or add with cluster.features=path)"
        )


STATUSES = ("assigned", "uncertain", "novel", "unsegmented")


def skill_distances(
    f_old: np.ndarray, owner: np.ndarray, f: np.ndarray, names: list[str]
) -> dict[str, float]:
    """Mean feature distance from ``f`` to each skill's members."""
    return {n: float(np.linalg.norm(f_old[owner == n] - f, axis=1).mean()) for n in names}


def softmax_confidence(dist: dict[str, float], temperature: float) -> dict[str, float]:
    """Per skill, ``softmax(-distance / temperature)``: the calibrated probability that it is the clip's
    skill."""
    if not dist:
        return {}
    names = list(dist)
    z = -np.array([dist[n] for n in names]) / max(temperature, 1e-9)
    p = np.exp(z - z.max())
    return dict(zip(names, (p / p.sum()).tolist()))


# The temperatures (times the median distance) :func:`fit_temperature` tries.
_TEMPERATURE_GRID = np.geomspace(0.02, 50.0, 121)


def fit_temperature(
    f_old: np.ndarray, owner: np.ndarray, default: float, grid: np.ndarray = _TEMPERATURE_GRID
) -> float:
    """The softmax temperature that makes :func:`softmax_confidence` calibrated on the library itself:
    each member in turn is left out of its skill, its mean distances to every skill are taken, and the
    temperature (``grid``, times the median of those distances) with the least mean negative log
    likelihood of the member's own skill wins. ``default`` where fewer than two skills have a member
    to leave out (a skill of one member cannot be left out of)."""
    names = sorted(set(owner.tolist()))
    counts = {n: int((owner == n).sum()) for n in names}
    if len(names) < 2 or sum(counts[n] >= 2 for n in names) == 0:
        return float(default)
    d = np.linalg.norm(f_old[:, None] - f_old[None], axis=-1)
    rows, truth = [], []
    for i, own in enumerate(owner):
        if counts[own] < 2:
            continue
        keep = np.arange(len(owner)) != i
        rows.append([d[i, keep & (owner == n)].mean() for n in names])
        truth.append(names.index(own))
    D, truth = np.asarray(rows), np.asarray(truth)
    scale = float(np.median(D)) or 1.0
    best, best_nll = float(default), np.inf
    for t in grid * scale:
        z = -D / t
        z -= z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        nll = float(-logp[np.arange(len(truth)), truth].mean())
        if nll < best_nll:
            best, best_nll = float(t), nll
    return best


def decide(
    lib: SkillLibrary,
    trajs: dict[str, ContactTrajectory],
    cfg,
    skill: str | None,
    labels: dict[str, dict] | None = None,
) -> list[dict]:
    """Per new manipulation: ``clip``, ``skill``, ``distance`` (mean feature distance to that skill's
    members), ``novel``, ``confidence`` (the calibrated probability of ``skill`` among the library's
    skills, :func:`fit_temperature`; for a novel proposal, of the nearest known skill), ``source_of_label``
    and ``status``.

    ``skill`` given: every clip goes there (``source_of_label`` ``user``). A clip with a usable weak
    label (``labels``: clip -> ``{"skill", "source"}``) goes to its label's skill (``label:<source>``;
    ``motion_skill`` says what its motion alone would have chosen). Otherwise the motion decides
    (``motion``): the skill most common among its nearest members (:func:`_vote`), ``novel`` when
    its distance is beyond that skill's own spread, ``uncertain`` when the confidence is below
    ``cfg.uncertain_below``, else ``assigned``.
    """
    labels = labels or {}
    names = sorted(lib.skills)
    members = [(n, c) for n in names for c in lib.skills[n].trajectories]
    require_descriptor_inputs(lib, cfg)
    old = [lib.skills[n].member(c) for n, c in members]
    feats = features(old + list(trajs.values()), cfg)
    f_old, f_new = feats[: len(old)], feats[len(old) :]
    owner = np.array([n for n, _ in members])
    temperature = fit_temperature(f_old, owner, float(cfg.confidence_temperature))
    spread = _spreads(f_old, owner, names, float(cfg.novel_distance))
    decisions = []
    for (clip, tr), f in zip(trajs.items(), f_new):
        dist = skill_distances(f_old, owner, f, names)
        conf = softmax_confidence(dist, temperature)
        nearest = (
            (_vote(f_old, owner, f, int(cfg.assign_neighbours)) or min(dist, key=dist.get)) if dist else None
        )
        chosen, source = skill, "user"
        if chosen is None and labels.get(clip, {}).get("skill"):
            chosen, source = labels[clip]["skill"], f"label:{labels[clip]['source']}"
        if chosen is not None:
            decisions.append(_labelled(clip, chosen, source, chosen in lib.skills, dist, conf, nearest))
        elif nearest is not None and dist[nearest] <= cfg.novel_factor * max(spread[nearest], 1e-6):
            c = conf[nearest]
            status = "assigned" if c >= float(cfg.uncertain_below) else "uncertain"
            decisions.append(_decision(clip, nearest, dist[nearest], False, c, "motion", status))
        else:
            d = _decision(
                clip, f"new_{motion_signature([tr])}", dist[nearest] if nearest else None, True,
                conf.get(nearest, 0.0), "motion", "novel", nearest=nearest,
            )  # fmt: skip
            decisions.append(d)
    return decisions


def _spreads(f_old: np.ndarray, owner: np.ndarray, names: list[str], default: float) -> dict[str, float]:
    """Each skill's own spread: the 90th percentile of the distances between its members (``default``
    for a skill of one member); a new clip farther than a multiple of it is novel."""
    spread = {}
    for n in names:
        f = f_old[owner == n]
        d = np.linalg.norm(f[:, None] - f[None], axis=-1)
        others = d[~np.eye(len(f), dtype=bool)]
        spread[n] = float(np.percentile(others, 90)) if len(others) else default
    return spread


def _decision(
    clip: str,
    skill: str,
    distance: float | None,
    novel: bool,
    confidence: float,
    source: str,
    status: str,
    **extra,
) -> dict:
    """One ``add`` decision in the JSON's field order (``extra``, e.g. a novel clip's ``nearest`` known
    skill, after ``novel``)."""
    return {
        "clip": clip,
        "skill": skill,
        "distance": round(distance, 4) if distance is not None else None,
        "novel": novel,
        **extra,
        "confidence": round(confidence, 4),
        "source_of_label": source,
        "status": status,
    }


def _labelled(
    clip: str, chosen: str, source: str, known: bool, dist: dict, conf: dict, nearest: str | None
) -> dict:
    """The decision for a clip whose skill was given (``user``) or read from its weak label; a label's
    decision also says what the motion alone would have chosen (``motion_skill``)."""
    d = _decision(
        clip, chosen, dist.get(chosen, float("nan")), not known, conf.get(chosen, 0.0), source,
        "assigned" if known else "novel",
    )  # fmt: skip
    return d if source == "user" else {**d, "motion_skill": nearest}


def _vote(f_old: np.ndarray, owner: np.ndarray, f: np.ndarray, k: int) -> str | None:
    """The skill most common among the ``k`` library members nearest to ``f`` (ties: the one with
    the nearest member); None when ``k`` is 0. A vote among the nearest members placed more staged
    clips in their own skill than the distance to each skill's mean did (figures in docs/notebook.md)."""
    if k <= 0:
        return None
    d = np.linalg.norm(f_old - f, axis=1)
    votes = Counter(owner[np.argsort(d)[:k]].tolist())
    return max(votes, key=lambda n: (votes[n], -float(d[owner == n].min())))


def add_to_library(
    lib: SkillLibrary,
    decisions: list[dict],
    trajs: dict[str, ContactTrajectory],
    records: dict[str, dict],
    outlier_fraction: float,
) -> SkillLibrary:
    """The next library: members added where ``decisions`` say, changed skills marked stale."""
    skills = dict(lib.skills)
    for d in decisions:
        name, clip = d["skill"], d["clip"]
        member = {
            "clip": clip,
            "label": records[clip].get("label"),
            "track": records[clip]["track"],
            "added": True,
            **({"source_of_label": d["source_of_label"]} if "source_of_label" in d else {}),
        }
        card = card_with(
            skills.get(name) or SkillCard(name, [], {}, {}),
            [(member, trajs[clip], records[clip].get("up"))],
            outlier_fraction,
        )
        card.made["stale"] = True
        if "origin" not in card.stats:  # a skill this add founds
            src = d.get("source_of_label", "motion")
            card.stats["origin"] = (
                {"from": "labels", "sources": {src.split(":", 1)[1]: 1}}
                if src.startswith("label:")
                else {"from": "user"}
                if src == "user"
                else {"from": "motion", "named_by": "signature"}
            )
        skills[name] = card
    clustering = dict(lib.clustering)
    clustering["assignment"] = {
        **clustering.get("assignment", {}),
        **{d["clip"]: d["skill"] for d in decisions},
    }
    return SkillLibrary(lib.version, skills, clustering, lib.config_hash)


def label_clips(clips: ClipSet, target: str, cfg) -> tuple[ClipSet, list[dict]]:
    """The new clips with the weak labels ``labels.add_from`` reads (a labels.csv in or above the
    target's folder, the sub-folder below it, the file name; in that priority order), and the labels
    CSV's bad rows as failures."""

    from vid2skill.ingest.labels import folder_texts, with_labels
    from vid2skill.ingest.lexicon import Lexicon

    readers = list(cfg.labels.add_from)
    if not readers or not clips.clips:
        return clips, []
    lexicon = Lexicon.from_config(cfg.labels)
    path = local_path(target)
    root = path if path.is_dir() else path.parent
    videos = list_videos(path) if path.is_dir() else [path]  # as listed (a link's own name and folder)
    texts, problems = folder_texts(
        videos, root, [r for r in readers if r in ("csv", "subfolder", "filename")], lexicon, required=False
    )
    by_resolved = {v.resolve(): texts[v.resolve()] for v in videos}
    labelled = [with_labels(c, by_resolved.get(Path(c.path).resolve(), []), lexicon) for c in clips.clips]
    failures = [{"item": f"{p['file']} row {p['row']}", "error": p["error"]} for p in problems]
    return ClipSet(labelled, clips.failures, clips.config_hash), failures


def unsegmented(clip: str, reason: str, rec: dict | None = None) -> dict:
    """The decision for a clip whose grasp (or hand) could not be found: recorded, not added."""
    source = f"label:{rec['label_source']}" if rec and rec.get("skills") else "motion"
    return {
        "clip": clip,
        "skill": None,
        "distance": None,
        "novel": False,
        "confidence": 0.0,
        "source_of_label": source,
        "status": "unsegmented",
        "reason": reason,
    }


def run_add(cfg, ws: Path, target: str, skill: str | None, workers: int) -> dict:
    """Extract, decide and record the clips of ``target``; returns the version (a new one when any clip
    joined the library, else the current), the decisions and the failures. Clips decided ``uncertain``
    or ``unsegmented`` are recorded in the decisions (``add/last_decisions.json``, and the new
    version's ``add_decisions.json``) but join no skill, so a later ``add ... skill=NAME`` can place them."""
    from vid2skill.extract.stage import extract

    layout = Workspace(ws)
    require_descriptor_inputs(
        SkillLibrary.load(layout.skills), cfg.cluster
    )  # clear errors before any work: no library, or too old a one
    with library_lock(layout.skills):
        if finish_interrupted_add(layout):
            log.info("add: completed the records of an add interrupted after its library version landed")
    clips = collect_clips(target, _known_hashes(layout))
    if not clips.clips:
        why = "; ".join(f["error"] for f in clips.failures) or "every video is already in the workspace"
        raise Vid2SkillError(f"add: nothing new to add from {target}: {why}")
    clips, label_failures = label_clips(clips, target, cfg)
    tracks = extract(cfg.extract, clips, layout.add_dir, workers)
    for rec, clip in zip(tracks.records, clips.clips):
        rec["content_hash"] = clip.content_hash
    new, failures = _segment_new(tracks, cfg.cluster)
    failures = list(clips.failures) + label_failures + failures
    decisions, version = list(new["lost"]), None
    if new["trajs"]:
        decisions, version = _land(layout, target, new, tracks, cfg.cluster, skill)
    if version is None:
        version = SkillLibrary.load(layout.skills).version
    layout.add_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(layout.add_decisions, {"version": version, "decisions": decisions})
    _log_decisions(decisions, failures)
    return {"version": version, "decisions": decisions, "failures": failures}


def _known_hashes(layout: Workspace) -> set:
    """Content hashes of the videos the workspace holds already: ingested, or added before."""
    known = (
        {c.content_hash for c in ClipSet.load(layout.clips).clips}
        if layout.clips.with_suffix(".json").exists()
        else set()
    )
    if layout.added_tracks.with_suffix(".json").exists():
        known |= {r.get("content_hash") for r in TrackSet.load(layout.added_tracks).records}
    return known


def _segment_new(tracks: TrackSet, cluster_cfg) -> tuple[dict, list[dict]]:
    """The new tracks cut into manipulations: ({trajs, records, labels, lost}, failures). A clip with a
    weak label is cut into its labelled skills in order (as ``cluster.group_by=label`` does:
    pick;pour;place gives three, a clip without a grasp is cut by its motion), the others by their
    grasps; ``lost`` holds the ``unsegmented`` decisions (no hand, no grasp). A video that cannot be
    read at all is a failure, and an error when no video could be read."""
    from vid2skill.ingest.lexicon import lexicon_of
    from vid2skill.skills.stage import canonical_labels, resolve_families, segment_labelled

    lexicon = lexicon_of(cluster_cfg)
    labelled = [r for r in tracks.ok() if r.get("skills")]
    canonical, unread = canonical_labels([r for r in tracks.ok() if not r.get("skills")], lexicon)
    segments, seg_records, not_segmented = segment_tracks(canonical, cluster_cfg)
    seg_records = resolve_families(segments, seg_records, lexicon)
    if labelled:
        by_label = segment_labelled(labelled, cluster_cfg)
        segments, seg_records, not_segmented = (
            segments + by_label[0],
            seg_records + by_label[1],
            not_segmented + by_label[2],
        )
    unreadable = [r for r in tracks.failures() if not r.get("no_hand")]
    if unreadable and len(unreadable) == len(tracks.records):
        raise Vid2SkillError("add: no new video could be read: " + "; ".join(r["error"] for r in unreadable))
    failures = [{"item": f["clip"], "error": f["error"]} for f in unread] + [
        {"item": r["clip"], "error": r["error"]} for r in unreadable
    ]
    by_clip = {r["clip"]: r for r in tracks.records}
    lost = [
        unsegmented(r["clip"], f"no hand track: {r['error']}", r)
        for r in tracks.failures()
        if r.get("no_hand")
    ] + [unsegmented(f["clip"], f["error"], by_clip.get(f["clip"].split("~")[0])) for f in not_segmented]
    records = {r["clip"]: r for r in seg_records}
    new = {
        "trajs": {r["clip"]: tr for r, tr in zip(seg_records, segments)},  # one decision per grasp
        "records": records,
        "labels": {
            c: {"skill": r["label"], "source": r["label_source"]}
            for c, r in records.items()
            if r.get("label") and r.get("label_source")
        },
        "lost": lost,
    }
    return new, failures


def _land(
    layout: Workspace, target: str, new: dict, tracks: TrackSet, cluster_cfg, skill: str | None
) -> tuple[list[dict], int]:
    """Decide the new manipulations against the newest library and write the next version, under the
    library's lock (concurrent adds land one after the other): (decisions, version). The version
    lands with its decisions and added tracks; the index of added tracks and the cluster stage record
    follow (an add killed between them is completed by the next, :func:`finish_interrupted_add`)."""
    root, index, ws = layout.skills, layout.added_tracks, layout.root
    trajs, records = new["trajs"], new["records"]
    with library_lock(root):
        # Checked again under the lock: another add of the same video may have finished meanwhile.
        previous = TrackSet.load(index) if index.with_suffix(".json").exists() else TrackSet([])
        landed = {r.get("content_hash") for r in previous.records}
        late = sorted({r["clip"] for r in records.values() if r.get("content_hash") in landed})
        if late:
            log.info("add: %s already added by another run meanwhile; left out", ", ".join(late))
            trajs = {c: tr for c, tr in trajs.items() if records[c].get("content_hash") not in landed}
            records = {c: r for c, r in records.items() if c in trajs}
        if not trajs:
            raise Vid2SkillError(
                f"add: nothing new to add from {target}: every video was added by another run meanwhile"
            )
        lib = SkillLibrary.load(root)
        decisions = decide(lib, trajs, cluster_cfg, skill, new["labels"]) + list(new["lost"])
        joining = [d for d in decisions if d["status"] in ("assigned", "novel")]
        if not joining:
            return decisions, lib.version
        grown = add_to_library(lib, joining, trajs, records, cluster_cfg.outlier_fraction)
        added = {records[d["clip"]].get("source_clip", d["clip"]) for d in joining}
        added_tracks = TrackSet([r for r in tracks.records if r["clip"] in added])

        def with_version(folder: Path) -> None:  # lands with the version or not at all
            atomic_write_json(folder / "add_decisions.json", decisions)
            added_tracks.save(folder / "add_tracks", workspace=ws)

        folder = grown.save(root, workspace=ws, extras=with_version)
        TrackSet(previous.records + added_tracks.records).save(index, workspace=ws)
        # Last, as a rerun of cluster would: retarget and what follows rerun on the new version.
        layout.renew_stage_record(
            "cluster",
            {
                "version": grown.version,
                "folder": str(folder),
                "skills": {n: len(c.members) for n, c in grown.skills.items()},
            },
        )
        return decisions, grown.version


def _log_decisions(decisions: list[dict], failures: list[dict]) -> None:
    for d in decisions:
        if d["status"] == "unsegmented":
            log.warning("add: %s unsegmented: %s", d["clip"], d["reason"])
        else:
            log.info(
                "add: %s -> %s (%s, confidence %.2f, distance %s, from %s)",
                d["clip"],
                d["skill"],
                d["status"],
                d["confidence"],
                d["distance"],
                d["source_of_label"],
            )
    for f in failures:
        log.warning("add: %s: %s", f["item"], f["error"])
