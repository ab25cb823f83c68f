"""ROS 2 actions from an independent DDS implementation: Eclipse Cyclone DDS (Python
`cyclonedds`) speaking control_msgs' FollowJointTrajectory and GripperCommand the way a ROS 2
node on rmw_cyclonedds does, with no ROS installation. embody runs with
`--request-reply cyclone` against it.

    ros_interop_actions.py client --seconds 20  # against `embody sim --ros`: goals, feedback,
                                                # results, preemption, cancel, a bad goal, the
                                                # gripper
    ros_interop_actions.py server --seconds 12  # plays ros2_control's controllers for
                                                # `embody deploy --check --arm-interface action`
        [--abort-after N]                       # ... aborting every trajectory goal from
                                                # the Nth on (a controller gone to fault)

rmw_cyclonedds matches a service's replies to requests by a 16-byte header (the client's id and
a sequence number) in front of every request and reply: here that is the `request_id` field. A
server copies it into its reply; a client recognises its replies by it.

Prints one JSON line with what it saw.
"""

import argparse
import json
import sys
import time
import uuid
from dataclasses import dataclass, field

from cyclonedds.core import Policy, Qos
from cyclonedds.domain import DomainParticipant
from cyclonedds.idl import IdlStruct
from cyclonedds.idl.types import array, float64, int8, int32, sequence, uint8, uint16
from cyclonedds.pub import DataWriter
from cyclonedds.sub import DataReader
from cyclonedds.topic import Topic
from cyclonedds.util import duration

from ros_interop import (
    ARM,
    FINGERS,
    HOME,
    QOS,
    Duration,
    Header,
    JointState,
    JointTrajectory,
    JointTrajectoryPoint,
    Quaternion,
    Time,
    Vector3,
    take,
)

# rcl's action status QoS: reliable, transient local, keep last 1.
STATUS_QOS = Qos(
    Policy.Reliability.Reliable(duration(milliseconds=100)),
    Policy.Durability.TransientLocal,
    Policy.History.KeepLast(1),
)
# action_msgs/GoalStatus
STATUS_ACCEPTED, STATUS_EXECUTING, STATUS_SUCCEEDED, STATUS_CANCELED, STATUS_ABORTED = 1, 2, 4, 5, 6
RequestId = array[uint8, 16]


def rid():
    return [0] * 16


@dataclass
class UUID(IdlStruct, typename="unique_identifier_msgs::msg::dds_::UUID_"):
    uuid: array[uint8, 16] = field(default_factory=lambda: [0] * 16)


@dataclass
class GoalInfo(IdlStruct, typename="action_msgs::msg::dds_::GoalInfo_"):
    goal_id: UUID = field(default_factory=UUID)
    stamp: Time = field(default_factory=Time)


@dataclass
class GoalStatus(IdlStruct, typename="action_msgs::msg::dds_::GoalStatus_"):
    goal_info: GoalInfo = field(default_factory=GoalInfo)
    status: int8 = 0


@dataclass
class GoalStatusArray(IdlStruct, typename="action_msgs::msg::dds_::GoalStatusArray_"):
    status_list: sequence[GoalStatus] = field(default_factory=list)


@dataclass
class CancelRequest(IdlStruct, typename="action_msgs::srv::dds_::CancelGoal_Request_"):
    request_id: RequestId = field(default_factory=rid)
    goal_info: GoalInfo = field(default_factory=GoalInfo)


@dataclass
class CancelResponse(IdlStruct, typename="action_msgs::srv::dds_::CancelGoal_Response_"):
    request_id: RequestId = field(default_factory=rid)
    return_code: int8 = 0
    goals_canceling: sequence[GoalInfo] = field(default_factory=list)


# --- control_msgs/action/FollowJointTrajectory ------------------------------------------------
@dataclass
class JointTolerance(IdlStruct, typename="control_msgs::msg::dds_::JointTolerance_"):
    name: str = ""
    position: float64 = 0.0
    velocity: float64 = 0.0
    acceleration: float64 = 0.0


