"""Captures what crosses the loopback interface for a while and reports whether a plaintext
string appears in it (the DDS-Security test's wire check; tcpdump without tcpdump).

    capture_lo.py --seconds 10 --needle panda_joint

Needs CAP_NET_RAW (root in the test's private network namespace). Prints one JSON line:
{"packets": N, "bytes": B, "udp_packets": U, "found": K} with K the packets containing the needle.
"""

import argparse
import json
import socket
import time

ETH_P_ALL = 0x0003


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--needle", required=True)
    ap.add_argument("--interface", default="lo")
    a = ap.parse_args()
    needle = a.needle.encode()
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((a.interface, 0))
    s.settimeout(0.2)
    packets = udp = found = total = 0
    end = time.time() + a.seconds
    while time.time() < end:
        try:
            frame = s.recv(65535)
        except socket.timeout:
            continue
        packets += 1
        total += len(frame)
        # Ethernet (14 bytes, zeros on loopback) then IPv4 with protocol 17 = UDP.
        if len(frame) > 23 and frame[12:14] == b"\x08\x00" and frame[23] == 17:
            udp += 1
        if needle in frame:
            found += 1
    print(json.dumps({"packets": packets, "bytes": total, "udp_packets": udp, "found": found}))


if __name__ == "__main__":
    main()
