"""The retarget stage fits each member's structure; replay executes it (vid2skill/retarget/stage.py)."""

import numpy as np

from tests.helpers import make_cfg
from vid2skill.retarget.demos import DemoSet
from vid2skill.retarget.stage import retarget
from vid2skill.skills.library import SkillCard, SkillLibrary


def _library() -> SkillLibrary:
    s = np.linspace(0, 1, 64)[:, None]
    trajs = {f"c{i}": np.c_[-(0.2 + 0.02 * i) * s, 0 * s, 0 * s] for i in range(3)}  # three pulls of 20-24 cm
    card = SkillCard(
        "slide_open", [{"clip": c} for c in trajs], trajs, {c: 2.0 for c in trajs}, {"outliers": []}
    )
    return SkillLibrary(1, {"slide_open": card})


def test_demos_carry_their_fitted_motion_and_replay_uses_it(tmp_path):
    from vid2skill.sim.evaluate import _make_policy
    from vid2skill.sim.policies import MotionReplayPolicy, ReplayPolicy

    cfg = make_cfg(["skill=slide_open"])
    ds = retarget(cfg.retarget, cfg.robot, _library(), cfg.skill, cfg.sim.scenes)["slide_open"]
    travels = sorted(d.motion.values["travel_m"] for d in ds.demos)
    assert np.allclose(travels, [0.2, 0.22, 0.24], atol=0.01)
    assert ds.report["motions"]["c0"]["method"] == "line"
    ds.save(tmp_path / "slide_open")
    back = DemoSet.load(tmp_path / "slide_open")
    assert (
        back.demos[1].motion.to_dict() == ds.demos[1].motion.to_dict()
        and back.content_hash() == ds.content_hash()
    )
    assert isinstance(_make_policy("replay", str(tmp_path / "slide_open"), 0), MotionReplayPolicy)
    path_cfg = make_cfg(["skill=slide_open", "retarget.motion_model=path"])
    plain = retarget(path_cfg.retarget, path_cfg.robot, _library(), path_cfg.skill, path_cfg.sim.scenes)[
        "slide_open"
    ]
    assert all(d.motion is None for d in plain.demos)
    plain.save(tmp_path / "plain")
    assert isinstance(_make_policy("replay", str(tmp_path / "plain"), 0), ReplayPolicy)


def test_a_skill_judged_while_holding_keeps_its_gripper_closed_after_the_motion():
    """Demonstrations of a drawer let go at their end; those of a pick (``release_at_end: false``)
    hold through the steps appended after the motion, as the scene judges them holding."""
    s = np.linspace(0, 1, 64)[:, None]
    trajs = {f"c{i}": np.c_[-(0.15 + 0.02 * i) * s, 0 * s, 0 * s] for i in range(3)}  # lifts (contact -x)
    pick = SkillCard("pick", [{"clip": c} for c in trajs], trajs, {c: 1.0 for c in trajs}, {"outliers": []})
    cfg = make_cfg(["skill=all"])
    out = retarget(
        cfg.retarget,
        cfg.robot,
        SkillLibrary(1, {"pick": pick, **_library().skills}),
        cfg.skill,
        cfg.sim.scenes,
    )
    steps = int(cfg.retarget.release_steps)
    for d in out["pick"].demos:
        assert d.gripper_closed.all()
    for d in out["slide_open"].demos:
        assert d.gripper_closed[:-steps].all() and not d.gripper_closed[-steps:].any()
