"""The configuration's schema (vid2skill/config.py): every group's every option composes, is checked
against its dataclass and instantiates; a misspelt key or a value of the wrong type fails with one
line; the defaults live only in the YAML."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from omegaconf import MISSING, OmegaConf

from tests.helpers import make_cfg
from vid2skill import config
from vid2skill.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "conf"
GROUPS = sorted(p.name for p in CONF.iterdir() if p.is_dir() and not p.name.startswith("_"))
# What an option leaves for the user to give (`???` in its YAML).
REQUIRED = {
    "source=folder": ["source.path=/videos"],
    "source=epic": ["source.annotations=EPIC_100_validation.csv", "source.videos=/videos"],
    "source=ssv2": ["source.labels=labels.json", "source.videos=/videos"],
}


def _options():
    return [(g, p.stem) for g in GROUPS for p in sorted((CONF / g).glob("*.yaml"))]


@pytest.mark.parametrize("group,option", _options())
def test_every_option_of_every_group_composes_checked_and_instantiates(group, option):
    choice = f"{group}={option}"
    cfg = make_cfg([choice, *REQUIRED.get(choice, [])])
    # Every value is given (no `???` left) and every interpolation resolves.
    OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
    if group == "debug":
        assert cfg.source.clips_per_skill > 0
        return
    node = cfg[group]
    if group == "skill":
        names = list(node)
        assert names == list(config.SKILLS) if option == "all" else names == [option]
        for name in names:
            assert OmegaConf.get_type(node[name]) is config.SKILLS[name]
            skill = OmegaConf.to_object(node[name])
            assert dataclasses.is_dataclass(skill) and skill.name == name
        return
    # The option's node is its schema's dataclass (so Hydra checked keys and types) and builds one.
    assert OmegaConf.get_type(node) in config.SCHEMAS[group].values()
    assert dataclasses.is_dataclass(OmegaConf.to_object(node))
    if group == "robot":
        from vid2skill.retarget.stage import robot_spec

        assert robot_spec(node).name == option
    if group == "policy":
        from vid2skill.pipeline import _section
        from vid2skill.policy.registry import get_policy

        entry = get_policy(option)
        if entry.made_by == "train":  # the policy's own configuration accepts every key the YAML gives
            entry.config_cls(**{k: v for k, v in _section(cfg, "policy").items() if k != "name"})
    if group == "labels":
        from vid2skill.ingest.lexicon import Lexicon

        assert Lexicon.from_config(node).skills


def test_the_synthetic_source_composes_the_skills_it_stages():
    """Staged clips read each skill's definition from the composed source (no YAML read behind
    Hydra's back), whichever skill= the evaluation selects."""
    cfg = make_cfg(["skill=pick"])
    assert list(cfg.skill) == ["pick"]
    assert list(cfg.source.skill_definitions) == list(config.SKILLS)
    assert cfg.source.skill_definitions.place.settle_s == 1.5 and cfg.source.settle_s == 0.5
    assert {k: cfg.source.skill_definitions[k].sense for k in ("slide_open", "hinge_close")} == {
        "slide_open": "open",
        "hinge_close": "close",
    }


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "vid2skill.cli", *args], capture_output=True, text=True, timeout=120, cwd=ROOT
    )


@pytest.mark.parametrize(
    "override,expected",
    [
        ("cluster.max_segmets=2", r"cluster\.max_segmets.*did you mean cluster\.max_segments"),
        ("skill.pick.success.lift_mm=0.1", r"skill\.pick\.success\.lift_mm"),
        ("robot.finger_forse=10", r"robot\.finger_forse.*did you mean robot\.finger_force"),
        ("source.fps=fast", r"source\.fps='fast' is not a whole number"),
        ("sim.scenes.drawer.travel_m=0.3", r"sim\.scenes\.drawer\.travel_m=0\.3 is not a list"),
        ("cluster.use_labels_for_names=maybe", r"use_labels_for_names='maybe' is not true or false"),
        # '+' adds a key where Hydra allows it; a checked node's schema still refuses it
        ("+skill.pick.horizn_s=3", r"skill\.pick\.horizn_s.*PickSkill.*did you mean skill\.pick\.horizon_s"),
        ("+robot.ee_lnk=x", r"robot\.ee_lnk.*did you mean robot\.ee_link"),
    ],
)
def test_a_misspelt_key_or_a_wrong_type_fails_with_one_line(tmp_path, override, expected):
    r = _cli("cluster", f"workspace={tmp_path}", override)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vid2skill: bad configuration:"), r.stderr
    assert re.search(expected, lines[0]), lines[0]


