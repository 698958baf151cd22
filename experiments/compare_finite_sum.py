"""SSVR-FS against signSGD and SignSVRG on one nonconvex finite sum, at equal oracle budgets.

Usage::

    python experiments/compare_finite_sum.py              # budgets 1e4 .. 1e8, 5 seeds (~20 min, 2 cores)
    python experiments/compare_finite_sum.py --quick      # budgets 1e4 .. 1e6, 3 seeds (~20 s)
    python experiments/compare_finite_sum.py --c-eta 4    # the same step constant for all three

Protocol:

* one instance: ``nonconvex-lsq`` with d = 50, m = 500 (instance seed 0), x_1 = 0;
* every method runs with its theoretical schedule for its own horizon T (signSGD:
  B = T, eta = (d L T)^-1/2; SignSVRG: I = m, B = 1, eta = (Delta/(d T (L/2 + 2 L_ms m)))^1/2;
  SSVR-FS: I = m, beta = 1/m, B = 1, eta = (Delta/(d T (L/2 + 4 L_ms sqrt(m))))^1/2);
  ``--c-eta`` multiplies every step by the same constant;
* for each budget N, each method gets the largest T whose oracle calls (full gradients
  counted as m) do not exceed N: T = floor(sqrt(N)) for signSGD, about N/3 for SignSVRG and
  N/4 for SSVR-FS;
* every (method, budget) is a fresh run with ``--seeds`` replicates; the statistic is the
  mean over seeds of M1 = (1/T) sum_t ||grad f(x_t)||_1 (exact, or over uniformly sampled
  iterates when T is large), with its standard error across seeds.

Output: a table on stdout, the figure ``docs/figures/compare_finite_sum.png`` (M1 against N;
f(x_t) - f_ref and ||grad f(x_t)||_1 along the trajectories of the largest budget against
the oracle calls spent), and optionally the numbers as JSON (``--json PATH``).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
from _common import horizon_for

import signtheory as st

METHODS = ("signsgd", "signsvrg", "ssvr-fs")
LABELS = {"signsgd": "signSGD (B = T)", "signsvrg": "SignSVRG", "ssvr-fs": "SSVR-FS"}
COLORS = {"signsgd": "tab:blue", "signsvrg": "tab:green", "ssvr-fs": "tab:red"}
ROOT = Path(__file__).resolve().parents[1]


def run_all(budgets, seeds, c_eta, d, m):
    problem = st.make_problem("nonconvex-lsq", d=d, m=m)
    rows, curves = [], {}
    for budget in budgets:
        for name in METHODS:
            T, _, N = horizon_for(name, problem, budget, c_eta=c_eta)
            start = time.perf_counter()
            trace = st.run(name, problem, T, seeds=seeds, seed=1, c_eta=c_eta)
            ms = trace.measures()
            assert int(trace.oracle_calls[0]) == N
            rows.append({
                "budget": budget, "method": name, "T": T, "N": int(trace.oracle_calls[0]),
                "eta": trace.config["hyperparameters"]["eta"],
                "m1": ms["avg_grad_l1"], "m1_se": ms["avg_grad_l1_se"], "m2": ms["avg_grad_l2"],
                "final_l1": ms["final_grad_l1"], "final_value": ms["final_value"],
                "measure": ms["measure"], "seconds": round(time.perf_counter() - start, 2),
            })
            if budget == budgets[-1]:
                c = trace.curves()
                curves[name] = {"calls": np.nanmean(np.where(c["calls"] >= 0, c["calls"], np.nan), axis=0),
                                "value": np.nanmean(c["value"], axis=0), "l1": np.nanmean(c["grad_l1"], axis=0)}
            print(f"  N <= {budget:>10.3g}  {name:<9} T = {T:>9}  M1 = {ms['avg_grad_l1']:.4g}"
                  f"  ({rows[-1]['seconds']} s)", file=sys.stderr, flush=True)
    return problem, rows, curves


def print_table(rows, f_ref):
    print("| budget N | method | T | oracle calls | eta | M1 = avg_t ||grad f(x_t)||_1 (± se) "
          "| ||grad f(x_T+1)||_1 | f(x_T+1) - f_ref |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['budget']:.3g} | {r['method']} | {r['T']} | {r['N']} | {r['eta']:.3g} "
              f"| {r['m1']:.4g} ± {r['m1_se']:.1g} | {r['final_l1']:.3g} | {r['final_value'] - f_ref:.3g} |")


def plot(rows, curves, f_ref, path, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.4))
    ax = axes[0]
    for name in METHODS:
        rs = [r for r in rows if r["method"] == name]
        N = np.array([r["N"] for r in rs], float)
        y = np.array([r["m1"] for r in rs])
        se = np.array([r["m1_se"] for r in rs])
        ax.errorbar(N, y, yerr=1.96 * np.nan_to_num(se), marker="o", ms=4, capsize=2,
                    color=COLORS[name], label=LABELS[name])
    xs = np.array([min(r["N"] for r in rows), max(r["N"] for r in rows)], float)
    for name, slope, style, at in (("signsgd", -0.25, ":", 0), ("ssvr-fs", -0.5, "--", -1)):
        r = [r for r in rows if r["method"] == name][at]  # reference line through 0.6 x this point
        ax.plot(xs, 0.6 * r["m1"] * (xs / r["N"]) ** slope, style, color="gray", lw=1, label=f"slope {slope}")
    ax.set(xscale="log", yscale="log", xlabel="oracle calls N (full gradient = m)",
           ylabel="avg over iterates of ||grad f(x_t)||_1", title="M1 at equal budget (fresh run per N)")
    ax.legend(fontsize=8)
    for ax, key, ylabel in ((axes[1], "value", "f(x_t) - f_ref"), (axes[2], "l1", "||grad f(x_t)||_1")):
        for name, c in curves.items():
            y = c[key] - f_ref if key == "value" else c[key]
            keep = np.isfinite(c["calls"]) & (y > 0)
            ax.plot(c["calls"][keep], y[keep], marker=".", color=COLORS[name], label=LABELS[name])
        ax.set(xscale="log", yscale="log", xlabel="oracle calls spent", ylabel=ylabel,
               title=f"along the runs of the largest budget (N <= {rows[-1]['budget']:.3g})")
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="budgets 1e4..1e6 and 3 seeds")
    parser.add_argument("--seeds", type=int, default=None, help="replicates per point (default 5)")
    parser.add_argument("--max-budget", type=float, default=None, help="largest budget (default 1e8)")
    parser.add_argument("--c-eta", type=float, default=1.0, help="step constant applied to all three methods")
    parser.add_argument("--d", type=int, default=50)
    parser.add_argument("--m", type=int, default=500)
    parser.add_argument("--figure", type=Path, default=ROOT / "docs" / "figures" / "compare_finite_sum.png")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as JSON")
    args = parser.parse_args(argv)
    seeds = args.seeds or (3 if args.quick else 5)
    top = args.max_budget or (1e6 if args.quick else 1e8)
    budgets = [int(round(b)) for b in np.geomspace(1e4, top, int(round(2 * math.log10(top / 1e4))) + 1)]
    problem, rows, curves = run_all(budgets, seeds, args.c_eta, args.d, args.m)
    observed = [r["final_value"] for r in rows] + [float(np.nanmin(c["value"])) for c in curves.values()]
    f_ref = min(problem.constants()["f_star"], *observed) - 1e-9
    print(f"nonconvex-lsq d={args.d} m={args.m}: f(x_1) = {problem.constants()['f_x0']:.6g}, "
          f"f_ref = {f_ref:.9g} (best value seen, minus 1e-9), seeds = {seeds}, c_eta = {args.c_eta}\n")
    print_table(rows, f_ref)
    last = [r for r in rows if r["budget"] == budgets[-1]]
    best = min(last, key=lambda r: r["m1"])
    print(f"\nat the largest budget the lowest M1 is {best['method']} ({best['m1']:.4g})")
    plot(rows, curves, f_ref, args.figure,
         f"nonconvex-lsq (d = {args.d}, m = {args.m}), theoretical schedules, c_eta = {args.c_eta}, "
         f"{seeds} seeds")
    print(f"figure: {args.figure}")
    if args.json:
        args.json.write_text(json.dumps({"f_ref": f_ref, "seeds": seeds, "c_eta": args.c_eta, "rows": rows},
                                        indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
