#!/usr/bin/env python3
"""Write the project's own seed inputs into fuzz/corpus/<target>/ (committed;
tests/fuzz_replay.rs replays them on stable, tools/fuzz.sh starts libFuzzer
from them). Deterministic: the same files every run. Built from the formats'
specifications, not copied from captures (those come from GNSS_FIXTURES_DIR).

    tools/fuzz-seeds.py            # from the repository root
"""
import hashlib
import os
import random
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fuzz", "corpus")
rng = random.Random(13)


def put(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def ubx(cls, mid, payload):
    body = bytes([cls, mid]) + struct.pack("<H", len(payload)) + payload
    a = b = 0
    for x in body:
        a = (a + x) & 0xFF
        b = (b + a) & 0xFF
    return b"\xb5\x62" + body + bytes([a, b])


def nmea(body):
    ck = 0
    for c in body.encode():
        ck ^= c
    return f"${body}*{ck:02X}\r\n".encode()


def crc24q(data):
    crc = 0
    for x in data:
        crc ^= x << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


def rtcm3(payload):
    head = bytes([0xD3, (len(payload) >> 8) & 3, len(payload) & 0xFF]) + payload
    return head + crc24q(head).to_bytes(3, "big")


def noise(n):
    return bytes(rng.randrange(256) for _ in range(n))


# UBX messages the receiver model reads (class, id, payload length).
nav_pvt = bytearray(92)
struct.pack_into("<IHBBBBBB", nav_pvt, 0, 345_600_000, 2026, 11, 29, 13, 0, 0, 0x37)
struct.pack_into("<I", nav_pvt, 12, 30)  # tAcc ns
nav_pvt[20] = 3  # 3D fix
nav_pvt[21] = 0x01  # gnssFixOK
nav_pvt[23] = 12  # numSV
tim_tp = struct.pack("<IIiHBB", 345_601_000, 0, -1200, 2400, 0x03, 0)
timels = bytearray(24)
timels[8] = 1
timels[9] = 18
timels[10] = 0x01
timels[23] = 0x03
nav_sat = bytearray(struct.pack("<IBBxx", 345_600_000, 1, 4))
for sv in range(4):
    nav_sat += struct.pack("<BBBbhhI", 0, sv + 1, 40 - sv, 30, 90 * sv, 0, 0x08)
mon_hw = bytearray(60)
mon_hw[20] = 2  # antenna OK
nav_clock = struct.pack("<IiiII", 345_600_000, 12, -3, 10, 5)
svin = bytearray(28)
struct.pack_into("<II", svin, 4, 600, 600)
svin[36 - 12] = 1
UBX = [
    ("nav-pvt", 0x01, 0x07, bytes(nav_pvt)),
    ("tim-tp", 0x0D, 0x01, tim_tp),
    ("nav-timels", 0x01, 0x26, bytes(timels)),
    ("nav-sat", 0x01, 0x35, bytes(nav_sat)),
    ("mon-hw", 0x0A, 0x09, bytes(mon_hw)),
    ("nav-clock", 0x01, 0x22, nav_clock),
    ("tim-svin", 0x0D, 0x04, bytes(svin)),
    ("ack-ack", 0x05, 0x01, bytes([0x06, 0x8A])),
    ("ack-nak", 0x05, 0x00, bytes([0x06, 0x8A])),
    ("mon-ver", 0x0A, 0x04, b"ROM SPG 5.10 (7b202e)\0".ljust(30, b"\0") + b"00190000\0".ljust(10, b"\0")
     + b"PROTVER=34.10\0".ljust(30, b"\0")),
    ("nav-timegps", 0x01, 0x20, struct.pack("<IihbBI", 345_600_000, 0, 2412, 18, 0x07, 20)),
]
NMEA = [
    "GNGGA,130000.00,4807.0380,N,01131.0000,E,1,12,0.9,545.4,M,46.9,M,,",
    "GNRMC,130000.00,A,4807.0380,N,01131.0000,E,0.0,0.0,291126,,,A,V",
    "GNZDA,130000.00,29,11,2026,00,00",
    "GPGSV,2,1,08,01,40,083,46,02,17,308,41,12,07,344,39,14,22,228,45",
    "GNGSA,A,3,01,02,12,14,,,,,,,,,1.5,0.9,1.2,1",
    "GPTXT,01,01,02,ANTSTATUS=OK",
    "GNGGA,,,,,,0,00,99.99,,,,,,",
]

for name, c, i, p in UBX:
    put("ubx_decode", name, bytes([c, i]) + p)
    put("ubx_decode", name + "-short", bytes([c, i]) + p[: len(p) // 2])
for k, s in enumerate(NMEA):
    put("nmea_decode", f"nmea-{k}", nmea(s).rstrip(b"\r\n"))

stream = b"".join(ubx(c, i, p) for _, c, i, p in UBX) + b"".join(nmea(s) for s in NMEA)
rtcm = rtcm3(bytes([0x3E, 0xD0]) + noise(20))
for t in ("framer", "receiver"):
    put(t, "all-messages", stream)
    put(t, "with-rtcm3", rtcm + stream[:200] + rtcm)
    put(t, "rtcm3-headers", b"\xd3\x03\xff" * 400)
    put(t, "noise-between", noise(64) + stream + noise(64))
    put(t, "cut-frames", stream[3:-5] + b"\xb5\x62" + b"$GNG")

# leap-seconds.list in the IERS layout (hash over the data fields).
TABLE = [(2272060800, 10), (2287785600, 11), (2303683200, 12), (3692217600, 37)]
def leap(updated, expires, table, hash_ok=True):
    body = f"#\n#$ {updated}\n#@ {expires}\n" + "".join(f"{t}\t{o}\t# x\n" for t, o in table)
    h = hashlib.sha1((str(updated) + str(expires) + "".join(f"{t}{o}" for t, o in table)).encode()).digest()
    words = " ".join(f"{struct.unpack('>I', h[k:k + 4])[0]:x}" for k in range(0, 20, 4))
    return (body + f"#h\t{words if hash_ok else '0 0 0 0 0'}\n").encode()
put("leap_file", "valid", leap(3913697179, 3991593600, TABLE))
put("leap_file", "bad-hash", leap(3913697179, 3991593600, TABLE, False))
put("leap_file", "unordered", leap(3913697179, 3991593600, TABLE[::-1]))
put("leap_file", "no-hash", leap(3913697179, 3991593600, TABLE).split(b"#h")[0])

# NTP requests: 9 bytes of metadata (source, times; see fuzz/src/lib.rs) first.
def ntp(li_vn_mode, poll=6, extra=b""):
    p = bytearray(48)
    p[0] = li_vn_mode
    p[2] = poll
    p[40:48] = struct.pack(">Q", 0xE8F0_0000_1234_5678)
    return bytes(p) + extra
meta4 = bytes([0, 1, 2, 0, 0, 0, 0, 5, 0])
meta6 = bytes([1, 1, 2, 0, 0, 0, 0, 5, 0])
put("ntp_request", "v4-client", meta4 + ntp(0x23))
put("ntp_request", "v4-client-v6src", meta6 + ntp(0x23, poll=17))
put("ntp_request", "v3-client", meta4 + ntp(0x1B))
put("ntp_request", "v1-mode0", meta4 + ntp(0x08))
put("ntp_request", "unsync-fields", bytes([2, 1, 2, 0, 0, 0, 0, 5, 255]) + ntp(0x23))
put("ntp_request", "mac-md5", meta4 + ntp(0x23, extra=struct.pack(">I", 1) + bytes(16)))
put("ntp_request", "mac-sha1", meta4 + ntp(0x23, extra=struct.pack(">I", 2) + bytes(20)))
put("ntp_request", "mac-unknown-key", meta4 + ntp(0x23, extra=struct.pack(">I", 99) + bytes(16)))
put("ntp_request", "extension-field", meta4 + ntp(0x23, extra=struct.pack(">HH", 0x0104, 16) + bytes(12)))
put("ntp_request", "short", meta4 + ntp(0x23)[:40])
put("ntp_request", "server-mode", meta4 + ntp(0x24))

# NTP control messages (mode 6): 2 bytes of metadata (allowed source, reach).
def mode6(op, assoc=0, data=b"", seq=1):
    return struct.pack(">BBHHHHH", 0x16, op, seq, 0, assoc, 0, len(data)) + data + bytes(-len(data) % 4)
put("mode6_request", "readstat", bytes([0, 1]) + mode6(1))
put("mode6_request", "readvar", bytes([0, 1]) + mode6(2))
put("mode6_request", "readvar-names", bytes([0, 1]) + mode6(2, data=b"offset,sys_jitter,leap"))
put("mode6_request", "readvar-assoc", bytes([4, 1]) + mode6(2, assoc=1))
put("mode6_request", "denied", bytes([1, 1]) + mode6(1))
put("mode6_request", "unknown-op", bytes([2, 1]) + mode6(9))

# AgentX PDUs (RFC 2741, network byte order flag set): header + payload.
def agentx(kind, payload, session=1, tx=1, pkt=1):
    return struct.pack(">BBBBIIII", 1, kind, 0x10, 0, session, tx, pkt, len(payload)) + payload
def oid(subids, include=0):
    prefix = 0
    if len(subids) >= 5 and subids[:4] == [1, 3, 6, 1] and subids[4] < 256:
        prefix, subids = subids[4], subids[5:]
    return struct.pack(">BBBB", len(subids), prefix, include, 0) + b"".join(struct.pack(">I", s) for s in subids)
null_oid = struct.pack(">BBBB", 0, 0, 0, 0)
target = [1, 3, 6, 1, 2, 1, 197, 1, 2, 2, 0]
put("agentx_decode", "response", agentx(18, struct.pack(">IHH", 0, 0, 0)))
put("agentx_decode", "get", agentx(5, oid(target) + null_oid))
put("agentx_decode", "getnext", agentx(6, oid([1, 3, 6, 1, 2, 1, 197]) + null_oid))
put("agentx_decode", "getbulk", agentx(7, struct.pack(">HH", 0, 5) + oid([1, 3, 6, 1, 2, 1, 197]) + null_oid))
put("agentx_decode", "close", agentx(2, bytes([1, 0, 0, 0])))
put("agentx_decode", "truncated", agentx(5, oid(target) + null_oid)[:30])

# Store files: LE u32 cut length, then (LE u32 offset, u8 len, bytes) overwrites.
def store(cut, writes=()):
    out = struct.pack("<I", cut)
    for off, data in writes:
        out += struct.pack("<IB", off, len(data)) + data
    return out
put("store_open", "intact", store(0))
for cut in (100, 4096, 20_000, 60_000, 200_000):
    put("store_open", f"cut-{cut}", store(cut))
put("store_open", "header-flip", store(0, [(0, b"\xff" * 32)]))
put("store_open", "pages-mid", store(0, [(4096 * k + 512, noise(64)) for k in range(4, 12)]))
print("seeds written to", os.path.normpath(ROOT))