@dataclass
class JointComponentTolerance(IdlStruct, typename="control_msgs::msg::dds_::JointComponentTolerance_"):
    joint_name: str = ""
    component: uint16 = 0
    position: float64 = 0.0
    velocity: float64 = 0.0
    acceleration: float64 = 0.0


@dataclass
class Transform(IdlStruct, typename="geometry_msgs::msg::dds_::Transform_"):
    translation: Vector3 = field(default_factory=Vector3)
    rotation: Quaternion = field(default_factory=Quaternion)


@dataclass
class Twist(IdlStruct, typename="geometry_msgs::msg::dds_::Twist_"):
    linear: Vector3 = field(default_factory=Vector3)
    angular: Vector3 = field(default_factory=Vector3)


@dataclass
class MultiDofPoint(IdlStruct, typename="trajectory_msgs::msg::dds_::MultiDOFJointTrajectoryPoint_"):
    transforms: sequence[Transform] = field(default_factory=list)
    velocities: sequence[Twist] = field(default_factory=list)
    accelerations: sequence[Twist] = field(default_factory=list)
    time_from_start: Duration = field(default_factory=Duration)


@dataclass
class MultiDofTrajectory(IdlStruct, typename="trajectory_msgs::msg::dds_::MultiDOFJointTrajectory_"):
    header: Header = field(default_factory=Header)
    joint_names: sequence[str] = field(default_factory=list)
    points: sequence[MultiDofPoint] = field(default_factory=list)


@dataclass
class FjtGoal(IdlStruct, typename="control_msgs::action::dds_::FollowJointTrajectory_Goal_"):
    trajectory: JointTrajectory = field(default_factory=JointTrajectory)
    multi_dof_trajectory: MultiDofTrajectory = field(default_factory=MultiDofTrajectory)
    path_tolerance: sequence[JointTolerance] = field(default_factory=list)
    component_path_tolerance: sequence[JointComponentTolerance] = field(default_factory=list)
    goal_tolerance: sequence[JointTolerance] = field(default_factory=list)
    component_goal_tolerance: sequence[JointComponentTolerance] = field(default_factory=list)
    goal_time_tolerance: Duration = field(default_factory=Duration)


@dataclass
class FjtResult(IdlStruct, typename="control_msgs::action::dds_::FollowJointTrajectory_Result_"):
    error_code: int32 = 0
    error_string: str = ""


@dataclass
class FjtFeedback(IdlStruct, typename="control_msgs::action::dds_::FollowJointTrajectory_Feedback_"):
    header: Header = field(default_factory=Header)
    joint_names: sequence[str] = field(default_factory=list)
    desired: JointTrajectoryPoint = field(default_factory=JointTrajectoryPoint)
    actual: JointTrajectoryPoint = field(default_factory=JointTrajectoryPoint)
    error: JointTrajectoryPoint = field(default_factory=JointTrajectoryPoint)
    multi_dof_joint_names: sequence[str] = field(default_factory=list)
    multi_dof_desired: MultiDofPoint = field(default_factory=MultiDofPoint)
    multi_dof_actual: MultiDofPoint = field(default_factory=MultiDofPoint)
    multi_dof_error: MultiDofPoint = field(default_factory=MultiDofPoint)


@dataclass
class FjtSendGoalRequest(IdlStruct, typename="control_msgs::action::dds_::FollowJointTrajectory_SendGoal_Request_"):
    request_id: RequestId = field(default_factory=rid)
    goal_id: UUID = field(default_factory=UUID)
    goal: FjtGoal = field(default_factory=FjtGoal)


@dataclass
class SendGoalResponse(IdlStruct, typename="control_msgs::action::dds_::FollowJointTrajectory_SendGoal_Response_"):
    request_id: RequestId = field(default_factory=rid)
    accepted: bool = False
    stamp: Time = field(default_factory=Time)


@dataclass
class FjtGetResultRequest(IdlStruct, typename="control_msgs::action::dds_::FollowJointTrajectory_GetResult_Request_"):
    request_id: RequestId = field(default_factory=rid)
    goal_id: UUID = field(default_factory=UUID)


