"""An independent ROS 2 peer for embody's interop tests: Eclipse Cyclone DDS (Python `cyclonedds`
from PyPI) with the ROS 2 type and topic names, no ROS installation.

    ros_interop.py client --seconds 8   # against `embody sim --ros`: reads its joint states,
                                        # sends it a two-point trajectory, checks the arm moved
    ros_interop.py robot --seconds 8    # plays a robot for `embody deploy --check`: publishes
                                        # joint states, follows embody's trajectories
    ros_interop.py intruder --seconds 8 # no keys on a secured domain: listens for joint states,
                                        # commands the arm and presses the e-stop regardless

Prints one JSON line with what it saw.
"""

import argparse
import json
import sys
import time
from dataclasses import dataclass, field

from cyclonedds.core import Qos, Policy
from cyclonedds.domain import DomainParticipant
from cyclonedds.idl import IdlStruct
from cyclonedds.idl.types import array, float64, int32, sequence, uint8, uint32
from cyclonedds.pub import DataWriter
from cyclonedds.sub import DataReader, InvalidSample
from cyclonedds.topic import Topic
from cyclonedds.util import duration


@dataclass
class Time(IdlStruct, typename="builtin_interfaces::msg::dds_::Time_"):
    sec: int32 = 0
    nanosec: uint32 = 0


@dataclass
class Duration(IdlStruct, typename="builtin_interfaces::msg::dds_::Duration_"):
    sec: int32 = 0
    nanosec: uint32 = 0


@dataclass
class Header(IdlStruct, typename="std_msgs::msg::dds_::Header_"):
    stamp: Time = field(default_factory=Time)
    frame_id: str = ""


@dataclass
class JointState(IdlStruct, typename="sensor_msgs::msg::dds_::JointState_"):
    header: Header = field(default_factory=Header)
    name: sequence[str] = field(default_factory=list)
    position: sequence[float64] = field(default_factory=list)
    velocity: sequence[float64] = field(default_factory=list)
    effort: sequence[float64] = field(default_factory=list)


@dataclass
class JointTrajectoryPoint(IdlStruct, typename="trajectory_msgs::msg::dds_::JointTrajectoryPoint_"):
    positions: sequence[float64] = field(default_factory=list)
    velocities: sequence[float64] = field(default_factory=list)
    accelerations: sequence[float64] = field(default_factory=list)
    effort: sequence[float64] = field(default_factory=list)
    time_from_start: Duration = field(default_factory=Duration)


@dataclass
class JointTrajectory(IdlStruct, typename="trajectory_msgs::msg::dds_::JointTrajectory_"):
    header: Header = field(default_factory=Header)
    joint_names: sequence[str] = field(default_factory=list)
    points: sequence[JointTrajectoryPoint] = field(default_factory=list)


@dataclass
class Image(IdlStruct, typename="sensor_msgs::msg::dds_::Image_"):
    header: Header = field(default_factory=Header)
    height: uint32 = 0
    width: uint32 = 0
    encoding: str = ""
    is_bigendian: uint8 = 0
    step: uint32 = 0
    data: sequence[uint8] = field(default_factory=list)


@dataclass
class Vector3(IdlStruct, typename="geometry_msgs::msg::dds_::Vector3_"):
    x: float64 = 0.0
    y: float64 = 0.0
    z: float64 = 0.0


@dataclass
class Point(IdlStruct, typename="geometry_msgs::msg::dds_::Point_"):
    x: float64 = 0.0
    y: float64 = 0.0
    z: float64 = 0.0


@dataclass
class Quaternion(IdlStruct, typename="geometry_msgs::msg::dds_::Quaternion_"):
    x: float64 = 0.0
    y: float64 = 0.0
    z: float64 = 0.0
    w: float64 = 1.0


@dataclass
class Pose(IdlStruct, typename="geometry_msgs::msg::dds_::Pose_"):
    position: Point = field(default_factory=Point)
    orientation: Quaternion = field(default_factory=Quaternion)


