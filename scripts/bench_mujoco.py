#!/usr/bin/env python3
"""The MuJoCo reference for `embody bench sim --reference mujoco`.

Builds the same scene as embody's simulator from the scene description embody writes (robot
URDF, home pose, motor gains, table, bin, objects with sizes, masses and poses, dt, friction),
drives the arm with the same motion (every joint swinging 0.15 rad at 0.25 Hz about home) and
prints steps per second of `mj_step` over several timed runs, one thread, as one JSON line.

MuJoCo's own URDF import skips capsules, so the URDF is translated to MJCF here. Contacts follow
embody's collision groups: the arm touches objects and bins, fingers also touch the table.
"""
import argparse
import json
import math
import time
import xml.etree.ElementTree as ET

import mujoco

ARM = 'contype="4" conaffinity="0"'
FINGER = 'contype="6" conaffinity="0"'
TABLE = 'contype="2" conaffinity="2"'
OBJECT = 'contype="7" conaffinity="7"'
BIN = 'contype="4" conaffinity="4"'


def rpy_quat(r, p, y):
    """URDF fixed-axis roll, pitch, yaw as a MuJoCo (w, x, y, z) quaternion."""
    cr, sr = math.cos(r / 2), math.sin(r / 2)
    cp, sp = math.cos(p / 2), math.sin(p / 2)
    cy, sy = math.cos(y / 2), math.sin(y / 2)
    return (cr * cp * cy + sr * sp * sy, sr * cp * cy - cr * sp * sy,
            cr * sp * cy + sr * cp * sy, cr * cp * sy - sr * sp * cy)


def fmt(v):
    return " ".join(f"{x:.9g}" for x in v)


def origin(el):
    o = el.find("origin") if el is not None else None
    xyz = [float(x) for x in (o.get("xyz", "0 0 0") if o is not None else "0 0 0").split()]
    rpy = [float(x) for x in (o.get("rpy", "0 0 0") if o is not None else "0 0 0").split()]
    return xyz, rpy_quat(*rpy)


def link_xml(link, contact):
    out = []
    inert = link.find("inertial")
    if inert is not None and float(inert.find("mass").get("value")) > 0:
        pos, quat = origin(inert)
        i = inert.find("inertia")
        full = [float(i.get(k)) for k in ("ixx", "iyy", "izz", "ixy", "ixz", "iyz")]
        out.append(f'<inertial pos="{fmt(pos)}" mass="{inert.find("mass").get("value")}" '
                   f'fullinertia="{fmt(full)}"/>')
    for c in link.findall("collision"):
        pos, quat = origin(c)
        g = c.find("geometry")[0]
        if g.tag == "capsule":
            size = f'{g.get("radius")} {float(g.get("length")) / 2}'
            out.append(f'<geom type="capsule" size="{size}" pos="{fmt(pos)}" quat="{fmt(quat)}" {contact}/>')
        elif g.tag == "box":
            half = [float(x) / 2 for x in g.get("size").split()]
            out.append(f'<geom type="box" size="{fmt(half)}" pos="{fmt(pos)}" quat="{fmt(quat)}" {contact}/>')
        elif g.tag == "cylinder":
            out.append(f'<geom type="cylinder" size="{g.get("radius")} {float(g.get("length")) / 2}" '
                       f'pos="{fmt(pos)}" quat="{fmt(quat)}" {contact}/>')
        elif g.tag == "sphere":
            out.append(f'<geom type="sphere" size="{g.get("radius")}" pos="{fmt(pos)}" {contact}/>')
    return out


def robot_xml(urdf_path, scene):
    root = ET.parse(urdf_path).getroot()
    links = {l.get("name"): l for l in root.findall("link")}
    joints = root.findall("joint")
    children = {}
    for j in joints:
        children.setdefault(j.find("parent").get("link"), []).append(j)
    child_links = {j.find("child").get("link") for j in joints}
    base = next(n for n in links if n not in child_links)
    fingers = [j for j in joints if j.get("type") == "prismatic"]
    finger_links = {j.find("child").get("link") for j in fingers}
    arm_joints, actuators, equalities = [], [], []

    def body(name, depth):
        out = []
        for j in children.get(name, []):
            child = j.find("child").get("link")
            pos, quat = origin(j)
            out.append(f'<body name="{child}" pos="{fmt(pos)}" quat="{fmt(quat)}">')
            kind = j.get("type")
            if kind in ("revolute", "prismatic"):
                axis = j.find("axis").get("xyz")
                lim = j.find("limit")
                mj = "hinge" if kind == "revolute" else "slide"
                out.append(f'<joint name="{j.get("name")}" type="{mj}" axis="{axis}" '
                           f'range="{lim.get("lower")} {lim.get("upper")}" limited="true"/>')
                if kind == "revolute":
                    arm_joints.append(j.get("name"))
                mimic = j.find("mimic")
                if mimic is not None:
                    equalities.append(f'<joint joint1="{j.get("name")}" joint2="{mimic.get("joint")}" '
                                      f'polycoef="0 {mimic.get("multiplier", "1")} 0 0 0"/>')
                elif kind == "prismatic":
                    actuators.append(f'<position name="grip" joint="{j.get("name")}" kp="2000" kv="50" '
                                     f'forcelimited="true" forcerange="-20 20"/>')
            out += link_xml(links[child], FINGER if child in finger_links else ARM)
            out += body(child, depth + 1)
            out.append("</body>")
        return out

    xml = [f'<body name="{base}">'] + link_xml(links[base], ARM) + body(base, 0) + ["</body>"]
    for i, name in enumerate(arm_joints):
        kp, kv = scene["arm_stiffness"][i], scene["arm_damping"][i]
        effort = next(float(j.find("limit").get("effort")) for j in joints if j.get("name") == name)
        actuators.insert(i, f'<position name="a{i}" joint="{name}" kp="{kp}" kv="{kv}" '
                            f'forcelimited="true" forcerange="{-effort} {effort}"/>')
    return xml, actuators, equalities, arm_joints, [j.get("name") for j in fingers]


