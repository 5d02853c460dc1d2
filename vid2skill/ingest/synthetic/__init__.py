"""The built-in generator of synthetic human demonstrations (``generator``, ``staged``, ``hand``)."""

# Bump when a change to the scene, hand or renderer changes the clips a configuration makes, so
# that cached clips are rendered again and the ingest stage reruns. Kept here, apart from the
# generator, so that reading it does not load the renderer.
RENDER_VERSION = 3  # 3: ground truth says which keypoints each frame shows (occlusion)