@dataclass
class FjtGetResultResponse(IdlStruct, typename="control_msgs::action::dds_::FollowJointTrajectory_GetResult_Response_"):
    request_id: RequestId = field(default_factory=rid)
    status: int8 = 0
    result: FjtResult = field(default_factory=FjtResult)


@dataclass
class FjtFeedbackMessage(IdlStruct, typename="control_msgs::action::dds_::FollowJointTrajectory_FeedbackMessage_"):
    goal_id: UUID = field(default_factory=UUID)
    feedback: FjtFeedback = field(default_factory=FjtFeedback)


# --- control_msgs/action/GripperCommand -------------------------------------------------------
@dataclass
class GripperCommand(IdlStruct, typename="control_msgs::msg::dds_::GripperCommand_"):
    position: float64 = 0.0
    max_effort: float64 = 0.0


@dataclass
class GcGoal(IdlStruct, typename="control_msgs::action::dds_::GripperCommand_Goal_"):
    command: GripperCommand = field(default_factory=GripperCommand)


@dataclass
class GcResult(IdlStruct, typename="control_msgs::action::dds_::GripperCommand_Result_"):
    position: float64 = 0.0
    effort: float64 = 0.0
    stalled: bool = False
    reached_goal: bool = False


@dataclass
class GcSendGoalRequest(IdlStruct, typename="control_msgs::action::dds_::GripperCommand_SendGoal_Request_"):
    request_id: RequestId = field(default_factory=rid)
    goal_id: UUID = field(default_factory=UUID)
    goal: GcGoal = field(default_factory=GcGoal)


@dataclass
class GcSendGoalResponse(IdlStruct, typename="control_msgs::action::dds_::GripperCommand_SendGoal_Response_"):
    request_id: RequestId = field(default_factory=rid)
    accepted: bool = False
    stamp: Time = field(default_factory=Time)


@dataclass
class GcGetResultRequest(IdlStruct, typename="control_msgs::action::dds_::GripperCommand_GetResult_Request_"):
    request_id: RequestId = field(default_factory=rid)
    goal_id: UUID = field(default_factory=UUID)


@dataclass
class GcGetResultResponse(IdlStruct, typename="control_msgs::action::dds_::GripperCommand_GetResult_Response_"):
    request_id: RequestId = field(default_factory=rid)
    status: int8 = 0
    result: GcResult = field(default_factory=GcResult)


class Action:
    """One action's five DDS endpoints, from the client's side or the server's."""

    def __init__(self, dp, name, types, server):
        send_req, send_resp, res_req, res_resp, feedback = types
        base = name.strip("/") + "/_action/"

        def service(kind, req, resp):
            rq = Topic(dp, f"rq/{base}{kind}Request", req, qos=QOS)
            rr = Topic(dp, f"rr/{base}{kind}Reply", resp, qos=QOS)
            if server:
                return DataReader(dp, rq, qos=QOS), DataWriter(dp, rr, qos=QOS)
            return DataWriter(dp, rq, qos=QOS), DataReader(dp, rr, qos=QOS)

        self.send_goal = service("send_goal", send_req, send_resp)
        self.get_result = service("get_result", res_req, res_resp)
        self.cancel = service("cancel_goal", CancelRequest, CancelResponse)
        st = Topic(dp, f"rt/{base}status", GoalStatusArray, qos=STATUS_QOS)
        self.status = DataWriter(dp, st, qos=STATUS_QOS) if server else DataReader(dp, st, qos=STATUS_QOS)
        self.feedback = None
        if feedback is not None:
            fb = Topic(dp, f"rt/{base}feedback", feedback, qos=QOS)
            self.feedback = DataWriter(dp, fb, qos=QOS) if server else DataReader(dp, fb, qos=QOS)


FJT = (FjtSendGoalRequest, SendGoalResponse, FjtGetResultRequest, FjtGetResultResponse, FjtFeedbackMessage)
GC = (GcSendGoalRequest, GcSendGoalResponse, GcGetResultRequest, GcGetResultResponse, None)


