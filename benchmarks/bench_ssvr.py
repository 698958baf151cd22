"""Speed of SSVR on ``nonconvex-lsq``: compiled loop vs plain NumPy (vs PyTorch eager).

Usage::

    python benchmarks/bench_ssvr.py            # full run (each measurement ~1-3 s)
    python benchmarks/bench_ssvr.py --quick    # fewer iterations and repeats

For each size, every implementation runs the same number of SSVR iterations on
the same pre-drawn component indices (``DrawSource(...).steps(n)``), starting
from the same x_1 and v_1. Only the iteration loop is timed:

* ``compiled``: :func:`signtheory.methods.ssvr.loop` with an empty recorder (no
  exact-gradient measurement), after one warm-up call so that JIT compilation /
  loading from Numba's on-disk cache is excluded;
* ``numpy``: the same algorithm written here as natural vectorized NumPy, one
  group of array operations per iteration;
* ``torch``: the same per-iteration code in PyTorch eager mode on the CPU
  (float64); skipped when ``import torch`` fails.

Before timing, the NumPy and PyTorch trajectories are checked against the
compiled one (final iterate equal up to rounding and rare sign flips of
near-zero coordinates of v).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import platform
import statistics
import sys
import time

import numba
import numpy as np

from signtheory.engine.draws import DrawSource
from signtheory.engine.recorder import make_recorder
from signtheory.methods import get_method
from signtheory.methods import ssvr as ssvr_mod
from signtheory.problems import make_problem

try:  # optional
    import torch
except Exception:  # pragma: no cover - depends on the environment
    torch = None

# (label, d, m, B1, iterations (full), iterations (--quick))
SIZES = (
    ("small", 200, 2000, 16, 60_000, 5_000),
    ("large", 100_000, 1_000, 1, 1_000, 100),
)
SEED = 0
TARGET_SECONDS = 2.0  # the compiled loop is repeated until this much time is measured in all


# --------------------------------------------------------------------------------------
# Machine information
# --------------------------------------------------------------------------------------
def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def blas_threads() -> str:
    """Threads of the OpenBLAS that NumPy loaded (via ctypes), else the env variables."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "openblas" in line.lower() and ".so" in line}
        for lib in sorted(libs):
            handle = ctypes.CDLL(lib)
            for sym in ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
                        "openblas_get_num_threads"):
                fn = getattr(handle, sym, None)
                if fn is not None:
                    return f"{fn()} (OpenBLAS, {os.path.basename(lib)})"
    except OSError:
        pass
    env = {k: os.environ[k] for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
           if k in os.environ}
    return str(env) if env else "library default"


def memory_gib() -> str:
    try:
        with open("/proc/meminfo") as f:
            kib = int(f.readline().split()[1])
        return f"{kib / 2**20:.1f} GiB"
    except (OSError, ValueError, IndexError):
        return "unknown"


def machine_info() -> list[tuple[str, str]]:
    info = [
        ("CPU", cpu_model()),
        ("cores (os.cpu_count)", str(os.cpu_count())),
        ("memory", memory_gib()),
        ("OS", platform.platform()),
        ("python", platform.python_version()),
        ("numpy", np.__version__),
        ("numba", numba.__version__),
        ("NumPy BLAS threads", blas_threads()),
    ]
    if torch is not None:
        info.append(("torch", f"{torch.__version__} (intra-op threads {torch.get_num_threads()})"))
    else:
        info.append(("torch", "not installed (skipped)"))
    return info


# --------------------------------------------------------------------------------------
# The three implementations; each runs draws.idx[0..n-1] starting from (x1, v1) and
# returns the final iterate. Every one of the n iterations does
#   x_prev = x;  x = x - eta sign(v);  v = g(x; S) + (1 - beta)(v - g(x_prev; S)).
# --------------------------------------------------------------------------------------
def run_compiled(pd, x1, v1, draws, eta, beta, rule, rec):
    """The package's compiled loop; t runs 1..n with T = n + 1 so every step updates v."""
    n = draws.idx.shape[0]
    d = x1.shape[0]
    x, v = x1.copy(), v1.copy()
    x_prev = np.zeros(d)
    t0 = time.perf_counter()
    t_stop, _ = ssvr_mod.loop(pd, x, x_prev, v, draws.idx, draws.z, draws.u,
                              eta, beta, rule, 1, n + 1, n + 1, rec, 0)
    elapsed = time.perf_counter() - t0
    if t_stop != n + 1:
        raise RuntimeError(f"compiled loop stopped at t={t_stop} (non-finite v)")
    return x, elapsed


