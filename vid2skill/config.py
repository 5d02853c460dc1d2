"""The configuration's schema, and the one way to compose it.

Every option of every config group (``conf/<group>/<option>.yaml``) is checked against a dataclass
registered here in Hydra's ConfigStore (``schema/<group>/<option>``); the option's YAML names it
first in its defaults list, so a misspelt key or a value of the wrong type, in a YAML file or on the
command line, fails while Hydra composes the configuration. The values themselves live only in the
YAML: every field here is ``MISSING`` (``???``), so a YAML that leaves one out fails as well.

``compose(overrides)`` is how the CLI, the tests, the benchmarks and :func:`vid2skill.sim.env.make_skill_env`
build a configuration.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig

# --- source/ -------------------------------------------------------------------------------------


@dataclass
class Realism:
    """synthetic_real: a head-worn camera's turns, blur, compression and clutter."""

    camera_turn_deg: float = MISSING
    camera_bob_m: float = MISSING
    blur_px: List[int] = MISSING
    jpeg_quality: Optional[List[int]] = MISSING
    clutter: int = MISSING
    clutter_clearance_m: float = MISSING


@dataclass
class SyntheticSource:
    """source=synthetic (and synthetic_hard, synthetic_real): built-in scripted-hand clips."""

    name: str = MISSING
    skills: List[str] = MISSING
    clips_per_skill: int = MISSING
    seed: int = MISSING
    fps: int = MISSING
    width: int = MISSING
    height: int = MISSING
    curl_levels: int = MISSING
    mesh_voxel_m: float = MISSING
    phase_durations_s: List[float] = MISSING
    speed: List[float] = MISSING
    hand_scale: List[float] = MISSING
    open_curl: List[float] = MISSING
    closed_curl: List[float] = MISSING
    grasp_pitch_deg: List[float] = MISSING
    grasp_roll_deg: List[float] = MISSING
    reach_back_m: List[float] = MISSING
    reach_side_m: List[float] = MISSING
    reach_up_m: List[float] = MISSING
    noise_m: float = MISSING
    wrist_follow: Optional[List[float]] = MISSING
    handle_height_m: List[float] = MISSING
    drawer_travel_m: List[float] = MISSING
    opening_m: List[float] = MISSING
    fov_deg: List[float] = MISSING
    third_person_prob: float = MISSING
    camera_distance_m: List[float] = MISSING
    camera_elevation_deg: List[float] = MISSING
    camera_azimuth_deg: List[float] = MISSING
    egocentric_offset_m: List[Any] = MISSING  # three [lo, hi] ranges
    min_visible_fraction: float = MISSING
    backdrop_brightness: List[float] = MISSING
    stage_drawers: bool = MISSING
    settle_s: float = MISSING
    scenes: Any = MISSING
    skill_definitions: Any = MISSING  # conf/skill/all.yaml: what the staged clips perform
    control_hz: int = MISSING
    timestep_s: float = MISSING
    hold_end_s: float = MISSING
    realism: Realism = MISSING


@dataclass
class FolderSource:
    name: str = MISSING
    path: str = MISSING
    recursive: bool = MISSING
    label_from: Any = MISSING  # a name or a list of names in priority order
    labels: Optional[str] = MISSING
    lexicon: Any = MISSING


@dataclass
class EpicSource:
    name: str = MISSING
    annotations: str = MISSING
    videos: str = MISSING
    verbs: List[str] = MISSING
    nouns: List[str] = MISSING
    label_from: str = MISSING
    lexicon: Any = MISSING


@dataclass
class Ssv2Source:
    name: str = MISSING
    labels: str = MISSING
    videos: str = MISSING
    templates: List[str] = MISSING
    lexicon: Any = MISSING


@dataclass
class UrlsSource:
    name: str = MISSING
    urls: List[str] = MISSING
    labels: List[str] = MISSING
    timeout_s: float = MISSING
    lexicon: Any = MISSING


