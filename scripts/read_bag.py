#!/usr/bin/env python3
"""Opens an embody MCAP log as a rosbag2 with the `rosbags` package (not embody's reader, not
the `mcap` package) and decodes every message, so a test can check that logs are bags.

Types not in rosbags' Jazzy type store (control_msgs) are registered from the definitions the
log carries. Prints JSON: topics (type, message count), the bag's message count, how many
messages decoded, the first joint state's names and the outcome record.

Run: .venv/bin/python scripts/read_bag.py LOG.mcap
"""
import json
import sys
from pathlib import Path

from rosbags.rosbag2 import Reader
from rosbags.typesys import Stores, get_types_from_msg, get_typestore


def main(path):
    store = get_typestore(Stores.ROS2_JAZZY)
    out = {"topics": {}, "decoded": 0}
    with Reader(Path(path)) as bag:
        out["message_count"] = bag.message_count
        for c in bag.connections:
            out["topics"][c.topic] = {"type": c.msgtype, "count": c.msgcount}
            if c.msgtype not in store.types:
                store.register(get_types_from_msg(c.msgdef.data, c.msgtype))
        for conn, _t, raw in bag.messages():
            msg = store.deserialize_cdr(raw, conn.msgtype)
            out["decoded"] += 1
            if conn.topic == "/joint_states" and "first_joint_names" not in out:
                out["first_joint_names"] = list(msg.name)
            elif conn.topic == "/embody/outcome":
                out["outcome"] = json.loads(msg.data)
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
