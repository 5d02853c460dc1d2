"""Fitting a demonstration's structure (vid2skill/retarget/primitives.py) and executing it in a scene."""

import numpy as np
import pytest

from tests.helpers import make_cfg
from vid2skill.errors import Vid2SkillError
from vid2skill.retarget.primitives import SkillMotion, fit_motion, path_figures

UP = np.array([0.0, 0.0, 1.0])


@pytest.fixture(scope="module")
def cfg():
    return make_cfg(["skill=all"])


def _noisy(p, rng, sigma=0.003):
    return p + rng.normal(0, sigma, p.shape)


def test_fits_recover_the_structure_of_clean_and_noisy_paths(cfg):
    pc, rng, N = cfg.retarget.primitives, np.random.default_rng(0), 64
    s = np.linspace(0, 1, N)
    zeros = np.zeros((N, 3))
    slide = fit_motion("slide", _noisy(np.c_[-0.25 * s, 0 * s, 0 * s], rng), zeros, 2.0, UP, pc)
    assert abs(slide.values["travel_m"] - 0.25) < 0.02 and np.all(np.diff(slide.profiles["s"]) >= 0)
    a = np.radians(80) * s  # a door handle 0.35 m from its hinge at (0, -0.35)
    hinge = fit_motion(
        "hinge", _noisy(np.c_[0.35 * np.sin(a), -0.35 + 0.35 * np.cos(a), 0 * s], rng), zeros, 3.0, UP, pc
    )
    assert hinge.method == "arc" and abs(np.degrees(hinge.values["angle_rad"]) - 80) < 6
    lift = fit_motion("lift", np.c_[0 * s, 0 * s, -0.05 * s], zeros, 1.0, UP, pc)
    assert lift.values["lift_m"] <= 0  # a hand that went down lifted nothing
    # The grasp read closed while the hand still came 4 cm down onto the object, then rose 12 cm:
    # the lift counts from the bottom of the reach, and its progress starts there.
    z = np.where(s < 0.3, -0.04 * s / 0.3, -0.04 + 0.12 * (s - 0.3) / 0.7)
    late = fit_motion("lift", _noisy(np.c_[0 * s, 0 * s, z], rng, 0.002), zeros, 1.5, UP, pc)
    assert abs(late.values["lift_m"] - 0.12) < 0.01
    assert late.profiles["s"][s < 0.25].max() < 0.1 and late.profiles["s"][-1] > 0.95
    # The grasp read closed from high on the way down: 20 cm down onto the object, then a 10-cm lift
    # that ends below where the segment began.
    z = np.where(s < 0.4, -0.20 * s / 0.4, -0.20 + 0.10 * (s - 0.4) / 0.6)
    high = fit_motion("lift", _noisy(np.c_[0 * s, 0 * s, z], rng, 0.002), zeros, 2.0, UP, pc)
    assert abs(high.values["lift_m"] - 0.10) < 0.01
    assert high.profiles["s"][s < 0.35].max() < 0.1 and high.profiles["s"][-1] > 0.95
    th = 2 * np.pi * 2.0 * s
    stir = fit_motion("stir", np.c_[0.04 * np.cos(th), 0.04 * np.sin(th), 0 * s], zeros, 4.0, UP, pc)
    assert abs(stir.values["turns"] - 2.0) < 0.1 and abs(stir.values["radius_m"] - 0.04) < 0.005
    saw = np.c_[0.03 * np.sin(2 * np.pi * 3 * s), 0 * s, -0.03 * s]
    cut = fit_motion("cut", saw, zeros, 3.0, UP, pc)
    assert (
        cut.values["reversals"] >= 4
        and 0.015 < cut.values["stroke_m"] < 0.04
        and cut.values["sink_m"] > 0.025
    )
    tilt = np.c_[np.radians(100) * np.sin(np.pi * s), 0 * s, 0 * s]
    pour = fit_motion("pour", np.zeros((N, 3)), tilt, 2.0, UP, pc)
    assert (
        abs(np.degrees(pour.values["tilt_rad"]) - 100) < 3 and pour.profiles["tilt"][-1] < 0.05
    )  # tilted back
    back = SkillMotion.from_dict(pour.to_dict())
    assert back.values == pour.to_dict()["values"] and np.allclose(
        back.profiles["tilt"], pour.profiles["tilt"], atol=1e-4
    )


