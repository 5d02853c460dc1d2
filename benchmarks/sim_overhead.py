"""Simulation overhead of an evaluation episode: physics steps per second of a whole episode
(scene, oracle grasp, scripted expert, IK control, success test; rendering off) against raw
``stepSimulation`` of the same scene (same bodies, same robot) in the same run.

    python benchmarks/sim_overhead.py --skills slide_open,pick,pour --robot panda --episodes 5
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from vid2skill.physics.bullet import BulletScene
from vid2skill.physics.robot import Robot
from vid2skill.retarget.stage import robot_spec
from vid2skill.sim.episode import EpisodeRunner
from vid2skill.sim.policies import ExpertPolicy
from vid2skill.scenes import TASKS


def compose(robot: str):
    from hydra import compose as hcompose, initialize_config_module

    with initialize_config_module("vid2skill.conf", version_base="1.3"):
        return hcompose("config", overrides=[f"robot={robot}"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skills", default="slide_open,hinge_open,pick,place,pour,stir,cut")
    ap.add_argument("--robot", default="panda")
    ap.add_argument("--episodes", type=int, default=5)
    ap.add_argument("--seed", type=int, default=100000)
    args = ap.parse_args()
    cfg = compose(args.robot)
    spec = robot_spec(cfg.robot)
    counter = {"n": 0}
    original_step = BulletScene.step

    def counting_step(self, n: int = 1):
        counter["n"] += n
        original_step(self, n)

    print(f"{'skill':12s} {'episode steps/s':>16s} {'raw steps/s':>12s} {'ratio':>6s}")
    ratios = []
    for skill in args.skills.split(","):
        runner = EpisodeRunner(cfg.skill[skill], cfg.sim, spec)
        runner.run(ExpertPolicy(), args.seed)  # warm-up: URDF writes, IK twin
        BulletScene.step = counting_step
        counter["n"] = 0
        t0 = time.perf_counter()
        for i in range(args.episodes):
            runner.run(ExpertPolicy(), args.seed + i)
        episode_rate = counter["n"] / (time.perf_counter() - t0)
        BulletScene.step = original_step
        # Raw: the same scenes with the robot in them, stepped with nothing else going on.
        raw_steps, raw_time = 0, 0.0
        for i in range(args.episodes):
            with BulletScene(timestep_s=cfg.sim.timestep_s) as scene:
                task = TASKS[cfg.skill[skill].task](scene, cfg.skill[skill], cfg.sim.scenes[cfg.skill[skill].task],
                                                    np.random.default_rng(args.seed + i))
                Robot(scene, spec, base_position=task.robot_base + np.asarray(spec.mount_offset_m), visual=False)
                n = 2000
                t0 = time.perf_counter()
                scene.step(n)
                raw_time += time.perf_counter() - t0
                raw_steps += n
        raw_rate = raw_steps / raw_time
        ratios.append(episode_rate / raw_rate)
        print(f"{skill:12s} {episode_rate:16.0f} {raw_rate:12.0f} {episode_rate / raw_rate:6.2f}")
    print(f"median ratio {np.median(ratios):.2f} (target >= 0.75)")


if __name__ == "__main__":
    main()