# --- extract/ ------------------------------------------------------------------------------------


@dataclass
class PoseExtract:
    enabled: bool = MISSING
    min_detection_confidence: float = MISSING
    min_tracking_confidence: float = MISSING
    max_skip_frames: int = MISSING
    crops: bool = MISSING
    min_visibility: float = MISSING
    crop_scale: float = MISSING
    min_crop_px: int = MISSING
    crop_px: int = MISSING
    match_frac: float = MISSING
    side_margin: float = MISSING


@dataclass
class RecoverExtract:
    enabled: bool = MISSING
    max_gap_frames: int = MISSING
    edge_frames: int = MISSING
    crop_scale: float = MISSING
    min_crop_px: int = MISSING
    crop_px: int = MISSING
    gate_frac: float = MISSING
    size_tolerance: float = MISSING
    keep_mb: float = MISSING


@dataclass
class CameraMotionExtract:
    enabled: bool = MISSING
    width_px: int = MISSING
    features: int = MISSING
    min_matches: int = MISSING
    ransac_px: float = MISSING
    still_frac: float = MISSING
    still_px: float = MISSING
    keyframe_inlier_frac: float = MISSING
    mask_pad_frac: float = MISSING
    min_rotation_deg: float = MISSING
    static_clip_frac: float = MISSING
    body_static_frac: float = MISSING


@dataclass
class GravityExtract:
    enabled: bool = MISSING
    frames: int = MISSING
    width_px: int = MISSING
    min_length_frac: float = MISSING
    mask_pad_frac: float = MISSING
    inlier_deg: float = MISSING
    iterations: int = MISSING
    min_explained: float = MISSING
    min_axis_support: float = MISSING
    max_tilt_deg: float = MISSING
    min_pitch_deg: float = MISSING
    max_roll_deg: float = MISSING


@dataclass
class LifterExtract:
    enabled: bool = MISSING
    weights: Optional[str] = MISSING
    rotation: bool = MISSING
    depth: bool = MISSING


@dataclass
class MediapipeExtract:
    name: str = MISSING
    stride: int = MISSING
    target_fps: Optional[float] = MISSING
    max_side_px: Optional[int] = MISSING
    max_hands: int = MISSING
    model_complexity: int = MISSING
    min_detection_confidence: float = MISSING
    min_tracking_confidence: float = MISSING
    hand: str = MISSING
    mirrored_input: bool = MISSING
    default_hfov_deg: float = MISSING
    hand_scale: float = MISSING
    min_frames_with_hand: int = MISSING
    outlier_window: int = MISSING
    outlier_m: float = MISSING
    max_speed_m_s: Optional[float] = MISSING
    speed_median_window: int = MISSING
    max_gap_frames: int = MISSING
    depth_median_s: Optional[float] = MISSING
    one_euro_min_cutoff_hz: float = MISSING
    one_euro_beta: float = MISSING
    zero_phase: bool = MISSING
    track_gate_frac: float = MISSING
    pose: PoseExtract = MISSING
    recover: RecoverExtract = MISSING
    lifter: LifterExtract = MISSING
    camera_motion: CameraMotionExtract = MISSING
    gravity: GravityExtract = MISSING
    ground_truth: bool = MISSING


# --- cluster/ ------------------------------------------------------------------------------------


@dataclass
class DescriptorWeights:
    approach: float = MISSING
    straightness: float = MISSING
    arc: float = MISSING
    reversals: float = MISSING
    turns: float = MISSING
    rotation: float = MISSING
    image_roll: float = MISSING
    top: float = MISSING
    lift: float = MISSING
    lower: float = MISSING
    rise: float = MISSING
    log_duration: float = MISSING
    log_extent: float = MISSING


