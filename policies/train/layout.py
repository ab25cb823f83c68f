"""The observation and action layout the Rust runtime builds and reads (policies/src/features.rs).

The names and sizes here are written into every model's metadata; the runtime refuses a model whose
layout differs from its own.
"""

# "base": everything in the robot's base frame (the first models).
BASE_OBS_FIELDS = [
    ("ee_pos_in_base", 3),
    ("ee_rot6d_in_base", 6),
    ("gripper_width", 1),
    ("skill_onehot", 2),  # pick, place
    ("object_pos_in_base", 3),
    ("grasp_rot6d_in_base", 6),  # zeros for place
    ("object_extents", 3),
    ("place_spot_pos_in_base", 3),  # zeros for pick
    ("container_rot6d_in_base", 6),  # zeros for pick
]
BASE_ACTION_FIELDS = [
    ("ee_target_pos_in_base", 3),
    ("ee_target_rot6d_in_base", 6),
    ("gripper_width", 1),
]
# "skill": everything in the skill frame, fixed at a skill attempt's first observation (at the
# object or the drop spot, table height, turned with the grasp or the hand about the vertical).
SKILL_OBS_FIELDS = [
    ("ee_pos_in_skill", 3),
    ("ee_rot6d_in_skill", 6),
    ("gripper_width", 1),
    ("skill_onehot", 2),
    ("object_pos_in_skill", 3),
    ("object_extents", 3),
    ("goal_pos_in_skill", 3),  # the object (pick) or the drop spot (place), now
    ("goal_rot6d_in_skill", 6),  # the grasp (pick) or the bin (place), now
    ("container_inner_extents", 3),  # zeros for pick
]
SKILL_ACTION_FIELDS = [
    ("ee_target_pos_in_skill", 3),
    ("ee_target_rot6d_in_skill", 6),
    ("gripper_width", 1),
]
LAYOUTS = {
    "base": (BASE_OBS_FIELDS, BASE_ACTION_FIELDS),
    "skill": (SKILL_OBS_FIELDS, SKILL_ACTION_FIELDS),
}

# The layout of untrained test models, and of checkpoints that predate the skill frame.
OBS_FIELDS, ACTION_FIELDS = LAYOUTS["base"]

OBS_DIM = sum(n for _, n in OBS_FIELDS)
ACTION_DIM = sum(n for _, n in ACTION_FIELDS)


def dims(name):
    obs, act = LAYOUTS[name]
    return sum(n for _, n in obs), sum(n for _, n in act)


def of_fields(obs_fields):
    """The layout whose observation field names these are (a dataset's `obs_fields`)."""
    names = [f["name"] for f in obs_fields]
    for name, (obs, _) in LAYOUTS.items():
        if names == [n for n, _ in obs]:
            return name
    return None


# Ranges used to normalize an untrained model: the Panda's reachable table workspace, the
# gripper's opening, and rotations (6-D components lie in [-1, 1]). A trained model carries the
# statistics of its data instead.
_DEFAULT_RANGES = {
    "ee_pos_in_base": ([0.2, -0.5, 0.0], [0.8, 0.5, 0.7]),
    "ee_rot6d_in_base": ([-1.0] * 6, [1.0] * 6),
    "gripper_width": ([0.0], [0.08]),
    "skill_onehot": ([0.0, 0.0], [1.0, 1.0]),
    "object_pos_in_base": ([0.2, -0.5, 0.0], [0.8, 0.5, 0.3]),
    "grasp_rot6d_in_base": ([-1.0] * 6, [1.0] * 6),
    "object_extents": ([0.0] * 3, [0.1] * 3),
    "place_spot_pos_in_base": ([0.2, -0.6, 0.0], [0.8, 0.5, 0.1]),
    "container_rot6d_in_base": ([-1.0] * 6, [1.0] * 6),
    "ee_pos_in_skill": ([-0.8, -0.8, -0.1], [0.8, 0.8, 0.7]),
    "ee_rot6d_in_skill": ([-1.0] * 6, [1.0] * 6),
    "object_pos_in_skill": ([-0.8, -0.8, -0.1], [0.8, 0.8, 0.7]),
    "goal_pos_in_skill": ([-0.8, -0.8, -0.1], [0.8, 0.8, 0.7]),
    "goal_rot6d_in_skill": ([-1.0] * 6, [1.0] * 6),
    "container_inner_extents": ([0.0] * 3, [0.4] * 3),
    "ee_target_pos_in_skill": ([-0.8, -0.8, -0.1], [0.8, 0.8, 0.7]),
    "ee_target_rot6d_in_skill": ([-1.0] * 6, [1.0] * 6),
    "ee_target_pos_in_base": ([0.2, -0.5, 0.0], [0.8, 0.5, 0.7]),
    "ee_target_rot6d_in_base": ([-1.0] * 6, [1.0] * 6),
}


def default_stats(fields):
    lo, hi = [], []
    for name, _ in fields:
        a, b = _DEFAULT_RANGES[name]
        lo += a
        hi += b
    return {"min": lo, "max": hi}


def layout_json(fields):
    return [{"name": n, "size": s} for n, s in fields]
