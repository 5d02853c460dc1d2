"""vid2skill: human manipulation videos to robot skills."""

__version__ = "0.1.0"
