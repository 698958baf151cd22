"""Where the time of the compiled SSVR loop goes (small size: d=200, m=2000, B1=16).

Usage::

    python benchmarks/profile_ssvr.py [--n 20000] [--d 200] [--m 2000] [--B1 16]

Each piece of one SSVR iteration is timed in its own compiled driver loop
(``n`` calls on the same pre-drawn indices, after a warm-up call), in
microseconds per iteration:

* the package's pieces: ``observe`` with an empty recorder (and behind an inline
  guard), ``x_prev[:] = x``, ``sign_step``, ``batch_grad_pair`` (also without
  the family dispatch, then split into zeroing, ``dot2`` per row, ``axpy`` per
  row, ``regularizer.add_grad``) and ``storm_update``;
* candidate kernels written here (not in the package) that keep the package's
  exact summation order and IEEE semantics (no ``fastmath``, no FMA contraction)
  and are checked to give bit-identical results to the package kernels:

  - ``dot2_lanes``: ``dot2`` with its eight partial sums held in two 4-wide lane
    arrays, so LLVM can vectorize it (same lanes, same final tree);
  - ``pair_fused``: ``batch_grad_pair`` with the two ``axpy`` calls of a row fused
    into one pass over the row (the row is read once; per coordinate the
    additions happen in the same order);
  - ``iter_fused``: a whole iteration in three passes (sign step + copy; one
    ``dot2_lanes`` per row; one fused gradient/regularizer/STORM pass).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

import numpy as np
from numba import njit

from signtheory.engine.draws import DrawSource
from signtheory.engine.recorder import make_recorder, observe
from signtheory.methods import get_method
from signtheory.methods import ssvr as ssvr_mod
from signtheory.ops import axpy, dot2, sign_step, storm_update
from signtheory.problems import lsq, make_problem
from signtheory.problems import regularizer as reg
from signtheory.problems.oracles import batch_grad_pair

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_ssvr import run_numpy  # noqa: E402

jit = njit(nogil=True, fastmath=False, error_model="numpy")


# ------------------------------------------------------------------- pieces of the package
@jit
def drv_observe(pd, rec, x, v, n):
    ok = 0
    for t in range(1, n + 1):
        ok += observe(pd, rec, t, x, v, True, 0)
    return ok


@jit
def drv_copy(x, x_prev, n):
    for _ in range(n):
        x_prev[:] = x


@jit
def drv_sign(x, v, eta, u, n):
    for j in range(n):
        sign_step(x, v, eta, 0, u[j])


@jit
def drv_pair(pd, x, x_prev, idx, z, g1, g2, n):
    for j in range(n):
        batch_grad_pair(pd, x, x_prev, idx[j], z[j], g1, g2)


@jit
def drv_pair_direct(pd, x, x_prev, idx, z, g1, g2, n):
    """lsq.batch_grads called directly, without the family dispatch of oracles._batch."""
    for j in range(n):
        lsq.batch_grads(pd, x, x_prev, idx[j], z[j], True, g1, g2)


@jit
def drv_observe_guarded(pd, rec, x, v, n):
    """observe behind an inline check of the recorder's next iteration."""
    ok = 0
    for t in range(1, n + 1):
        p = rec.pos[0]
        if p < rec.ev_t.shape[0] and rec.ev_t[p] == t:
            ok += observe(pd, rec, t, x, v, True, 0)
        else:
            ok += 1
    return ok


@jit
def drv_zero(g1, g2, n):
    for _ in range(n):
        g1[:] = 0.0
        g2[:] = 0.0


@jit
def drv_dot2(A, x, x_prev, idx, n):
    s = 0.0
    for j in range(n):
        for i in idx[j]:
            u1, u2 = dot2(A[i], x, x_prev)
            s += u1 - u2
    return s


@jit
def drv_axpy(A, idx, g1, g2, n):
    for j in range(n):
        for i in idx[j]:
            axpy(1e-3, A[i], g1)
            axpy(-1e-3, A[i], g2)


@jit
def drv_reg(lam, x, x_prev, g1, g2, n):
    for _ in range(n):
        reg.add_grad(lam, x, g1)
        reg.add_grad(lam, x_prev, g2)


@jit
def drv_storm(v, g1, g2, beta, n):
    for _ in range(n):
        storm_update(v, g1, g2, beta)


