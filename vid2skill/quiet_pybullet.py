"""Importing PyBullet without its build-time banner.

``import pybullet`` prints "pybullet build time: ..." from C on standard error, which no option or
environment variable turns off. The package imports it once here, with file descriptor 2 pointed
at /dev/null, so that no stage (and no spawned worker, which imports the package first)
prints it; later imports find the module loaded.
"""

from __future__ import annotations

import ctypes
import os
import sys


def import_pybullet_quietly() -> None:
    if "pybullet" in sys.modules:
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (AttributeError, OSError, ValueError):  # no usable standard error: nothing to keep clean
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        try:
            import pybullet  # noqa: F401
        except ImportError:  # reported where PyBullet is used (an import error's message is lost here)
            pass
        finally:
            try:
                ctypes.CDLL(None).fflush(None)  # the banner may still sit in C's buffer (a pipe, a file)
            except (OSError, AttributeError):
                pass
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
