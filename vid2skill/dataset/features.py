"""The episode dataset's features: names, dtypes, shapes and units, declared once.

Everything that reads or writes frames (the LeRobot and robomimic exports, a gym-style environment,
a policy's ``input_features`` / ``output_features``) takes its keys and shapes from here, in
LeRobot's terms (``{"dtype", "shape", "names"}`` per key) so a dataset, an environment and a policy
can be checked against each other before any training starts.

Frames (one per control step of a retargeted demonstration, ``fps`` = the retarget control rate):

* ``observation.state`` (8,) float32: the end effector's pose in the contact frame, as its
  displacement from the grasp point (x, y, z, metres) and its rotation since the grasp (a rotation
  vector rx, ry, rz, radians, applied on the left: R(t) = exp(r(t)) @ R_contact_grasp), the gripper's
  state (1 closed, 0 open) and the phase of the episode (frame / (length - 1), in [0, 1]).
* ``observation.goal`` (4,) float32: the skill's target as an end-effector position in the contact
  frame (x, y, z, metres) and a flag ``valid`` (1 where the skill has a goal: place, pour, stir, cut
  and the doors' hinge; 0 and zeros elsewhere). From a demonstration it is read from the
  demonstration itself, in hindsight (where the hand let go, tilted most, circled, swung about);
  never from a scene's ground truth.
* ``action`` (7,) float32: the end-effector step to the next frame in the contact frame (dx, dy, dz,
  metres; drx, dry, drz, a rotation vector in radians with R(t+1) = exp(dr) @ R(t)) and the gripper
  command for the next frame (1 closed, 0 open). The last frame's step is zero. Summing the steps
  from the first state gives the demonstration's path back.
* ``timestamp`` (1,) float32 seconds since the episode's first frame; ``frame_index``,
  ``episode_index``, ``index`` (the frame's position in the whole dataset) and ``task_index``
  (1,) int64. The task's name (the skill) is kept per episode and in the tasks table.
* optional images ``observation.images.<camera>`` (height, width, 3) uint8 RGB.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Feature:
    """One per-frame feature.

    Attributes:
        key: the column name (LeRobot's dotted key).
        dtype: numpy dtype name ("float32", "int64", "uint8") or "image".
        shape: per-frame shape.
        names: the name of each element of a vector (or of each axis of an image).
        unit: units of the elements, in words.
    """

    key: str
    dtype: str
    shape: tuple[int, ...]
    names: tuple[str, ...] | None
    unit: str

    def __post_init__(self):
        if self.names is not None and self.dtype != "image" and len(self.names) != int(np.prod(self.shape)):
            raise ValueError(f"feature {self.key}: {len(self.names)} names for shape {self.shape}")

    def lerobot(self) -> dict:
        """The feature as LeRobot's ``meta/info.json`` declares it."""
        return {
            "dtype": self.dtype,
            "shape": list(self.shape),
            "names": list(self.names) if self.names else None,
        }

    @property
    def numpy_dtype(self) -> np.dtype:
        return np.dtype("uint8" if self.dtype == "image" else self.dtype)


STATE = Feature(
    "observation.state",
    "float32",
    (8,),
    ("x", "y", "z", "rx", "ry", "rz", "gripper_closed", "phase"),
    "m (x, y, z), rad (rotation vector), 1 closed / 0 open, fraction of the episode",
)
GOAL = Feature(
    "observation.goal",
    "float32",
    (4,),
    ("x", "y", "z", "valid"),
    "m (contact frame), 1 where the skill has a goal / 0 elsewhere",
)
ACTION = Feature(
    "action",
    "float32",
    (7,),
    ("dx", "dy", "dz", "drx", "dry", "drz", "gripper_closed"),
    "m per step, rad per step (rotation vector, left-applied), 1 closed / 0 open",
)
TIMESTAMP = Feature("timestamp", "float32", (1,), None, "s since the episode's first frame")
FRAME_INDEX = Feature("frame_index", "int64", (1,), None, "frame within its episode")
EPISODE_INDEX = Feature("episode_index", "int64", (1,), None, "episode within the dataset")
INDEX = Feature("index", "int64", (1,), None, "frame within the dataset")
TASK_INDEX = Feature("task_index", "int64", (1,), None, "row of the tasks table")

# Per-frame vectors an Episode holds, and the bookkeeping columns every exported frame carries.
VECTOR_FEATURES: tuple[Feature, ...] = (STATE, GOAL, ACTION)
INDEX_FEATURES: tuple[Feature, ...] = (TIMESTAMP, FRAME_INDEX, EPISODE_INDEX, INDEX, TASK_INDEX)

IMAGE_PREFIX = "observation.images."


def image_feature(camera: str, height: int, width: int) -> Feature:
    """An RGB camera's per-frame image, ``observation.images.<camera>`` (height, width, 3) uint8."""
    if not camera.isidentifier():
        raise ValueError(f"camera name {camera!r} must be a plain identifier (letters, digits, _)")
    return Feature(
        IMAGE_PREFIX + camera,
        "image",
        (int(height), int(width), 3),
        ("height", "width", "channels"),
        "RGB 0-255",
    )


def dataset_features(image_shapes: dict[str, tuple[int, int]] | None = None) -> dict[str, Feature]:
    """Every feature of a dataset, keyed by name: the vectors, the optional cameras (name -> (H, W)), the
    indices."""
    cams = [image_feature(c, *hw) for c, hw in sorted((image_shapes or {}).items())]
    return {f.key: f for f in (*VECTOR_FEATURES, *cams, *INDEX_FEATURES)}


def input_features(image_shapes: dict[str, tuple[int, int]] | None = None) -> dict[str, Feature]:
    """What a policy observes: state, goal and any cameras (an environment's observation spec)."""
    return {k: f for k, f in dataset_features(image_shapes).items() if k.startswith("observation.")}


def output_features() -> dict[str, Feature]:
    """What a policy outputs: the end-effector step and gripper command (an environment's action spec)."""
    return {ACTION.key: ACTION}


def check_features(
    provided: dict[str, Feature], required: dict[str, Feature], provider: str, consumer: str
) -> None:
    """Raise one DatasetError naming every feature ``consumer`` (a policy) needs that ``provider`` (a
    dataset or an environment) lacks or gives with another dtype or shape; checked before training."""
    from vid2skill.errors import DatasetError

    problems = []
    for key, want in required.items():
        have = provided.get(key)
        if have is None:
            problems.append(f"{key} is missing")
        elif (have.dtype, tuple(have.shape)) != (want.dtype, tuple(want.shape)):
            problems.append(
                f"{key} is {have.dtype} {tuple(have.shape)}, needs {want.dtype} {tuple(want.shape)}"
            )
    if problems:
        raise DatasetError(
            f"{provider} does not give what {consumer} needs: {'; '.join(problems)} "
            "(see vid2skill/dataset/features.py)"
        )