@dataclass
class PoseWithCovariance(IdlStruct, typename="geometry_msgs::msg::dds_::PoseWithCovariance_"):
    pose: Pose = field(default_factory=Pose)
    covariance: array[float64, 36] = field(default_factory=lambda: [0.0] * 36)


@dataclass
class ObjectHypothesis(IdlStruct, typename="vision_msgs::msg::dds_::ObjectHypothesis_"):
    class_id: str = ""
    score: float64 = 0.0


@dataclass
class ObjectHypothesisWithPose(IdlStruct, typename="vision_msgs::msg::dds_::ObjectHypothesisWithPose_"):
    hypothesis: ObjectHypothesis = field(default_factory=ObjectHypothesis)
    pose: PoseWithCovariance = field(default_factory=PoseWithCovariance)


@dataclass
class BoundingBox3D(IdlStruct, typename="vision_msgs::msg::dds_::BoundingBox3D_"):
    center: Pose = field(default_factory=Pose)
    size: Vector3 = field(default_factory=Vector3)


@dataclass
class Detection3D(IdlStruct, typename="vision_msgs::msg::dds_::Detection3D_"):
    header: Header = field(default_factory=Header)
    results: sequence[ObjectHypothesisWithPose] = field(default_factory=list)
    bbox: BoundingBox3D = field(default_factory=BoundingBox3D)
    id: str = ""


@dataclass
class Detection3DArray(IdlStruct, typename="vision_msgs::msg::dds_::Detection3DArray_"):
    header: Header = field(default_factory=Header)
    detections: sequence[Detection3D] = field(default_factory=list)


# rmw_qos_profile_default
QOS = Qos(
    Policy.Reliability.Reliable(duration(milliseconds=100)),
    Policy.Durability.Volatile,
    Policy.History.KeepLast(10),
)
ARM = [f"panda_joint{i}" for i in range(1, 8)]
FINGERS = ["panda_finger_joint1", "panda_finger_joint2"]
HOME = [0.0, -0.785398, 0.0, -2.356194, 0.0, 1.570796, 0.785398]


def take(reader, n=100):
    """Data samples only: when a writer goes away, DDS also delivers state-only samples."""
    return [m for m in reader.take(N=n) if not isinstance(m, InvalidSample)]


def latest(reader):
    got = take(reader)
    return got[-1] if got else None


def client(dp, seconds):
    """Against the simulated robot: decode its JointState, make it follow our trajectory."""
    states = DataReader(dp, Topic(dp, "rt/joint_states", JointState, qos=QOS), qos=QOS)
    traj = DataWriter(
        dp, Topic(dp, "rt/panda_arm_controller/joint_trajectory", JointTrajectory, qos=QOS), qos=QOS
    )
    images = DataReader(dp, Topic(dp, "rt/camera/color/image_raw", Image, qos=QOS), qos=QOS)
    detections = DataReader(
        dp, Topic(dp, "rt/embody/detections", Detection3DArray, qos=QOS), qos=QOS
    )
    image = None
    detected = None
    t0 = time.time()
    first = None
    while first is None and time.time() - t0 < seconds:
        first = latest(states)
        time.sleep(0.02)
    if first is None:
        return {"ok": False, "why": "no joint states from embody"}
    q0 = dict(zip(first.name, first.position))
    start = [q0[n] for n in ARM]
    goal = list(start)
    goal[0] += 0.3
    mid = [s + 0.5 * (g - s) for s, g in zip(start, goal)]
    msg = JointTrajectory(
        joint_names=ARM,
        points=[
            JointTrajectoryPoint(positions=mid, time_from_start=Duration(sec=1)),
            JointTrajectoryPoint(positions=goal, time_from_start=Duration(sec=2)),
        ],
    )
    # Discovery of our writer by embody takes a moment: send until it has surely arrived
    # (a repeat restarts the same motion from where the arm is, like a JointTrajectoryController).
    for _ in range(5):
        traj.write(msg)
        time.sleep(0.1)
    received = 0
    last = first
    while time.time() - t0 < seconds:
        for s in take(states):
            received += 1
            last = s
        for im in take(images, 10):
            image = im
        for d in take(detections, 10):
            detected = d
        time.sleep(0.02)
    q = dict(zip(last.name, last.position))
    return {
        "ok": True,
        "names": list(first.name),
        "first_position": start,
        "joint_states_received": received,
        "stamp_sec": last.header.stamp.sec,
        "moved_joint1": q["panda_joint1"] - start[0],
        "goal_joint1": goal[0],
        "detections": None
        if detected is None
        else {
            "frame_id": detected.header.frame_id,
            "ids": [d.id for d in detected.detections],
            "classes": [d.results[0].hypothesis.class_id for d in detected.detections],
            "sizes": [[d.bbox.size.x, d.bbox.size.y, d.bbox.size.z] for d in detected.detections],
            "z": [d.bbox.center.position.z for d in detected.detections],
            "qw": [d.bbox.center.orientation.w for d in detected.detections],
        },
        "image": None
        if image is None
        else {
            "width": image.width,
            "height": image.height,
            "encoding": image.encoding,
            "step": image.step,
            "bytes": len(image.data),
            "frame_id": image.header.frame_id,
        },
    }


