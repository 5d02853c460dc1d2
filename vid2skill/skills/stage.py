"""The cluster stage: segment each track, cluster the manipulations, name the clusters, write a library
version."""

from __future__ import annotations

import logging
from collections import Counter

import numpy as np

from vid2skill.errors import ConfigError, Vid2SkillError
from vid2skill.extract.types import HandTrack, TrackSet
from vid2skill.ingest.lexicon import LabelError, Lexicon, lexicon_of
from vid2skill.skills.cluster import cluster, name_clusters, signature_stats
from vid2skill.skills.features import describe, features
from vid2skill.skills.library import SkillCard, SkillLibrary, summary_stats
from vid2skill.skills.segment import ContactTrajectory, contact_trajectories
from vid2skill.skills.sequence import segment_sequence

log = logging.getLogger(__name__)


def outlier_members(trajs: dict[str, np.ndarray], durations: dict[str, float], fraction: float) -> list[str]:
    """Members far shorter or longer (in time or in reach) than their skill's consistent core: failed
    segmentations.

    Two members agree when neither's duration nor reach (the largest displacement from the grasp) is
    below ``fraction`` or above ``1 / fraction`` times the other's. The core is the largest set of
    members agreeing with one of them; a member is an outlier when its duration or reach is that far
    from the core's median. Which members failed can only be told when most agree: with no core of
    more than half the members, or when the rule would leave out half or more, none is left out.
    Outliers stay in the library (with their provenance) but are not used to make robot demonstrations.
    """
    clips = sorted(trajs)
    if len(clips) < 3:
        return []
    d = np.array([float(durations[c]) for c in clips])
    e = np.array([float(np.linalg.norm(trajs[c], axis=1).max()) for c in clips])

    def far(x: np.ndarray, ref: float) -> np.ndarray:
        return (x < fraction * ref) | (x > ref / fraction)

    agree = [~far(d, d[i]) & ~far(e, e[i]) for i in range(len(clips))]
    # The largest agreeing set; among equals, the tightest (the smallest summed log-distance).
    logs = np.log(np.maximum(np.stack([d, e], axis=1), 1e-9))
    spread = [np.abs(logs - logs[i])[a].sum() for i, a in enumerate(agree)]
    core = agree[min(range(len(clips)), key=lambda i: (-int(agree[i].sum()), spread[i]))]
    if 2 * int(core.sum()) <= len(clips):
        return []
    out = far(d, float(np.median(d[core]))) | far(e, float(np.median(e[core])))
    if 2 * int(out.sum()) >= len(clips):
        return []
    return [c for c, o in zip(clips, out) if o]


def segment_records(rec: dict, n: int) -> list[dict]:
    """One record per grasp of a clip. A clip with several grasps gives ``<clip>~1``, ``<clip>~2``, ...
    (``source_clip`` names the clip); a weak label listing several skills (``slide_open;slide_close``)
    is shared out in order when it names one per grasp, else each grasp keeps the first."""
    labels = [x for x in (rec.get("label") or "").split(";") if x]
    if n == 1:
        return [{**rec, "label": labels[0]} if len(labels) > 1 else rec]
    return [
        {
            **rec,
            "clip": f"{rec['clip']}~{k + 1}",
            "source_clip": rec["clip"],
            "segment": k + 1,
            "label": (labels[k] if len(labels) == n else labels[0]) if labels else rec.get("label"),
        }
        for k in range(n)
    ]


def record_skills(rec: dict, lexicon: Lexicon) -> list[str]:
    """The skills of a track record's weak label, in order: those ingest read (``skills``), else its
    ``label`` read by the lexicon (records written before ingest read labels); ``[]`` for none.
    Raises LabelError for a label the lexicon cannot read."""
    if rec.get("skills") is not None:
        return list(rec["skills"])
    return lexicon.map(rec.get("label"), "csv") or []


def canonical_labels(records: list[dict], lexicon: Lexicon) -> tuple[list[dict], list[dict]]:
    """Records with ``label`` replaced by their skills joined by ``;`` (the text kept as ``label_text``),
    and ``{"clip", "error"}`` for labels the lexicon cannot read (their records go on unlabelled)."""
    out, failures = [], []
    for rec in records:
        try:
            skills = record_skills(rec, lexicon)
        except LabelError as e:
            failures.append({"clip": rec["clip"], "error": f"label not used: {e}"})
            skills = []
        out.append({**rec, "label_text": rec.get("label"), "label": ";".join(skills) or None})
    return out, failures


def resolve_families(trajs: list[ContactTrajectory], records: list[dict], lexicon: Lexicon) -> list[dict]:
    """Each record's label of a family (``open``, ``close``) decided by its manipulation's arc
    descriptor (``slide_open`` below ``labels.hinge_arc``, ``hinge_open`` from it)."""
    out = []
    for tr, rec in zip(trajs, records):
        label = rec.get("label")
        if label in lexicon.by_arc:
            arc = describe(tr)["arc"]
            rec = {
                **rec,
                "label": lexicon.resolve_by_arc(label, arc),
                "label_family": label,
                "arc": round(arc, 4),
            }
        out.append(rec)
    return out