@dataclass
class AgglomerativeCluster:
    name: str = MISSING
    grasp_method: str = MISSING
    grasp_signal: str = MISSING
    group_by: str = MISSING
    closed_fraction: float = MISSING
    min_aperture_range_m: float = MISSING
    min_grasp_frames: int = MISSING
    reach_window_s: float = MISSING
    depth_median_s: float = MISSING
    rotation_smooth_s: float = MISSING
    contact_search_s: float = MISSING
    bridge_gap_s: float = MISSING
    bridge_missing_s: float = MISSING
    max_segments: int = MISSING
    min_segment_share: float = MISSING
    continues_grasp: List[str] = MISSING
    skill_ends: Dict[str, str] = MISSING
    reach_starts: List[str] = MISSING
    inplane_motion: str = MISSING
    labelled_min_segment_share: float = MISSING
    pick_contact_s: float = MISSING
    resample: int = MISSING
    features: str = MISSING
    descriptor_weights: DescriptorWeights = MISSING
    feature_points: int = MISSING
    feature_rotation_m_per_rad: float = MISSING
    k_min: int = MISSING
    k_max: int = MISSING
    linkage: str = MISSING
    min_cluster_fraction: float = MISSING
    outlier_fraction: float = MISSING
    flag_margin: float = MISSING
    assign_neighbours: int = MISSING
    novel_factor: float = MISSING
    novel_distance: float = MISSING
    use_labels_for_names: bool = MISSING
    lexicon: Any = MISSING
    uncertain_below: float = MISSING
    confidence_temperature: float = MISSING


# --- retarget/ -----------------------------------------------------------------------------------


@dataclass
class Primitives:
    hinge_radius_m: List[float] = MISSING
    min_arc_spread: float = MISSING
    min_wrist_yaw_deg: float = MISSING
    prior_door_radius_m: float = MISSING
    max_hinge_deg: float = MISSING
    min_extent_m: float = MISSING
    min_stroke_m: float = MISSING
    min_loop_turns: float = MISSING
    pour_tilt: str = MISSING


@dataclass
class ContactFrameRetarget:
    name: str = MISSING
    motion_model: str = MISSING
    control_hz: int = MISSING
    release_steps: int = MISSING
    follow_rotation: bool = MISSING
    reach_tolerance_m: float = MISSING
    nominal_scene_seed: int = MISSING
    primitives: Primitives = MISSING


# --- robot/ --------------------------------------------------------------------------------------


@dataclass
class Gripper:
    """A generated parallel gripper (vid2skill/physics/grippers.py ``ParallelGripper``)."""

    mount_link: str = MISSING
    mount_offset: float = MISSING
    body: List[float] = MISSING
    finger: List[float] = MISSING
    stroke: float = MISSING


@dataclass
class Robot:
    """An arm: the fields of :class:`vid2skill.physics.robot.RobotSpec`."""

    name: str = MISSING
    urdf: str = MISSING
    ee_link: str = MISSING
    arm_joints: List[str] = MISSING
    finger_joints: List[str] = MISSING
    finger_open: List[float] = MISSING
    finger_closed: List[float] = MISSING
    rest_pose: List[float] = MISSING
    finger_force: float = MISSING
    arm_force_scale: float = MISSING
    max_joint_speed: float = MISSING
    ee_R_grasp: List[Any] = MISSING  # (3, 3) rows (OmegaConf reads a nested 1 as no float)
    gripper: Optional[Gripper] = MISSING
    grasp_links: List[str] = MISSING
    mount_offset_m: List[float] = MISSING


# --- policy/ -------------------------------------------------------------------------------------


@dataclass
class Policy:
    """policy=expert and policy=replay: nothing to learn."""

    name: str = MISSING


