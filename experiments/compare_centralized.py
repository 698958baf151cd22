"""Every single-node method on one finite sum, each with its theoretical schedule, at one oracle budget.

Usage::

    python experiments/compare_centralized.py            # N = 5e6 oracle calls, 5 seeds
    python experiments/compare_centralized.py --quick    # N = 1e5, 2 seeds
    python experiments/compare_centralized.py --budget 5e5 --c-eta 2 --json out.json

Protocol:

* one instance: ``nonconvex-logistic`` with d = 50, m = 500 (instance seed 0), x_1 = 0;
  its gradients are bounded and L, L_ms and f_star are known (``signtheory problems``);
* the fourteen single-node methods (stochastic: sgd, signsgd, signum, ef-signsgd,
  signsgd-sim, storm, ssvr; finite sum: svrg, spider, signsvrg, signrr, signrvr, signrvm,
  ssvr-fs), each with its theoretical schedule for its own horizon T and every constant
  at 1; ``--c-eta`` multiplies every method's step by the same constant;
* one oracle budget N for all: each method gets the largest T whose oracle calls, by its
  documented formula N(T) (full gradients count m), do not exceed N -- e.g. T = floor(sqrt(N))
  for signSGD (batch B = T), T = N for SGD, SignRR and SignRVM, about N/3 for SignRVR and
  SignSVRG, N/4 for SSVR-FS; the script checks the formula against the calls the run reports;
* ``--seeds`` replicates per method (seed 1), one thread per run (``--threads``);
* statistics: M1 = (1/T) sum_t ||grad f(x_t)||_1 (exact up to T = 4096, else over 4096
  uniformly drawn iterates) with its standard error across seeds, M2 (the same in l2),
  and ||grad f||_1 and f at x_{T+1}; curves on each run's geometric checkpoint grid (the
  gradient panel stops at 1e-5: SVRG and SPIDER reach rounding level, the table has their
  final values).

Output: a table on stdout, the figure ``compare_centralized.png`` in ``--out`` (default
docs/figures): f(x_t) - f_ref and ||grad f(x_t)||_1 against the oracle calls spent, mean over
seeds with a +-1 standard-error band, and optionally the numbers as JSON (``--json PATH``).
f_ref is the smallest value seen (any checkpoint, any method) or the problem's f_star,
whichever is lower, minus 1e-6.
"""

from __future__ import annotations

import sys
import time

import _common as com
import numpy as np

import signtheory as st
from signtheory.plot.curves import band_label, plot_trace, save, subplots

METHODS = ("sgd", "signsgd", "signum", "ef-signsgd", "signsgd-sim", "storm", "ssvr",
           "svrg", "spider", "signsvrg", "signrr", "signrvr", "signrvm", "ssvr-fs")
FULL_PRECISION = ("sgd", "storm", "svrg", "spider")  # the others step along a sign
SEEDS, QUICK_SEEDS = 5, 2
BUDGET, QUICK_BUDGET = 5e6, 1e5
Y_FLOOR = 1e-5  # lower limit of the gradient panel: SVRG and SPIDER reach rounding level


COLORS = {"sgd": "tab:blue", "signsgd": "tab:orange", "signum": "tab:green", "ef-signsgd": "tab:purple",
          "signsgd-sim": "tab:olive", "storm": "tab:brown", "ssvr": "tab:red", "svrg": "tab:gray",
          "spider": "tab:cyan", "signsvrg": "tab:pink", "signrr": "goldenrod", "signrvr": "navy",
          "signrvm": "yellowgreen", "ssvr-fs": "black"}


def style(name: str) -> dict:
    return {"color": COLORS[name], "ls": "--" if name in FULL_PRECISION else "-",
            "lw": 2.2 if name in ("ssvr", "ssvr-fs") else 1.3}


def run_all(args, seeds):
    problem = st.make_problem("nonconvex-logistic", d=args.d, m=args.m)
    budget = int(args.budget or (QUICK_BUDGET if args.quick else BUDGET))
    rows, traces = [], {}
    for name in args.methods:
        T, hp, predicted = com.horizon_for(name, problem, budget, c_eta=args.c_eta)
        start = time.perf_counter()
        trace = st.run(name, problem, T, seeds=seeds, seed=1, threads=args.threads,
                       measure=com.measure_for(T), c_eta=args.c_eta)
        spent = [int(c) for c in trace.oracle_calls]
        if any(c != predicted for c in spent):
            raise RuntimeError(f"{name}: the run spent {spent} oracle calls, the formula says {predicted}")
        row = {"method": name, "budget": budget, "eta": hp["eta"], **com.trace_row(trace),
               "seconds": round(time.perf_counter() - start, 2)}
        for key in ("B", "B0", "B1", "I", "beta"):
            if key in hp:
                row[key] = hp[key]
        rows.append(row)
        traces[name] = trace
        print(f"  {name:<12} T = {T:>8}  N = {predicted:>9}  M1 = {row['m1']:.4g}  ({row['seconds']} s)",
              file=sys.stderr, flush=True)
    return problem, budget, rows, traces


