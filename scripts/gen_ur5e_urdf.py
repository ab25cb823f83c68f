#!/usr/bin/env python3
"""Writes assets/robots/ur5e/ur5e.urdf from Universal Robots' published UR5e facts (see
../shared/UR5E.md) with a parallel gripper sized after the Robotiq 2F-85's published figures.

Kinematics: UR's standard DH table. A DH joint Rz(q) Tz(d) Tx(a) Rx(alpha) becomes a URDF joint
rotating about z whose *next* joint sits at xyz = (a, 0, d), rpy = (alpha, 0, 0) in its frame.
As in UR's ROS 2 description, `base_link` is the DH base turned by pi about z, so that at q = 0
the arm stretches out along +x of `base_link`; `tool0` is the flange.

Limits: +-2 pi on all joints but the elbow (+-pi), 180 deg/s, effort 150/150/150/28/28/28 N m.
Acceleration is not published: 180 deg/s^2 (pi rad/s^2), the value UR's ROS 2 description gives
MoveIt. Jerk is not published either and is left out (no jerk limit).

Masses and centres of mass: UR's dynamics table (given in the DH link frames, moved here into
the URDF link frames). Inertias are those of the collision capsules with that mass (rough).
Collision geometry: capsules along the links, sized from the arm's published drawings
(tube diameters about 90-120 mm); the arm collides with objects and containers only.

Gripper (after the Robotiq 2F-85's published figures: 85 mm stroke, 0.9 kg, 20-235 N): a
60 x 150 x 100 mm body on the flange, two 100 g finger pads moving 0 .. 42.5 mm each (85 mm
stroke), pads 50 mm long and 40 mm wide; the TCP is 150 mm out from the flange, 5 mm inside the pad tips, as
on the Panda hand. The fingers are prismatic joints (the real 2F-85 is a linkage; what the
simulator needs is the opening and the pads).

Run: python3 scripts/gen_ur5e_urdf.py > assets/robots/ur5e/ur5e.urdf
"""
import math

PI = math.pi
# (d, a, alpha) per joint, UR5e.
DH = [
    (0.1625, 0.0, PI / 2),
    (0.0, -0.425, 0.0),
    (0.0, -0.3922, 0.0),
    (0.1333, 0.0, PI / 2),
    (0.0997, 0.0, -PI / 2),
    (0.0996, 0.0, 0.0),
]
NAMES = ["shoulder_pan", "shoulder_lift", "elbow", "wrist_1", "wrist_2", "wrist_3"]
LINKS = ["shoulder_link", "upper_arm_link", "forearm_link", "wrist_1_link", "wrist_2_link", "wrist_3_link"]
QLIM = [2 * PI, 2 * PI, PI, 2 * PI, 2 * PI, 2 * PI]
VEL = PI  # 180 deg/s
ACC = PI  # 180 deg/s^2, see above
TAU = [150, 150, 150, 28, 28, 28]
MASS = [3.761, 8.058, 2.846, 1.37, 1.3, 0.365]
COM_DH = [
    (0.0, -0.02561, 0.00193),
    (0.2125, 0.0, 0.11336),
    (0.15, 0.0, 0.0265),
    (0.0, -0.0018, 0.01634),
    (0.0, 0.0018, 0.01634),
    (0.0, 0.0, -0.001159),
]
GRIPPER_MASS = 0.9
TCP_FROM_FLANGE = 0.15
STROKE_PER_FINGER = 0.0425
# Pad width across the closing direction. Not among the published figures used here: 40 mm,
# not the Panda's 20 mm. A cylinder touches a flat pad along one line; with 20 mm pads a can
# that slid 1 cm sideways in the grasp (the simulator's friction grasp lets carried objects
# creep) sat on the pad's edge, and from there the grip force itself pushed it out. On the
# expert's seeds 40-139: 20 mm 0.87 success (24 drops), 30 mm 0.97, 40 mm 0.99 (2 drops).
PAD_WIDTH = 0.04
PAD_THICKNESS = 0.012
PAD_LENGTH = 0.05
PAD_MASS = 0.1