@dataclass
class LearnedPolicy(Policy):
    """What every learnt policy's training reads (policy/training.py)."""

    epochs: int = MISSING
    lr: float = MISSING
    batch_size: int = MISSING
    weight_decay: float = MISSING
    noise_std_m: float = MISSING
    noise_std_rad: float = MISSING
    noise_copies: int = MISSING
    max_step_m: float = MISSING
    max_turn_rad: float = MISSING
    gripper_weight: float = MISSING
    valid_fraction: float = MISSING
    patience: int = MISSING
    train_on: str = MISSING
    rollouts: int = MISSING
    rollout_start_seed: int = MISSING
    select_episodes: int = MISSING
    select_start_seed: int = MISSING
    filter_success: bool = MISSING
    min_demos: int = MISSING
    tensorboard: bool = MISSING
    threads: int = MISSING
    seed: int = MISSING
    device: str = MISSING


@dataclass
class BCMLPPolicy(LearnedPolicy):
    """policy=bc_mlp (and bc_mlp_dagger): vid2skill/policy/bc_mlp/configuration_bc_mlp.py."""

    hidden: List[int] = MISSING
    head: str = MISSING
    gmm_modes: int = MISSING
    gmm_min_std: float = MISSING
    prev_step: str = MISSING


@dataclass
class ACTPolicy(LearnedPolicy):
    """policy=act: vid2skill/policy/act/configuration_act.py."""

    chunk_size: int = MISSING
    d_model: int = MISSING
    n_heads: int = MISSING
    dim_feedforward: int = MISSING
    n_encoder_layers: int = MISSING
    n_decoder_layers: int = MISSING
    n_vae_encoder_layers: int = MISSING
    latent_dim: int = MISSING
    dropout: float = MISSING
    kl_weight: float = MISSING
    loss: str = MISSING
    temporal_ensemble: bool = MISSING
    ensemble_coeff: float = MISSING
    n_action_steps: int = MISSING
    min_updates: int = MISSING


# --- sim/ ----------------------------------------------------------------------------------------


@dataclass
class Video:
    width: int = MISSING
    height: int = MISSING
    fov_deg: float = MISSING
    every_steps: int = MISSING
    offset_m: List[float] = MISSING
    gif_every: int = MISSING
    gif_scale: float = MISSING


@dataclass
class DrawerSceneParams:
    distance_m: List[float] = MISSING
    lateral_m: List[float] = MISSING
    yaw_deg: List[float] = MISSING
    handle_height_m: List[float] = MISSING
    front_height_m: List[float] = MISSING
    width_m: List[float] = MISSING
    depth_m: List[float] = MISSING
    travel_m: List[float] = MISSING
    robot_base_offset_m: List[float] = MISSING


@dataclass
class DoorSceneParams:
    distance_m: List[float] = MISSING
    lateral_m: List[float] = MISSING
    yaw_deg: List[float] = MISSING
    width_m: List[float] = MISSING
    height_m: List[float] = MISSING
    depth_m: List[float] = MISSING
    bottom_m: List[float] = MISSING
    robot_base_offset_m: List[float] = MISSING


@dataclass
class SceneObject:
    """A pybullet_data model: ``path`` (``{id}`` picks one of ``count`` numbered models) and ``scale``."""

    path: str = MISSING
    scale: float = MISSING
    count: Optional[int] = None  # only for a path with {id}


@dataclass
class TabletopSceneParams:
    table_top_m: List[float] = MISSING
    robot_base_offset_m: List[float] = MISSING
    object_x_m: List[float] = MISSING
    object_y_m: List[float] = MISSING
    grasp_depth_m: float = MISSING
    objects: List[SceneObject] = MISSING


@dataclass
class PlaceSceneParams(TabletopSceneParams):
    region_half_m: List[float] = MISSING
    target_distance_m: List[float] = MISSING
    start_height_m: List[float] = MISSING


@dataclass
class PourSceneParams(TabletopSceneParams):
    cup_radius_m: List[float] = MISSING
    cup_height_m: List[float] = MISSING
    bowl_radius_m: List[float] = MISSING
    bowl_height_m: List[float] = MISSING
    bowl_distance_m: List[float] = MISSING
    bowl_x_offset_m: List[float] = MISSING
    start_height_m: List[float] = MISSING
    grip_height_frac: float = MISSING
    grasp_standoff_m: float = MISSING
    grasp_pitch_deg: float = MISSING
    spheres: int = MISSING
    sphere_radius_m: float = MISSING