def test_bad_paths_and_families_say_what_is_wrong(cfg):
    with pytest.raises(Vid2SkillError, match="no motion model"):
        fit_motion("juggle", np.zeros((5, 3)), np.zeros((5, 3)), 1.0, UP, cfg.retarget.primitives)
    with pytest.raises(Vid2SkillError, match="finite path"):
        fit_motion("slide", np.full((5, 3), np.nan), np.zeros((5, 3)), 1.0, UP, cfg.retarget.primitives)
    with pytest.raises(ValueError, match="duration"):
        SkillMotion("slide", 0.0, {})


def test_path_figures():
    s = np.linspace(0, 1, 20)
    f = path_figures(np.c_[0.2 * s, 0 * s, 0 * s], np.zeros((20, 3)), UP)
    assert abs(f["path_length_m"] - 0.2) < 1e-6 and f["straightness"] == 1.0 and f["max_rotation_deg"] == 0.0


def _run(cfg, skill, motion, seed=100000):
    from vid2skill.retarget.stage import robot_spec
    from vid2skill.sim.episode import EpisodeRunner
    from vid2skill.sim.policies import MotionReplayPolicy

    return EpisodeRunner(cfg.skill[skill], cfg.sim, robot_spec(cfg.robot)).run(
        MotionReplayPolicy(motion), seed
    )


@pytest.mark.parametrize(
    "skill, family, values, prof, ok",
    [
        ("slide_open", "slide", {"travel_m": 0.25}, "s", True),
        ("slide_open", "slide", {"travel_m": 0.05}, "s", False),  # the human pulled 5 cm: not open enough
        ("pick", "lift", {"lift_m": 0.18}, "s", True),
        ("pour", "pour", {"tilt_rad": np.radians(110)}, "tilt", True),
        ("pour", "pour", {"tilt_rad": np.radians(25)}, "tilt", False),  # a cup tipped 25 deg pours nothing
    ],
)
def test_a_motion_replays_in_its_scene_with_the_humans_extent(cfg, skill, family, values, prof, ok):
    motion = SkillMotion(family, 1.5, values, {prof: np.r_[np.linspace(0, 1, 10), np.ones(5)]})
    assert _run(cfg, skill, motion)["success"] is ok


@pytest.mark.parametrize(
    "skill, family, values, progress_to, ok",
    [
        ("slide_close", "slide", {"travel_m": 0.05}, 1.0, True),  # 5 cm measured; this drawer is open more
        ("slide_close", "slide", {"travel_m": 0.05}, 0.5, False),  # the human stopped halfway
        ("hinge_close", "hinge", {"angle_rad": np.radians(10)}, 1.0, True),
        ("hinge_close", "hinge", {"angle_rad": np.radians(10)}, 0.5, False),
    ],
)
def test_a_closing_motion_goes_to_shut_at_the_humans_pace(cfg, skill, family, values, progress_to, ok):
    """How far the human's drawer or door was open is not how far this one is: a closing replay goes
    to shut, as far along as the human's progress went."""
    motion = SkillMotion(
        family, 1.5, values, {"s": np.r_[np.linspace(0, progress_to, 10), [progress_to] * 5]}
    )
    assert _run(cfg, skill, motion)["success"] is ok


def test_a_stir_loops_as_many_turns_as_the_human():
    cfg = make_cfg(["skill=all"])
    for turns, ok in ((1.5, True), (0.5, False)):
        motion = SkillMotion(
            "stir",
            2 * turns,
            {"turns": turns, "radius_m": 0.04},
            {"angle": np.linspace(0, 2 * np.pi * turns, 30)},
        )
        res = _run(cfg, "stir", motion)
        assert res["success"] is ok and abs(res["turns"] - turns) < 0.2


