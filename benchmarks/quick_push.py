"""Does a quick push shut the drawer? Per robot and pace, how many slide_close scenes a straight
push into the drawer (``--push`` metres along the handle's axis, over the pace in seconds, then one
control step holding and the release) leaves within the skill's success threshold of shut. Fast
human pushes are what real closing clips show (0.3 s for 15 cm); the arm's tracking IK has to keep
up with them. ``--clip-each-joint`` runs the tracking solve as it was before it kept its step's
direction (each joint clipped to its box on its own), for the before-and-after in one command.

    python benchmarks/quick_push.py --robots panda,iiwa,xarm6 --paces 0.33,0.47,1.0 --n 10
    python benchmarks/quick_push.py --clip-each-joint
"""

from __future__ import annotations

import argparse
import functools

from vid2skill.config import compose
from vid2skill.physics.robot import Kinematics
from vid2skill.retarget.stage import robot_spec
from vid2skill.sim.env import SkillEnv


def push(env: SkillEnv, seed: int, push_m: float, steps: int) -> dict:
    """One scene: push ``push_m`` along the contact frame's x in ``steps`` control steps, hold one
    step, release; the episode's record."""
    env.reset(seed=seed)
    T0 = env.T_cmd.copy()
    for k in range(1, steps + 2):
        T = T0.copy()
        T[0, 3] += push_m * min(k, steps) / steps
        env.step_to(T, True)
    env.step_to(env.T_cmd, False)
    return env.result()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--robots", default="panda,iiwa,xarm6")
    ap.add_argument("--paces", default="0.33,0.47,1.0", help="seconds per push")
    ap.add_argument("--push", type=float, default=0.18, help="metres")
    ap.add_argument("--start", type=int, default=300000, help="first scene seed")
    ap.add_argument("--n", type=int, default=10, help="scenes per robot and pace")
    ap.add_argument("--clip-each-joint", action="store_true", help="the tracking IK before keep_direction")
    args = ap.parse_args()
    if args.clip_each_joint:
        ik = Kinematics.ik
        Kinematics.ik = functools.wraps(ik)(
            lambda self, *a, **k: ik(self, *a, **{**k, "keep_direction": False})
        )
    shut = total = 0
    for robot in args.robots.split(","):
        cfg = compose([f"robot={robot}"])
        env = SkillEnv(cfg.skill["slide_close"], cfg.sim, robot_spec(cfg.robot))
        try:
            for pace in (float(s) for s in args.paces.split(",")):
                steps = max(1, round(pace * cfg.sim.control_hz))
                runs = [push(env, seed, args.push, steps) for seed in range(args.start, args.start + args.n)]
                ok = [r["seed"] for r in runs if r["success"]]
                open_m = [r["opening_m"] for r in runs if not r["success"]]
                shut, total = shut + len(ok), total + len(runs)
                print(
                    f"{robot:6s} {pace:4.2f} s  shut {len(ok):2d} of {len(runs)}  left open (m): {open_m}",
                    flush=True,
                )
        finally:
            env.close()
    print(f"shut in all: {shut} of {total}")


if __name__ == "__main__":
    main()