def stamp_now():
    now = time.time()
    return Time(sec=int(now), nanosec=int((now % 1) * 1e9))


class Client:
    """Requests with their own ids, and the replies that carry them back."""

    def __init__(self, action):
        self.a = action
        self.seq = 0
        self.me = list(uuid.uuid4().bytes[:8])
        self.replies = {}  # request id -> reply
        self.statuses = {}  # goal id -> last status seen
        self.feedback = {}  # goal id -> count

    def next_id(self):
        self.seq += 1
        return self.me + list(self.seq.to_bytes(8, "little"))

    def pump(self):
        for writer_reader in (self.a.send_goal, self.a.get_result, self.a.cancel):
            for r in take(writer_reader[1]):
                self.replies[bytes(r.request_id)] = r
        for s in take(self.a.status):
            for g in s.status_list:
                self.statuses[bytes(g.goal_info.goal_id.uuid)] = g.status
        if self.a.feedback is not None:
            for f in take(self.a.feedback):
                k = bytes(f.goal_id.uuid)
                self.feedback[k] = self.feedback.get(k, 0) + 1

    def call(self, service, request, timeout=5.0):
        request.request_id = self.next_id()
        service[0].write(request)
        key = bytes(request.request_id)
        t0 = time.time()
        while time.time() - t0 < timeout:
            self.pump()
            if key in self.replies:
                return self.replies.pop(key)
            time.sleep(0.01)
        return None

    def ask_result(self, req_type, goal):
        """Sends a result request and returns its id; the reply comes when the goal ends."""
        r = req_type(goal_id=UUID(uuid=list(goal)))
        r.request_id = self.next_id()
        self.a.get_result[0].write(r)
        return bytes(r.request_id)

    def wait(self, key, timeout):
        t0 = time.time()
        while time.time() - t0 < timeout:
            self.pump()
            if key in self.replies:
                return self.replies.pop(key)
            time.sleep(0.01)
        return None


def wait_states(states, seconds):
    t0 = time.time()
    while time.time() - t0 < seconds:
        got = take(states)
        if got:
            return got[-1]
        time.sleep(0.02)
    return None


def goal_to(names, start, target, seconds, tolerance):
    mid = [s + 0.5 * (t - s) for s, t in zip(start, target)]
    whole, frac = int(seconds), seconds - int(seconds)
    return FjtGoal(
        trajectory=JointTrajectory(
            joint_names=names,
            points=[
                JointTrajectoryPoint(positions=mid, time_from_start=Duration(sec=int(seconds / 2), nanosec=int(((seconds / 2) % 1) * 1e9))),
                JointTrajectoryPoint(positions=target, time_from_start=Duration(sec=whole, nanosec=int(frac * 1e9))),
            ],
        ),
        goal_tolerance=[JointTolerance(name=n, position=tolerance) for n in names],
        goal_time_tolerance=Duration(sec=1),
    )


