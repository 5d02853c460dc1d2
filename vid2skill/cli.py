"""Command line: ``vid2skill <stage> [hydra overrides]``.

Stages: ingest, extract, cluster, retarget, train, evaluate, export, or demo (all but export, in order).
Hydra composes the configuration from ``conf/`` (shipped inside the package as ``vid2skill.conf``);
errors a user can act on are printed as one line and exit with status 1.
"""

from __future__ import annotations

import logging
import sys

import hydra
from omegaconf import DictConfig

from vid2skill.errors import Vid2SkillError

USAGE = """usage: vid2skill <stage> [key=value ...]

stages (in data-flow order):
  ingest     make or collect clips            (source=synthetic | source=folder source.path=DIR)
  extract    hand trajectories from the clips (extract.stride=2 ...)
  cluster    group trajectories into a skill library
  retarget   robot demonstrations from the library (robot=panda)
  train      one policy per skill (policy=bc_mlp policy.train_on=auto|motion_rollouts|demos; dagger.iterations=N)
  evaluate   roll out a policy per skill in PyBullet (policy=expert|replay|bc_mlp|bc_mlp_dagger skill=all|NAME robot=panda|iiwa|xarm6 episodes=30 seed=0)
  export     the demos as a dataset (format=lerobot|robomimic) in <workspace>/export/<format>/<robot>/
  demo       ingest to evaluate, on built-in synthetic data by default

  skills [show NAME]   list the skill library (or show one skill's card and plot its trajectories)
  add PATH [skill=NAME] add a video, a folder of videos or a file:// URL to the library (new version)

common options: workspace=DIR  workers=N  seed=S  force=true  +debug=tiny
"""

STAGE_NAMES = ("ingest", "extract", "cluster", "retarget", "train", "evaluate", "export", "demo")
log = logging.getLogger("vid2skill")


@hydra.main(version_base="1.3", config_path="pkg://vid2skill.conf", config_name="config")
def _hydra_entry(cfg: DictConfig) -> None:
    from vid2skill.pipeline import run_demo, run_stage

    try:
        if cfg.stage == "demo":
            run_demo(cfg)
        else:
            run_stage(cfg, str(cfg.stage))
    except Vid2SkillError as e:
        print(f"vid2skill {cfg.stage}: error: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print(f"vid2skill {cfg.stage}: interrupted; finished items are kept and a rerun resumes", file=sys.stderr)
        sys.exit(130)


def _validate(overrides: list[str]) -> DictConfig:
    """Compose once up front so that a bad key or value fails with one line, not Hydra's traceback;
    returns the composed configuration."""
    from hydra import compose, initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    try:
        with initialize_config_module("vid2skill.conf", version_base="1.3"):
            return compose("config", overrides=[o for o in overrides if not o.startswith(("hydra.", "--", "-m"))])
    except Exception as e:  # Hydra raises several exception types for bad overrides
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        print(f"vid2skill: bad configuration: {first} (see `vid2skill --help`)", file=sys.stderr)
        sys.exit(2)
    finally:
        GlobalHydra.instance().clear()


def _skills_command(args: list[str]) -> None:
    """``vid2skill skills [show NAME] [workspace=DIR] [version=N]``: read-only, no Hydra run directory."""
    from pathlib import Path

    from vid2skill.skills.show import library_summary, show_skill

    name = None
    if args and args[0] == "show":
        if len(args) < 2 or "=" in args[1]:
            print("vid2skill skills: usage: vid2skill skills show NAME [workspace=DIR] [version=N]", file=sys.stderr)
            sys.exit(2)
        name, args = args[1], args[2:]
    opts = dict(a.split("=", 1) for a in args if "=" in a)
    unknown = sorted(set(opts) - {"workspace", "version"}) + [a for a in args if "=" not in a]
    if unknown:
        print(f"vid2skill skills: unknown argument(s) {unknown}; give workspace=DIR and version=N", file=sys.stderr)
        sys.exit(2)
    root = Path(opts.get("workspace", "data")).expanduser() / "skills"
    try:
        version = int(opts["version"]) if "version" in opts else None
        if name is None:
            print(library_summary(root, version))
        else:
            text, plot = show_skill(root, name, version)
            print(text)
            print(f"plot: {plot}")
    except ValueError:
        print(f"vid2skill skills: version={opts['version']!r} is not a number", file=sys.stderr)
        sys.exit(2)
    except Vid2SkillError as e:
        print(f"vid2skill skills: error: {e}", file=sys.stderr)
        sys.exit(1)


def _add_command(args: list[str]) -> None:
    """``vid2skill add <video|folder|url> [skill=NAME] [key=value ...]``."""
    import json
    from pathlib import Path

    from vid2skill.skills.add import run_add

    if not args or "=" in args[0]:
        print("vid2skill add: usage: vid2skill add <video|folder|file://url> [skill=NAME] [workspace=DIR ...]", file=sys.stderr)
        sys.exit(2)
    target, rest = args[0], args[1:]
    skill = next((a.split("=", 1)[1] for a in rest if a.startswith("skill=")), None)  # not the Hydra group here
    overrides = [a for a in rest if not a.startswith("skill=")]
    cfg = _validate(overrides + ["stage=add"])
    logging.basicConfig(level=logging.INFO, format="[%(name)s] %(message)s")
    try:
        out = run_add(cfg, Path(str(cfg.workspace)).expanduser(), target, skill, int(cfg.workers))
    except Vid2SkillError as e:
        print(f"vid2skill add: error: {e}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps({"version": out["version"], "decisions": out["decisions"]}, indent=1))


def main() -> None:
    args = sys.argv[1:]
    if not args or args[0] in ("-h", "--help", "help"):
        print(USAGE)
        sys.exit(0 if args else 2)
    if args[0] == "skills":
        _skills_command(args[1:])
        return
    if args[0] == "add":
        _add_command(args[1:])
        return
    stage, overrides = args[0], args[1:]
    if stage not in STAGE_NAMES:
        print(f"vid2skill: unknown stage {stage!r}; choose one of {', '.join(STAGE_NAMES)}", file=sys.stderr)
        sys.exit(2)
    _validate(overrides + [f"stage={stage}"])
    sys.argv = [sys.argv[0], *overrides, f"stage={stage}"]
    _hydra_entry()


if __name__ == "__main__":
    main()