# --- 4x4 transforms, row-major lists ---------------------------------------------------------
def matmul(a, b):
    return [[sum(a[i][k] * b[k][j] for k in range(4)) for j in range(4)] for i in range(4)]


def trans(x, y, z):
    return [[1, 0, 0, x], [0, 1, 0, y], [0, 0, 1, z], [0, 0, 0, 1]]


def rotx(t):
    c, s = math.cos(t), math.sin(t)
    return [[1, 0, 0, 0], [0, c, -s, 0], [0, s, c, 0], [0, 0, 0, 1]]


def rotz(t):
    c, s = math.cos(t), math.sin(t)
    return [[c, -s, 0, 0], [s, c, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]


def inverse(m):
    r = [[m[j][i] for j in range(3)] for i in range(3)]
    p = [m[i][3] for i in range(3)]
    t = [-sum(r[i][k] * p[k] for k in range(3)) for i in range(3)]
    return [r[0] + [t[0]], r[1] + [t[1]], r[2] + [t[2]], [0, 0, 0, 1]]


def apply(m, p):
    return [sum(m[i][k] * p[k] for k in range(3)) + m[i][3] for i in range(3)]


def after_joint(i):
    """Tz(d) Tx(a) Rx(alpha) of joint i: where joint i + 1 sits in link i's frame."""
    d, a, alpha = DH[i]
    return matmul(trans(a, 0, d), rotx(alpha))


def link_frames(q):
    """Poses of the URDF link frames (after each joint's rotation) in the DH base."""
    frames, t = [], trans(0, 0, 0)
    for i in range(6):
        t = matmul(t, rotz(q[i]))
        frames.append(t)
        t = matmul(t, after_joint(i))
    return frames, t  # t: the flange (tool0)


def f(x):
    x = 0.0 if abs(x) < 1e-12 else x
    return f"{x:.6g}"


# --- collision capsules, in the DH base at q = 0 ----------------------------------------------
# Points of the zero posture (DH base; the arm along -x there, +x of base_link).
S = (0.0, 0.0, 0.1625)  # shoulder (joints 1, 2)
E = (-0.425, 0.0, 0.1625)  # elbow
W1 = (-0.8172, 0.0, 0.1625)  # wrist 1
W2 = (-0.8172, -0.1333, 0.1625)  # wrist 2
W3 = (-0.8172, -0.1333, 0.0628)  # wrist 3
FL = (-0.8172, -0.2329, 0.0628)  # flange
CAPSULES = {  # link: [(a, b, radius)] in the DH base at q = 0
    "shoulder_link": [((0, 0, 0.06), (0, 0, 0.2), 0.06)],
    "upper_arm_link": [(S, E, 0.055)],
    "forearm_link": [(E, W1, 0.045)],
    "wrist_1_link": [(W1, W2, 0.045)],
    "wrist_2_link": [(W2, W3, 0.045)],
    "wrist_3_link": [(W3, (FL[0], FL[1] + 0.02, FL[2]), 0.04)],
}


def capsule_origin(a, b):
    d = [b[i] - a[i] for i in range(3)]
    length = math.sqrt(sum(c * c for c in d))
    mid = [(a[i] + b[i]) / 2 for i in range(3)]
    u = [c / length for c in d]
    pitch = math.atan2(math.hypot(u[0], u[1]), u[2])
    yaw = math.atan2(u[1], u[0])
    return mid, (0.0, pitch, yaw), length


def inertia_lines(mass, com, caps):
    a, b, r = caps[0]
    length = math.dist(a, b) + 2 * r
    ixx = max(mass * (3 * r * r + length * length) / 12, 1e-3)
    izz = max(mass * r * r / 2, 1e-3)
    d = [b[i] - a[i] for i in range(3)]
    n = math.sqrt(sum(c * c for c in d))
    u = [c / n for c in d]
    m = [[(ixx if i == j else 0.0) + (izz - ixx) * u[i] * u[j] for j in range(3)] for i in range(3)]
    return (
        f'    <inertial><origin xyz="{f(com[0])} {f(com[1])} {f(com[2])}" rpy="0 0 0"/>'
        f'<mass value="{f(mass)}"/><inertia ixx="{f(m[0][0])}" ixy="{f(m[0][1])}" ixz="{f(m[0][2])}" '
        f'iyy="{f(m[1][1])}" iyz="{f(m[1][2])}" izz="{f(m[2][2])}"/></inertial>'
    )


def main():
    frames, _ = link_frames([0.0] * 6)
    out = [
        '<?xml version="1.0"?>',
        "<!-- Universal Robots UR5e with a 2F-85-sized parallel gripper, written by "
        "scripts/gen_ur5e_urdf.py from published facts (see ../shared/UR5E.md); approximate "
        "inertias, capsule collision geometry. -->",
        '<robot name="ur5e" version="1.2">',
        '  <link name="base_link"/>',
        '  <link name="base_link_inertia">'
        '<inertial><origin xyz="0 0 0.03" rpy="0 0 0"/><mass value="4.0"/>'
        '<inertia ixx="0.0061063" ixy="0" ixz="0" iyy="0.0061063" iyz="0" izz="0.01125"/></inertial>'
        '<collision><origin xyz="0 0 0.03" rpy="0 0 0"/><geometry><cylinder radius="0.075" length="0.06"/></geometry></collision>'
        "</link>",
        # UR's ROS description: base_link is the DH base turned by pi about z.
        '  <joint name="base_link-base_link_inertia" type="fixed"><origin xyz="0 0 0" rpy="0 0 3.14159265359"/>'
        '<parent link="base_link"/><child link="base_link_inertia"/></joint>',
    ]
    parent, at = "base_link_inertia", trans(0, 0, 0)
    for i in range(6):
        name, lk = NAMES[i], LINKS[i]
        to_link = inverse(frames[i])
        caps = [(apply(to_link, a), apply(to_link, b), r) for a, b, r in CAPSULES[lk]]
        # The centre of mass is given in DH frame i, which is link i's frame times after_joint(i).
        com = apply(after_joint(i), COM_DH[i])
        out.append(f'  <link name="{lk}">')
        out.append(inertia_lines(MASS[i], com, caps))
        for a, b, r in caps:
            mid, rpy, length = capsule_origin(a, b)
            out.append(
                f'    <collision><origin xyz="{f(mid[0])} {f(mid[1])} {f(mid[2])}" '
                f'rpy="{f(rpy[0])} {f(rpy[1])} {f(rpy[2])}"/>'
                f'<geometry><capsule radius="{f(r)}" length="{f(length)}"/></geometry></collision>'
            )
        out.append("  </link>")
        # Joint i sits where the previous link's after_joint put it (at the base for joint 1).
        x, y, z = at[0][3], at[1][3], at[2][3]
        roll = math.atan2(at[2][1], at[1][1])
        out.append(
            f'  <joint name="{name}_joint" type="revolute">'
            f'<origin xyz="{f(x)} {f(y)} {f(z)}" rpy="{f(roll)} 0 0"/>'
            f'<parent link="{parent}"/><child link="{lk}"/><axis xyz="0 0 1"/>'
            f'<limit lower="{f(-QLIM[i])}" upper="{f(QLIM[i])}" effort="{TAU[i]}" '
            f'velocity="{f(VEL)}" acceleration="{f(ACC)}"/>'
            f'<dynamics damping="0.0" friction="0.0"/></joint>'
        )
        parent, at = lk, after_joint(i)
    d, _, _ = DH[5]
    out.append('  <link name="flange"/>')
    out.append(
        f'  <joint name="wrist_3-flange" type="fixed"><origin xyz="0 0 {f(d)}" rpy="0 0 0"/>'
        '<parent link="wrist_3_link"/><child link="flange"/></joint>'
    )
    out.append('  <link name="tool0"/>')
    out.append(
        '  <joint name="flange-tool0" type="fixed"><origin xyz="0 0 0" rpy="0 0 0"/>'
        '<parent link="flange"/><child link="tool0"/></joint>'
    )
    out.append(
        f'  <link name="gripper_body"><inertial><origin xyz="0 0 0.05" rpy="0 0 0"/>'
        f'<mass value="{f(GRIPPER_MASS - 0.2)}"/>'
        '<inertia ixx="0.0018" ixy="0" ixz="0" iyy="0.0009" iyz="0" izz="0.0015"/></inertial>'
        '<collision><origin xyz="0 0 0.05" rpy="0 0 0"/><geometry><box size="0.06 0.15 0.1"/></geometry></collision>'
        "</link>"
    )
    out.append(
        '  <joint name="tool0-gripper_body" type="fixed"><origin xyz="0 0 0" rpy="0 0 0"/>'
        '<parent link="tool0"/><child link="gripper_body"/></joint>'
    )
    out.append('  <link name="gripper_tcp"/>')
    out.append(
        f'  <joint name="gripper_tcp_joint" type="fixed"><origin xyz="0 0 {f(TCP_FROM_FLANGE)}" rpy="0 0 0"/>'
        '<parent link="gripper_body"/><child link="gripper_tcp"/></joint>'
    )
    # Pads as on the Panda hand: inner faces on the finger joint's y = 0, so the opening is the
    # sum of the two joints; they reach 5 mm past the TCP.
    pad_origin_z = TCP_FROM_FLANGE + 0.005 - PAD_LENGTH
    # A solid box's inertia about its centre.
    w, t, l = PAD_WIDTH, PAD_THICKNESS, PAD_LENGTH
    pad_ixx = PAD_MASS / 12 * (t * t + l * l)
    pad_iyy = PAD_MASS / 12 * (w * w + l * l)
    pad_izz = PAD_MASS / 12 * (w * w + t * t)
    for side, sign, k in (("left", 1, 1), ("right", -1, 2)):
        out.append(
            f'  <link name="gripper_{side}_pad">'
            f'<inertial><origin xyz="0 {f(sign * PAD_THICKNESS / 2)} {f(PAD_LENGTH / 2)}" rpy="0 0 0"/>'
            f'<mass value="{f(PAD_MASS)}"/>'
            f'<inertia ixx="{pad_ixx:.2g}" ixy="0" ixz="0" iyy="{pad_iyy:.2g}" iyz="0" izz="{pad_izz:.2g}"/>'
            f'</inertial>'
            f'<collision><origin xyz="0 {f(sign * PAD_THICKNESS / 2)} {f(PAD_LENGTH / 2)}" rpy="0 0 0"/>'
            f'<geometry><box size="{f(PAD_WIDTH)} {f(PAD_THICKNESS)} {f(PAD_LENGTH)}"/></geometry>'
            f'</collision></link>'
        )
        mimic = '<mimic joint="gripper_finger_joint1" multiplier="1" offset="0"/>' if k == 2 else ""
        out.append(
            f'  <joint name="gripper_finger_joint{k}" type="prismatic">'
            f'<origin xyz="0 0 {f(pad_origin_z)}" rpy="0 0 0"/>'
            f'<parent link="gripper_body"/><child link="gripper_{side}_pad"/><axis xyz="0 {sign} 0"/>'
            f'<limit lower="0.0" upper="{f(STROKE_PER_FINGER)}" effort="235" velocity="0.15"/>{mimic}</joint>'
        )
    out.append("</robot>")
    print("\n".join(out))


if __name__ == "__main__":
    main()
