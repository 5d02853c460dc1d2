"""Command line: ``vid2skill <stage> [hydra overrides]``.

Stages: ingest, extract, cluster, retarget, train, evaluate, export, or demo (all but export, in order),
or run to=STAGE (every stage up to that one). A stage whose upstream has not run runs it first.
Hydra composes the configuration from ``conf/`` (shipped inside the package as ``vid2skill.conf``);
errors a user can act on are printed as one line and exit with status 1.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from vid2skill.config import compose  # also registers the schemas that Hydra's composition checks
from vid2skill.errors import Vid2SkillError

USAGE = """usage: vid2skill <stage> [key=value ...]

stages (in data-flow order):
  ingest     make or collect clips            (source=synthetic | source=folder source.path=DIR)
  extract    hand trajectories from the clips (extract.stride=2 ...)
  cluster    group trajectories into a skill library
  retarget   robot demonstrations from the library (robot=panda)
  train      one policy per skill (policy=bc_mlp|act policy.train_on=auto|motion_rollouts|demos|select;
             dagger.iterations=N)
  evaluate   roll out a policy per skill in PyBullet (policy=expert|replay|bc_mlp|bc_mlp_dagger|act
             skill=all|NAME robot=panda|iiwa|xarm6 episodes=30 seed=0)
  export     the demos as a dataset (format=lerobot|robomimic) in <workspace>/export/<format>/<robot>/
  demo       ingest to evaluate, on built-in synthetic data by default
  run        every stage up to one, each rerun only if its inputs or settings changed (to=train)

  skills [show NAME]   list the skill library (or show one skill's card and plot its trajectories)
  add PATH [skill=NAME] add a video, a folder of videos or a file:// URL to the library (new version;
                       a stage: the same target again, unchanged, is skipped)
  report [real_to_robot=PATH]  one self-contained HTML page of the workspace: <workspace>/report/index.html