def client(dp, a):
    """Against `embody sim --ros --request-reply cyclone`: every part of both actions."""
    states = DataReader(dp, Topic(dp, "rt/joint_states", JointState, qos=QOS), qos=QOS)
    arm = Client(Action(dp, f"{a.controller}/follow_joint_trajectory", FJT, server=False))
    grip = Client(Action(dp, f"{a.gripper}/gripper_cmd", GC, server=False))
    first = wait_states(states, a.seconds)
    if first is None:
        return {"ok": False, "why": "no joint states from embody"}
    q0 = dict(zip(first.name, first.position))
    start = [q0[n] for n in ARM]
    out = {"ok": False}
    # Discovery of the request writers by embody's server takes a moment: retry the first goal.
    target_a = list(start)
    target_a[0] += 0.3
    goal_a = uuid.uuid4().bytes
    resp = None
    for _ in range(10):
        resp = arm.call(arm.a.send_goal, FjtSendGoalRequest(goal_id=UUID(uuid=list(goal_a)), goal=goal_to(ARM, start, target_a, 2.0, 0.05)), timeout=1.0)
        if resp is not None:
            break
    out["goal_a_accepted"] = bool(resp and resp.accepted)
    result_a = arm.ask_result(FjtGetResultRequest, goal_a)
    time.sleep(0.6)
    arm.pump()
    out["goal_a_feedback"] = arm.feedback.get(goal_a, 0)
    out["goal_a_status_while_running"] = arm.statuses.get(goal_a)
    # Preemption: a newer goal replaces A, which ends canceled.
    target_b = list(start)
    target_b[0] += 0.15
    goal_b = uuid.uuid4().bytes
    resp = arm.call(arm.a.send_goal, FjtSendGoalRequest(goal_id=UUID(uuid=list(goal_b)), goal=goal_to(ARM, start, target_b, 1.5, 0.05)))
    out["goal_b_accepted"] = bool(resp and resp.accepted)
    r = arm.wait(result_a, 5.0)
    out["goal_a_result"] = None if r is None else {"status": r.status, "error_code": r.result.error_code, "error_string": r.result.error_string}
    r = arm.wait(arm.ask_result(FjtGetResultRequest, goal_b), 10.0)
    out["goal_b_result"] = None if r is None else {"status": r.status, "error_code": r.result.error_code, "error_string": r.result.error_string}
    last = wait_states(states, 1.0)
    q = dict(zip(last.name, last.position))
    out["joint1_after_b"] = q[ARM[0]] - start[0]
    out["goal_b_status_topic"] = arm.statuses.get(goal_b)
    # Cancel: a slow goal canceled half a second in.
    goal_c = uuid.uuid4().bytes
    target_c = list(start)
    resp = arm.call(arm.a.send_goal, FjtSendGoalRequest(goal_id=UUID(uuid=list(goal_c)), goal=goal_to(ARM, [q[n] for n in ARM], target_c, 4.0, 0.05)))
    out["goal_c_accepted"] = bool(resp and resp.accepted)
    result_c = arm.ask_result(FjtGetResultRequest, goal_c)
    time.sleep(0.5)
    resp = arm.call(arm.a.cancel, CancelRequest(goal_info=GoalInfo(goal_id=UUID(uuid=list(goal_c)))))
    out["cancel_c"] = None if resp is None else {"return_code": resp.return_code, "canceling": [bytes(g.goal_id.uuid) == goal_c for g in resp.goals_canceling]}
    r = arm.wait(result_c, 5.0)
    out["goal_c_result"] = None if r is None else {"status": r.status, "error_string": r.result.error_string}
    # A goal for joints the arm does not have is rejected.
    bad = goal_to(["no_such_joint"], [0.0], [0.1], 1.0, 0.05)
    resp = arm.call(arm.a.send_goal, FjtSendGoalRequest(goal_id=UUID(uuid=list(uuid.uuid4().bytes)), goal=bad))
    out["bad_goal_accepted"] = None if resp is None else bool(resp.accepted)
    # The gripper: close to a 2 cm gap (position is one finger's travel).
    goal_g = uuid.uuid4().bytes
    resp = None
    for _ in range(5):
        resp = grip.call(grip.a.send_goal, GcSendGoalRequest(goal_id=UUID(uuid=list(goal_g)), goal=GcGoal(command=GripperCommand(position=0.01, max_effort=20.0))), timeout=1.0)
        if resp is not None:
            break
    out["gripper_accepted"] = bool(resp and resp.accepted)
    r = grip.wait(grip.ask_result(GcGetResultRequest, goal_g), 8.0)
    out["gripper_result"] = None if r is None else {"status": r.status, "position": r.result.position, "reached_goal": r.result.reached_goal, "stalled": r.result.stalled}
    out["ok"] = True
    return out