def run_numpy(A, b, lam, x1, v1, idx, eta, beta):
    """Plain vectorized NumPy SSVR (sign(0) = 0, the default zero rule)."""
    keep = 1.0 - beta
    B = idx.shape[1]
    x, v = x1.copy(), v1.copy()
    t0 = time.perf_counter()
    for j in range(idx.shape[0]):
        x_prev = x
        x = x - eta * np.sign(v)                          # sign step
        Ai = A[idx[j]]                                    # (B, d) gathered rows
        bi = b[idx[j]]
        g_new = Ai.T @ (Ai @ x - bi) / B + lam * 2.0 * x / (1.0 + x * x) ** 2
        g_old = Ai.T @ (Ai @ x_prev - bi) / B + lam * 2.0 * x_prev / (1.0 + x_prev * x_prev) ** 2
        v = g_new + keep * (v - g_old)                    # STORM update, same samples
    elapsed = time.perf_counter() - t0
    return x, elapsed


def run_torch(At, bt, lam, x1, v1, idx_t, eta, beta):
    """The same per-iteration code in PyTorch eager mode (CPU, float64)."""
    keep = 1.0 - beta
    B = idx_t.shape[1]
    with torch.inference_mode():
        x, v = torch.from_numpy(x1.copy()), torch.from_numpy(v1.copy())
        t0 = time.perf_counter()
        for j in range(idx_t.shape[0]):
            x_prev = x
            x = x - eta * torch.sign(v)
            Ai = At[idx_t[j]]
            bi = bt[idx_t[j]]
            g_new = Ai.T @ (Ai @ x - bi) / B + lam * 2.0 * x / (1.0 + x * x) ** 2
            g_old = Ai.T @ (Ai @ x_prev - bi) / B + lam * 2.0 * x_prev / (1.0 + x_prev * x_prev) ** 2
            v = g_new + keep * (v - g_old)
        elapsed = time.perf_counter() - t0
        return x.numpy().copy(), elapsed


