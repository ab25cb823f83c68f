#!/usr/bin/env python3
"""Writes assets/robots/panda/panda.urdf from Franka's published kinematic facts.

Kinematics: Franka's modified DH table (Craig). A Craig joint RotX(alpha) TransX(a) RotZ(q)
TransZ(d) is a URDF joint with origin xyz = (a, -d sin(alpha), d cos(alpha)), rpy = (alpha, 0, 0)
and axis z. Limits from libfranka / the datasheet (URDF 1.2 acceleration and jerk attributes).
Masses from the published dynamic identification; inertias are those of the collision capsules
with that mass (approximate). Collision geometry: capsules and boxes. Fingers weigh 0.1 kg each:
contact stiffness in rapier scales with mass, and 15 g fingers sink ~7 mm into what they hold.

Run: python3 scripts/gen_panda_urdf.py > assets/robots/panda/panda.urdf
"""
import math

PI = math.pi
DH = [  # a, d, alpha  (a_{i-1}, d_i, alpha_{i-1})
    (0.0, 0.333, 0.0),
    (0.0, 0.0, -PI / 2),
    (0.0, 0.316, PI / 2),
    (0.0825, 0.0, PI / 2),
    (-0.0825, 0.384, -PI / 2),
    (0.0, 0.0, PI / 2),
    (0.088, 0.0, PI / 2),
]
QMIN = [-2.8973, -1.7628, -2.8973, -3.0718, -2.8973, -0.0175, -2.8973]
QMAX = [2.8973, 1.7628, 2.8973, -0.0698, 2.8973, 3.7525, 2.8973]
DQ = [2.175, 2.175, 2.175, 2.175, 2.61, 2.61, 2.61]
DDQ = [15, 7.5, 10, 12.5, 15, 20, 20]
JERK = [7500, 3750, 5000, 6250, 7500, 10000, 10000]
TAU = [87, 87, 87, 87, 12, 12, 12]
MASS = [4.97, 0.65, 3.23, 3.59, 1.23, 1.67, 0.74]
# Collision capsules in each link's own frame: (start, end, radius).
CAPSULES = {
    "panda_link0": [((0, 0, 0.03), (0, 0, 0.14), 0.07)],
    "panda_link1": [((0, 0, -0.19), (0, 0, 0.0), 0.06)],
    "panda_link2": [((0, 0, 0.0), (0, -0.19, 0.0), 0.06)],
    "panda_link3": [((0, 0, -0.12), (0, 0, 0.0), 0.06), ((0, 0, 0), (0.0825, 0, 0), 0.055)],
    "panda_link4": [((0, 0, 0.0), (-0.0825, 0.10, 0.0), 0.055)],
    "panda_link5": [((0, 0, -0.26), (0, 0, -0.04), 0.05)],
    "panda_link6": [((0, 0, 0.0), (0.088, 0, 0.0), 0.05)],
    "panda_link7": [((0, 0, -0.02), (0, 0, 0.07), 0.045)],
}


def f(x):
    return f"{x:.6g}"


def capsule_origin(a, b):
    """Origin (xyz, rpy) that puts a z-aligned capsule between a and b, and its length."""
    d = [b[i] - a[i] for i in range(3)]
    length = math.sqrt(sum(c * c for c in d))
    mid = [(a[i] + b[i]) / 2 for i in range(3)]
    if length < 1e-9:
        return mid, (0, 0, 0), 0.0
    u = [c / length for c in d]
    # rotate z onto u: pitch about y then roll about x (URDF rpy = fixed-axis x, y, z)
    pitch = math.atan2(math.hypot(u[0], u[1]), u[2])
    yaw = math.atan2(u[1], u[0])
    return mid, (0.0, pitch, yaw), length


def inertia(mass, caps):
    """Diagonal inertia of a solid cylinder of the capsules' extent (rough, about the centroid)."""
    a, b, r = caps[0]
    length = math.dist(a, b) + 2 * r
    ixx = mass * (3 * r * r + length * length) / 12
    izz = mass * r * r / 2
    return max(ixx, 1e-3), max(izz, 1e-3)


