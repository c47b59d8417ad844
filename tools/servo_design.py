#!/usr/bin/env python3
"""Expected TDEV of the servo's tracking loop, for a choice of design model.

The loop as the daemon runs it (steady state, 2 states: phase, frequency):
a PPS sample per second, handed to the servo `--lag` seconds late (the
pairing decides an edge ~1.3 s after it, so the newest sample at a tick is
the previous second's), Kalman gains from a *design* model, the frequency
command set half a second after the edge with a 1 s phase time constant, the
time error read at the whole second. The loop is linear, so the TE is the
sum of its responses to the oscillator's frequency steps (random-walk FM, q)
and to the PPS noise (white PM, r); the expected TDEV and RMS follow from
those impulse responses without Monte Carlo.

Design model: process noise `a`·q of random-walk FM plus `g`·√(q·r) of white
FM (a phase random walk). a = 1, g = 0 is the minimum-variance filter.
src/discipline/servo/mod.rs (DESIGN_WANDER_SCALE, DESIGN_WHITE_FM) uses the
choice this prints as the default, and the measured runs are in the README.

Needs numpy. Usage:
  tools/servo_design.py                    # profile A, a few designs + grid
  tools/servo_design.py --wander 1e-10 --pps-ns 20 --lag 1 --design 0.4 2.5
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prtc_a_bound import tdev_kernel, tdev_mask_ns as prtc_a_mask_ns  # noqa: E402

TAUS = [1, 2, 3, 5, 10, 20, 30, 50, 70, 100, 200, 300, 500, 1000]


def steady_gains(qx, qy, r):
    """Steady-state Kalman gains (phase, frequency) of the design model."""
    f = np.array([[1.0, 1.0], [0.0, 1.0]])
    qm = np.array([[qy / 3 + qx, qy / 2], [qy / 2, qy]])
    p = np.eye(2) * 1e6
    k = np.zeros(2)
    for _ in range(5000):
        p = f @ p @ f.T + qm
        k = p[:, 0] / (p[0, 0] + r)
        p = p - np.outer(k, p[0, :])
    return k


def loop_response(k, lag, impulse, length=5000, tau_s=1.0):
    """TE per second after a unit frequency step ('w') or a unit error on
    sample 0 ('v')."""
    y = e = corr = 0.0
    s = np.zeros(2)
    te = np.zeros(length)
    samples, u = [], []
    for n in range(length):
        te[n] = e
        samples.append(e + (1.0 if impulse == "v" and n == 0 else 0.0))
        j = n - lag
        if j >= 0:
            s = s + k * (samples[j] - s[0])
            # Estimate extrapolated to the tick, half a second after edge n.
            x_tick = s[0] + s[1] * (lag + 0.5) + sum(u[j:n]) + 0.5 * corr
            new = -(s[1] + x_tick / tau_s)
        else:
            new = 0.0
        e += 0.5 * (y + corr)
        u.append(0.5 * corr + 0.5 * new)
        corr = new
        e += 0.5 * (y + corr)
        if j >= 0:
            s = np.array([s[0] + s[1] + u[j], s[1]])
        if impulse == "w" and n == 0:
            y += 1.0
    return te


def tdev_expected(gw, gv, sw, sv, n):
    c = tdev_kernel(n)
    a, b = np.convolve(c, gw), np.convolve(c, gv)
    return np.sqrt((sw**2 * (a @ a) + sv**2 * (b @ b)) / (6 * n * n))


def evaluate(a, g, sw, sv, lag):
    q, r = sw**2, sv**2
    k = steady_gains(g * np.sqrt(q * r), a * q, r)
    gw, gv = loop_response(k, lag, "w"), loop_response(k, lag, "v")
    ratios = [tdev_expected(gw, gv, sw, sv, n) / prtc_a_mask_ns(n) for n in TAUS]
    rms = np.sqrt(sw**2 * (gw @ gw) + sv**2 * (gv @ gv))
    return max(ratios), rms, ratios


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--wander", type=float, default=1e-10, help="RWFM σ per s")
    ap.add_argument("--pps-ns", type=float, default=20.0, help="white PPS noise, ns RMS")
    ap.add_argument("--lag", type=int, default=1, help="samples handed over this many s late")
    ap.add_argument("--design", type=float, nargs=2, metavar=("A", "G"), action="append")
    args = ap.parse_args()
    sw, sv = args.wander * 1e9, args.pps_ns
    designs = args.design or [(1.0, 0.0), (0.5, 1.5), (0.4, 2.5), (0.4, 3.5)]
    for a, g in designs:
        worst, rms, ratios = evaluate(a, g, sw, sv, args.lag)
        curve = " ".join(f"{n}:{v:.2f}" for n, v in zip(TAUS, ratios))
        print(f"a {a:.2f} g {g:.1f}: worst TDEV/mask {worst:.3f}, TE RMS {rms:.2f} ns  [{curve}]")
    if args.design:
        return
    print("best worst-TDEV/mask for a TE RMS budget (grid):")
    grid = [
        evaluate(a, g, sw, sv, args.lag)[:2] + (a, g)
        for a in (0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)
        for g in (0.0, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0)
    ]
    base_rms = evaluate(1.0, 0.0, sw, sv, args.lag)[1]
    for extra in (0.02, 0.04, 0.06, 0.1):
        fit = [x for x in grid if x[1] <= base_rms * (1 + extra)]
        w, rms, a, g = min(fit, key=lambda x: x[0])
        print(f"  RMS +{extra:.0%}: a {a} g {g}: {w:.3f} at {rms:.2f} ns")


if __name__ == "__main__":
    main()
