#!/usr/bin/env python3
"""How low can TDEV go on profile A? A lower bound for any real-time clock.

Profile A: white PPS noise of 20 ns RMS, oscillator frequency random walk of
1e-10 per second (per-second fractional frequency steps of that σ), one
measurement per second. The disciplined clock's time error is e = x − x̂,
where x̂ may depend only on past and present measurements.

For a causal linear estimator x̂_k = Σ h_i z_{k−i} (i = 0..M−1) that follows a
phase ramp (Σ h = 1, Σ i·h_i = 0), the expected TDEV² at τ = n s is a convex
quadratic in h:

    TDEV²(n) = (σ_w²·‖D⁻²(c_n − c_n∗h)‖² + σ_v²·‖c_n∗h‖²) / (6n²)

with c_n the TDEV kernel (+1 ×n, −2 ×n, +1 ×n) and D⁻² a double cumulative
sum (turns the frequency-step noise into phase). Minimising max_n TDEV(n)/mask(n)
is a second-order cone programme; its optimum over all FIR lengths M bounds
every causal linear filter (Kalman, PI, regression …). With Gaussian noise a
non-linear estimator cannot beat it on these second-moment measures.

Also prints the expected TDEV of the steady-state 2-state Kalman filter (the
minimum-variance estimate) for comparison.

Needs numpy, scipy and cvxpy (`pip install numpy scipy cvxpy`); minutes of CPU.
Usage: tools/prtc_a_bound.py [M ...]      (default: 200 350 500)
"""
import sys

import numpy as np

SIGMA_W_NS = 0.1    # 1e-10 per s, in ns/s per s
SIGMA_V_NS = 20.0   # white PPS noise
TAUS = [1, 3, 5, 10, 14, 20, 30, 40, 50, 70, 100]


def tdev_mask_ns(tau):
    """G.8272 PRTC-A TDEV mask."""
    if tau <= 100:
        return 3.0
    if tau <= 1000:
        return 0.03 * tau
    return 30.0


def tdev_kernel(n):
    c = np.zeros(3 * n)
    c[:n], c[n:2 * n], c[2 * n:] = 1.0, -2.0, 1.0
    return c


def expected_tdev(h, n):
    """Expected TDEV (ns) at τ = n s of the error of the FIR estimator h."""
    c = tdev_kernel(n)
    ch = np.convolve(c, h)
    g = np.concatenate([c, np.zeros(len(h) - 1)]) - ch
    u = np.cumsum(np.cumsum(g))[:-2]
    return np.sqrt((SIGMA_W_NS**2 * (u @ u) + SIGMA_V_NS**2 * (ch @ ch)) / (6 * n * n))


def kalman_impulse(m):
    """Steady-state 2-state Kalman filter written as an FIR of m taps."""
    f = np.array([[1.0, 1.0], [0.0, 1.0]])
    q = SIGMA_W_NS**2
    qm = np.array([[q / 3, q / 2], [q / 2, q]])
    p = np.eye(2) * 1e6
    for _ in range(20000):
        p = f @ p @ f.T + qm
        k = p[:, 0] / (p[0, 0] + SIGMA_V_NS**2)
        p = p - np.outer(k, p[0, :])
    # Response of the phase estimate to a unit measurement at step 0.
    a = (np.eye(2) - np.outer(k, [1.0, 0.0])) @ f
    h, s = np.empty(m), k.copy()
    for i in range(m):
        h[i] = s[0]
        s = a @ s
    return h


def best_fir(m):
    import cvxpy as cp
    from scipy.linalg import toeplitz

    h, t = cp.Variable(m), cp.Variable()
    cons = [cp.sum(h) == 1, np.arange(m) @ h == 0]
    for n in TAUS:
        c = tdev_kernel(n)
        length = 3 * n + m - 1
        conv = toeplitz(np.concatenate([c, np.zeros(m - 1)]), np.zeros(m))
        s2 = np.tril(np.ones((length, length)))
        s2 = s2 @ s2
        a = (s2 @ conv)[:-2]
        b = (s2 @ np.concatenate([c, np.zeros(m - 1)]))[:-2]
        cons.append(
            cp.norm(cp.hstack([SIGMA_W_NS * (b - a @ h), SIGMA_V_NS * (conv @ h)]))
            <= np.sqrt(6) * n * tdev_mask_ns(n) * t
        )
    cp.Problem(cp.Minimize(t), cons).solve(solver="CLARABEL")
    return float(t.value), h.value


def main():
    lengths = [int(a) for a in sys.argv[1:]] or [200, 350, 500]
    hk = kalman_impulse(3000)
    row = {n: expected_tdev(hk, n) for n in TAUS}
    worst = max(row[n] / tdev_mask_ns(n) for n in TAUS)
    print("Kalman (minimum variance): worst TDEV/mask %.3f | " % worst
          + " ".join("%d:%.2f" % (n, row[n]) for n in TAUS))
    for m in lengths:
        ratio, h = best_fir(m)
        print("best causal FIR, %4d taps: worst TDEV/mask %.4f | " % (m, ratio)
              + " ".join("%d:%.2f" % (n, expected_tdev(h, n)) for n in TAUS))


if __name__ == "__main__":
    main()
