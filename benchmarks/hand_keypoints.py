"""Hand landmark accuracy on real images with keypoint ground truth (FreiHAND, CMU Panoptic, InterHand2.6M).

For every annotated hand, MediaPipe Hands (static image mode, up to two hands) runs on the whole
image; the detection whose landmarks lie nearest the annotation is matched to it. Printed per
data set: detection rate, mean pixel error over the 21 keypoints of matched hands, and PCK@0.2
(keypoints within 0.2 of the annotated hand box's longer side). On InterHand2.6M, whose cameras
and 3-D joints are given, also the metric wrist position error of ``hand_translation`` (the same
lift ``extract`` uses) in the camera frame. The model ``extract`` uses (full, complexity 1) is
compared with MediaPipe's lite hand model in the same run.

    python benchmarks/hand_keypoints.py --data ../shared/data/hand_gt
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

# InterHand2.6M orders each hand's joints tip-first per finger (thumb, index, middle, ring, pinky),
# wrist last; MediaPipe orders wrist first, then each finger from its base to its tip.
INTERHAND_TO_MP = [20] + [f * 4 + (4 - j) for f in range(5) for j in range(1, 5)]


def coco_hands(folder: Path, name: str) -> list[dict]:
    """FreiHAND / Panoptic style: COCO json with 21 (x, y, v) keypoints per annotation, MediaPipe's order."""
    d = json.loads((folder / name).read_text())
    images = {im["id"]: im for im in d["images"]}
    out = []
    for a in d["annotations"]:
        kp = np.array(a["keypoints"], float).reshape(21, 3)
        out.append(
            {
                "image": folder / images[a["image_id"]]["file_name"],
                "kp": kp[:, :2],
                "vis": kp[:, 2] > 0,
                "box": float(max(a["bbox"][2], a["bbox"][3])),
            }
        )
    return out


def interhand_hands(folder: Path) -> list[dict]:
    """InterHand2.6M: 3-D joints of both hands projected through the given camera (mm -> m)."""
    data = json.loads((folder / "test_interhand2.6m_data.json").read_text())
    cams = json.loads((folder / "test_interhand2.6m_camera.json").read_text())
    joints = json.loads((folder / "test_interhand2.6m_joint_3d.json").read_text())
    anns = {a["image_id"]: a for a in data["annotations"]}
    out = []
    for im in data["images"]:
        cap, cam, frame = str(im["capture"]), str(im["camera"]), str(im["frame_idx"])
        c = cams[cap]
        R, pos = np.array(c["camrot"][cam]), np.array(c["campos"][cam])
        (fx, fy), (cx, cy) = c["focal"][cam], c["princpt"][cam]
        world = np.array(joints[cap][frame]["world_coord"])
        cam_xyz = (world - pos) @ R.T / 1000.0  # metres, camera frame
        valid = np.array(anns[im["id"]]["joint_valid"]).reshape(-1) > 0
        for h in range(2):  # right hand joints 0-20, left 21-41
            idx = np.array(INTERHAND_TO_MP) + 21 * h
            if not valid[idx].all():
                continue
            p = cam_xyz[idx]
            uv = np.stack([fx * p[:, 0] / p[:, 2] + cx, fy * p[:, 1] / p[:, 2] + cy], axis=1)
            out.append(
                {
                    "image": folder / im["file_name"],
                    "kp": uv,
                    "vis": np.ones(21, bool),
                    "box": float(np.ptp(uv, axis=0).max()),
                    "wrist_cam": p[0],
                    "joints_cam": p,
                    "right": h == 0,
                    "intrinsics": [fx, fy, cx, cy],
                }
            )
    return out