def segment_labelled(records: list[dict], cfg) -> tuple[list[ContactTrajectory], list[dict], list[dict]]:
    """Each labelled clip cut into its labelled skills in order (:func:`segment_sequence`): one
    manipulation and record per skill (``<clip>~k`` where a clip holds several, ``up`` kept per
    record), ``{"clip", "error"}`` for each skill that could not be found. Unlabelled clips fail.
    Labels are read through the lexicon (``cfg.lexicon``); ``open``/``close`` are decided by the arc."""
    trajs, seg_records, failures = [], [], []
    continues = set(cfg.continues_grasp)
    lexicon = lexicon_of(cfg)
    for rec in records:
        try:
            skills = record_skills(rec, lexicon)
        except LabelError as e:
            failures.append({"clip": rec["clip"], "error": f"label not used: {e}"})
            continue
        if not skills:
            failures.append({"clip": rec["clip"], "error": "no label to group by (cluster.group_by=label)"})
            continue
        segs = segment_sequence(HandTrack.load(rec["track"]), skills, cfg, continues)
        for k, seg in enumerate(segs):
            clip = f"{rec['clip']}~{k + 1}" if len(segs) > 1 else rec["clip"]
            if seg.trajectory is None:
                failures.append({"clip": clip, "error": f"{seg.skill}: {seg.error}"})
                continue
            trajs.append(seg.trajectory)
            seg_records.append(
                {
                    **rec,
                    "clip": clip,
                    "label": seg.skill,
                    "source_clip": rec["clip"],
                    "segment": k + 1,
                    "found_by": seg.how,
                    "up": seg.up_contact.round(6).tolist(),
                }
            )
    return trajs, resolve_families(trajs, seg_records, lexicon), failures


def segment_tracks(records: list[dict], cfg) -> tuple[list[ContactTrajectory], list[dict], list[dict]]:
    """Each track record's grasps in their contact frames: (manipulations, one record per grasp
    (:func:`segment_records`), ``{"clip", "error"}`` for the clips that could not be segmented)."""
    trajs, seg_records, failures = [], [], []
    for rec in records:
        try:
            segments = contact_trajectories(HandTrack.load(rec["track"]), cfg)
        except Vid2SkillError as e:
            failures.append({"clip": rec["clip"], "error": str(e)})
            continue
        trajs += segments
        seg_records += segment_records(rec, len(segments))
    return trajs, seg_records, failures


def skill_origin(records: list[dict], labelled: bool, name: str) -> dict:
    """Where a skill came from: ``{"from": "labels", "sources": {source: members}}`` when its members
    were grouped by their weak labels, else ``{"from": "motion"}`` (``named_by`` says whether weak
    labels or the motion signature named the cluster)."""
    if labelled:
        return {"from": "labels", "sources": dict(Counter(r.get("label_source") or "label" for r in records))}
    named = any(r.get("label") == name for r in records)
    return {"from": "motion", "named_by": "labels" if named else "signature"}


def min_cluster_size(cfg, n: int) -> int:
    """The smallest cluster that counts as a skill among ``n`` manipulations (``cfg.min_cluster_fraction``, at
    least 2)."""
    return max(2, int(np.ceil(cfg.min_cluster_fraction * n)))


def build_library(cfg, tracks: TrackSet) -> tuple[SkillLibrary, list[dict]]:
    """The tracks' manipulations grouped into skills: by their weak labels (``cfg.group_by=label``,
    read through the lexicon) or clustered by motion (labels then only name the clusters).

    Returns the library and the clips that could not be segmented (with why).
    """
    labelled = cfg.group_by == "label"
    if labelled:
        trajs, records, failures = segment_labelled(tracks.ok(), cfg)
    else:  # weak labels only name clusters: read through the lexicon, families decided by the arc
        lexicon = lexicon_of(cfg)
        canonical, unread = canonical_labels(tracks.ok(), lexicon)
        for f in unread:  # the clip is still clustered, unlabelled
            log.warning("cluster: %s: %s", f["clip"], f["error"])
        trajs, records, failures = segment_tracks(canonical, cfg)
        records = resolve_families(trajs, records, lexicon)
    if not trajs:
        if labelled and not any(r.get("label") for r in tracks.ok()):
            raise Vid2SkillError("cluster.group_by=label: no clip has a label; use cluster.group_by=motion")
        raise Vid2SkillError(
            "cluster: no clip could be segmented into a grasp; check the extract quality table"
        )
    if failures:
        log.warning(
            "cluster: %d clips not segmented: %s",
            len(failures),
            Counter(f["error"].split(":")[-1] for f in failures),
        )
    return library_from_segments(cfg, trajs, records), failures