@dataclass
class StirSceneParams(TabletopSceneParams):
    pot_radius_m: List[float] = MISSING
    pot_height_m: List[float] = MISSING
    tool_length_m: List[float] = MISSING
    start_distance_m: List[float] = MISSING
    start_height_m: List[float] = MISSING
    start_heading_deg: List[float] = MISSING


@dataclass
class CutSceneParams(TabletopSceneParams):
    tool_length_m: List[float] = MISSING
    block_width_m: List[float] = MISSING
    block_length_m: List[float] = MISSING
    block_height_m: List[float] = MISSING
    start_distance_m: List[float] = MISSING
    start_height_m: List[float] = MISSING
    start_heading_deg: List[float] = MISSING


@dataclass
class Scenes:
    """Each task's randomisation (vid2skill/scenes/)."""

    drawer: DrawerSceneParams = MISSING
    door: DoorSceneParams = MISSING
    pick: TabletopSceneParams = MISSING
    place: PlaceSceneParams = MISSING
    pour: PourSceneParams = MISSING
    stir: StirSceneParams = MISSING
    cut: CutSceneParams = MISSING


@dataclass
class PybulletSim:
    name: str = MISSING
    start_seed: int = MISSING
    gui: bool = MISSING
    timestep_s: float = MISSING
    control_hz: int = MISSING
    tracking_ik_iterations: int = MISSING
    pregrasp_m: float = MISSING
    reach_waypoints: int = MISSING
    approach_waypoints: int = MISSING
    reach_in_joint_space: bool = MISSING
    grasp_settle_steps: int = MISSING
    attach_tolerance_m: float = MISSING
    pre_release_settle_steps: int = MISSING
    release_settle_steps: int = MISSING
    finger_friction: float = MISSING
    videos: int = MISSING
    video: Video = MISSING
    scenes: Scenes = MISSING


# --- skill/ --------------------------------------------------------------------------------------
# `skill=<name>` composes one skill under skill.<name>, `skill=all` every one; each skill's YAML
# is checked against its own dataclass, since the success test, expert and replay primitive of
# each scene read different settings.


@dataclass
class Skill:
    """What every skill states: its scene (``task``), time limit and what happens at the end."""

    name: str = MISSING
    task: str = MISSING
    horizon_s: float = MISSING  # policy time after the grasp
    release_at_end: bool = MISSING
    periodic: bool = MISSING  # the motion repeats (strokes, circles)
    settle_s: float = MISSING  # after the release, before success is judged


@dataclass
class HoldPrimitive:
    hold_s: float = MISSING  # replay holds this long after the human's motion ends


@dataclass
class SlideExpert:
    speed_m_s: float = MISSING
    goal_opening_frac: float = MISSING
    overshoot_m: float = MISSING
    tolerance_m: float = MISSING


@dataclass
class SlideOpenSuccess:
    min_opening_m: float = MISSING
    min_opening_frac: float = MISSING


@dataclass
class SlideSkill(Skill):
    """A drawer pulled open or pushed shut: what both senses state."""

    sense: str = MISSING
    start_opening_m: Optional[List[float]] = MISSING
    expert: SlideExpert = MISSING


@dataclass
class SlideOpenSkill(SlideSkill):
    success: SlideOpenSuccess = MISSING
    primitive: HoldPrimitive = MISSING


@dataclass
class SlideCloseSuccess:
    max_opening_m: float = MISSING


@dataclass
class SlideClosePrimitive(HoldPrimitive):
    past_stop_m: float = MISSING