def test_a_stir_that_pushes_back_and_forth_is_fitted_as_strokes(cfg):
    pc, rng, N = cfg.retarget.primitives, np.random.default_rng(2), 90
    s = np.linspace(0, 1, N)
    to_and_fro = np.c_[0.05 * np.sin(2 * np.pi * 4 * s), 0.01 * s, 0 * s]  # 4 strokes there and back
    fit = fit_motion("stir", _noisy(to_and_fro, rng, 0.002), np.zeros((N, 3)), 6.0, UP, pc)
    assert fit.method == "strokes" and fit.values["reversals"] >= 6
    assert 0.035 < fit.values["stroke_m"] < 0.06 and abs(fit.values["axis_x"]) > 0.95
    th = 2 * np.pi * 1.5 * s
    loop = fit_motion(
        "stir", np.c_[0.04 * np.cos(th), 0.04 * np.sin(th), 0 * s], np.zeros((N, 3)), 3.0, UP, pc
    )
    assert loop.method == "loop"


@pytest.mark.parametrize("amplitude_m, ok", [(0.05, True), (0.01, False)])
def test_a_stir_pushes_back_and_forth_as_the_human_did(amplitude_m, ok):
    """A spatula pushed to and fro through the pot stirs (the sweep test); a wiggle of 1 cm does not."""
    cfg = make_cfg(["skill=all"])
    u = np.linspace(0, 1, 60)
    motion = SkillMotion(
        "stir",
        4.0,
        {
            "turns": 0.05,
            "radius_m": 0.03,
            "stroke_m": amplitude_m,
            "reversals": 7.0,
            "axis_x": 1.0,
            "axis_y": 0.0,
        },
        {"angle": np.zeros(60), "stroke": amplitude_m * np.sin(2 * np.pi * 4 * u)},
        "strokes",
    )
    res = _run(cfg, "stir", motion)
    assert res["success"] is ok and res["turns"] < 1.0
    assert (res["sweep_reversals"] >= 2) is ok


def test_the_stir_sweep_counts_turns_back_after_long_strokes():
    from vid2skill.scenes.stir import _Sweep

    sw = _Sweep(min_stroke_m=0.04)
    for x in 0.05 * np.sin(np.linspace(0, 2 * np.pi * 3, 200)):  # three strokes there and back, 10 cm range
        sw.add(np.array([x, 0.0]))
    assert sw.reversals == 6 and abs(sw.path_m - 0.6) < 0.01  # each of 6 ends, 4 cm back
    sw.reset()
    for x in 0.01 * np.sin(np.linspace(0, 2 * np.pi * 3, 200)):  # a 2 cm wiggle never turns back
        sw.add(np.array([x, 0.0]))
    assert sw.reversals == 0


def test_hinge_about_a_horizontal_axis_keeps_its_swing(cfg):
    """A lid or a panel turns about a horizontal axis: its swing comes from the arc in the path's own
    plane, or from the hand's turn about its own axis, not from a door's chord prior."""
    pc, rng, N = cfg.retarget.primitives, np.random.default_rng(1), 64
    s = np.linspace(0, 1, N)
    zeros = np.zeros((N, 3))
    a = np.radians(85) * s  # a lid's front edge 0.3 m from a horizontal hinge along contact y
    lid = np.c_[0.3 * (1 - np.cos(a)), 0 * s, 0.3 * np.sin(a)]
    fit = fit_motion("hinge", _noisy(lid, rng), zeros, 2.0, UP, pc)
    assert fit.method == "arc_plane" and abs(np.degrees(fit.values["angle_rad"]) - 85) < 8
    # A small panel held 6 cm from its pivot: no plausible circle, but the hand turned 70 degrees
    # about the horizontal axis with it.
    small = np.c_[0.06 * (1 - np.cos(np.radians(70) * s)), 0 * s, 0.06 * np.sin(np.radians(70) * s)]
    turn = np.c_[0 * s, np.radians(70) * s, 0 * s]
    fit = fit_motion("hinge", _noisy(small, rng, 0.002), turn, 2.0, UP, pc)
    assert fit.method == "wrist_turn" and abs(np.degrees(fit.values["angle_rad"]) - 70) < 5
    # Without the turn, the same short path falls back to the chord over a door's radius: a small swing.
    fit = fit_motion("hinge", _noisy(small, rng, 0.002), zeros, 2.0, UP, pc)
    assert fit.method == "chord" and np.degrees(fit.values["angle_rad"]) < 20