def card_with(
    card: SkillCard, joining: list[tuple[dict, ContactTrajectory, list | None]], outlier_fraction: float
) -> SkillCard:
    """``card`` with members joined, each given as (member record, its manipulation, gravity's up in
    its contact frame or None): their paths, rotations, image paths, approaches, durations, ups and
    held axes are kept, and the card's statistics (summary, outliers, motion signature) are measured again
    over every member. The one place a card is built (cluster, from an empty card) or grown (add)."""
    members, ups, held = list(card.members), dict(card.ups), dict(card.held_axes)
    trajs, durations = dict(card.trajectories), dict(card.durations_s)
    rots, imgs, approaches = dict(card.rotations), dict(card.images), dict(card.approaches)
    for member, tr, up in joining:
        clip = member["clip"]
        members.append(member)
        trajs[clip], durations[clip], rots[clip] = tr.position_m, tr.duration_s, tr.rotvec
        imgs[clip], approaches[clip] = tr.image_path, tr.approach
        if up is not None:
            ups[clip] = [float(v) for v in up]
        if tr.held_axis is not None:
            held[clip] = [float(v) for v in tr.held_axis]
    new = SkillCard(
        card.name,
        members,
        trajs,
        durations,
        dict(card.stats),
        dict(card.made),
        rots,
        imgs,
        approaches,
        ups,
        held,
    )
    new.stats.update(summary_stats(list(trajs.values()), list(durations.values())))
    new.stats["outliers"] = outlier_members(trajs, durations, outlier_fraction)
    new.stats.update(signature_stats([new.member(c) for c in trajs]))
    return new


def flag_members(
    feats: np.ndarray, owner: np.ndarray, clips: list[str], margin: float
) -> dict[str, list[dict]]:
    """Per skill, its members whose motion disagrees with their label: leaving the member out, the
    mean feature distance to each skill's members, and a flag (``{"clip", "nearer", "reason"}``) when
    another skill's is below ``1 - margin`` times its own skill's. A skill's only member is not judged."""
    names = sorted(set(owner.tolist()))
    out: dict[str, list[dict]] = {n: [] for n in names}
    for i, (clip, own) in enumerate(zip(clips, owner)):
        others = np.arange(len(owner)) != i
        d = {
            n: float(np.linalg.norm(feats[others & (owner == n)] - feats[i], axis=1).mean())
            for n in names
            if (others & (owner == n)).any()
        }
        if own not in d:
            continue
        near = min(d, key=d.get)
        if near != own and d[near] < (1.0 - margin) * d[own]:
            out[str(own)].append(
                {
                    "clip": clip,
                    "nearer": near,
                    "reason": f"motion nearer {near}'s members ({d[near]:.2f}) than {own}'s ({d[own]:.2f})",
                }
            )
    return out


def library_from_segments(cfg, trajs: list[ContactTrajectory], records: list[dict]) -> SkillLibrary:
    """The library of segmented manipulations (one record each): grouped by their labels
    (``cfg.group_by=label``) or clustered by their motion, one card per skill."""
    labelled = cfg.group_by == "label"
    if cfg.group_by == "label":
        # One skill per weak label (annotated datasets, labelled folders), each labelled clip cut into its
        # skills in order; unlabelled clips are left out.
        names_in_order = sorted({r["label"] for r in records})
        labels = np.array([names_in_order.index(r["label"]) for r in records])
        info = {"k": len(names_in_order), "silhouette": {}}
    elif cfg.group_by == "motion":
        feats = features(trajs, cfg)
        labels, info = cluster(feats, cfg.k_min, cfg.k_max, cfg.linkage, min_cluster_size(cfg, len(trajs)))
    else:
        raise ConfigError(f"cluster.group_by={cfg.group_by!r}: use motion (cluster without labels) or label")
    weak = [r.get("label") for r in records] if cfg.use_labels_for_names else [None] * len(records)
    names = name_clusters(labels, weak, trajs)
    skills = {}
    for c, name in names.items():
        idx = np.flatnonzero(labels == c)
        members = [
            {
                "clip": records[i]["clip"],
                "label": records[i].get("label"),
                "track": records[i]["track"],
                **{k: records[i][k] for k in ("found_by", "label_source") if records[i].get(k) is not None},
            }
            for i in idx
        ]
        card = card_with(
            SkillCard(name, [], {}, {}),
            [(m, trajs[i], records[i].get("up")) for m, i in zip(members, idx)],
            cfg.outlier_fraction,
        )
        card.stats["origin"] = skill_origin([records[i] for i in idx], labelled, name)
        skills[name] = card
    if labelled and len(skills) > 1:  # motion checks the labels
        owner = np.array([names[int(c)] for c in labels])
        flags = flag_members(
            features(trajs, cfg), owner, [r["clip"] for r in records], float(cfg.flag_margin)
        )
        for name, card in skills.items():
            card.stats["flagged"] = flags.get(name, [])
    assignment = {records[i]["clip"]: names[int(labels[i])] for i in range(len(records))}
    lib = SkillLibrary(
        0, skills, {"k": info["k"], "silhouette": info["silhouette"], "assignment": assignment}
    )
    log.info(
        "cluster: %d skills from %d clips: %s",
        len(skills),
        len(records),
        ", ".join(f"{n} ({len(c.members)})" for n, c in skills.items()),
    )
    return lib