# --------------------------------------------------------- candidate kernels (same results)
@jit
def drv_loop_no_observe(pd, x, x_prev, v, g_new, g_old, idx, z, u, eta, beta, n):
    """The package loop body without the observe call (empty recorder)."""
    for j in range(n):
        x_prev[:] = x
        if not sign_step(x, v, eta, 0, u[j]):
            return j
        batch_grad_pair(pd, x, x_prev, idx[j], z[j], g_new, g_old)
        storm_update(v, g_new, g_old, beta)
    return n


@jit
def dot2_lanes(a, x, y, sx, sy):
    """dot2 with identical lanes and combination tree, partial sums in (8,) scratch arrays."""
    n = a.shape[0]
    for lane in range(8):
        sx[lane] = 0.0
        sy[lane] = 0.0
    k = 0
    while k + 8 <= n:
        for lane in range(8):
            sx[lane] += a[k + lane] * x[k + lane]
            sy[lane] += a[k + lane] * y[k + lane]
        k += 8
    while k < n:
        sx[0] += a[k] * x[k]
        sy[0] += a[k] * y[k]
        k += 1
    return (((sx[0] + sx[1]) + (sx[2] + sx[3])) + ((sx[4] + sx[5]) + (sx[6] + sx[7])),
            ((sy[0] + sy[1]) + (sy[2] + sy[3])) + ((sy[4] + sy[5]) + (sy[6] + sy[7])))


@jit
def drv_dot2_lanes(A, x, x_prev, idx, n):
    sx, sy = np.zeros(8), np.zeros(8)
    s = 0.0
    for j in range(n):
        for i in idx[j]:
            u1, u2 = dot2_lanes(A[i], x, x_prev, sx, sy)
            s += u1 - u2
    return s


@jit
def axpy2(c1, c2, a, g1, g2):
    """g1 += c1 a and g2 += c2 a in one pass over a (per-coordinate order unchanged)."""
    for k in range(a.shape[0]):
        ak = a[k]
        g1[k] += c1 * ak
        g2[k] += c2 * ak


@jit
def drv_axpy2(A, idx, g1, g2, n):
    for j in range(n):
        for i in idx[j]:
            axpy2(1e-3, -1e-3, A[i], g1, g2)


@jit
def pair_fused(A, b, lam, x1, x2, idx, g1, g2):
    """batch_grad_pair for least squares with axpy2 (results bit-identical)."""
    w = 1.0 / idx.shape[0]
    g1[:] = 0.0
    g2[:] = 0.0
    for j in range(idx.shape[0]):
        i = idx[j]
        a = A[i]
        u1, u2 = dot2(a, x1, x2)
        axpy2(w * (u1 - b[i]), w * (u2 - b[i]), a, g1, g2)
    reg.add_grad(lam, x1, g1)
    reg.add_grad(lam, x2, g2)


@jit
def drv_pair_fused(A, b, lam, x, x_prev, idx, g1, g2, n):
    for j in range(n):
        pair_fused(A, b, lam, x, x_prev, idx[j], g1, g2)


@jit
def loop_fused(A, b, lam, x, x_prev, v, g1, g2, idx, eta, beta, n):
    """n SSVR iterations (sign(0) = 0), every one with a STORM update; same results as
    the package loop. Per iteration: one pass for copy + sign step (vectorizable: the
    finiteness test is accumulated instead of returning early), the package dot2 per
    row, axpy2 per row, and one pass for both regularizer terms + the STORM update."""
    B = idx.shape[1]
    c1 = np.zeros(B)
    c2 = np.zeros(B)
    w = 1.0 / B
    keep = 1.0 - beta
    d = x.shape[0]
    for j in range(n):
        bad = 0
        for k in range(d):
            vk = v[k]
            bad += not math.isfinite(vk)
            xk = x[k]
            x_prev[k] = xk
            s = 1.0 if vk > 0.0 else (-1.0 if vk < 0.0 else 0.0)
            x[k] = xk - eta * s
        if bad:
            return j
        for r in range(B):
            i = idx[j, r]
            u1, u2 = dot2(A[i], x, x_prev)
            c1[r] = w * (u1 - b[i])
            c2[r] = w * (u2 - b[i])
        g1[:] = 0.0
        g2[:] = 0.0
        for r in range(B):
            axpy2(c1[r], c2[r], A[idx[j, r]], g1, g2)
        for k in range(d):
            u = x[k]
            s1 = 1.0 + u * u
            q = x_prev[k]
            s2 = 1.0 + q * q
            gn = g1[k] + lam * 2.0 * u / (s1 * s1)
            go = g2[k] + lam * 2.0 * q / (s2 * s2)
            v[k] = gn + keep * (v[k] - go)
    return n


