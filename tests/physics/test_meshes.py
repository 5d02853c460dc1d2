import re
from pathlib import Path

import numpy as np
import pybullet_data
import pytest
from scipy.spatial import ConvexHull

from tests.helpers import make_cfg
from vid2skill.physics.meshes import HULL_TOLERANCE_M, convex_hull_file, read_mesh_vertices
from vid2skill.retarget.stage import robot_spec

IIWA_LINK = Path(pybullet_data.getDataPath()) / "kuka_iiwa" / "meshes" / "link_1.stl"


def _obj_vertices(path: Path) -> np.ndarray:
    return np.array(
        [
            [float(x) for x in line.split()[1:4]]
            for line in path.read_text().splitlines()
            if line.startswith("v ")
        ]
    )


def test_collision_hull_keeps_the_shape_with_a_fraction_of_the_vertices(tmp_path):
    points = read_mesh_vertices(IIWA_LINK)
    hull_path = convex_hull_file(IIWA_LINK, cache_dir=tmp_path)
    hull = _obj_vertices(hull_path)
    assert len(hull) < 0.05 * len(points)  # binary STL repeats each vertex once per triangle
    # The hull's vertices are mesh vertices, and no mesh vertex lies further outside it than
    # the merge tolerance allows (a couple of tolerances, for merged facets' tilt).
    assert np.min(np.linalg.norm(hull[:, None] - points[None], axis=2), axis=1).max() < 1e-6
    planes = ConvexHull(hull).equations
    outside = (points @ planes[:, :3].T + planes[:, 3]).max(axis=1)
    assert outside.max() < 3 * HULL_TOLERANCE_M
    assert np.ptp(hull, axis=0) == pytest.approx(np.ptp(points, axis=0), abs=2 * HULL_TOLERANCE_M)
    assert convex_hull_file(IIWA_LINK, cache_dir=tmp_path) == hull_path  # content-addressed, written once


def test_ascii_stl_and_multi_part_obj(tmp_path):
    tetra = np.array([[0, 0, 0], [0.1, 0, 0], [0, 0.1, 0], [0, 0, 0.1]])
    inside = np.array([0.01, 0.01, 0.01])
    triangles = [
        tetra[[0, 2, 1]],
        tetra[[0, 1, 3]],
        tetra[[0, 3, 2]],
        tetra[[1, 2, 3]],
        np.stack([tetra[0], tetra[1], inside]),
    ]
    text = "solid t\n"
    for tri in triangles:
        text += " facet normal 0 0 0\n  outer loop\n" + "".join(f"   vertex {x} {y} {z}\n" for x, y, z in tri)
        text += "  endloop\n endfacet\n"
    (tmp_path / "t.stl").write_text(text + "endsolid t\n")
    hull = _obj_vertices(convex_hull_file(tmp_path / "t.stl", cache_dir=tmp_path))
    assert len(hull) == 4 and not any(np.allclose(v, inside) for v in hull)
    parts = tmp_path / "parts.obj"
    parts.write_text(
        "o a\nv 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf 1 2 3\no b\nv 2 0 0\nv 3 0 0\nv 2 1 0\nv 2 0 1\nf 5 6 7\n"
    )
    assert convex_hull_file(parts, cache_dir=tmp_path) is None  # the hull of a decomposition is another shape
    assert convex_hull_file(tmp_path / "missing.stl", cache_dir=tmp_path) is None


@pytest.mark.parametrize("robot", ["panda", "iiwa"])
def test_headless_and_rendered_arms_collide_with_the_same_hulls(robot):
    spec = robot_spec(make_cfg([f"robot={robot}"]).robot)
    collisions = [
        re.findall(r"<collision\b.*?</collision>", Path(spec.urdf_path(v)).read_text(), flags=re.S)
        for v in (True, False)
    ]
    assert collisions[0] == collisions[1]
    assert any("hull_" in c for c in collisions[0])