@dataclass
class SlideCloseSkill(SlideSkill):
    success: SlideCloseSuccess = MISSING
    primitive: SlideClosePrimitive = MISSING


@dataclass
class HingeExpert:
    speed_deg_s: float = MISSING
    lead_deg: float = MISSING
    wrist_follow: float = MISSING
    goal_angle_deg: float = MISSING
    overshoot_deg: float = MISSING
    tolerance_deg: float = MISSING


@dataclass
class HingeOpenSuccess:
    min_angle_deg: float = MISSING


@dataclass
class HingeSkill(Skill):
    """A door or lid swung open or shut: what both senses state."""

    sense: str = MISSING
    start_angle_deg: Optional[List[float]] = MISSING
    expert: HingeExpert = MISSING


@dataclass
class HingeOpenSkill(HingeSkill):
    success: HingeOpenSuccess = MISSING
    primitive: HoldPrimitive = MISSING


@dataclass
class HingeCloseSuccess:
    max_angle_deg: float = MISSING


@dataclass
class HingeClosePrimitive(HoldPrimitive):
    past_stop_deg: float = MISSING


@dataclass
class HingeCloseSkill(HingeSkill):
    success: HingeCloseSuccess = MISSING
    primitive: HingeClosePrimitive = MISSING


@dataclass
class PickSuccess:
    lift_m: float = MISSING
    hold_s: float = MISSING


@dataclass
class PickExpert:
    lift_m: float = MISSING
    speed_m_s: float = MISSING


@dataclass
class PickSkill(Skill):
    success: PickSuccess = MISSING
    expert: PickExpert = MISSING
    primitive: HoldPrimitive = MISSING


@dataclass
class PlaceSuccess:
    margin_m: float = MISSING
    rest_tolerance_m: float = MISSING
    max_speed_m_s: float = MISSING


@dataclass
class PlaceExpert:
    speed_m_s: float = MISSING
    tolerance_m: float = MISSING
    release_height_m: float = MISSING


@dataclass
class PlaceSkill(Skill):
    success: PlaceSuccess = MISSING
    expert: PlaceExpert = MISSING
    primitive: HoldPrimitive = MISSING


@dataclass
class PourSuccess:
    min_fraction: float = MISSING


@dataclass
class PourExpert:
    speed_m_s: float = MISSING
    lip_inside_frac: float = MISSING
    clearance_m: float = MISSING
    tilt_deg: float = MISSING
    tilt_speed_deg_s: float = MISSING


@dataclass
class PourPrimitive(HoldPrimitive):
    transfer_speed_m_s: float = MISSING
    max_tilt_speed_deg_s: float = MISSING


@dataclass
class PourSkill(Skill):
    success: PourSuccess = MISSING
    expert: PourExpert = MISSING
    primitive: PourPrimitive = MISSING


@dataclass
class StirSuccess:
    wall_margin_m: float = MISSING
    min_turns: float = MISSING
    min_radius_frac: float = MISSING
    min_path_radii: float = MISSING
    min_reversals: int = MISSING
    min_stroke_radii: float = MISSING


@dataclass
class StirExpert:
    speed_m_s: float = MISSING
    clearance_m: float = MISSING
    depth_above_bottom_m: float = MISSING
    radius_frac: float = MISSING
    period_s: float = MISSING
    turns: float = MISSING


@dataclass
class StirPrimitive(HoldPrimitive):
    transfer_speed_m_s: float = MISSING
    depth_above_bottom_m: float = MISSING
    clearance_m: float = MISSING
    radius_frac: List[float] = MISSING


@dataclass
class StirSkill(Skill):
    success: StirSuccess = MISSING
    expert: StirExpert = MISSING
    primitive: StirPrimitive = MISSING


@dataclass
class CutSuccess:
    min_depth_m: float = MISSING
    min_reversals: int = MISSING
    min_stroke_m: float = MISSING