def link(name, mass):
    caps = CAPSULES.get(name, [])
    out = [f'  <link name="{name}">']
    if mass > 0:
        a, b, _ = caps[0]
        com = [(a[i] + b[i]) / 2 for i in range(3)]
        ixx, izz = inertia(mass, caps)
        # I = ixx (1 - u u^T) + izz u u^T for a cylinder along the unit vector u.
        d = [b[i] - a[i] for i in range(3)]
        n = math.sqrt(sum(c * c for c in d)) or 1.0
        u = [c / n for c in d]
        m = [[(ixx if i == j else 0.0) + (izz - ixx) * u[i] * u[j] for j in range(3)] for i in range(3)]
        out.append(
            f'    <inertial><origin xyz="{f(com[0])} {f(com[1])} {f(com[2])}" rpy="0 0 0"/>'
            f'<mass value="{f(mass)}"/><inertia ixx="{f(m[0][0])}" ixy="{f(m[0][1])}" ixz="{f(m[0][2])}" '
            f'iyy="{f(m[1][1])}" iyz="{f(m[1][2])}" izz="{f(m[2][2])}"/></inertial>'
        )
    for a, b, r in caps:
        mid, rpy, length = capsule_origin(a, b)
        out.append(
            f'    <collision><origin xyz="{f(mid[0])} {f(mid[1])} {f(mid[2])}" rpy="{f(rpy[0])} {f(rpy[1])} {f(rpy[2])}"/>'
            f'<geometry><capsule radius="{f(r)}" length="{f(length)}"/></geometry></collision>'
        )
    out.append("  </link>")
    return "\n".join(out)


def main():
    lines = ['<?xml version="1.0"?>',
             "<!-- Franka Emika Panda, written by scripts/gen_panda_urdf.py from published facts "
             "(see ../shared/PANDA.md); approximate masses and inertias, capsule collision geometry. -->",
             '<robot name="panda" version="1.2">',
             link("panda_link0", 0.0)]
    for i, (a, d, alpha) in enumerate(DH):
        n = i + 1
        lines.append(link(f"panda_link{n}", MASS[i]))
        xyz = (a, -d * math.sin(alpha), d * math.cos(alpha))
        lines.append(
            f'  <joint name="panda_joint{n}" type="revolute">'
            f'<origin xyz="{f(xyz[0])} {f(xyz[1])} {f(xyz[2])}" rpy="{f(alpha)} 0 0"/>'
            f'<parent link="panda_link{n-1}"/><child link="panda_link{n}"/><axis xyz="0 0 1"/>'
            f'<limit lower="{QMIN[i]}" upper="{QMAX[i]}" effort="{TAU[i]}" velocity="{DQ[i]}" '
            f'acceleration="{DDQ[i]}" jerk="{JERK[i]}"/><dynamics damping="0.0" friction="0.0"/></joint>'
        )
    lines.append('  <link name="panda_link8"/>')
    lines.append('  <joint name="panda_joint8" type="fixed"><origin xyz="0 0 0.107" rpy="0 0 0"/>'
                 '<parent link="panda_link7"/><child link="panda_link8"/></joint>')
    lines.append(
        '  <link name="panda_hand">'
        '<inertial><origin xyz="0 0 0.03" rpy="0 0 0"/><mass value="0.73"/>'
        '<inertia ixx="0.0025" ixy="0" ixz="0" iyy="0.0005" iyz="0" izz="0.0025"/></inertial>'
        '<collision><origin xyz="0 0 0.03" rpy="0 0 0"/><geometry><box size="0.06 0.2 0.06"/></geometry></collision>'
        "</link>")
    lines.append('  <joint name="panda_hand_joint" type="fixed"><origin xyz="0 0 0" rpy="0 0 -0.785398163397"/>'
                 '<parent link="panda_link8"/><child link="panda_hand"/></joint>')
    lines.append('  <link name="panda_hand_tcp"/>')
    lines.append('  <joint name="panda_hand_tcp_joint" type="fixed"><origin xyz="0 0 0.1034" rpy="0 0 0"/>'
                 '<parent link="panda_hand"/><child link="panda_hand_tcp"/></joint>')
    # Finger pads: 20 x 12 x 50 mm boxes whose inner faces sit on the finger joint's y = 0, so the
    # opening between them is q1 + q2; pads span 5 mm past the TCP.
    for side, sign in (("left", 1), ("right", -1)):
        k = 1 if sign > 0 else 2
        lines.append(
            f'  <link name="panda_{side}finger">'
            f'<inertial><origin xyz="0 {f(sign * 0.006)} 0.025" rpy="0 0 0"/><mass value="0.1"/>'
            f'<inertia ixx="2.2e-5" ixy="0" ixz="0" iyy="2.4e-5" iyz="0" izz="4.5e-6"/></inertial>'
            f'<collision><origin xyz="0 {f(sign * 0.006)} 0.025" rpy="0 0 0"/>'
            f'<geometry><box size="0.02 0.012 0.05"/></geometry></collision></link>')
        mimic = '<mimic joint="panda_finger_joint1" multiplier="1" offset="0"/>' if k == 2 else ""
        lines.append(
            f'  <joint name="panda_finger_joint{k}" type="prismatic"><origin xyz="0 0 0.0584" rpy="0 0 0"/>'
            f'<parent link="panda_hand"/><child link="panda_{side}finger"/><axis xyz="0 {sign} 0"/>'
            f'<limit lower="0.0" upper="0.04" effort="70" velocity="0.2"/>{mimic}</joint>')
    lines.append("</robot>")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
