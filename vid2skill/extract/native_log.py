"""Keeping MediaPipe's native start-up chatter off the user's terminal.

MediaPipe's C++ graphs print TensorFlow Lite and absl lines ("Created TensorFlow Lite XNNPACK
delegate", "Feedback manager requires a model with a single signature ...") straight to file
descriptor 2 whenever a graph starts, before absl logging can be configured, so neither GLOG nor
TF environment variables silence them. They are captured here; every other line printed in the
meantime (a Python warning, a native error) is written back to stderr afterwards.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile

# Lines MediaPipe 0.10.21 prints on every graph start, whatever the input: nothing a user can act on.
_START_UP = re.compile(
    r"Created TensorFlow Lite XNNPACK delegate|All log messages before absl::InitializeLog\(\)"
    r"|inference_feedback_manager\.cc|Feedback manager requires a model with a single signature"
    r"|landmark_projection_calculator\.cc.*NORM_RECT without IMAGE_DIMENSIONS"
)


@contextlib.contextmanager
def quiet_native_stderr():
    """Capture file descriptor 2 for the duration; afterwards write back all but MediaPipe's start-up
    lines."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            kept = [
                line
                for line in sink.read().decode(errors="replace").splitlines(keepends=True)
                if not _START_UP.search(line)
            ]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()
