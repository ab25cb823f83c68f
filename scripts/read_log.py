#!/usr/bin/env python3
"""Reads an embody MCAP log with the independent Python readers (`mcap`, `mcap-ros2-support`),
decodes every ROS 2 channel and every JSON record, and prints one JSON line: message counts per
topic, the first and last joint state, and the last pose of every /tf frame.

The training pipeline reads logs the same way; the test suite compares this with embody's own
reader.
"""
import json
import sys

from mcap.reader import make_reader
from mcap_ros2.decoder import DecoderFactory


def main(path):
    counts = {}
    first_js = last_js = None
    tf = {}
    commands = 0
    records = {}
    with open(path, "rb") as f:
        reader = make_reader(f, decoder_factories=[DecoderFactory()])
        for schema, channel, message in reader.iter_messages():
            counts[channel.topic] = counts.get(channel.topic, 0) + 1
            if channel.message_encoding == "json":  # logs written before the records were CDR
                records.setdefault(channel.topic, json.loads(message.data))
                continue
            decoded = DecoderFactory().decoder_for(channel.message_encoding, schema)(message.data)
            if channel.topic.startswith("/embody/"):  # JSON inside std_msgs/String
                records.setdefault(channel.topic, json.loads(decoded.data))
                continue
            if channel.topic == "/joint_states":
                js = {"name": list(decoded.name), "position": list(decoded.position),
                      "velocity": list(decoded.velocity),
                      "stamp": decoded.header.stamp.sec + decoded.header.stamp.nanosec * 1e-9}
                first_js = first_js or js
                last_js = js
            elif channel.topic == "/tf":
                for t in decoded.transforms:
                    tr, q = t.transform.translation, t.transform.rotation
                    tf[t.child_frame_id] = [tr.x, tr.y, tr.z, q.x, q.y, q.z, q.w]
            elif schema.name == "trajectory_msgs/msg/JointTrajectory":
                commands += len(decoded.points[0].positions) > 0
            elif schema.name == "control_msgs/msg/GripperCommand":
                assert decoded.max_effort > 0
    print(json.dumps({"counts": counts, "first_joint_state": first_js, "last_joint_state": last_js,
                      "last_tf": tf, "arm_commands": commands,
                      "scenario_seed": records.get("/embody/scenario", {}).get("seed"),
                      "outcome": records.get("/embody/outcome")}))


if __name__ == "__main__":
    main(sys.argv[1])
