"""Collision meshes reduced to their convex hulls before PyBullet sees them.

PyBullet collides a moving link's mesh as the convex hull of *all* its vertices, and builds that
hull on every ``loadURDF``: the iiwa's binary STL files repeat each vertex once per triangle, many
times more points than their hulls hold, which made loading the arm a large part of a short
episode. A file holding only the hull's vertices and faces gives PyBullet the same shape to
collide with in a fraction of the load time. Qhull merges facets whose centrums lie within
``HULL_TOLERANCE_M`` of each other's planes, so the hull keeps the vertices that matter: within
half a millimetre of the exact hull (half PyBullet's default collision margin), with a third of its
vertices, and load faster still (figures in docs/notebook.md). Files made of several convex parts
(V-HACD decompositions such as the xArm6's) are left alone: the hull of their union is a different
shape.
"""

from __future__ import annotations

import hashlib
import os
import struct
from pathlib import Path

import numpy as np
from scipy.spatial import ConvexHull

from vid2skill.artifacts import atomic_write_text
from vid2skill.physics.objects import generated_files_dir

HULL_TOLERANCE_M = 5e-4  # qhull's pre-merge (C-n): facets this close to coplanar become one


def read_mesh_vertices(path: str | os.PathLike, data: bytes | None = None) -> np.ndarray | None:
    """Vertices (N, 3) of an STL (binary or ASCII) or OBJ file (its bytes ``data``, if already
    read), or None for an OBJ of several objects or groups (a convex decomposition)."""
    path = Path(path)
    data = path.read_bytes() if data is None else data
    if path.suffix.lower() == ".stl":
        if len(data) >= 84:
            (n,) = struct.unpack("<I", data[80:84])
            if 84 + 50 * n == len(data):
                rec = np.dtype([("normal", "<3f4"), ("v", "<9f4"), ("attr", "<u2")])
                return (
                    np.frombuffer(data, dtype=rec, count=n, offset=84)["v"].reshape(-1, 3).astype(np.float64)
                )
        words = data.decode("ascii", errors="replace").split()
        idx = [i for i, w in enumerate(words) if w == "vertex"]
        return np.array([[float(words[i + 1]), float(words[i + 2]), float(words[i + 3])] for i in idx])
    parts, vertices = 0, []
    for line in data.decode("utf-8", errors="replace").splitlines():
        if line.startswith("v "):
            vertices.append([float(x) for x in line.split()[1:4]])
        elif line.startswith(("o ", "g ")):
            parts += 1
    return None if parts > 1 else np.array(vertices)


def convex_hull_file(
    path: str | os.PathLike, cache_dir: str | os.PathLike | None = None, tolerance_m: float = HULL_TOLERANCE_M
) -> Path | None:
    """An OBJ of the mesh's convex hull (vertices within ``tolerance_m`` of a coplanar neighbour
    merged away), written once to a content-addressed file; None where the mesh cannot be reduced
    (several parts, an unreadable or degenerate file)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError:
        return None
    key = hashlib.sha1(data + repr(tolerance_m).encode()).hexdigest()[:16]
    out = generated_files_dir(cache_dir) / f"hull_{key}.obj"
    if out.exists():
        return out
    try:
        v = read_mesh_vertices(path, data)
        if v is None or len(v) < 4:
            return None
        hull = ConvexHull(v, qhull_options=f"Qt C-{tolerance_m:g}" if tolerance_m > 0 else "Qt")
    except Exception:  # a parse error, or qhull's own error for a flat or degenerate mesh
        return None
    keep = np.unique(hull.simplices)
    index = np.full(len(v), -1)
    index[keep] = np.arange(len(keep))
    lines = [f"v {x:.9g} {y:.9g} {z:.9g}" for x, y, z in v[keep]]
    lines += [f"f {a} {b} {c}" for a, b, c in index[hull.simplices] + 1]
    atomic_write_text(out, "\n".join(lines) + "\n")
    return out