def test_a_pour_tilts_as_far_from_upright_as_the_held_object_was(cfg):
    """A bottle taken already tipped 80 deg that the hand then turns 20 deg more about the contact x:
    read against gravity it pours at ~100 deg; read from the grasp (or with no held axis kept) only
    the 20 deg turn counts."""
    from omegaconf import OmegaConf

    N = 40
    s = np.linspace(0, 1, N)
    turn = np.c_[np.radians(20) * s, 0 * s, 0 * s]  # about the contact x
    tipped = np.array([0.0, -np.sin(np.radians(80)), np.cos(np.radians(80))])  # in the y-z plane
    pc = cfg.retarget.primitives
    gravity = fit_motion("pour", np.zeros((N, 3)), turn, 2.0, UP, pc, held_axis=tipped)
    assert gravity.method == "gravity_tilt" and abs(np.degrees(gravity.values["tilt_rad"]) - 100) < 2
    assert gravity.profiles["tilt"][0] == pytest.approx(0.8, abs=0.02)  # tipped from the start
    grasp_cfg = OmegaConf.merge(pc, {"pour_tilt": "grasp"})
    grasp = fit_motion("pour", np.zeros((N, 3)), turn, 2.0, UP, grasp_cfg, held_axis=tipped)
    unknown = fit_motion("pour", np.zeros((N, 3)), turn, 2.0, UP, pc)
    for m in (grasp, unknown):
        assert m.method == "rotation" and abs(np.degrees(m.values["tilt_rad"]) - 20) < 2
    with pytest.raises(Vid2SkillError, match="pour_tilt"):
        fit_motion("pour", np.zeros((N, 3)), turn, 2.0, UP, OmegaConf.merge(pc, {"pour_tilt": "up"}))


def test_a_cup_found_tipped_is_tipped_over_from_upright_at_the_wrists_speed(cfg):
    """A human whose bottle was already tipped 110 deg when the manipulation began (profile 1 from
    its start): the robot's upright cup is rolled over at ``max_tilt_speed_deg_s`` after the transfer,
    not in one control step, then held; it pours."""
    from vid2skill.physics.bullet import BulletScene
    from vid2skill.scenes import SCENES

    motion = SkillMotion("pour", 0.4, {"tilt_rad": np.radians(110)}, {"tilt": np.ones(8)})
    skill = cfg.skill.pour
    with BulletScene() as scene:
        task = SCENES.get(skill.task)(scene, skill, cfg.sim.scenes.pour, np.random.default_rng(3))
        t0, tip = task._transfer_s(), task._tip_s(motion)
        speed = np.radians(skill.primitive.max_tilt_speed_deg_s)
        assert tip == pytest.approx(task.roll_for_tilt(np.radians(110)) / speed)
        assert task.primitive_time_s(motion) == pytest.approx(t0 + tip + 0.4 + skill.primitive.hold_s)
        # The cup's roll grows from none at the end of the transfer to the full tilt after the tip.
        R0 = task.primitive(motion, t0 - 1e-3)[0][:3, :3]
        angle = []
        for t in (t0, t0 + tip / 2, t0 + tip + 0.2):
            R = task.primitive(motion, t)[0][:3, :3]
            angle.append(np.degrees(np.arccos(np.clip((np.trace(R0.T @ R) - 1) / 2, -1, 1))))
        assert angle[0] < 1.0 and 0.3 < angle[1] / angle[2] < 0.7
    assert _run(cfg, "pour", motion)["success"] is True
