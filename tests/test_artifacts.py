import json

import numpy as np
import pytest

from vid2skill.artifacts import atomic_write_json, read_artifact, stable_hash, write_artifact
from vid2skill.errors import ArtifactError


def test_stable_hash_ignores_key_order():
    assert stable_hash({"a": 1, "b": [1, 2]}) == stable_hash({"b": [1, 2], "a": 1})
    assert stable_hash({"a": 1}) != stable_hash({"a": 2})


def test_artifact_round_trip_and_schema_check(tmp_path):
    write_artifact(tmp_path / "x", "Thing", 3, {"name": "n"}, {"a": np.arange(4)})
    meta, arrays = read_artifact(tmp_path / "x", "Thing", 3)
    assert meta["name"] == "n" and arrays["a"].tolist() == [0, 1, 2, 3]
    with pytest.raises(ArtifactError, match="schema"):
        read_artifact(tmp_path / "x", "Thing", 4)
    with pytest.raises(ArtifactError, match="no Other artifact"):
        read_artifact(tmp_path / "missing", "Other", 1)


def test_interrupted_write_leaves_old_file_intact(tmp_path):
    path = tmp_path / "a.json"
    atomic_write_json(path, {"v": 1})

    class Boom:
        pass

    with pytest.raises(TypeError):
        atomic_write_json(path, {"v": Boom()})  # fails while serialising: nothing replaced
    assert json.loads(path.read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]  # no temporary left behind
