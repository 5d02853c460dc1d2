"""A small network that refines MediaPipe's palm orientation and wrist depth (the hand lifter).

MediaPipe's metric hand is right in the image but wrong in depth: the knuckles' depth relative to
the wrist decides the palm's tilt, and the hand's metric size decides the wrist's distance. The
lifter reads a few frames of MediaPipe's own outputs around each frame (image landmarks relative
to the wrist and the hand's size, the wrist's viewing ray, the metric landmarks, MediaPipe's palm
frame and depth) and predicts the palm's rotation in the camera frame (6-D representation, Zhou
et al. 2019) and a correction of the wrist's depth (log of true over MediaPipe's).

It is trained on MediaPipe's outputs on our own rendered clips, whose ground truth is exact
(``python -m vid2skill.extract.lifter train``), and ships in the package
(``vid2skill/extract/models/hand_lifter.pt``). A left hand is mirrored into a right one before it
is read (the rendered hand is a right hand) and its rotation mirrored back.

Reproduce the shipped weights (seeds disjoint from every evaluation set)::

    S="[slide_open,slide_close,hinge_open,hinge_close,pick,place,pour,stir,cut]"
    vid2skill extract workspace=/tmp/lift_hard source=synthetic_hard "source.skills=$S" \
        source.clips_per_skill=5 source.seed=30000
    vid2skill extract workspace=/tmp/lift_close source=synthetic "source.skills=$S" \
        source.clips_per_skill=4 source.seed=31000
    python -m vid2skill.extract.lifter train /tmp/lift_hard /tmp/lift_close --epochs 25

Extraction uses its depth correction by default and keeps MediaPipe's palm orientation
(``extract.lifter``): on real images with 3-D ground truth the lifter's rotations were worse
where MediaPipe's were good, and on real clips they lowered the robot's success.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from torch import nn

from vid2skill.landmarks import MIDDLE_MCP, WRIST, palm_frame

log = logging.getLogger(__name__)

LIFTER_SCHEMA = 1
DEFAULT_WEIGHTS = Path(__file__).parent / "models" / "hand_lifter.pt"
FRAME_FEATURES = 42 + 2 + 63 + 9 + 1 + 2  # image landmarks, ray, metric landmarks, palm frame, size, turn
MAX_TURN_RAD = 1.0  # the most the lifter may turn MediaPipe's palm frame (57 deg)
MAX_LOG_DEPTH = 0.5  # the most the lifter may scale the wrist's depth: a factor of exp(+-0.5)
MIRROR = np.diag([-1.0, 1.0, 1.0])
FLIP_Y = np.diag([1.0, -1.0, 1.0])


def _rot_z(theta: np.ndarray) -> np.ndarray:
    """(T, 3, 3) turns about the camera's axis by ``theta`` (T,) radians."""
    c, s = np.cos(theta), np.sin(theta)
    R = np.zeros((len(theta), 3, 3))
    R[:, 0, 0], R[:, 0, 1], R[:, 1, 0], R[:, 1, 1], R[:, 2, 2] = c, -s, s, c, 1.0
    return R


