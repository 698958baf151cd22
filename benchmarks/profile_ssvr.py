"""Where the time of the compiled SSVR loop goes (default: d=200, m=2000, B1=16).

Usage::

    python benchmarks/profile_ssvr.py [--n 20000] [--d 200] [--m 2000] [--B1 16]

Each piece of one SSVR iteration is timed in its own compiled driver loop (``n``
calls on the same pre-drawn indices, after a warm-up call), in microseconds per
iteration, best of 5:

* ``ssvr.loop``: the whole iteration, as the engine runs it (empty recorder);
* ``sign_step`` and ``scale``: the sign step and v <- (1 - beta) v;
* ``batch_grad_combo``: the fused two-point gradient of the B1 rows with the
  regularizer (the STORM update);
* ``dot`` on the B1 rows at two points: a floor set by reading B1 random rows of
  A, which does not fit in the L2 cache at m=2000;
* the same dot products with A cut to its first 100 rows (A in cache).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from numba import njit

from signtheory.engine.recorder import make_recorder
from signtheory.methods import ssvr as ssvr_mod
from signtheory.ops import dot, scale, sign_step
from signtheory.problems import make_problem
from signtheory.problems.oracles import batch_grad_combo

jit = njit(nogil=True, error_model="numpy")


@jit
def drv_sign(x, v, u, n):
    for j in range(n):
        sign_step(x, v, 1e-6, 0, u[j])
        scale(v, 0.999)


@jit
def drv_combo(pd, x, xp, v, idx, z, n):
    for j in range(n):
        batch_grad_combo(pd, x, 1.0, xp, -0.99, idx[j], z[j], v)


@jit
def drv_dots(A, x, xp, idx, n):
    s = 0.0
    for j in range(n):
        for b in range(idx.shape[1]):
            a = A[idx[j, b]]
            s += dot(a, x) - dot(a, xp)
    return s


def best_of(fn, n, repeats=5):
    fn()  # compile or load from the cache
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times) / n * 1e6


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--d", type=int, default=200)
    ap.add_argument("--m", type=int, default=2000)
    ap.add_argument("--B1", type=int, default=16)
    args = ap.parse_args()
    n, d = args.n, args.d
    problem = make_problem("nonconvex-lsq", d=d, m=args.m)
    pd = problem.data
    rng = np.random.default_rng(0)
    idx = rng.integers(0, args.m, (n, args.B1))
    z = np.zeros((n, args.B1, 0))
    u = np.zeros((n, 0))
    rec = make_recorder(np.zeros(0, dtype=np.int64), d)
    x0 = problem.x0.copy()
    v0 = rng.standard_normal(d)

    def whole():
        x, xp, v = x0.copy(), np.zeros(d), v0.copy()
        ssvr_mod.loop(pd, x, xp, v, idx, z, u, 1e-5, 0.01, 0, 1, n + 1, n + 2, rec, 0)

    rows = [
        ("ssvr.loop, whole iteration", best_of(whole, n)),
        ("sign_step + scale", best_of(lambda: drv_sign(x0.copy(), v0.copy(), u, n), n)),
        ("batch_grad_combo", best_of(lambda: drv_combo(pd, x0.copy(), x0 + 1e-3, v0.copy(), idx, z, n), n)),
        (f"dot on {args.B1} rows, two points (A of {args.m} rows)",
         best_of(lambda: drv_dots(pd.A, x0, x0 + 1e-3, idx, n), n)),
        ("the same with A cut to 100 rows (in cache)",
         best_of(lambda: drv_dots(np.ascontiguousarray(pd.A[:100]), x0, x0 + 1e-3, idx % 100, n), n)),
    ]
    print(f"d={d} m={args.m} B1={args.B1} n={n}: microseconds per iteration, best of 5")
    print("| piece | µs / iteration |\n|---|---|")
    for name, us in rows:
        print(f"| {name} | {us:.3f} |")


if __name__ == "__main__":
    main()
