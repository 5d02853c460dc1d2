"""The synthetic hand's mesh (vid2skill/ingest/synthetic/hand.py)."""

import numpy as np

from vid2skill.ingest.synthetic.hand import build_hand_mesh


def test_hand_mesh_is_closed_and_outward():
    mesh = build_hand_mesh(0.5, voxel_m=0.004)
    v, f = mesh.vertices.astype(np.float64), mesh.indices.reshape(-1, 3)
    face_n = np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])
    vert_n = mesh.normals[f].mean(axis=1)
    agree = (np.einsum("ij,ij->i", face_n, vert_n) > 0).mean()
    assert agree > 0.98  # winding (counter-clockwise from outside) agrees with the outward normals
    # Each edge of a closed surface is shared by exactly two triangles.
    edges = np.sort(np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]]), axis=1)
    _, counts = np.unique(edges, axis=0, return_counts=True)
    assert (counts == 2).mean() > 0.99
