"""Does a plain lift hold the object up? Per robot, how many pick scenes a straight ``--lift``-metre
rise over one second (then holding) leaves a success: the object at least the skill's ``lift_m``
above where it rested, for ``hold_s``. A human's lift is that simple; what fails here is the
oracle grasp the scene chose (the jaws wider than the object's narrow side, or closing beside it),
not the motion. The objects are the scene's own (``conf/sim/pybullet.yaml``, ``scenes.pick.objects``).

    python benchmarks/pick_lift.py --robots panda,iiwa,xarm6 --start 100100 --n 300
"""

from __future__ import annotations

import argparse
from collections import Counter

import numpy as np

from vid2skill.config import compose
from vid2skill.retarget.primitives import SkillMotion
from vid2skill.retarget.stage import robot_spec
from vid2skill.sim.episode import EpisodeRunner
from vid2skill.sim.policies import MotionReplayPolicy


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--robots", default="panda,iiwa,xarm6")
    ap.add_argument("--lift", type=float, default=0.2, help="metres")
    ap.add_argument("--start", type=int, default=100100, help="first scene seed")
    ap.add_argument("--n", type=int, default=300, help="scenes per robot")
    args = ap.parse_args()
    lift = SkillMotion("lift", 1.0, {"lift_m": args.lift}, {"s": np.linspace(0.0, 1.0, 30)}, "rise")
    for robot in args.robots.split(","):
        cfg = compose([f"robot={robot}"])
        runner = EpisodeRunner(cfg.skill["pick"], cfg.sim, robot_spec(cfg.robot))
        runs = [runner.run(MotionReplayPolicy(lift), s) for s in range(args.start, args.start + args.n)]
        failed = [r for r in runs if not r["success"]]
        by_object = Counter(r["object"].split("/")[0] for r in failed)
        print(
            f"{robot:<6} failed {len(failed)} of {len(runs)}"
            + (f": seeds {[r['seed'] for r in failed]}, objects {dict(by_object)}" if failed else "")
        )


if __name__ == "__main__":
    main()
