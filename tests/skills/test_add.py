"""Growing the library with `vid2skill add`: assignment, novelty, records, dedupe, concurrency, stale
skills."""

from __future__ import annotations

import json
import shutil
import threading

import pytest
from omegaconf import OmegaConf

from vid2skill.errors import Vid2SkillError
from vid2skill.ingest.synthetic.generator import HandMeshCache, generate_clip
from vid2skill.ingest.types import ClipSet
from vid2skill.pipeline import run_stage
from vid2skill.skills.add import run_add
from vid2skill.skills.cluster import SIGNATURES
from vid2skill.skills.features import DESCRIPTORS
from vid2skill.skills.library import SkillLibrary
from vid2skill.workspace import Workspace


@pytest.fixture(scope="module")
def clustered(synthetic_ws, hand_meshes, tmp_path_factory):
    """The tiny synthetic workspace, clustered, and three new drawer clips rendered beside it."""
    ws0, cfg = synthetic_ws
    base = tmp_path_factory.mktemp("add_base")
    shutil.copytree(ws0, base / "ws")
    cfg = cfg.copy()
    cfg.workspace = str(base / "ws")
    run_stage(cfg, "cluster")
    src = OmegaConf.create(OmegaConf.to_container(cfg.source, resolve=True))
    meshes = HandMeshCache(hand_meshes, src.curl_levels, src.mesh_voxel_m)
    new = [
        generate_clip(src, skill, seed, base / "new", meshes)
        for skill, seed in (("slide_open", 7100), ("slide_close", 7101), ("slide_open", 7102))
    ]
    return base / "ws", cfg, new


def _fresh(clustered, tmp_path):
    ws0, cfg, new = clustered
    shutil.copytree(ws0, tmp_path / "ws")
    cfg = cfg.copy()
    cfg.workspace = str(tmp_path / "ws")
    return tmp_path / "ws", cfg, new


def test_add_assigns_records_and_versions(clustered, tmp_path):
    ws, cfg, new = _fresh(clustered, tmp_path)
    cfg.labels.add_from = []  # the motion decides (the synthetic file names say their skill)
    v0 = SkillLibrary.load(ws / "skills")
    out = run_add(cfg, ws, new[0].path, None, 1)
    assert out["version"] == v0.version + 1
    (d,) = out["decisions"]
    assert set(d) >= {"clip", "skill", "distance", "novel"} and d["skill"] == "slide_open" and not d["novel"]
    assert d["source_of_label"] == "motion" and d["status"] == "assigned" and 0.5 <= d["confidence"] <= 1.0
    lib = SkillLibrary.load(ws / "skills")
    card = lib.skills["slide_open"]
    assert d["clip"] in card.trajectories and card.made.get("stale") is True
    assert card.stats["signature"] in SIGNATURES and set(card.stats["descriptors"]) == set(DESCRIPTORS)
    assert not lib.skills["slide_close"].made.get("stale")
    assert (
        len(SkillLibrary.load(ws / "skills", v0.version).skills["slide_open"].members)
        == len(card.members) - 1
    )
    saved = json.loads((ws / "skills" / f"v{out['version']:04d}" / "add_decisions.json").read_text())
    assert saved == out["decisions"]
    # The same video again, or one the workspace ingested, is nothing new.
    with pytest.raises(Vid2SkillError, match="nothing new"):
        run_add(cfg, ws, new[0].path, None, 1)
    with pytest.raises(Vid2SkillError, match="nothing new"):
        run_add(cfg, ws, ClipSet.load(ws / "ingest" / "clips").clips[0].path, None, 1)
    # A later re-cluster keeps added clips.
    cfg.force = True
    run_stage(cfg, "cluster")
    assert d["clip"] in SkillLibrary.load(ws / "skills").clustering["assignment"]


def test_add_to_a_named_skill_creates_it(clustered, tmp_path):
    ws, cfg, new = _fresh(clustered, tmp_path)
    out = run_add(cfg, ws, f"file://{new[1].path}", "drawer_push", 1)
    assert out["decisions"][0]["skill"] == "drawer_push" and out["decisions"][0]["novel"]
    assert "drawer_push" in SkillLibrary.load(ws / "skills").skills
    with pytest.raises(Exception, match="only local files"):
        run_add(cfg, ws, "https://example.org/v.mp4", None, 1)