# --------------------------------------------------------------------------------------
def check_same(name, x_ref, x, eta):
    """Final iterates must agree up to rounding; a sign flip of a near-zero v_k (rounding
    in a different summation order) moves one coordinate by 2 eta, so allow a few
    coordinates to differ by a small multiple of eta."""
    diff = np.abs(x - x_ref)
    tol = 1e-9 * max(1.0, float(np.abs(x_ref).max()))
    off = diff > tol
    n_off = int(off.sum())
    allowed = max(2, x_ref.size // 500)  # at most 0.2% of the coordinates
    if n_off > allowed or (n_off and diff.max() > 20 * eta):
        raise AssertionError(
            f"{name} trajectory disagrees with the compiled loop: {n_off} coordinates differ "
            f"(max |dx| = {diff.max():.3g}, eta = {eta:.3g})")
    return n_off, float(diff.max())


def measure(fn, repeats, min_total=0.0, max_repeats=200):
    """Run ``fn`` (returns (result, seconds)) ``repeats`` times, more while the total is
    below ``min_total``; returns the list of times."""
    times = []
    while len(times) < repeats or (sum(times) < min_total and len(times) < max_repeats):
        _, s = fn()
        times.append(s)
    return times


def bench_size(label, d, m, B1, n, repeats, impls):
    problem = make_problem("nonconvex-lsq", d=d, m=m)
    method = get_method("ssvr")
    hp = method.resolve(problem, n + 1, {"B1": B1})
    eta, beta, rule = hp["eta"], hp["beta"], 0  # zero_rule "zero"
    assert hp["zero_rule"] == "zero"
    pd = problem.data
    source = DrawSource(problem, method.plan(hp, problem), SEED, 0)
    draws0 = source.initial()
    draws = source.steps(n)
    rec = make_recorder(np.zeros(0, dtype=np.int64), d)

    # x_1 and v_1 (initial batch of B0 samples), computed once by the compiled `start`
    x1 = problem.x0.copy()
    v1 = np.zeros(d)
    ssvr_mod.start(pd, x1, v1, draws0.idx, draws0.z)

    # Warm-up: compile or load from Numba's cache, outside every timing.
    warm = DrawSource(problem, method.plan(hp, problem), SEED + 1, 0).steps(2)
    t0 = time.perf_counter()
    run_compiled(pd, x1, v1, warm, eta, beta, rule, rec)
    warmup_s = time.perf_counter() - t0

    A, b, lam = problem.A, problem.b, problem.lam
    x_c, _ = run_compiled(pd, x1, v1, draws, eta, beta, rule, rec)
    runners = {"compiled": lambda: run_compiled(pd, x1, v1, draws, eta, beta, rule, rec)}
    checks = {}
    if "numpy" in impls:
        x_np, _ = run_numpy(A, b, lam, x1, v1, draws.idx, eta, beta)
        checks["numpy"] = check_same("numpy", x_c, x_np, eta)
        runners["numpy"] = lambda: run_numpy(A, b, lam, x1, v1, draws.idx, eta, beta)
    if "torch" in impls and torch is not None:
        At, bt = torch.from_numpy(A), torch.from_numpy(b)
        idx_t = torch.from_numpy(draws.idx)
        x_t, _ = run_torch(At, bt, lam, x1, v1, idx_t, eta, beta)
        checks["torch"] = check_same("torch", x_c, x_t, eta)
        runners["torch"] = lambda: run_torch(At, bt, lam, x1, v1, idx_t, eta, beta)

    rows = []
    for name, fn in runners.items():
        # fast implementations get extra repeats so that ~TARGET_SECONDS are timed in all
        times = measure(fn, repeats, TARGET_SECONDS if name == "compiled" else 0.0)
        rows.append({
            "size": f"{label}: d={d}, m={m}, B1={B1}",
            "impl": name,
            "n": n,
            "repeats": len(times),
            "median_s": statistics.median(times),
            "best_s": min(times),
        })
    return rows, checks, hp, warmup_s


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer iterations and repeats")
    ap.add_argument("--sizes", default="small,large", help="comma-separated: small, large")
    ap.add_argument("--impls", default="numpy,torch", help="comparisons to run besides compiled")
    args = ap.parse_args(argv)
    repeats = 3 if args.quick else 5
    wanted = set(args.sizes.split(","))
    impls = set(args.impls.split(","))

    print("SSVR on nonconvex-lsq: iterations per second")
    for k, v in machine_info():
        print(f"  {k:22s} {v}")
    if "torch" in impls and torch is None:
        print("  (torch not importable: PyTorch rows skipped)")
    print()

    all_rows = []
    for label, d, m, B1, n_full, n_quick in SIZES:
        if label not in wanted:
            continue
        n = n_quick if args.quick else n_full
        rows, checks, hp, warmup_s = bench_size(label, d, m, B1, n, repeats, impls)
        print(f"{label}: d={d} m={m} B1={B1} iterations={n} "
              f"(eta={hp['eta']:.3g}, beta={hp['beta']:.3g}, B0={hp['B0']}); "
              f"warm-up call (JIT compile / cache load, not timed): {warmup_s:.2f} s")
        for name, (n_off, dmax) in checks.items():
            print(f"  trajectory check {name} vs compiled: OK "
                  f"({n_off} of {d} coordinates differ, max |dx| = {dmax:.2g})")
        all_rows += rows
        sys.stdout.flush()

    print()
    head = f"| {'size':32s} | {'implementation':14s} | {'iters':>6s} | {'reps':>4s} | " \
           f"{'it/s (median)':>13s} | {'it/s (best)':>11s} | {'speedup vs NumPy':>16s} |"
    print(head)
    print("|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|")
    for r in all_rows:
        base = next((q for q in all_rows if q["size"] == r["size"] and q["impl"] == "numpy"), None)
        ips = r["n"] / r["median_s"]
        speed = f"{base['median_s'] / r['median_s']:.1f}x" if base else "n/a"
        print(f"| {r['size']:32s} | {r['impl']:14s} | {r['n']:6d} | {r['repeats']:4d} | "
              f"{ips:13,.0f} | {r['n'] / r['best_s']:11,.0f} | {speed:>16s} |")
    return all_rows


if __name__ == "__main__":
    main()
