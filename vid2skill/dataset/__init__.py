"""The episode dataset: per-frame features declared once (``features.py``), the typed dataset
(``episodes.py``) and its construction from retargeted demonstrations (``from_demos.py``)."""

from vid2skill.dataset.episodes import Episode, EpisodeDataset
from vid2skill.dataset.features import (
    ACTION,
    GOAL,
    STATE,
    Feature,
    dataset_features,
    input_features,
    output_features,
)

__all__ = [
    "ACTION",
    "GOAL",
    "STATE",
    "Episode",
    "EpisodeDataset",
    "Feature",
    "dataset_features",
    "input_features",
    "output_features",
]
