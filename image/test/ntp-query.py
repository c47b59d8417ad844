#!/usr/bin/env python3
"""One plain NTP client request (mode 3) to HOST PORT; prints "LI STRATUM"
of the reply, or nothing (exit 1) when none came within the timeout."""
import socket
import sys

host, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(float(sys.argv[3]) if len(sys.argv) > 3 else 1.0)
req = bytearray(48)
req[0] = (0 << 6) | (4 << 3) | 3  # LI 0, version 4, mode 3
req[40:48] = b"gtsboot!"  # transmit timestamp: echoed as the origin
try:
    s.sendto(bytes(req), (host, port))
    data, _ = s.recvfrom(512)
except OSError:
    sys.exit(1)
if len(data) < 48 or data[0] & 7 != 4 or data[24:32] != b"gtsboot!":
    sys.exit(1)
print(data[0] >> 6, data[1])