def scene_xml(scene):
    robot, actuators, equalities, arm_joints, finger_joints = robot_xml(scene["urdf"], scene)
    mu = scene["friction"]
    t = scene["table"]
    world = [f'<geom type="box" size="{t["size"][0] / 2} {t["size"][1] / 2} {t["size"][2] / 2}" '
             f'pos="{t["center"][0]} {t["center"][1]} {-t["size"][2] / 2}" {TABLE}/>',
             f'<geom type="box" size="5 5 0.05" pos="0 0 -0.8" {TABLE}/>']
    for c in scene["containers"]:
        ix, iy, h = c["inner_size"]
        w = c["wall_thickness"]
        world.append(f'<body pos="{c["position"][0]} {c["position"][1]} 0" euler="0 0 {c["yaw"]}">')
        parts = [((0, 0, w / 2), (ix / 2 + w, iy / 2 + w, w / 2)),
                 ((ix / 2 + w / 2, 0, w + h / 2), (w / 2, iy / 2 + w, h / 2)),
                 ((-ix / 2 - w / 2, 0, w + h / 2), (w / 2, iy / 2 + w, h / 2)),
                 ((0, iy / 2 + w / 2, w + h / 2), (ix / 2, w / 2, h / 2)),
                 ((0, -iy / 2 - w / 2, w + h / 2), (ix / 2, w / 2, h / 2))]
        for at, half in parts:
            world.append(f'<geom type="box" size="{fmt(half)}" pos="{fmt(at)}" {BIN}/>')
        world.append("</body>")
    for o in scene["objects"]:
        ex, ey, ez = o["extents"]
        m = o["mass"]
        world.append(f'<body name="{o["id"]}" pos="{o["x"]} {o["y"]} {ez / 2 + 0.0005}" euler="0 0 {o["yaw"]}">'
                     f'<freejoint/>')
        if o["shape"] == "box":
            world.append(f'<geom type="box" size="{ex / 2} {ey / 2} {ez / 2}" mass="{m}" {OBJECT}/>')
        elif o["shape"] == "cylinder":
            world.append(f'<geom type="cylinder" size="{ex / 2} {ez / 2}" mass="{m}" {OBJECT}/>')
        else:  # cup: base disc and a ring of wall slabs, as in embody
            r, wall, base_t, seg = ex / 2, 0.008, 0.006, 12
            world.append(f'<geom type="cylinder" size="{r} {base_t / 2}" pos="0 0 {-ez / 2 + base_t / 2}" '
                         f'mass="{m * 0.3}" {OBJECT}/>')
            half_w = (r - wall / 2) * math.tan(math.pi / seg) + 0.001
            for k in range(seg):
                a = 2 * math.pi * k / seg
                world.append(f'<geom type="box" size="{wall / 2} {half_w} {(ez - base_t) / 2}" '
                             f'pos="{(r - wall / 2) * math.cos(a)} {(r - wall / 2) * math.sin(a)} {base_t / 2}" '
                             f'euler="0 0 {a}" mass="{m * 0.7 / seg}" {OBJECT}/>')
        world.append("</body>")
    xml = f"""<mujoco model="embody_bench">
  <compiler angle="radian" autolimits="true"/>
  <option timestep="{scene['dt']}" gravity="0 0 {scene['gravity']}"/>
  <default><geom friction="{mu} 0.005 0.0001"/></default>
  <worldbody>
    {"".join(world)}
    {"".join(robot)}
  </worldbody>
  <actuator>{"".join(actuators)}</actuator>
  <equality>{"".join(equalities)}</equality>
</mujoco>"""
    return xml, arm_joints, finger_joints


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scene", help="scene description JSON written by embody")
    ap.add_argument("--steps", type=int, default=2400)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--xml-out", help="also write the generated MJCF here")
    args = ap.parse_args()
    scene = json.load(open(args.scene))
    xml, arm_joints, finger_joints = scene_xml(scene)
    if args.xml_out:
        open(args.xml_out, "w").write(xml)
    model = mujoco.MjModel.from_xml_string(xml)
    home = scene["home"]
    w = 2 * math.pi * 0.25

    def run(steps):
        data = mujoco.MjData(model)
        for name, q in zip(arm_joints, home):
            data.joint(name).qpos[0] = q
        for name in finger_joints:
            data.joint(name).qpos[0] = 0.04
        mujoco.mj_forward(model, data)
        n = len(home)
        start = time.perf_counter()
        for _ in range(steps):
            t = data.time
            for i in range(n):
                data.ctrl[i] = home[i] + 0.15 * math.sin(w * t + i)
            data.ctrl[n] = 0.04
            mujoco.mj_step(model, data)
        return steps / (time.perf_counter() - start)

    run(min(args.steps, 240))  # warm-up
    rates = [run(args.steps) for _ in range(args.repeats)]
    print(json.dumps({"version": mujoco.__version__, "steps_per_s": rates, "nbody": model.nbody,
                      "ngeom": model.ngeom}))


if __name__ == "__main__":
    main()