def robot(dp, seconds):
    """A kinematic robot: publish joint states at 100 Hz, follow the first point of each
    trajectory received."""
    states = DataWriter(dp, Topic(dp, "rt/joint_states", JointState, qos=QOS), qos=QOS)
    traj = DataReader(
        dp, Topic(dp, "rt/panda_arm_controller/joint_trajectory", JointTrajectory, qos=QOS), qos=QOS
    )
    q = list(HOME)
    received, names_ok, finite = 0, True, True
    t0 = time.time()
    while time.time() - t0 < seconds:
        for m in take(traj):
            received += 1
            names_ok &= list(m.joint_names) == ARM
            p = list(m.points[0].positions)
            finite &= all(v == v and abs(v) < 10 for v in p)
            if len(p) == 7:
                q = p
        now = time.time()
        states.write(
            JointState(
                header=Header(stamp=Time(sec=int(now), nanosec=int((now % 1) * 1e9))),
                name=ARM + FINGERS,
                position=q + [0.04, 0.04],
                velocity=[0.0] * 9,
                effort=[0.0] * 9,
            )
        )
        time.sleep(0.01)
    return {
        "ok": received > 0 and names_ok and finite,
        "trajectories_received": received,
        "joint_names_ok": names_ok,
        "finite": finite,
        "last_position": q,
    }


@dataclass
class Bool(IdlStruct, typename="std_msgs::msg::dds_::Bool_"):
    data: bool = False


def intruder(dp, seconds):
    """A participant without keys on a secured domain: listen for joint states, and blindly
    command the arm away from home and press the e-stop, all the run long."""
    states = DataReader(dp, Topic(dp, "rt/joint_states", JointState, qos=QOS), qos=QOS)
    traj = DataWriter(
        dp, Topic(dp, "rt/panda_arm_controller/joint_trajectory", JointTrajectory, qos=QOS), qos=QOS
    )
    estop = DataWriter(dp, Topic(dp, "rt/embody/estop", Bool, qos=QOS), qos=QOS)
    goal = list(HOME)
    goal[0] += 0.5
    msg = JointTrajectory(
        joint_names=ARM,
        points=[JointTrajectoryPoint(positions=goal, time_from_start=Duration(sec=1))],
    )
    received, sent = 0, 0
    t0 = time.time()
    while time.time() - t0 < seconds:
        received += len(take(states))
        traj.write(msg)
        estop.write(Bool(data=True))
        sent += 1
        time.sleep(0.05)
    return {"ok": True, "joint_states_received": received, "commands_sent": sent}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("role", choices=["client", "robot", "intruder"])
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--domain", type=int, default=0)
    a = ap.parse_args()
    dp = DomainParticipant(a.domain)
    out = {"client": client, "robot": robot, "intruder": intruder}[a.role](dp, a.seconds)
    print(json.dumps(out))
    return 0 if out.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
