"""`add`'s decisions on small hand-made libraries (vid2skill/skills/add.py): calibrated confidence,
status (assigned, uncertain, novel, unsegmented), and where the label came from."""

from __future__ import annotations

import json

import numpy as np
import pytest
from omegaconf import OmegaConf

from tests.helpers import make_cfg, make_track
from tests.skills.test_skills import _motion_track
from vid2skill.extract.types import HandTrack, TrackSet
from vid2skill.skills.add import STATUSES, decide, fit_temperature, run_add, softmax_confidence
from vid2skill.skills.features import features
from vid2skill.skills.library import SkillCard, SkillLibrary
from vid2skill.skills.segment import contact_trajectory

FIELDS = {"clip", "skill", "distance", "novel", "confidence", "source_of_label", "status"}


@pytest.fixture(scope="module")
def motions():
    """Five manipulations each of four motions (pull, push, circles, lift), segmented as `add` would."""
    rng = np.random.default_rng(11)
    cfg = make_cfg([]).cluster
    return {
        k: [contact_trajectory(_motion_track(k, rng), cfg) for _ in range(5)]
        for k in ("pull", "push", "circles", "lift")
    }


def _library(groups: dict[str, list]) -> SkillLibrary:
    skills = {}
    for name, trajs in groups.items():
        ids = [f"{name}_{i}" for i in range(len(trajs))]
        skills[name] = SkillCard(
            name,
            [{"clip": c} for c in ids],
            {c: t.position_m for c, t in zip(ids, trajs)},
            {c: t.duration_s for c, t in zip(ids, trajs)},
            rotations={c: t.rotvec for c, t in zip(ids, trajs)},
            images={c: t.image_path for c, t in zip(ids, trajs)},
            approaches={c: t.approach for c, t in zip(ids, trajs)},
        )
    return SkillLibrary(1, skills)


def test_held_out_clips_are_assigned_to_their_skill_with_a_high_calibrated_confidence(motions):
    lib = _library({k: v[:4] for k, v in motions.items() if k != "lift"})
    new = {f"new_{k}": motions[k][4] for k in ("pull", "push", "circles")}
    decisions = decide(lib, new, make_cfg([]).cluster, None)
    for d in decisions:
        assert set(d) >= FIELDS and d["status"] in STATUSES and 0.0 <= d["confidence"] <= 1.0
        assert (d["skill"], d["status"], d["source_of_label"], d["novel"]) == (
            d["clip"][4:],
            "assigned",
            "motion",
            False,
        )
        assert d["confidence"] >= 0.8


def test_motion_unlike_any_skill_is_novel_and_a_tie_between_two_skills_is_uncertain(motions):
    cfg = make_cfg([]).cluster
    lib = _library({k: v[:4] for k, v in motions.items() if k != "lift"})
    (lift,) = decide(lib, {"a_lift": motions["lift"][0]}, cfg, None)
    assert (
        lift["status"] == "novel"
        and lift["novel"]
        and lift["skill"].startswith("new_")
        and 0 <= lift["confidence"] <= 1
    )
    # Two skills of the same motion (a drawer and a cupboard pulled alike): the motion cannot choose,
    # the confidence says so (about one half each), and below the threshold the clip is uncertain.
    twins = _library(
        {"drawer": motions["pull"][:2], "cupboard": motions["pull"][2:4], "stir": motions["circles"][:4]}
    )
    cfg.uncertain_below = 0.6
    (d,) = decide(twins, {"new_pull": motions["pull"][4]}, cfg, None)
    assert (
        d["skill"] in ("drawer", "cupboard")
        and d["status"] == "uncertain"
        and abs(d["confidence"] - 0.5) < 0.1
    )
    assert not d["novel"] and d["source_of_label"] == "motion"


def test_the_temperature_is_fitted_leave_one_out_on_the_library(motions):
    cfg = make_cfg([]).cluster
    trajs = [t for k in ("pull", "push", "circles") for t in motions[k]]
    f = features(trajs, cfg)
    owner = np.repeat(["pull", "push", "circles"], 5)
    t = fit_temperature(f, owner, 1.0)

    def loo_confidence(temperature, own):
        out = []
        for i in range(len(f)):
            keep = np.arange(len(f)) != i
            dist = {
                n: float(np.linalg.norm(f[keep & (own == n)] - f[i], axis=1).mean()) for n in sorted(set(own))
            }
            out.append(softmax_confidence(dist, temperature)[own[i]])
        return np.array(out)

    assert loo_confidence(t, owner).mean() > 0.9  # separable skills: confident
    shuffled = np.random.default_rng(0).permutation(
        owner
    )  # skills that mean nothing: about chance (1/3), not confident
    assert loo_confidence(fit_temperature(f, shuffled, 1.0), shuffled).mean() < 0.5
    assert fit_temperature(f[:1], owner[:1], 0.7) == 0.7  # nothing to leave out: the configured default


