import numpy as np

from vid2skill.ingest.synthetic.hand import build_hand_mesh, hand_keypoints
from vid2skill.landmarks import chirality, grasp_aperture_m, palm_frame


def test_aperture_closes_with_curl():
    apertures = [grasp_aperture_m(hand_keypoints(c)) for c in (0.0, 0.4, 0.8)]
    assert apertures[0] > 0.09  # an open hand spans ~10 cm thumb to index
    assert apertures[0] > apertures[1] > apertures[2]
    assert apertures[2] < 0.035


def test_palm_frame_of_canonical_hand_is_identity():
    R = palm_frame(hand_keypoints(0.0))
    assert np.degrees(np.arccos((np.trace(R) - 1) / 2)) < 6.0


def test_chirality_and_mirror():
    kp = np.stack([hand_keypoints(c) for c in np.linspace(0.2, 0.9, 6)])
    assert chirality(kp) == "right"
    mirrored = kp * np.array([1.0, -1.0, 1.0])
    assert chirality(mirrored) == "left"
    # Mirroring about y keeps the palm side at +z; asked as a left hand, the palm frame's z stays volar.
    assert palm_frame(mirrored[0], right=False)[2, 2] > 0.9
    assert palm_frame(mirrored[0], right=True)[2, 2] < -0.9


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