# ------------------------------------------------ upper bound: reassociation allowed (fastmath)
fast = njit(nogil=True, fastmath=True, error_model="numpy")


@fast
def dot2_fast(a, x, y):
    s = 0.0
    t = 0.0
    for k in range(a.shape[0]):
        s += a[k] * x[k]
        t += a[k] * y[k]
    return s, t


@fast
def drv_dot2_fast(A, x, x_prev, idx, n):
    s = 0.0
    for j in range(n):
        for i in idx[j]:
            u1, u2 = dot2_fast(A[i], x, x_prev)
            s += u1 - u2
    return s


@fast
def axpy2_fast(c1, c2, a, g1, g2):
    for k in range(a.shape[0]):
        ak = a[k]
        g1[k] += c1 * ak
        g2[k] += c2 * ak


@fast
def loop_fastmath(A, b, lam, x, x_prev, v, g1, g2, idx, eta, beta, n):
    """loop_fused compiled with fastmath (reassociated SIMD reductions, FMA contraction):
    NOT the package's semantics; an upper bound on what vectorization can buy."""
    B = idx.shape[1]
    c1 = np.zeros(B)
    c2 = np.zeros(B)
    w = 1.0 / B
    keep = 1.0 - beta
    d = x.shape[0]
    for j in range(n):
        for k in range(d):
            vk = v[k]
            xk = x[k]
            x_prev[k] = xk
            s = 1.0 if vk > 0.0 else (-1.0 if vk < 0.0 else 0.0)
            x[k] = xk - eta * s
        for r in range(B):
            i = idx[j, r]
            u1, u2 = dot2_fast(A[i], x, x_prev)
            c1[r] = w * (u1 - b[i])
            c2[r] = w * (u2 - b[i])
        g1[:] = 0.0
        g2[:] = 0.0
        for r in range(B):
            axpy2_fast(c1[r], c2[r], A[idx[j, r]], g1, g2)
        for k in range(d):
            u = x[k]
            s1 = 1.0 + u * u
            q = x_prev[k]
            s2 = 1.0 + q * q
            gn = g1[k] + lam * 2.0 * u / (s1 * s1)
            go = g2[k] + lam * 2.0 * q / (s2 * s2)
            v[k] = gn + keep * (v[k] - go)
    return n


