"""How often the oracle reach misses its grasp: per robot and skill, the scenes (seeds) whose oracle
grasp ends more than ``--tolerance`` from its target. A missed grasp fails the episode before any
policy acts, so it caps every figure of that skill.

    python benchmarks/oracle_grasp.py --robots panda,iiwa,xarm6 --starts 100000,220000,230000 --n 30
"""

from __future__ import annotations

import argparse

from vid2skill.config import compose
from vid2skill.retarget.stage import robot_spec
from vid2skill.sim.env import SkillEnv

REACHING = ("slide_open", "slide_close", "hinge_open", "hinge_close", "pick")  # the others start in hand


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--robots", default="panda,iiwa,xarm6")
    ap.add_argument("--skills", default=",".join(REACHING))
    ap.add_argument("--starts", default="100000,220000,230000", help="first seed of each block")
    ap.add_argument("--n", type=int, default=30, help="scenes per block")
    ap.add_argument("--tolerance", type=float, default=0.01, help="metres")
    args = ap.parse_args()
    total = 0
    for robot in args.robots.split(","):
        cfg = compose([f"robot={robot}"])
        for skill in args.skills.split(","):
            env = SkillEnv(cfg.skill[skill], cfg.sim, robot_spec(cfg.robot))
            missed, scenes = [], 0
            try:
                for lo in (int(s) for s in args.starts.split(",")):
                    for seed in range(lo, lo + args.n):
                        env.reset(seed=seed)
                        scenes += 1
                        if env.grasp_error > args.tolerance:
                            missed.append((seed, round(env.grasp_error, 3)))
            finally:
                env.close()
            total += len(missed)
            print(f"{robot:6s} {skill:12s} missed {len(missed):2d} of {scenes}  {missed}", flush=True)
    print(f"missed grasps in all: {total}")


if __name__ == "__main__":
    main()