def test_a_weak_label_decides_and_the_motion_is_kept_beside_it(motions):
    lib = _library({k: v[:4] for k, v in motions.items() if k != "lift"})
    labels = {"x": {"skill": "push", "source": "filename"}, "y": {"skill": "novel:wipe", "source": "csv"}}
    dx, dy = decide(
        lib, {"x": motions["pull"][4], "y": motions["circles"][4]}, make_cfg([]).cluster, None, labels
    )
    assert (dx["skill"], dx["source_of_label"], dx["status"], dx["motion_skill"]) == (
        "push",
        "label:filename",
        "assigned",
        "pull",
    )
    assert dx["confidence"] < 0.5  # the motion disagrees with the label
    assert (dy["skill"], dy["status"], dy["novel"], dy["source_of_label"]) == (
        "novel:wipe",
        "novel",
        True,
        "label:csv",
    )


def _still_track(clip: str) -> HandTrack:
    """A hand that never closes nor moves (a wave seen far off, a plug pulled with the fingertips)."""
    T = 60
    p = np.tile([0.0, 0.05, 0.6], (T, 1))
    px = np.tile(np.linspace([300, 200], [340, 260], 21), (T, 1, 1))
    return make_track(p, np.full(T, 0.08), px, clip=clip)


def _stub_extract(monkeypatch, make_track):
    """`add`'s extraction replaced by ``make_track(clip)`` (tests of the decisions, not of MediaPipe)."""
    import vid2skill.extract.stage as extract_stage

    def fake_extract(cfg, clips, out_dir, workers):
        out_dir.mkdir(parents=True, exist_ok=True)
        recs = []
        for c in clips.clips:
            make_track(c.clip_id).save(out_dir / c.clip_id)
            recs.append(
                {
                    "clip": c.clip_id,
                    "track": str(out_dir / c.clip_id),
                    "error": None,
                    "label": c.label,
                    "skills": c.skills,
                    "label_source": c.label_source,
                }
            )
        return TrackSet(recs)

    monkeypatch.setattr(extract_stage, "extract", fake_extract)


def test_an_unsegmentable_clip_is_reported_unsegmented_not_failed(motions, tmp_path, monkeypatch):
    ws = tmp_path / "ws"
    _library({k: v[:4] for k, v in motions.items()}).save(ws / "skills", workspace=ws)
    video = tmp_path / "new" / "pull_out_plug.mp4"  # its file name is a weak label: "pull out" -> open
    video.parent.mkdir()
    video.write_bytes(b"not decoded: extraction is stubbed")
    _stub_extract(monkeypatch, _still_track)
    cfg = make_cfg([f"workspace={ws}"])
    out = run_add(cfg, ws, str(video), None, 1)
    (d,) = out["decisions"]
    assert (
        set(d) >= FIELDS | {"reason"}
        and d["status"] == "unsegmented"
        and d["skill"] is None
        and d["confidence"] == 0.0
    )
    assert "no grasp" in d["reason"] and d["source_of_label"] == "label:filename"
    assert (
        out["version"] == 1 and SkillLibrary.load(ws / "skills").version == 1
    )  # nothing joined: no new version
    saved = json.loads((ws / "add" / "last_decisions.json").read_text())
    assert saved == {"version": 1, "decisions": out["decisions"]}
    # Without weak labels for add, the same clip's decision says so.
    video.with_name("again.mp4").write_bytes(b"other bytes")
    cfg = OmegaConf.merge(cfg, {"labels": {"add_from": []}})
    (d2,) = run_add(cfg, ws, str(video.with_name("again.mp4")), None, 1)["decisions"]
    assert d2["status"] == "unsegmented" and d2["source_of_label"] == "motion"


def test_a_labelled_clip_is_cut_into_its_skills_in_order(motions, tmp_path, monkeypatch):
    from tests.skills.test_sequence import _pick_place_track

    ws = tmp_path / "ws"
    _library({k: v[:4] for k, v in motions.items()}).save(ws / "skills", workspace=ws)
    video = tmp_path / "new" / "toy_pick_place.mp4"
    video.parent.mkdir()
    video.write_bytes(b"stub")
    _stub_extract(monkeypatch, lambda clip: _pick_place_track())
    out = run_add(make_cfg([f"workspace={ws}"]), ws, str(video), None, 1)
    assert [(d["skill"], d["status"], d["source_of_label"]) for d in out["decisions"]] == [
        ("pick", "novel", "label:filename"),
        ("place", "novel", "label:filename"),
    ]  # new to this library
    lib = SkillLibrary.load(ws / "skills")
    assert out["version"] == 2 and {"pick", "place"} <= set(lib.skills)
    assert lib.skills["pick"].stats["origin"] == {"from": "labels", "sources": {"filename": 1}}
    assert lib.skills["place"].members[0]["source_of_label"] == "label:filename"