def test_two_adds_at_once_lose_nothing(clustered, tmp_path):
    ws, cfg, new = _fresh(clustered, tmp_path)
    v0 = SkillLibrary.load(ws / "skills").version
    results, errors = [], []

    def add(path):
        try:
            results.append(run_add(cfg, ws, path, None, 1))
        except Exception as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=add, args=(c.path,)) for c in new[1:]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(r["version"] for r in results) == [v0 + 1, v0 + 2]
    lib = SkillLibrary.load(ws / "skills")
    members = {m["clip"] for c in lib.skills.values() for m in c.members}
    assert {r["decisions"][0]["clip"] for r in results} <= members


def test_the_stages_after_cluster_rerun_after_an_add(clustered, tmp_path):
    """`add` renews the cluster stage's record, so that `retarget` (skipped while nothing changed)
    reruns on the new library version rather than reporting itself up to date."""
    ws, cfg, new = _fresh(clustered, tmp_path)  # (labels.add_from is the cluster key's: left as it is)
    layout = Workspace(ws)
    first = run_stage(cfg, "retarget")
    before = layout.read_stage_record("retarget")
    assert (
        run_stage(cfg, "retarget") == first and layout.read_stage_record("retarget")["run"] == before["run"]
    )
    cluster = layout.read_stage_record("cluster")
    out = run_add(cfg, ws, new[0].path, None, 1)
    renewed = layout.read_stage_record("cluster")
    assert renewed["key"] == cluster["key"] and renewed["run"] != cluster["run"]
    assert renewed["summary"]["version"] == out["version"] == first["library_version"] + 1
    again = run_stage(cfg, "retarget")
    assert (
        again["library_version"] == out["version"]
        and layout.read_stage_record("retarget")["run"] != before["run"]
    )
    assert run_stage(cfg, "cluster") == renewed["summary"]  # cluster itself is up to date


def test_the_same_video_added_twice_at_once_lands_once(clustered, tmp_path, monkeypatch):
    """The second of two adds of one video finds it added under the lock (here the first finishes
    while the second extracts), and the library lists it once."""
    import vid2skill.skills.add as add_module

    ws, cfg, new = _fresh(clustered, tmp_path)
    real_collect, first = add_module.collect_clips, []

    def collect_then_race(target, seen):
        clips = real_collect(target, seen)  # the second run's check before the lock: nothing known yet
        if not first:
            first.append(None)
            first[0] = run_add(cfg, ws, target, None, 1)  # meanwhile, the first run lands
        return clips

    monkeypatch.setattr(add_module, "collect_clips", collect_then_race)
    with pytest.raises(Vid2SkillError, match="added by another run meanwhile"):
        run_add(cfg, ws, new[0].path, None, 1)
    lib = SkillLibrary.load(ws / "skills")
    clip = first[0]["decisions"][0]["clip"]
    assert sum(m["clip"] == clip for card in lib.skills.values() for m in card.members) == 1
    assert lib.version == first[0]["version"]


