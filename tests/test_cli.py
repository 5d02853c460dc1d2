import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import make_cfg

CONF = Path(__file__).resolve().parents[1] / "conf"


def _run(*args, **kw):
    return subprocess.run(
        [sys.executable, "-m", "vid2skill.cli", *args], capture_output=True, text=True, timeout=120, **kw
    )


def test_unknown_stage_and_key_fail_with_one_line(tmp_path):
    r = _run("bogus")
    assert r.returncode == 2 and "unknown stage 'bogus'" in r.stderr
    r = _run("extract", f"workspace={tmp_path}", "extract.no_such_key=1")
    assert r.returncode == 2
    errors = [line for line in r.stderr.splitlines() if "vid2skill" in line]
    assert len(errors) == 1 and "no_such_key" in errors[0]


def test_a_stage_runs_its_missing_upstream_and_reports_its_error_in_one_line(tmp_path):
    missing = tmp_path / "no_such_folder"
    r = _run("extract", f"workspace={tmp_path / 'ws'}", "source=folder", f"source.path={missing}")
    assert r.returncode == 1 and r.stderr.count("\n") == 1, r.stderr
    assert "extract  needs ingest, which has not run" in r.stdout  # the log says it ran ingest first
    assert f"source.path={missing}: not a folder" in r.stderr


@pytest.mark.parametrize(
    "group", sorted(p.name for p in CONF.iterdir() if p.is_dir() and not p.name.startswith("_"))
)
def test_every_config_group_option_composes(group):
    for option in sorted((CONF / group).glob("*.yaml")):
        cfg = make_cfg([f"{group}={option.stem}"])
        assert cfg[group] is not None if group != "debug" else cfg.source.clips_per_skill > 0


def test_skills_lists_the_library_and_shows_a_card(tmp_path):
    import numpy as np

    from vid2skill.skills.library import SkillCard, SkillLibrary

    t = np.linspace(0, 1, 8)[:, None]
    cards = {
        name: SkillCard(
            name,
            [{"clip": f"{name}_{i}", "label": name} for i in range(3)],
            {f"{name}_{i}": sign * t * np.array([0.2, 0.0, 0.01 * i]) for i in range(3)},
            {f"{name}_{i}": 1.0 + i for i in range(3)},
            {"outliers": [], "mean_duration_s": 2.0},
        )
        for name, sign in (("pull", -1), ("push", 1))
    }
    SkillLibrary(0, cards).save(tmp_path / "skills")
    r = _run("skills", f"workspace={tmp_path}")
    assert r.returncode == 0 and "v0001" in r.stdout
    assert [line.split()[:2] for line in r.stdout.splitlines()[3:]] == [["pull", "3"], ["push", "3"]]
    r = _run("skills", "show", "push", f"workspace={tmp_path}")
    assert r.returncode == 0 and "push_2" in r.stdout
    assert (tmp_path / "skills" / "v0001" / "plots" / "push.png").stat().st_size > 1000
    r = _run("skills", "show", "stir", f"workspace={tmp_path}")
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "no skill 'stir'" in r.stderr
    r = _run("skills", f"workspace={tmp_path}", "colour=red")
    assert r.returncode == 2 and "unknown argument" in r.stderr


def test_add_without_a_library_or_a_target_fails_with_one_line(tmp_path):
    r = _run("add")
    assert r.returncode == 2 and "usage: vid2skill add" in r.stderr
    r = _run("add", str(tmp_path), f"workspace={tmp_path}")
    assert r.returncode == 1 and "run `vid2skill cluster` first" in r.stderr


def test_run_to_an_unknown_stage_fails_with_one_line(tmp_path):
    r = _run("run", "to=trian", f"workspace={tmp_path}")
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "to='trian' is not a stage" in r.stderr


def test_a_sweep_is_checked_as_its_first_run():
    from vid2skill.cli import first_of_sweep

    assert first_of_sweep("seed=0,1,2") == "seed=0"
    assert first_of_sweep("robot=panda,iiwa") == "robot=panda"
    assert first_of_sweep("source.skills=[pick,place]") == "source.skills=[pick,place]"
    assert first_of_sweep("seed=range(3)") == "seed=range(3)"
    assert first_of_sweep("-m") == "-m"