def frame_features(
    px: np.ndarray, world: np.ndarray, intrinsics, right: bool
) -> tuple[np.ndarray, np.ndarray]:
    """((T, FRAME_FEATURES - 2) per-frame inputs, (T,) in-image turn theta): NaN rows where the hand
    was not detected.

    Each frame is turned about the camera's axis by -theta, so that its wrist-to-middle-knuckle
    direction points up the image: the lifter then reads every hand upright, and its rotation is
    turned back by theta. A left hand is mirrored into a right one first.

    Args:
        px: (T, 21, 2) image landmarks, pixels.
        world: (T, 21, 3) MediaPipe's metric landmarks (camera-aligned axes), depth mirror resolved.
        intrinsics: [fx, fy, cx, cy].
        right: whether it is a right hand.
    """
    fx, fy, cx, cy = intrinsics
    px = np.asarray(px, float)
    world = np.asarray(world, float)
    ok = np.isfinite(px).all(axis=(1, 2)) & np.isfinite(world).all(axis=(1, 2))
    out = np.full((len(px), FRAME_FEATURES - 2), np.nan)
    theta = np.full(len(px), np.nan)
    if not ok.any():
        return out, theta
    p, w = px[ok].copy(), world[ok].copy()
    ray = np.c_[(p[:, WRIST, 0] - cx) / fx, (p[:, WRIST, 1] - cy) / fy, np.ones(len(p))]
    if not right:  # the mirror image of a left hand is a right hand
        p[..., 0] = 2 * cx - p[..., 0]
        w[..., 0] = -w[..., 0]
        ray[:, 0] = -ray[:, 0]
    rel = p - p[:, WRIST : WRIST + 1]
    d = rel[:, MIDDLE_MCP]
    th = np.arctan2(d[:, 0], -d[:, 1])  # 0 when the fingers point up the image (-v)
    Rz = _rot_z(-th)  # turns the frame upright
    rel_up = np.einsum("tij,tkj->tki", Rz[:, :2, :2], rel)
    size = np.maximum(np.ptp(rel_up, axis=1).max(axis=1), 1.0)  # the upright hand's size, pixels
    rel_up /= size[:, None, None]
    w_rel = w - w[:, WRIST : WRIST + 1]
    w_up = np.einsum("tij,tkj->tki", Rz, w_rel)
    ray_up = np.einsum("tij,tj->ti", Rz, ray)[:, :2]
    R_mp = Rz @ palm_frame(w, right=True)
    out[ok] = np.concatenate(
        [
            rel_up.reshape(len(p), -1),
            ray_up,
            10.0 * w_up.reshape(len(p), -1),
            R_mp.reshape(len(p), -1),
            np.log(size / 100.0)[:, None],  # small hands are where MediaPipe's depths err most
        ],
        axis=1,
    )
    theta[ok] = th
    return out, theta


