"""The one registry idiom (vid2skill/registry.py) and the registries built on it: sources, scenes,
policies and export formats, each checked against the config options that name them."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from tests.helpers import make_cfg
from vid2skill.errors import ConfigError
from vid2skill.registry import Registry

CONF = Path(__file__).resolve().parents[1] / "conf"


def _options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF / group).glob("*.yaml"))


def test_register_get_and_names():
    reg = Registry("widget")

    @reg.register("b")
    def make_b():
        return "b"

    reg.register("a")(str)
    assert reg.get("b") is make_b and reg["a"] is str
    assert reg.names() == ["a", "b"] and sorted(reg) == ["a", "b"] and len(reg) == 2
    assert "a" in reg and "c" not in reg
    reg.register("b")(make_b)  # the same object again (a module imported twice) is no error


def test_unknown_name_is_one_line_naming_the_known_ones():
    reg = Registry("widget", key="thing.kind", hint="add a file")
    reg.register("gear")(int)
    reg.register("cog")(float)
    with pytest.raises(ConfigError) as e:
        reg.get("sprocket")
    assert (
        str(e.value)
        == "thing.kind='sprocket' is not a known widget; choose one of ['cog', 'gear'] (add a file)"
    )
    with pytest.raises(ConfigError, match="not a known widget"):
        reg["sprocket"]


def test_a_name_taken_by_another_object_is_an_error_naming_both():
    reg = Registry("widget")
    reg.register("gear")(int)
    with pytest.raises(ConfigError, match="widget 'gear' is registered twice.*builtins"):
        reg.register("gear")(float)
    assert reg.get("gear") is int


def test_every_source_option_is_a_registered_source():
    from vid2skill.ingest.sources import SOURCES, ingest

    names = {str(make_cfg([f"source={o}"]).source.name) for o in _options("source")}
    assert names <= set(SOURCES.names())
    with pytest.raises(ConfigError) as e:
        ingest(OmegaConf.create({"name": "vimeo"}), Path("unused"), 1)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith("source.name='vimeo' is not a known source")
    assert all(n in msg for n in names)


def test_every_skill_names_a_registered_scene():
    from vid2skill.scenes import SCENES, TASKS
    from vid2skill.scenes.base import SkillScene

    cfg = make_cfg(["skill=all"])
    tasks = {str(cfg.skill[s].task) for s in cfg.skill}
    assert tasks <= set(SCENES.names()) and TASKS is SCENES
    assert all(issubclass(SCENES.get(t), SkillScene) for t in SCENES)
    with pytest.raises(ConfigError, match=r"skill.task='oven' is not a known scene; choose one of \['cut', "):
        SCENES.get("oven")


def test_every_policy_option_is_a_registered_policy_type():
    from vid2skill.policy.registry import POLICIES, available, get_policy

    for option in _options("policy"):
        name = str(make_cfg([f"policy={option}"]).policy.name)
        assert get_policy(name).name == name
    assert set(_options("policy")) <= set(available()) == set(POLICIES.names())
    with pytest.raises(ConfigError) as e:
        get_policy("diffusion")
    assert "\n" not in str(e.value) and "choose one of ['act', 'bc_mlp'" in str(e.value)


def test_every_export_format_option_is_registered(tmp_path):
    from vid2skill.export.stage import EXPORTERS, export

    assert _options("format") == EXPORTERS.names()
    cfg = make_cfg([f"workspace={tmp_path}"])
    cfg.format.name = "zarr"  # checked before any workspace file is read
    with pytest.raises(
        ConfigError, match=r"format='zarr' is not a known export format.*'lerobot', 'robomimic'"
    ):
        export(cfg, tmp_path)


def test_every_robot_option_builds_its_spec():
    """Robots need no code registry: the config group is one (a YAML per arm, one arm class)."""
    from vid2skill.retarget.stage import robot_spec

    for option in _options("robot"):
        assert robot_spec(make_cfg([f"robot={option}"]).robot).name == option
