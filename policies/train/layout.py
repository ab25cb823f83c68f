"""The observation and action layout the Rust runtime builds and reads (policies/src/features.rs).

The names and sizes here are written into every model's metadata; the runtime refuses a model whose
layout differs from its own.
"""

OBS_FIELDS = [
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
ACTION_FIELDS = [
    ("ee_target_pos_in_base", 3),
    ("ee_target_rot6d_in_base", 6),
    ("gripper_width", 1),
]

OBS_DIM = sum(n for _, n in OBS_FIELDS)
ACTION_DIM = sum(n for _, n in ACTION_FIELDS)

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