def test_a_misspelt_key_or_a_wrong_type_in_a_yaml_fails_at_composition(tmp_path):
    from hydra import compose, initialize_config_dir

    from vid2skill.cli import _config_error

    for path, old, new, expected in (
        ("cluster/agglomerative.yaml", "\nmax_segments:", "\nmax_segmets:", "Key 'max_segmets' not in"),
        ("skill/pick.yaml", "    lift_m: 0.15", "    lift_m: high", "converted to Float"),
        ("robot/panda.yaml", "\ngrasp_links: []", "\ngrasp_link: []", "Key 'grasp_link' not in"),
    ):
        conf = tmp_path / path.replace("/", "_")
        shutil.copytree(CONF, conf)
        text = (conf / path).read_text()
        assert old in text
        (conf / path).write_text(text.replace(old, new))
        with pytest.raises(Exception) as e, initialize_config_dir(str(conf), version_base="1.3"):
            compose("config", overrides=["robot=panda"])
        line = _config_error(e.value, [])
        assert "\n" not in line and line.startswith(f"conf/{path}: ") and expected in line, line


def test_the_defaults_live_in_the_yaml_only():
    """No schema field carries a value (each is MISSING, given by its YAML), and no code falls back
    to a default of its own for a config key."""
    allowed = {("SceneObject", "count")}  # only the models picked by {id} have a count
    for groups in [*config.SCHEMAS.values(), {"config": config.Config}]:
        for schema in groups.values():
            for cls in schema.__mro__:
                if not dataclasses.is_dataclass(cls):
                    continue
                for f in dataclasses.fields(cls):
                    if (cls.__name__, f.name) not in allowed:
                        assert f.default is MISSING and f.default_factory is dataclasses.MISSING, (
                            cls,
                            f.name,
                        )
    nested = [config.SceneObject, config.Realism, config.DescriptorWeights, config.Gripper, config.Scenes]
    for cls in nested:
        for f in dataclasses.fields(cls):
            if (cls.__name__, f.name) not in allowed:
                assert f.default is MISSING, (cls, f.name)
    # The code reads config keys as they are: no cfg.get("key", default) in the package.
    fallback = re.compile(r"\b\w*(cfg|skill|realism|labels_cfg)\.get\(")
    hits = [
        f"{p.relative_to(ROOT)}:{i}: {line.strip()}"
        for p in sorted((ROOT / "vid2skill").rglob("*.py"))
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if fallback.search(line) and "recorded" not in line
    ]
    assert not hits, hits


def test_what_code_used_to_default_comes_from_the_yaml():
    """Where code's fallbacks disagreed with the YAML, the YAML's value is what runs."""
    from vid2skill.skills.features import features

    cluster = make_cfg([]).cluster
    assert (cluster.features, cluster.max_segments, cluster.grasp_signal) == (
        "descriptors",
        3,
        "aperture+flexion",
    )
    missing = OmegaConf.create({k: v for k, v in OmegaConf.to_container(cluster).items() if k != "features"})
    with pytest.raises(Exception, match="features"):  # no silent `path`
        features([], missing)


def test_robot_spec_rejects_a_key_it_does_not_know():
    from vid2skill.retarget.stage import robot_spec

    robot = OmegaConf.to_container(make_cfg([]).robot)
    assert robot_spec(robot).name == "panda"
    with pytest.raises(ConfigError, match="finger_forse"):
        robot_spec({**robot, "finger_forse": 10.0})


@pytest.mark.parametrize("policy", sorted(p.stem for p in (CONF / "policy").glob("*.yaml")))
def test_debug_tiny_composes_with_every_policy(policy):
    """debug=tiny shrinks a learned policy's training (conf/debug/policy/) and leaves a scripted one
    alone: it composes with every policy, as `vid2skill evaluate policy=expert debug=tiny` needs."""
    cfg = make_cfg(["debug=tiny", f"policy={policy}"])
    plain = make_cfg([f"policy={policy}"])
    if "epochs" in plain.policy:
        assert cfg.policy.epochs == 60
    else:
        assert "epochs" not in cfg.policy and cfg.policy == plain.policy
    assert cfg.source.clips_per_skill == 3


def test_a_policy_config_class_takes_its_defaults_from_its_yaml():
    """A policy built in Python (``BCMLPConfig.defaults(...)``, as the notebook and the tests do)
    trains as the command line's would: the config class holds no defaults of its own (one place
    for them, the YAML), its fields are the YAML's keys, and ``defaults()`` reads the YAML."""
    import dataclasses

    from vid2skill.policy.registry import POLICIES

    checked = 0
    for name in POLICIES.names():
        cls = POLICIES.get(name)
        yaml_path = Path(__file__).resolve().parents[1] / "conf" / "policy" / f"{name}.yaml"
        if cls.config_cls is None or not yaml_path.exists():
            continue
        fields = dataclasses.fields(cls.config_cls)
        assert all(
            f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING for f in fields
        )
        composed = OmegaConf.to_container(make_cfg([f"policy={name}"]).policy, resolve=True)
        assert {f.name for f in fields} == set(composed) - {"name"}, name
        made = cls.config_cls.defaults(epochs=7)
        assert dataclasses.asdict(made) == {**{k: v for k, v in composed.items() if k != "name"}, "epochs": 7}
        checked += 1
    assert checked >= 2  # bc_mlp and act at least
