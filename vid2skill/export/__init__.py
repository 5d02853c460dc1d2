"""Exports of the episode dataset: LeRobotDataset v3 (``lerobot.py``) and robomimic HDF5
(``robomimic.py``); ``stage.py`` is the ``vid2skill export`` stage."""