@pytest.mark.parametrize("killed_after", ["version", "index", "stage_record"])
def test_an_add_killed_after_its_version_landed_is_completed_by_the_next_add(
    clustered, tmp_path, monkeypatch, killed_after
):
    """An add killed between its library version and the records that follow it (the index of added
    tracks, the cluster stage record, the last decisions) is finished by the next add, which then
    finds the video already added: the workspace ends as if the first add had run to its end."""
    import vid2skill.skills.add as add_module
    from vid2skill.extract.types import TrackSet

    ws, cfg, new = _fresh(clustered, tmp_path)
    clean_ws, clean_cfg, _ = _fresh(clustered, tmp_path / "clean")
    clean = run_add(clean_cfg, clean_ws, new[0].path, None, 1)
    layout, clean_layout = Workspace(ws), Workspace(clean_ws)

    class Killed(BaseException):
        pass

    real_save, real_renew = TrackSet.save, Workspace.renew_stage_record

    def save(self, path, workspace=None):
        if killed_after == "version" and str(path) == str(layout.added_tracks):
            raise Killed
        return real_save(self, path, workspace)

    def renew(self, stage, summary):
        if killed_after == "index":
            raise Killed
        return real_renew(self, stage, summary)

    def write(path, obj):
        if killed_after == "stage_record" and path == layout.add_decisions:
            raise Killed
        return real_write(path, obj)

    real_write = add_module.atomic_write_json
    monkeypatch.setattr(TrackSet, "save", save)
    monkeypatch.setattr(Workspace, "renew_stage_record", renew)
    monkeypatch.setattr(add_module, "atomic_write_json", write)
    with pytest.raises(Killed):
        run_add(cfg, ws, new[0].path, None, 1)
    monkeypatch.undo()
    assert SkillLibrary.load(ws / "skills").version == clean["version"]  # the version landed
    assert not layout.add_decisions.exists()
    with pytest.raises(Vid2SkillError, match="nothing new"):
        run_add(cfg, ws, new[0].path, None, 1)
    assert json.loads(layout.add_decisions.read_text()) == json.loads(clean_layout.add_decisions.read_text())
    hashes = [r["content_hash"] for r in TrackSet.load(layout.added_tracks).records]
    assert hashes == [r["content_hash"] for r in TrackSet.load(clean_layout.added_tracks).records]
    summary, clean_summary = (w.read_stage_record("cluster")["summary"] for w in (layout, clean_layout))
    assert {**summary, "folder": None} == {**clean_summary, "folder": None}
    assert summary["folder"] == str(ws / "skills" / f"v{clean['version']:04d}")
    assert SkillLibrary.load(ws / "skills").version == clean["version"]  # and no second version


def test_an_added_labelled_clip_keeps_its_up_and_the_card_is_measured_as_cluster_measures_it(
    clustered, tmp_path
):
    """`add` grows a card through the same builder as `cluster` (skills/stage.py `card_with`): a clip
    cut by its label keeps gravity's up in its contact frame (retargeting reads it), and the card's
    statistics equal those of a card built at once from all its members."""
    from vid2skill.skills.stage import card_with

    ws, cfg, new = _fresh(clustered, tmp_path)  # labels from the synthetic file names
    out = run_add(cfg, ws, new[1].path, None, 1)
    (d,) = out["decisions"]
    card = SkillLibrary.load(ws / "skills").skills[d["skill"]]
    assert d["source_of_label"].startswith("label:") and d["clip"] in card.ups
    assert len(card.ups[d["clip"]]) == 3 and abs(sum(v * v for v in card.ups[d["clip"]]) - 1.0) < 1e-3
    at_once = card_with(
        type(card)(card.name, [], {}, {}),
        [(m, card.member(m["clip"]), card.ups.get(m["clip"])) for m in card.members],
        cfg.cluster.outlier_fraction,
    )
    assert {k: v for k, v in card.stats.items() if k != "origin"} == at_once.stats


def test_add_is_a_stage_with_a_record_per_target_that_reruns_only_when_the_target_changes(
    clustered, tmp_path
):
    """`add` runs as the pipeline's stages do: its record (one per target) holds its key and its
    decisions, so the same folder added again with nothing changed is skipped with the decisions
    it made, while a video put in that folder since makes a new add, which brings in just that one."""
    ws, cfg, new = _fresh(clustered, tmp_path)
    cfg.labels.add_from = []
    folder = tmp_path / "incoming"
    folder.mkdir()
    shutil.copy(new[0].path, folder)
    layout = Workspace(ws)
    cfg.add.target = str(folder)
    first = run_stage(cfg, "add")
    (d,) = first["decisions"]
    records = list((layout.stage_dir("add") / "runs").glob("*/_stage.json"))
    assert len(records) == 1 and json.loads(records[0].read_text())["summary"] == first
    version = SkillLibrary.load(ws / "skills").version
    assert run_stage(cfg, "add") == first  # skipped: no error, no new version
    assert SkillLibrary.load(ws / "skills").version == version == first["version"]
    shutil.copy(new[1].path, folder)
    second = run_stage(cfg, "add")
    assert [x["clip"] for x in second["decisions"]] != [d["clip"]] and len(second["decisions"]) == 1
    assert second["version"] == version + 1
    # Another target keeps a record of its own; the first's is still there.
    cfg.add.target = str(new[2].path)
    run_stage(cfg, "add")
    assert len(list((layout.stage_dir("add") / "runs").glob("*/_stage.json"))) == 2