def windows(feats: np.ndarray, theta: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """((T, k * FRAME_FEATURES) windows of ``k`` detected frames centred on each detected frame, (T,)
    bool which frames have one): missing neighbours are the nearest detected frame's; each frame
    carries its in-image turn relative to the centre's (sine, cosine)."""
    ok = np.isfinite(feats).all(axis=1)
    out = np.full((len(feats), k * FRAME_FEATURES), np.nan)
    idx = np.flatnonzero(ok)
    if not len(idx):
        return out, ok
    half = k // 2
    pos = np.arange(len(idx))
    cols = []
    for o in range(-half, half + 1):
        j = idx[np.clip(pos + o, 0, len(idx) - 1)]
        dth = theta[j] - theta[idx]
        cols.append(np.c_[feats[j], np.sin(dth), np.cos(dth)])
    out[idx] = np.concatenate(cols, axis=1)
    return out, ok


def axis_angle(v: torch.Tensor) -> torch.Tensor:
    """(N, 3, 3) rotations from (N, 3) rotation vectors (Rodrigues)."""
    theta = v.norm(dim=-1).clamp_min(1e-8)[:, None, None]
    k = v / theta[:, :, 0]
    K = torch.zeros(len(v), 3, 3, dtype=v.dtype)
    K[:, 0, 1], K[:, 0, 2], K[:, 1, 0] = -k[:, 2], k[:, 1], k[:, 2]
    K[:, 1, 2], K[:, 2, 0], K[:, 2, 1] = -k[:, 0], -k[:, 1], k[:, 0]
    eye = torch.eye(3, dtype=v.dtype).expand(len(v), 3, 3)
    return eye + torch.sin(theta) * K + (1 - torch.cos(theta)) * (K @ K)


class HandLifter(nn.Module):
    """MLP from a window of frame features to (6-D palm rotation, log depth correction)."""

    def __init__(self, window: int = 5, hidden: int = 256):
        super().__init__()
        self.window, self.hidden = window, hidden
        self.register_buffer("mean", torch.zeros(window * FRAME_FEATURES))
        self.register_buffer("std", torch.ones(window * FRAME_FEATURES))
        self.net = nn.Sequential(
            nn.Linear(window * FRAME_FEATURES, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 4),
        )
        self.R_MP = (window // 2) * FRAME_FEATURES + 42 + 2 + 63

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y = self.net((x - self.mean) / self.std)
        # A turn of at most MAX_TURN_RAD applied to MediaPipe's palm frame (the centre frame's): far
        # from its training hands the lifter can only nudge MediaPipe, never overrule it.
        R_mp = x[:, self.R_MP : self.R_MP + 9].reshape(-1, 3, 3)
        v = y[:, :3]
        n = v.norm(dim=-1, keepdim=True).clamp_min(1e-8)
        delta = v / n * (MAX_TURN_RAD * torch.tanh(n))
        return R_mp @ axis_angle(delta), y[:, 3]


def save_lifter(model: HandLifter, path: Path, info: dict) -> None:
    import io

    from vid2skill.artifacts import atomic_write_bytes

    buf = io.BytesIO()
    torch.save(
        {
            "schema": LIFTER_SCHEMA,
            "window": model.window,
            "hidden": model.hidden,
            "state_dict": {k: v.to(torch.float16) for k, v in model.state_dict().items()},
            "info": info,
        },
        buf,
    )
    atomic_write_bytes(path, buf.getvalue())


def lifter_hash(cfg) -> str:
    """The content hash of the lifter weights ``cfg`` (``extract.lifter``) names: tracks made with
    other weights are redone."""
    from vid2skill.artifacts import file_hash

    p = Path(cfg.weights) if cfg.weights else DEFAULT_WEIGHTS
    return file_hash(p) if p.is_file() else "missing"


@functools.lru_cache(maxsize=4)
def load_lifter(path: str | None = None) -> HandLifter:
    """The lifter at ``path`` (default: the weights shipped in the package), in eval mode."""
    from vid2skill.errors import Vid2SkillError

    p = Path(path) if path else DEFAULT_WEIGHTS
    if not p.is_file():
        raise Vid2SkillError(
            f"hand lifter weights not found at {p}; train them with `python -m vid2skill.extract.lifter "
            "train` or set extract.lifter.enabled=false"
        )
    ck = torch.load(p, map_location="cpu", weights_only=True)
    if ck.get("schema") != LIFTER_SCHEMA:
        raise Vid2SkillError(f"{p}: hand lifter schema {ck.get('schema')}, expected {LIFTER_SCHEMA}")
    model = HandLifter(ck["window"], ck["hidden"])
    model.load_state_dict({k: v.float() for k, v in ck["state_dict"].items()})
    return model.eval()


def lift(
    px: np.ndarray, world: np.ndarray, intrinsics, right: bool, path: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """((T, 3, 3) palm rotations in the camera frame, (T,) wrist depth factors) for each frame with
    a hand; identity and 1 elsewhere. Multiply the wrist's camera position by the factor (a move
    along its viewing ray, which keeps its image position)."""
    model = load_lifter(path)
    feats, theta = frame_features(px, world, intrinsics, right)
    x, ok = windows(feats, theta, model.window)
    R = np.tile(np.eye(3), (len(px), 1, 1))
    factor = np.ones(len(px))
    if ok.any():
        with torch.no_grad():
            R_t, d = model(torch.as_tensor(x[ok], dtype=torch.float32))
        Rp = _rot_z(theta[ok]) @ R_t.double().numpy()
        R[ok] = Rp if right else MIRROR @ Rp @ FLIP_Y
        factor[ok] = np.exp(np.clip(d.double().numpy(), -MAX_LOG_DEPTH, MAX_LOG_DEPTH))
    return R, factor


def mediapipe_depth(px: np.ndarray, world: np.ndarray, intrinsics) -> np.ndarray:
    """(T,) the wrist's depth from MediaPipe's metric hand (:func:`hand_translation`); NaN where unseen."""
    from vid2skill.extract.metric import hand_translation

    ok = np.isfinite(px).all(axis=(1, 2)) & np.isfinite(world).all(axis=(1, 2))
    z = np.full(len(px), np.nan)
    if ok.any():
        z[ok] = (world[ok, WRIST] + hand_translation(world[ok], px[ok], intrinsics))[:, 2]
    return z


# --- training ------------------------------------------------------------------------------------


def track_samples(track, gt: dict, window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(inputs (N, window * F), target rotations (N, 3, 3) and log depth ratios (N,)) of one
    extracted synthetic track against its ground truth, over the frames with a hand in view."""
    right = track.handedness == "right"
    feats, theta = frame_features(track.landmarks_px, track.landmarks_world, track.intrinsics, right)
    x, ok = windows(feats, theta, window)
    idx = track.frame_index
    z_mp = mediapipe_depth(track.landmarks_px, track.landmarks_world, track.intrinsics)
    ok &= gt["visible"][idx].astype(bool) & (z_mp > 0.05)
    R_gt = gt["wrist_R_cam"][idx][ok]
    if not right:
        R_gt = MIRROR @ R_gt @ FLIP_Y
    R_gt = _rot_z(-theta[ok]) @ R_gt  # in the upright frame the lifter reads
    z_gt = gt["wrist_pos_cam"][idx][ok, 2]
    return x[ok], R_gt, np.log(z_gt / z_mp[ok])


def tracks_with_truth(workspace: Path) -> Iterator[tuple]:
    """(track, ground truth) of every extracted clip of a synthetic workspace whose clip carries its
    ground truth."""
    from vid2skill.extract.types import HandTrack, TrackSet
    from vid2skill.ingest.synthetic.generator import load_ground_truth
    from vid2skill.ingest.types import ClipSet
    from vid2skill.workspace import Workspace

    layout = Workspace(workspace)
    clips = {c.clip_id: c for c in ClipSet.load(layout.clips).clips}
    for r in TrackSet.load(layout.tracks).records:
        clip = clips.get(r["clip"])
        if r["error"] or clip is None or not clip.ground_truth:
            continue
        path = Path(r["track"])
        track = HandTrack.load(path if path.is_absolute() else workspace / path)
        yield track, load_ground_truth(clip.ground_truth)[1]


def workspace_samples(workspace: Path, window: int) -> list:
    """Samples of every extracted clip of a synthetic workspace, one tuple per clip."""
    out = []
    for track, gt in tracks_with_truth(workspace):
        s = track_samples(track, gt, window)
        if len(s[0]):
            out.append(s)
    return out


def geodesic_deg(R_a: torch.Tensor, R_b: torch.Tensor) -> torch.Tensor:
    c = ((R_a.transpose(-1, -2) @ R_b).diagonal(dim1=-2, dim2=-1).sum(-1) - 1) / 2
    return torch.rad2deg(torch.acos(c.clamp(-1 + 1e-7, 1 - 1e-7)))


def train(
    workspaces: list[Path],
    out: Path,
    window: int = 5,
    hidden: int = 256,
    epochs: int = 60,
    seed: int = 0,
    valid_share: float = 0.15,
) -> dict:
    """Fit the lifter on every extracted synthetic clip of ``workspaces`` (a share of the clips held
    out for validation), save it to ``out`` and return its figures."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    samples = []
    for ws in workspaces:
        samples += workspace_samples(Path(ws), window)
    if len(samples) < 2:
        raise SystemExit(f"no extracted synthetic clips with ground truth in {workspaces}")
    order = rng.permutation(len(samples))
    n_valid = max(1, int(round(valid_share * len(samples))))
    valid, train_ = order[:n_valid], order[n_valid:]
    xt, Rt, dt = _stack(samples, train_)
    xv, Rv, dv = _stack(samples, valid)
    model = HandLifter(window, hidden)
    model.mean.copy_(xt.mean(0))
    model.std.copy_(xt.std(0).clamp_min(1e-3))
    _fit(model, (xt, Rt, dt), (xv, Rv, dv), epochs)
    info = {
        "workspaces": [str(w) for w in workspaces],
        "clips": {"train": len(train_), "valid": len(valid)},
        "frames": {"train": len(xt), "valid": len(xv)},
        "valid": _figures(model, xv, Rv, dv),
        "window": window,
        "hidden": hidden,
        "epochs": epochs,
        "seed": seed,
    }
    save_lifter(model, out, info)
    return info


def _stack(samples: list, sel) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The ``sel`` clips' samples (:func:`track_samples`) joined over frames as float32 tensors:
    (features, rotations, depths)."""
    x = np.concatenate([samples[i][0] for i in sel])
    R = np.concatenate([samples[i][1] for i in sel])
    d = np.concatenate([samples[i][2] for i in sel])
    return (
        torch.as_tensor(x, dtype=torch.float32),
        torch.as_tensor(R, dtype=torch.float32),
        torch.as_tensor(d, dtype=torch.float32),
    )


def _fit(model: HandLifter, train: tuple, valid: tuple, epochs: int) -> None:
    """Fit ``model`` to the ``train`` (features, rotations, depths) with AdamW on a cosine schedule,
    logging the ``valid`` figures every ten epochs and at the last."""
    xt, Rt, dt = train
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    batch = 256
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(xt))
        for b in range(0, len(xt), batch):
            j = perm[b : b + batch]
            R, d = model(xt[j])
            loss = ((R - Rt[j]) ** 2).sum((-1, -2)).mean() + nn.functional.smooth_l1_loss(d, dt[j], beta=0.1)
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        if epoch % 10 == 9 or epoch == epochs - 1:
            fig = _figures(model, *valid)
            log.info(
                "epoch %d: valid rotation %.1f deg (MediaPipe %.1f), depth %.1f%% (MediaPipe %.1f%%)",
                epoch + 1,
                fig["rotation_deg"],
                fig["rotation_deg_mediapipe"],
                fig["depth_pct"],
                fig["depth_pct_mediapipe"],
            )


def _figures(model: HandLifter, x, R_gt, d_gt) -> dict:
    """Median rotation error (deg) and median |depth error| (%) of the lifter and of MediaPipe."""
    model.eval()
    with torch.no_grad():
        R, d = model(x)
    R_mp = x[:, model.R_MP : model.R_MP + 9].reshape(-1, 3, 3)
    return {
        "rotation_deg": float(geodesic_deg(R, R_gt).median()),
        "rotation_deg_mediapipe": float(geodesic_deg(R_mp, R_gt).median()),
        "depth_pct": float(100 * (torch.exp(d - d_gt) - 1).abs().median()),
        "depth_pct_mediapipe": float(100 * (torch.exp(-d_gt) - 1).abs().median()),
    }


def track_errors(workspace: Path) -> dict:
    """Per-clip medians of the extracted tracks' palm rotation error (deg) and 3-D wrist error (cm)
    against the ground truth, over valid frames with the hand in view, and their medians over clips:
    what extraction delivers, with the lifter on or off as the workspace was extracted."""
    from vid2skill.geometry import rotation_angle_deg

    rot, pos = [], []
    for t, gt in tracks_with_truth(workspace):
        v = t.valid & gt["visible"][t.frame_index].astype(bool)
        if v.any():
            rot.append(
                float(np.median(rotation_angle_deg(t.wrist_R_cam[v], gt["wrist_R_cam"][t.frame_index][v])))
            )
            err = np.linalg.norm(t.wrist_pos_cam[v] - gt["wrist_pos_cam"][t.frame_index][v], axis=1)
            pos.append(100 * float(np.median(err)))
    return {
        "clips": len(rot),
        "median_clip_rotation_error_deg": round(float(np.median(rot)), 1) if rot else None,
        "median_clip_wrist_error_cm": round(float(np.median(pos)), 2) if pos else None,
    }


def evaluate(workspaces: list[Path], path: str | None = None) -> dict:
    """The shipped (or ``path``) lifter's per-frame figures on every extracted synthetic clip of
    ``workspaces`` beside MediaPipe's, and each workspace's extracted tracks' errors."""
    model = load_lifter(path)
    samples = []
    for ws in workspaces:
        samples += workspace_samples(Path(ws), model.window)
    x = torch.as_tensor(np.concatenate([s[0] for s in samples]), dtype=torch.float32)
    R = torch.as_tensor(np.concatenate([s[1] for s in samples]), dtype=torch.float32)
    d = torch.as_tensor(np.concatenate([s[2] for s in samples]), dtype=torch.float32)
    return {
        "clips": len(samples),
        "frames": len(x),
        "per_frame": _figures(model, x, R, d),
        "tracks": {str(ws): track_errors(Path(ws)) for ws in workspaces},
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        prog="python -m vid2skill.extract.lifter",
        description="Train or evaluate the hand lifter on extracted synthetic workspaces (their clips "
        "carry exact ground truth). Make one with e.g. `vid2skill extract workspace=/tmp/lift_hard "
        'source=synthetic_hard source.clips_per_skill=5 source.seed=30000 "source.skills=[...]"`.',
    )
    sub = ap.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train")
    t.add_argument("workspaces", nargs="+", type=Path)
    t.add_argument("--out", type=Path, default=DEFAULT_WEIGHTS)
    t.add_argument("--epochs", type=int, default=60)
    t.add_argument("--window", type=int, default=5)
    t.add_argument("--hidden", type=int, default=256)
    t.add_argument("--seed", type=int, default=0)
    e = sub.add_parser("evaluate")
    e.add_argument("workspaces", nargs="+", type=Path)
    e.add_argument("--weights", default=None)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.set_num_threads(1)
    if args.command == "train":
        info = train(args.workspaces, args.out, args.window, args.hidden, args.epochs, args.seed)
    else:
        info = evaluate(args.workspaces, args.weights)
    print(json.dumps(info, indent=1))


if __name__ == "__main__":
    main()
