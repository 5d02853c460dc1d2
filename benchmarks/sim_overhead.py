"""Simulation overhead of an evaluation episode: physics steps per second of a whole episode
(scene, oracle grasp, scripted expert, IK control, success test; rendering off) against two
baselines measured in the same run:

* raw ``stepSimulation`` of the same scene (same bodies, same robot) standing idle, and
* the episode's own ``stepSimulation`` calls (the same steps with the same contacts: the arm
  pulling a drawer or 20 spheres in a cup cost more per step than an idle scene), timed inside it.

    python benchmarks/sim_overhead.py --skills slide_open,pick,pour --robot panda --episodes 5
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from vid2skill.physics.bullet import BulletScene
from vid2skill.physics.robot import Robot
from vid2skill.retarget.stage import robot_spec
from vid2skill.scenes import SCENES
from vid2skill.sim.episode import EpisodeRunner
from vid2skill.sim.policies import ExpertPolicy


def compose(robot: str):
    from vid2skill.config import compose as compose_config

    return compose_config([f"robot={robot}"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skills", default="slide_open,hinge_open,pick,place,pour,stir,cut")
    ap.add_argument("--robot", default="panda")
    ap.add_argument("--episodes", type=int, default=5)
    ap.add_argument("--seed", type=int, default=100000)
    args = ap.parse_args()
    cfg = compose(args.robot)
    spec = robot_spec(cfg.robot)
    counter = {"n": 0, "t": 0.0}
    original_step = BulletScene.step

    def counting_step(self, n: int = 1):
        counter["n"] += n
        t = time.perf_counter()
        original_step(self, n)
        counter["t"] += time.perf_counter() - t

    print(
        f"{'skill':12s} {'episode steps/s':>16s} {'idle steps/s':>13s} {'ratio':>6s} "
        f"{'in-episode steps/s':>19s} {'ratio':>6s}"
    )
    ratios, inner_ratios = [], []
    for skill in args.skills.split(","):
        runner = EpisodeRunner(cfg.skill[skill], cfg.sim, spec)
        runner.run(ExpertPolicy(), args.seed)  # warm-up: URDF writes, IK twin
        BulletScene.step = counting_step
        counter["n"], counter["t"] = 0, 0.0
        t0 = time.perf_counter()
        for i in range(args.episodes):
            runner.run(ExpertPolicy(), args.seed + i)
        episode_rate = counter["n"] / (time.perf_counter() - t0)
        inner_rate = counter["n"] / counter["t"]
        BulletScene.step = original_step
        # Raw: the same scenes with the robot in them, stepped with nothing else going on.
        raw_steps, raw_time = 0, 0.0
        for i in range(args.episodes):
            with BulletScene(timestep_s=cfg.sim.timestep_s) as scene:
                task = SCENES.get(cfg.skill[skill].task)(
                    scene,
                    cfg.skill[skill],
                    cfg.sim.scenes[cfg.skill[skill].task],
                    np.random.default_rng(args.seed + i),
                )
                Robot(
                    scene, spec, base_position=task.robot_base + np.asarray(spec.mount_offset_m), visual=False
                )
                n = 2000
                t0 = time.perf_counter()
                scene.step(n)
                raw_time += time.perf_counter() - t0
                raw_steps += n
        raw_rate = raw_steps / raw_time
        ratios.append(episode_rate / raw_rate)
        inner_ratios.append(episode_rate / inner_rate)
        print(
            f"{skill:12s} {episode_rate:16.0f} {raw_rate:13.0f} {ratios[-1]:6.2f} {inner_rate:19.0f} "
            f"{inner_ratios[-1]:6.2f}"
        )
    print(
        f"median ratio: {np.median(ratios):.2f} against the idle scene, {np.median(inner_ratios):.2f} "
        "against the episode's own steps (target >= 0.75)"
    )


if __name__ == "__main__":
    main()
