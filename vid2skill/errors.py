"""Exceptions a user can act on. The CLI prints their message as one line and exits non-zero."""


class Vid2SkillError(Exception):
    """Base class: the message says what failed, on which file or key, and what to try."""


class VideoError(Vid2SkillError):
    """A video could not be opened or decoded."""


class NoHandError(Vid2SkillError):
    """A clip in which no hand was found in enough frames."""


class ArtifactError(Vid2SkillError):
    """A stage's input artifact is missing, stale or from an incompatible schema."""


class ConfigError(Vid2SkillError):
    """A configuration value is out of range or inconsistent with another."""


class DatasetError(Vid2SkillError):
    """An episode dataset (or the demonstrations it is built from) holds NaNs or inconsistent shapes."""