def reference_value(problem, traces) -> float:
    seen = [float(np.nanmin(t.ck_value)) for t in traces.values() if np.isfinite(t.ck_value).any()]
    return min([problem.constants()["f_star"], *seen]) - 1e-6


def print_table(rows, f_ref):
    headers = ["method", "T", "oracle calls", "eta", "M1 = avg_t ||grad f(x_t)||_1 (± se)",
               "M2 = avg_t ||grad f(x_t)||_2", "||grad f(x_T+1)||_1", "f(x_T+1) - f_ref", "seconds"]
    body = [[r["method"], r["T"], f"{r['oracle_calls']:.0f}", com.fmt(r["eta"], ".3g"),
             f"{com.fmt(r['m1'])} ± {com.fmt(r['m1_se'], '.1g')}", com.fmt(r["m2"]),
             com.fmt(r["final_l1"], ".3g"), com.fmt(r["final_value"] - f_ref, ".3g"), r["seconds"]]
            for r in rows]
    print(com.markdown_table(headers, body))


def plot(traces, f_ref, path, title, seeds):
    fig, axes = subplots(1, 2, panel=(7.0, 5.0))
    for ax, key, ylabel, shift in ((axes[0, 0], "value", "f(x_t) - f_ref", f_ref),
                                   (axes[0, 1], "grad_l1", "||grad f(x_t)||_1", 0.0)):
        for name, trace in traces.items():
            plot_trace(ax, trace, "calls", key, shift=shift, label=name, **style(name))
        ax.set(xlabel="oracle calls spent (full gradient = m)", ylabel=ylabel)
        ax.grid(True, which="major", alpha=0.3)
    low, high = axes[0, 1].get_ylim()
    if low < Y_FLOOR < high:
        axes[0, 1].set_ylim(bottom=Y_FLOOR)
        axes[0, 1].set_title(f"curves below {Y_FLOOR:g} are cut (see the table)", fontsize=9)
    axes[0, 1].legend(fontsize=7.5, ncol=2, title="dashed: full precision", title_fontsize=7.5)
    fig.suptitle(f"{title}\n{band_label('se', seeds)}", fontsize=10)
    return save(fig, path)


def main(argv=None) -> int:
    p = com.parser(__doc__, f"N = {QUICK_BUDGET:g} and {QUICK_SEEDS} seeds", SEEDS, QUICK_SEEDS)
    p.add_argument("--budget", type=float, default=None, help=f"oracle budget N (default {BUDGET:g})")
    p.add_argument("--c-eta", type=float, default=1.0, help="step constant applied to every method alike")
    p.add_argument("--d", type=int, default=50)
    p.add_argument("--m", type=int, default=500)
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS, metavar="NAME")
    args = p.parse_args(argv)
    seeds = com.seeds_of(args, SEEDS, QUICK_SEEDS)
    start = time.perf_counter()
    problem, budget, rows, traces = run_all(args, seeds)
    f_ref = reference_value(problem, traces)
    consts = problem.constants()
    print(f"nonconvex-logistic d = {args.d}, m = {args.m}: f(x_1) = {consts['f_x0']:.6g}, f_star (L-BFGS) = "
          f"{consts['f_star']:.9g}, f_ref = {f_ref:.9g}; budget N = {budget}, {seeds} seeds, "
          f"c_eta = {args.c_eta}\n")
    print_table(rows, f_ref)
    best = min(rows, key=lambda r: r["m1"] if np.isfinite(r["m1"]) else np.inf)
    print(f"\nlowest M1: {best['method']} ({best['m1']:.4g})")
    path = plot(traces, f_ref, args.out / "compare_centralized.png",
                f"nonconvex-logistic (d = {args.d}, m = {args.m}), theoretical schedules "
                f"(c_eta = {args.c_eta}), budget N = {budget:.3g} oracle calls per method", seeds)
    total = round(time.perf_counter() - start, 1)
    print(f"figure: {path}\ntotal time: {total} s")
    if args.json:
        com.write_json(args.json, {"problem": "nonconvex-logistic", "d": args.d, "m": args.m, "budget": budget,
                                    "seeds": seeds, "c_eta": args.c_eta, "f_ref": f_ref,
                                    "f_star": consts["f_star"], "rows": rows, "seconds": total})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