def evaluate(hands: list[dict], complexity: int) -> dict:
    import mediapipe as mp

    from vid2skill.extract.lifter import lift
    from vid2skill.extract.metric import hand_translation
    from vid2skill.extract.native_log import quiet_native_stderr
    from vid2skill.geometry import rotation_angle_deg
    from vid2skill.landmarks import palm_frame, resolve_depth_mirror

    found, px_err, pck, wrist_err = 0, [], [], []
    rot_err: dict[str, list] = {"mediapipe": [], "lifter": []}
    depth_err: dict[str, list] = {"mediapipe": [], "lifter": []}
    with quiet_native_stderr():
        model = mp.solutions.hands.Hands(
            static_image_mode=True, max_num_hands=2, model_complexity=complexity, min_detection_confidence=0.3
        )
        for h in hands:
            bgr = cv2.imread(str(h["image"]))
            H, W = bgr.shape[:2]
            res = model.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            if not res.multi_hand_landmarks:
                continue
            cands = [
                (
                    np.array([[p.x * W, p.y * H] for p in lm.landmark]),
                    np.array([[p.x, p.y, p.z] for p in wl.landmark]),
                )
                for lm, wl in zip(res.multi_hand_landmarks, res.multi_hand_world_landmarks)
            ]
            errs = [np.linalg.norm(c[0] - h["kp"], axis=1)[h["vis"]].mean() for c in cands]
            k = int(np.argmin(errs))
            if errs[k] > 0.5 * h["box"]:  # nearest detection is another hand, or a false alarm
                continue
            found += 1
            e = np.linalg.norm(cands[k][0] - h["kp"], axis=1)[h["vis"]]
            px_err.append(e.mean())
            pck.append(float((e < 0.2 * h["box"]).mean()))
            if "wrist_cam" in h:
                t = hand_translation(cands[k][1][None], cands[k][0][None], h["intrinsics"])[0]
                wrist_err.append(float(np.linalg.norm(cands[k][1][0] + t - h["wrist_cam"])))
            if "joints_cam" in h:  # 3-D ground truth: the palm's orientation and the wrist's depth
                world = resolve_depth_mirror(cands[k][1][None], h["right"])
                R_gt = palm_frame(h["joints_cam"], right=h["right"])
                z_gt = h["wrist_cam"][2]
                z_mp = (world[0, 0] + hand_translation(world, cands[k][0][None], h["intrinsics"])[0])[2]
                R_l, factor = lift(cands[k][0][None], world, h["intrinsics"], h["right"])
                for name, R, z in (
                    ("mediapipe", palm_frame(world[0], right=h["right"]), z_mp),
                    ("lifter", R_l[0], z_mp * factor[0]),
                ):
                    rot_err[name].append(float(rotation_angle_deg(R, R_gt)))
                    depth_err[name].append(100 * abs(z / z_gt - 1))
        model.close()
    out = {
        "hands": len(hands),
        "detection": found / max(len(hands), 1),
        "mean_px_error": float(np.mean(px_err)) if px_err else float("nan"),
        "pck@0.2": float(np.mean(pck)) if pck else float("nan"),
    }
    if wrist_err:
        out["median_wrist_error_cm"] = 100 * float(np.median(wrist_err))
    for name in rot_err:
        if rot_err[name]:
            out[f"palm_rotation_deg_{name}"] = [round(x, 1) for x in rot_err[name]]
            out[f"wrist_depth_error_pct_{name}"] = [round(x, 1) for x in depth_err[name]]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "hand_gt")
    )
    args = ap.parse_args()
    root = Path(args.data)
    sets = {
        "FreiHAND": coco_hands(root / "freihand", "test_freihand.json"),
        "CMU Panoptic": coco_hands(root / "panoptic", "test_panoptic.json"),
        "InterHand2.6M": interhand_hands(root / "interhand2.6m"),
    }
    print(
        f"{'set':15s}{'hands':>6s} "
        f"{'model':6s}{'detection':>10s}{'mean px err':>12s}{'PCK@0.2':>9s}{'wrist 3-D (cm)':>16s}"
    )
    for name, hands in sets.items():
        rows = {c: evaluate(hands, c) for c in (1, 0)}
        for c, label in ((1, "full"), (0, "lite")):
            r = rows[c]
            w = f"{r['median_wrist_error_cm']:16.1f}" if "median_wrist_error_cm" in r else f"{'':16s}"
            print(
                f"{name:15s}{r['hands']:6d} "
                f"{label:6s}{r['detection']:10.2f}{r['mean_px_error']:12.1f}{r['pck@0.2']:9.2f}{w}"
            )
        for c, label in ((1, "full"), (0, "lite")):
            r = rows[c]
            if "palm_rotation_deg_mediapipe" in r:  # per hand, in the set's order
                print(
                    f"{'':15s}{'':6s} {label}: palm rotation error (deg) MediaPipe "
                    f"{r['palm_rotation_deg_mediapipe']}, lifter {r['palm_rotation_deg_lifter']}; "
                    f"wrist depth error (%) MediaPipe {r['wrist_depth_error_pct_mediapipe']}, "
                    f"lifter {r['wrist_depth_error_pct_lifter']}"
                )
        full, lite = rows[1], rows[0]
        if lite["pck@0.2"] == lite["pck@0.2"] and lite["pck@0.2"] > 0:
            print(
                f"{'':15s}{'':6s} full / lite: detection "
                f"{full['detection'] / max(lite['detection'], 1e-9):.2f}, "
                f"PCK {full['pck@0.2'] / lite['pck@0.2']:.2f}"
            )


if __name__ == "__main__":
    main()