@dataclass
class CutExpert:
    speed_m_s: float = MISSING
    clearance_m: float = MISSING
    stroke_m: float = MISSING
    period_s: float = MISSING
    sink_m_s: float = MISSING
    depth_m: float = MISSING


@dataclass
class CutPrimitive(HoldPrimitive):
    transfer_speed_m_s: float = MISSING
    clearance_m: float = MISSING


@dataclass
class CutSkill(Skill):
    success: CutSuccess = MISSING
    expert: CutExpert = MISSING
    primitive: CutPrimitive = MISSING


# --- dataset/, format/, labels/ ------------------------------------------------------------------


@dataclass
class DemosDataset:
    name: str = MISSING
    valid_fraction: float = MISSING
    split_seed: int = MISSING
    goals: Dict[str, str] = MISSING  # skill -> goal rule (vid2skill/dataset/from_demos.py GOAL_RULES)


@dataclass
class LerobotFormat:
    name: str = MISSING
    chunks_size: int = MISSING
    data_files_size_in_mb: float = MISSING


@dataclass
class RobomimicFormat:
    name: str = MISSING
    compression: Optional[str] = MISSING


@dataclass
class LabelSource:
    """How one source's texts are read (``labels.sources.<source>``)."""

    fields: List[str] = MISSING  # the annotation's fields tried in order ([]: the source's one text)
    unknown: str = MISSING  # novel (an unmatched text is a candidate new skill) | ignore
    novel_words: int = MISSING  # words kept in a novel skill's name


@dataclass
class LexiconLabels:
    """The verb lexicon (vid2skill/ingest/lexicon.py)."""

    skills: List[str] = MISSING
    verbs: Dict[str, List[str]] = MISSING
    by_arc: Dict[str, List[str]] = MISSING
    hinge_arc: float = MISSING
    not_done: List[str] = MISSING
    none: List[str] = MISSING
    ignore_words: List[str] = MISSING
    novel_prefix: str = MISSING
    max_gap_words: int = MISSING
    sources: Dict[str, LabelSource] = MISSING
    add_from: List[str] = MISSING


# --- the top level (conf/config.yaml) ------------------------------------------------------------


@dataclass
class Ray:
    address: Optional[str] = MISSING


@dataclass
class Dagger:
    iterations: int = MISSING
    rollouts: int = MISSING
    expert_rollouts: int = MISSING
    judge_episodes: int = MISSING
    hold_on_s: float = MISSING
    start_seed: int = MISSING
    aggregate: str = MISSING
    keep: str = MISSING


@dataclass
class Add:
    target: Optional[str] = MISSING
    skill: Optional[str] = MISSING


@dataclass
class Report:
    real_to_robot: Optional[str] = MISSING
    thumbnails: int = MISSING
    thumbnail_px: int = MISSING
    gifs_per_run: int = MISSING
    max_media_mb: float = MISSING


@dataclass
class Config:
    """conf/config.yaml. Each group's node is checked by its option's own schema (below)."""

    source: Any = MISSING
    extract: Any = MISSING
    cluster: Any = MISSING
    retarget: Any = MISSING
    robot: Any = MISSING
    policy: Any = MISSING
    sim: Any = MISSING
    skill: Any = MISSING
    dataset: Any = MISSING
    format: Any = MISSING
    labels: Any = MISSING
    stage: str = MISSING
    to: str = MISSING
    workspace: str = MISSING
    seed: int = MISSING
    episodes: int = MISSING
    workers: int = MISSING
    executor: str = MISSING
    ray: Ray = MISSING
    force: bool = MISSING
    dagger: Dagger = MISSING
    add: Add = MISSING
    viz: bool = MISSING
    report: Report = MISSING


SKILLS = {
    "slide_open": SlideOpenSkill,
    "slide_close": SlideCloseSkill,
    "hinge_open": HingeOpenSkill,
    "hinge_close": HingeCloseSkill,
    "pick": PickSkill,
    "place": PlaceSkill,
    "pour": PourSkill,
    "stir": StirSkill,
    "cut": CutSkill,
}

