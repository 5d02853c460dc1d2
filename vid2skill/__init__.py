"""vid2skill: human manipulation videos to robot skills."""

__version__ = "0.1.0"

from vid2skill.quiet_pybullet import import_pybullet_quietly  # noqa: E402

import_pybullet_quietly()
