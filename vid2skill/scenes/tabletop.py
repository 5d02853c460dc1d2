"""What the tabletop scenes share: a generated table in front of the robot, objects from
pybullet_data or generated props, and the start of in-hand episodes.

In-hand scenes (place, pour, stir, cut) start with the object held at ``start`` above the table;
their contact frame has its origin at that grasp point, x horizontal towards the scene's target
(the region, the bowl, the pot, the block) and z up, so a human motion "move towards it, then
act" means the same in every randomised scene.
"""

from __future__ import annotations

import numpy as np

from vid2skill.geometry import frame_from_x_and_up
from vid2skill.physics.objects import write_urdf
from vid2skill.physics.props import table_urdf
from vid2skill.scenes.base import SkillScene

# Top-down grasp in an in-hand contact frame (x horizontal towards the target, z up): approach
# down (-z), jaws across y; the grasp frame's x is -x_contact.
R_CONTACT_TOPDOWN = np.array([[-1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, -1.0]])


class TabletopScene(SkillScene):
    """A table whose top is at ``table_top_m`` (relative to the robot base's height)."""

    def __init__(self, scene, skill_cfg, scene_cfg, rng):
        super().__init__(scene, skill_cfg, scene_cfg, rng)
        self.table_top = self.uniform("table_top_m")
        self.robot_base = np.array(
            [self.uniform("robot_base_offset_m"), self.uniform("robot_base_offset_m"), 0.0]
        )
        scene.load_urdf("table", write_urdf(table_urdf(1.0, 1.2, self.table_top)), [0.55, 0.0, 0.0])
        scene.load_urdf("floor", "plane.urdf", [0, 0, min(0.0, self.table_top - 0.8)])

    def sample_on_table(self, x_key: str = "object_x_m", y_key: str = "object_y_m") -> np.ndarray:
        return np.array([self.uniform(x_key), self.uniform(y_key), self.table_top])

    def in_hand_frame(self, start: np.ndarray, target: np.ndarray) -> np.ndarray:
        """T_world_contact for an in-hand scene: origin at the start grasp, x towards ``target``."""
        d = target - start
        d[2] = 0.0
        return frame_from_x_and_up(d, start)