# group -> {schema name: dataclass}; conf/<group>/<option>.yaml starts with
# `defaults: [/schema/<group>/<schema name>@_here_, _self_]` (an option that extends another inherits it).
SCHEMAS: dict[str, dict[str, type]] = {
    "source": {
        "synthetic": SyntheticSource,
        "folder": FolderSource,
        "epic": EpicSource,
        "ssv2": Ssv2Source,
        "urls": UrlsSource,
    },
    "extract": {"mediapipe": MediapipeExtract},
    "cluster": {"agglomerative": AgglomerativeCluster},
    "retarget": {"contact_frame": ContactFrameRetarget},
    "robot": {"robot": Robot},
    "policy": {"bc_mlp": BCMLPPolicy, "act": ACTPolicy, "scripted": Policy},
    "sim": {"pybullet": PybulletSim},
    "skill": SKILLS,
    "dataset": {"demos": DemosDataset},
    "format": {"lerobot": LerobotFormat, "robomimic": RobomimicFormat},
    "labels": {"lexicon": LexiconLabels},
}


def register_configs() -> None:
    """Store every schema in Hydra's ConfigStore (idempotent; done on import)."""
    cs = ConfigStore.instance()
    cs.store(name="base_config", node=Config)
    for group, options in SCHEMAS.items():
        for name, node in options.items():
            cs.store(group=f"schema/{group}", name=name, node=node)


register_configs()


def compose(overrides: list[str] | tuple[str, ...] = ()) -> DictConfig:
    """The project's configuration (``conf/config.yaml``) with command-line style ``overrides``, as
    the CLI composes it; Hydra's own options (``hydra.*``, ``-m``) are ignored. Raises Hydra's and
    OmegaConf's exceptions for a bad override or a value of the wrong type."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    try:
        with initialize_config_module("vid2skill.conf", version_base="1.3"):
            cfg = hydra_compose(
                "config", overrides=[o for o in overrides if not o.startswith(("hydra.", "--", "-m"))]
            )
    finally:
        GlobalHydra.instance().clear()
    reject_added_keys(cfg)
    return cfg


def option_defaults(group: str, option: str) -> dict:
    """The settings of ``conf/<group>/<option>.yaml`` as ``compose`` makes them (interpolations
    resolved, its ``name`` left out): the one place a config class's defaults are read from."""
    from omegaconf import OmegaConf

    if (group, option) not in _OPTION_DEFAULTS:
        section = OmegaConf.to_container(compose([f"{group}={option}"])[group], resolve=True)
        section.pop("name", None)
        _OPTION_DEFAULTS[group, option] = section
    return copy.deepcopy(_OPTION_DEFAULTS[group, option])


_OPTION_DEFAULTS: dict[tuple[str, str], dict] = {}


def reject_added_keys(node: Any, path: str = "") -> None:
    """Raise ConfigError for a key that a schema (a dataclass above) does not have. Hydra lets
    ``+key=value`` add one to a checked node, where a misspelt ``+skill.pick.horizn_s=3`` would be
    kept and never read."""
    import dataclasses
    import difflib

    from omegaconf import OmegaConf

    from vid2skill.errors import ConfigError

    if not isinstance(node, DictConfig):
        return
    schema = OmegaConf.get_type(node)
    fields = {f.name for f in dataclasses.fields(schema)} if dataclasses.is_dataclass(schema) else None
    for key in node.keys():
        full = f"{path}{key}"
        if fields is not None and key not in fields:
            near = difflib.get_close_matches(str(key), sorted(fields), n=1, cutoff=0.6)
            hint = f"; did you mean {path}{near[0]}?" if near else ""
            raise ConfigError(f"Could not add '{full}': {schema.__name__} has no such key{hint}")
        reject_added_keys(node._get_node(key), f"{full}.")