# ---------------------------------------------------------------------------------- driver
def timed(fn, *args, repeats=5):
    fn(*args)  # warm-up / compile
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--d", type=int, default=200)
    ap.add_argument("--m", type=int, default=2000)
    ap.add_argument("--B1", type=int, default=16)
    args = ap.parse_args(argv)
    n, d = args.n, args.d

    problem = make_problem("nonconvex-lsq", d=d, m=args.m)
    method = get_method("ssvr")
    hp = method.resolve(problem, n + 1, {"B1": args.B1})
    eta, beta = hp["eta"], hp["beta"]
    pd, A, b, lam = problem.data, problem.A, problem.b, problem.lam
    source = DrawSource(problem, method.plan(hp, problem), 0, 0)
    draws0 = source.initial()
    draws = source.steps(n)
    idx, z, u = draws.idx, draws.z, draws.u
    rec = make_recorder(np.zeros(0, dtype=np.int64), d)
    x1, v1 = problem.x0.copy(), np.zeros(d)
    ssvr_mod.start(pd, x1, v1, draws0.idx, draws0.z)

    # realistic iterate values: run the package loop once
    def fresh():
        return x1.copy(), np.zeros(d), v1.copy(), np.zeros(d), np.zeros(d)

    def full_loop():
        x, xp, v, g1, g2 = fresh()
        ssvr_mod.loop(pd, x, xp, v, g1, g2, idx, z, u, eta, beta, 0, 1, n + 1, n + 1, rec, 0)
        return x, xp, v, g1, g2

    x_end, xp_end, v_end, _, _ = full_loop()

    # bit-identical checks of the candidate kernels
    ga, gb, gc, gd = (np.zeros(d) for _ in range(4))
    sx, sy = np.zeros(8), np.zeros(8)
    for j in range(min(50, n)):
        assert dot2(A[idx[j, 0]], x_end, xp_end) == dot2_lanes(A[idx[j, 0]], x_end, xp_end, sx, sy)
        batch_grad_pair(pd, x_end, xp_end, idx[j], z[j], ga, gb)
        pair_fused(A, b, lam, x_end, xp_end, idx[j], gc, gd)
        assert np.array_equal(ga, gc) and np.array_equal(gb, gd)
    x, xp, v, g1, g2 = fresh()
    drv_loop_no_observe(pd, x, xp, v, g1, g2, idx, z, u, eta, beta, n)
    assert np.array_equal(x, x_end) and np.array_equal(v, v_end), "loop without observe differs"
    x, xp, v, g1, g2 = fresh()
    loop_fused(A, b, lam, x, xp, v, g1, g2, idx, eta, beta, n)
    assert np.array_equal(x, x_end) and np.array_equal(v, v_end), "loop_fused differs"
    x, xp, v, g1, g2 = fresh()
    loop_fastmath(A, b, lam, x, xp, v, g1, g2, idx, eta, beta, n)
    fm_off = int(np.sum(x != x_end))  # not bit-identical by design: report sign flips

    x, xp, v, g1, g2 = x_end.copy(), xp_end.copy(), v_end.copy(), np.zeros(d), np.zeros(d)
    t_np = timed(lambda: run_numpy(A, b, lam, x1, v1, idx, eta, beta), repeats=3)
    rows = [
        ("ssvr.loop (whole iteration, reference)", timed(full_loop)),
        ("  observe (empty recorder)", timed(drv_observe, pd, rec, x, v, n)),
        ("  observe behind an inline guard", timed(drv_observe_guarded, pd, rec, x, v, n)),
        ("  x_prev[:] = x", timed(drv_copy, x, xp, n)),
        ("  sign_step", timed(drv_sign, x.copy(), v, eta, u, n)),
        ("  batch_grad_pair", timed(drv_pair, pd, x, xp, idx, z, g1, g2, n)),
        ("    lsq.batch_grads direct (no family dispatch)",
         timed(drv_pair_direct, pd, x, xp, idx, z, g1, g2, n)),
        ("    g1[:] = 0, g2[:] = 0", timed(drv_zero, g1, g2, n)),
        (f"    dot2 x {args.B1} rows", timed(drv_dot2, A, x, xp, idx, n)),
        (f"    axpy x {2 * args.B1}", timed(drv_axpy, A, idx, g1.copy(), g2.copy(), n)),
        ("    regularizer.add_grad x 2", timed(drv_reg, lam, x, xp, g1.copy(), g2.copy(), n)),
        ("  storm_update", timed(drv_storm, v.copy(), g1, g2, beta, n)),
        ("loop without observe (bit-identical)",
         timed(lambda: drv_loop_no_observe(pd, *fresh(), idx, z, u, eta, beta, n))),
        ("candidate: dot2_lanes x B1 rows (bit-identical)", timed(drv_dot2_lanes, A, x, xp, idx, n)),
        ("candidate: axpy2 x B1 rows (bit-identical)",
         timed(drv_axpy2, A, idx, g1.copy(), g2.copy(), n)),
        ("candidate: pair_fused (bit-identical)", timed(drv_pair_fused, A, b, lam, x, xp, idx, g1, g2, n)),
        ("candidate: loop_fused (bit-identical)",
         timed(lambda: loop_fused(A, b, lam, *fresh(), idx, eta, beta, n))),
        ("bound: dot2 x B1 rows, fastmath", timed(drv_dot2_fast, A, x, xp, idx, n)),
        (f"bound: loop_fastmath ({fm_off} of {d} final coords differ)",
         timed(lambda: loop_fastmath(A, b, lam, *fresh(), idx, eta, beta, n))),
    ]
    ref = rows[0][1]
    print(f"d={d} m={args.m} B1={args.B1} n={n}: best of 5, microseconds per iteration")
    print(f"  NumPy (bench_ssvr.run_numpy)                    {1e6 * t_np / n:8.3f} us   "
          f"(compiled loop = {t_np / ref:.1f}x; 25x needs <= {1e6 * t_np / n / 25:.3f} us)")
    for name, s in rows:
        print(f"  {name:48s} {1e6 * s / n:8.3f} us   {100 * s / ref:6.1f}% of loop"
              f"   {t_np / s:6.1f}x NumPy")


if __name__ == "__main__":
    main()