common options: workspace=DIR  workers=N  seed=S  force=true  debug=tiny   (paths may start with ~)
"""

STAGE_NAMES = ("ingest", "extract", "cluster", "retarget", "train", "evaluate", "export", "demo", "run")
log = logging.getLogger("vid2skill")


@hydra.main(version_base="1.3", config_path="pkg://vid2skill.conf", config_name="config")
def _hydra_entry(cfg: DictConfig) -> None:
    from vid2skill.pipeline import run_demo, run_stage, run_to

    try:
        if cfg.stage == "demo":
            run_demo(cfg)
        elif cfg.stage == "run":
            run_to(cfg, str(cfg.to))
        else:
            run_stage(cfg, str(cfg.stage))
    except Vid2SkillError as e:
        print(f"vid2skill {cfg.stage}: error: {e}", file=sys.stderr)
        sys.exit(1)
    except OSError as e:  # a full disk, a folder made read-only or deleted under a running stage
        print(f"vid2skill {cfg.stage}: error: {_os_error(e)}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print(
            f"vid2skill {cfg.stage}: interrupted; finished items are kept and a rerun resumes",
            file=sys.stderr,
        )
        sys.exit(130)


def first_of_sweep(override: str) -> str:
    """``key=a,b,c`` -> ``key=a`` (a Hydra sweep's first value); other overrides unchanged."""
    key, sep, value = override.partition("=")
    if not sep or value.startswith(("[", "{", "'", '"')) or "(" in value:
        return override
    return f"{key}={value.split(',')[0]}"


def _or_one_line(command: str, fn):
    """``fn()``'s result; an error a user can act on is printed as one line, and the command exits 1."""
    try:
        return fn()
    except Vid2SkillError as e:
        print(f"vid2skill {command}: error: {e}", file=sys.stderr)
    except OSError as e:
        print(f"vid2skill {command}: error: {_os_error(e)}", file=sys.stderr)
    sys.exit(1)


def _os_error(e: OSError) -> str:
    return f"{e.strerror or e}: {e.filename}" if e.filename else str(e.strerror or e)


def _dotted_keys(node, prefix: str = "") -> list[str]:
    if not isinstance(node, dict):
        return [prefix[:-1]] if prefix else []
    keys = [prefix[:-1]] if prefix else []
    for k, v in node.items():
        keys += _dotted_keys(v, f"{prefix}{k}.")
    return keys


_WRONG_TYPE = {  # OmegaConf's complaint -> what the value is not
    "converted to Integer": "is not a whole number",
    "converted to Float": "is not a number",
    "not a valid bool": "is not true or false",
    "is not a ListConfig": "is not a list, e.g. [a,b]",
}


def _config_error(e: Exception, overrides: list[str]) -> str:
    """Hydra's message in one line, keeping what helps: a config group's available options, and the
    nearest existing key or option for a typo."""
    from omegaconf import OmegaConf

    lines = [line.strip() for line in str(e).strip().splitlines() if line.strip()]
    if not lines:
        return type(e).__name__
    msg = lines[0]
    wrong = re.match(r"Error merging override ([^=]+)=(.*)$", msg)
    if wrong and e.__cause__ is not None:  # a value of the wrong type for its schema (vid2skill/config.py)
        cause = (str(e.__cause__).strip().splitlines() or [""])[0]
        kind = next((w for k, w in _WRONG_TYPE.items() if k in cause), None)
        key, value = wrong.groups()
        shown = value if re.fullmatch(r"[-+]?[0-9.eE]+", value) else f"'{value}'"  # a number as typed
        msg = f"{key}={shown} {kind}" if kind else f"{key}={value}: {cause}"
    composing = re.match(r"In '([^']+)': \w+ raised while composing config:", msg)
    if composing and len(lines) > 1:  # a YAML file that its schema (vid2skill/config.py) rejects
        where = next((line for line in lines[2:] if line.startswith("full_key:")), "")
        msg = f"conf/{composing.group(1)}.yaml: {lines[1]}" + (f" ({where})" if where else "")
    missing = re.search(r"Could not find '([^'/]+)/([^']+)'", msg)
    head = next((i for i, line in enumerate(lines) if line.startswith("Available options")), None)
    if head is not None:
        options = []
        for line in lines[head + 1 :]:
            if line.startswith("Config search path"):
                break
            options.append(line)
        msg += f"; {lines[head].rstrip(':')}: {' '.join(options)}"
        near = difflib.get_close_matches(missing.group(2), options, n=1) if missing else []
        if near:
            msg += f"; did you mean {missing.group(1)}={near[0]}?"
    typo = re.search(r"Could not override '([^']+)'", msg) or re.search(
        r"Key '[^']+' is not in struct.*full_key: (\S+)", str(e), re.S
    )
    if typo:
        key = typo.group(1)
        try:  # the keys of the configuration as the user's other overrides (group choices) make it
            known = compose([o for o in overrides if not o.lstrip("+~").startswith(key + "=")])
        except Exception:  # noqa: BLE001 - those overrides fail as well: the default configuration's keys
            known = compose([])
        keys = _dotted_keys(OmegaConf.to_container(known, resolve=False))
        near = difflib.get_close_matches(key, keys, n=1, cutoff=0.6)
        if near:
            msg = f"Could not override '{key}': no such key; did you mean {near[0]}?"
        elif len(lines) > 1:
            msg += " " + lines[1]
    multiple = re.match(r"Multiple values for (\w+)", msg)
    if multiple:
        msg = f"{multiple.group(1)} is chosen already; give {multiple.group(1)}=... without '+'"
    return msg


def _validate(overrides: list[str], stage: str) -> DictConfig:
    """Compose once up front so that a bad key or value fails with one line, not Hydra's traceback;
    returns the composed configuration."""
    from vid2skill.pipeline import check_config

    try:
        cfg = compose(overrides)
    except Exception as e:  # Hydra raises several exception types for bad overrides
        print(
            f"vid2skill: bad configuration: {_config_error(e, overrides)} (see `vid2skill --help`)",
            file=sys.stderr,
        )
        sys.exit(2)
    try:
        check_config(cfg, stage)
    except Vid2SkillError as e:
        print(f"vid2skill: bad configuration: {e}", file=sys.stderr)
        sys.exit(2)
    return cfg


def _check_workspace(cfg: DictConfig, command: str, create: bool = True) -> None:
    """The workspace must be a folder this user can write (Hydra writes its logs there first);
    ``create`` makes it where it is missing."""
    ws = Path(str(cfg.workspace)).expanduser()
    problem = None
    if ws.exists() and not ws.is_dir():
        problem = "is a file, not a folder"
    elif not create and not ws.exists():
        return  # the command says what it misses there
    else:
        try:
            ws.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            problem = f"cannot be created ({e.strerror})"
        else:
            if not os.access(ws, os.W_OK | os.X_OK):
                problem = "is not writable by you"
    if problem:
        print(
            f"vid2skill {command}: error: workspace={ws} {problem}; choose a folder you can write to, "
            "e.g. workspace=~/vid2skill_data",
            file=sys.stderr,
        )
        sys.exit(1)


_HOME = re.compile(r"~[A-Za-z0-9_.-]*(/|$)")


def expand_home(override: str) -> str:
    """``key=~/dir`` (a lexer error in Hydra) and ``key='~/dir'`` (Hydra would make a literal ``./~``
    folder of it) both become ``key=/home/me/dir``."""
    key, sep, value = override.partition("=")
    if not sep or not key or key.startswith(("-", "hydra.")):
        return override
    quoted = len(value) >= 2 and value[0] == value[-1] and value[0] in "'\""
    text = value[1:-1] if quoted else value
    if not _HOME.match(text):
        return override
    path = os.path.expanduser(text)
    if path == text:  # ~someone who does not exist: left for the user to see
        return override
    if re.fullmatch(r"[A-Za-z0-9_./:+@,-]+", path):
        return f"{key}={path}"
    return f"{key}='" + path.replace("'", "\\'") + "'"


def _skills_command(args: list[str]) -> None:
    """``vid2skill skills [show NAME] [workspace=DIR] [version=N]``: read-only, no Hydra run directory."""
    from vid2skill.skills.show import library_summary, show_skill
    from vid2skill.workspace import Workspace

    name = None
    if args and args[0] == "show":
        if len(args) < 2 or "=" in args[1]:
            print(
                "vid2skill skills: usage: vid2skill skills show NAME [workspace=DIR] [version=N]",
                file=sys.stderr,
            )
            sys.exit(2)
        name, args = args[1], args[2:]
    opts = dict(a.split("=", 1) for a in args if "=" in a)
    unknown = sorted(set(opts) - {"workspace", "version"}) + [a for a in args if "=" not in a]
    if unknown:
        print(
            f"vid2skill skills: unknown argument(s) {unknown}; give workspace=DIR and version=N",
            file=sys.stderr,
        )
        sys.exit(2)
    # the default workspace is the configuration's (conf/config.yaml), read only when none is given
    root = Workspace(opts["workspace"] if "workspace" in opts else str(compose([]).workspace)).skills
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

    from omegaconf import open_dict

    from vid2skill.hints import user_overrides
    from vid2skill.pipeline import run_stage

    if not args or "=" in args[0]:
        print(
            "vid2skill add: usage: vid2skill add <video|folder|file://url> [skill=NAME] [workspace=DIR ...]",
            file=sys.stderr,
        )
        sys.exit(2)
    target, rest = args[0], args[1:]
    skill = next(
        (a.split("=", 1)[1] for a in rest if a.startswith("skill=")), None
    )  # not the Hydra group here
    overrides = [expand_home(a) for a in rest if not a.startswith("skill=")]
    cfg = _validate(overrides + ["stage=add"], "add")
    _check_workspace(cfg, "add", create=False)
    logging.basicConfig(level=logging.INFO, format="[%(name)s] %(message)s")
    with open_dict(cfg):  # set here, not as overrides: a path or URL may hold what Hydra's grammar reads
        cfg.add.target, cfg.add.skill = target, skill
    with user_overrides(overrides):
        out = _or_one_line(
            "add",
            lambda: run_stage(cfg, "add"),
        )
    print(json.dumps({"version": out["version"], "decisions": out["decisions"]}, indent=1))


def _report_command(args: list[str]) -> None:
    """``vid2skill report [real_to_robot=PATH] [workspace=DIR ...]``: read-only over the stages' artifacts."""
    from vid2skill.hints import user_overrides
    from vid2skill.report.page import write_report

    # real_to_robot=PATH is short for report.real_to_robot=PATH
    overrides = [expand_home("report." + a if a.startswith("real_to_robot=") else a) for a in args]
    cfg = _validate(overrides + ["stage=report"], "report")
    _check_workspace(cfg, "report", create=False)
    logging.basicConfig(level=logging.INFO, format="[%(name)s] %(message)s")
    with user_overrides([o for o in overrides if not o.startswith("report.")]):
        print(_or_one_line("report", lambda: write_report(cfg, Path(str(cfg.workspace)).expanduser())))


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
    if args[0] == "report":
        _report_command(args[1:])
        return
    stage, overrides = args[0], args[1:]
    if stage not in STAGE_NAMES:
        print(f"vid2skill: unknown stage {stage!r}; choose one of {', '.join(STAGE_NAMES)}", file=sys.stderr)
        sys.exit(2)
    from vid2skill.hints import user_overrides

    overrides = [expand_home(o) for o in overrides]
    multirun = any(o in ("-m", "--multirun") for o in overrides)
    # A sweep (-m policy=a,b seed=0,1) is checked as its first run; Hydra then runs every combination.
    cfg = _validate([first_of_sweep(o) if multirun else o for o in overrides] + [f"stage={stage}"], stage)
    _check_workspace(cfg, stage)
    argv = sys.argv
    sys.argv = [sys.argv[0], *overrides, f"stage={stage}"]  # what Hydra reads
    try:
        with user_overrides(overrides):
            _hydra_entry()
    finally:  # run in-process (a test), the command leaves neither behind
        sys.argv = argv


if __name__ == "__main__":
    main()