def server(dp, a):
    """A kinematic robot behind ros2_control's two action servers: joint states at 100 Hz; each
    accepted trajectory goal preempts the last (which ends canceled) and the arm takes the goal's
    first point; the gripper goes where it is told. `--abort-after N` aborts every goal from the
    Nth on."""
    states = DataWriter(dp, Topic(dp, "rt/joint_states", JointState, qos=QOS), qos=QOS)
    arm = Action(dp, f"{a.controller}/follow_joint_trajectory", FJT, server=True)
    grip = Action(dp, f"{a.gripper}/gripper_cmd", GC, server=True)
    q, width = list(HOME), 0.08
    goals, names_ok, finite, gripper_goals, results = 0, True, True, 0, 0
    active, done = None, {}  # goal id -> (status, result)
    history = []
    t0 = time.time()
    while time.time() - t0 < a.seconds:
        changed = False
        for req in take(arm.send_goal[0]):
            goals += 1
            traj = req.goal.trajectory
            names_ok &= list(traj.joint_names) == ARM
            p = list(traj.points[0].positions) if traj.points else []
            finite &= len(p) == 7 and all(v == v and abs(v) < 10 for v in p)
            gid = bytes(req.goal_id.uuid)
            arm.send_goal[1].write(SendGoalResponse(request_id=req.request_id, accepted=True, stamp=stamp_now()))
            if active is not None:
                done[active] = (STATUS_CANCELED, FjtResult(error_string="preempted"))
                history.append((active, STATUS_CANCELED))
            if a.abort_after and goals >= a.abort_after:
                done[gid] = (STATUS_ABORTED, FjtResult(error_code=-4, error_string="path tolerance violated (test)"))
                history.append((gid, STATUS_ABORTED))
                active = None
            else:
                active = gid
                if len(p) == 7:
                    q = p
            changed = True
        for req in take(arm.get_result[0]):
            gid = bytes(req.goal_id.uuid)
            if gid in done:
                status, result = done[gid]
                arm.get_result[1].write(FjtGetResultResponse(request_id=req.request_id, status=status, result=result))
                results += 1
        for req in take(grip.send_goal[0]):
            gripper_goals += 1
            width = max(0.0, min(0.08, 2 * req.goal.command.position))
            grip.send_goal[1].write(GcSendGoalResponse(request_id=req.request_id, accepted=True, stamp=stamp_now()))
        for req in take(grip.get_result[0]):
            grip.get_result[1].write(GcGetResultResponse(request_id=req.request_id, status=STATUS_SUCCEEDED, result=GcResult(position=width, reached_goal=True)))
        if active is not None:
            arm.feedback.write(FjtFeedbackMessage(goal_id=UUID(uuid=list(active)), feedback=FjtFeedback(joint_names=ARM, actual=JointTrajectoryPoint(positions=q))))
        if changed:
            status = [GoalStatus(goal_info=GoalInfo(goal_id=UUID(uuid=list(g))), status=s) for g, s in history[-8:]]
            if active is not None:
                status.append(GoalStatus(goal_info=GoalInfo(goal_id=UUID(uuid=list(active))), status=STATUS_EXECUTING))
            arm.status.write(GoalStatusArray(status_list=status))
        states.write(JointState(header=Header(stamp=stamp_now()), name=ARM + FINGERS, position=q + [width / 2] * 2, velocity=[0.0] * 9, effort=[0.0] * 9))
        time.sleep(0.01)
    return {
        "ok": goals > 0 and names_ok and finite,
        "trajectory_goals": goals,
        "gripper_goals": gripper_goals,
        "joint_names_ok": names_ok,
        "finite": finite,
        "results_answered": results,
        "last_position": q,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("role", choices=["client", "server"])
    ap.add_argument("--seconds", type=float, default=12.0)
    ap.add_argument("--domain", type=int, default=0)
    ap.add_argument("--controller", default="panda_arm_controller")
    ap.add_argument("--gripper", default="panda_gripper")
    ap.add_argument("--abort-after", type=int, default=0)
    a = ap.parse_args()
    dp = DomainParticipant(a.domain)
    out = {"client": client, "server": server}[a.role](dp, a)
    print(json.dumps(out, default=lambda b: b.hex() if isinstance(b, bytes) else str(b)))
    return 0 if out.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
