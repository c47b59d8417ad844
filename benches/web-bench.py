#!/usr/bin/env python3
"""Web part benchmark (numbers for the report, not a test).

Starts `demo` (binary given as the first argument), then in one run:
  1. idle CPU of the daemon for DURATION s (the baseline),
  2. 50 SSE clients on /api/v1/stream for DURATION s: daemon CPU, as a ratio
     to the idle baseline measured just before,
  3. /api/v1/status and /metrics at a steady RATE req/s over keep-alive
     connections: latency p50/p99,
  4. page weight: the bytes a first visit loads.
Usage: benches/web-bench.py target/release/gnss-timeserver
"""
import http.client, os, re, selectors, socket, subprocess, sys, tempfile, threading, time

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/release/gnss-timeserver"
DURATION = float(os.environ.get("DURATION", "10"))
RATE = float(os.environ.get("RATE", "100"))
SSE_CLIENTS = int(os.environ.get("SSE_CLIENTS", "50"))
TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / TICK


def start_demo(data):
    cfg = os.path.join(data, "config.toml")
    open(cfg, "w").write("[http]\nrate-limit-per-s = 100000\n")
    p = subprocess.Popen([BIN, "demo", "--data", data, "--ntp", "127.0.0.1:0", "--http", "127.0.0.1:0"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in p.stdout:
        m = re.match(r"\s*http:\s+http://([\d.]+):(\d+)/", line)
        if m:
            threading.Thread(target=lambda: [None for _ in p.stdout], daemon=True).start()
            return p, (m.group(1), int(m.group(2)))
    raise SystemExit("demo printed no http address")


def sse(addr, n, seconds):
    sel = selectors.DefaultSelector()
    socks = []
    for _ in range(n):
        s = socket.create_connection(addr)
        s.sendall(b"GET /api/v1/stream HTTP/1.1\r\nHost: x\r\n\r\n")
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        socks.append(s)
    got = 0
    end = time.time() + seconds
    while time.time() < end:
        for key, _ in sel.select(timeout=0.2):
            try:
                got += len(key.fileobj.recv(65536))
            except BlockingIOError:
                pass
    for s in socks:
        s.close()
    return got


def latency(addr, path, rate, seconds, conns=4):
    lat = []
    lock = threading.Lock()
    per = rate / conns

    def worker():
        c = http.client.HTTPConnection(*addr)
        t_next = time.time()
        end = t_next + seconds
        while t_next < end:
            now = time.time()
            if now < t_next:
                time.sleep(t_next - now)
            t0 = time.perf_counter()
            c.request("GET", path)
            r = c.getresponse()
            r.read()
            dt = time.perf_counter() - t0
            if r.status != 200:
                raise SystemExit(f"{path}: HTTP {r.status}")
            with lock:
                lat.append(dt)
            t_next += 1 / per

    th = [threading.Thread(target=worker) for _ in range(conns)]
    [t.start() for t in th]
    [t.join() for t in th]
    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1e3
    return len(lat), q(0.5), q(0.99)


def main():
    data = tempfile.mkdtemp(prefix="web-bench-")
    p, addr = start_demo(data)
    try:
        time.sleep(5)
        c0 = cpu_s(p.pid); time.sleep(DURATION); idle = cpu_s(p.pid) - c0
        c0 = cpu_s(p.pid); got = sse(addr, SSE_CLIENTS, DURATION); busy = cpu_s(p.pid) - c0
        print(f"idle daemon CPU: {idle / DURATION * 100:.2f} % of a core")
        print(f"{SSE_CLIENTS} SSE clients: {busy / DURATION * 100:.2f} % of a core "
              f"({busy / max(idle, 1e-9):.2f}x idle, +{(busy - idle) / DURATION / SSE_CLIENTS * 1e3:.2f} ms CPU per client per s), "
              f"{got / DURATION / SSE_CLIENTS / 1024:.1f} KiB/s per client")
        for path in ["/api/v1/status", "/metrics"]:
            n, p50, p99 = latency(addr, path, RATE, DURATION)
            print(f"GET {path} at {RATE:.0f} req/s: {n} requests, p50 {p50:.2f} ms, p99 {p99:.2f} ms")
        weight = 0
        for path in ["/", "/assets/style.css", "/assets/icon.svg"] + [
                f"/assets/{f}" for f in ["app.js", "api.js", "i18n.js", "charts.js", "dashboard.js", "sky.js",
                                         "antenna.js", "events.js", "clients.js", "settings.js"]]:
            c = http.client.HTTPConnection(*addr); c.request("GET", path); weight += len(c.getresponse().read())
        print(f"page weight (first visit, uncompressed): {weight / 1024:.1f} KiB")
    finally:
        p.terminate(); p.wait()


main()
