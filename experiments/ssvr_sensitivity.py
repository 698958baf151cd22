"""SSVR's sensitivity to a practical momentum parameter and to its per-step batch size B1.

Usage::

    python experiments/ssvr_sensitivity.py              # T = 5e5, 5 seeds
    python experiments/ssvr_sensitivity.py --quick      # T = 2e4, 2 seeds
    python experiments/ssvr_sensitivity.py --momenta 0.5 0.9 --batches 1 8 --json out.json

Protocol:

* one stochastic instance: ``stochastic-lsq`` with d = 50 (fresh Gaussian data at every
  call, exact population gradient, f_star known exactly; instance seed 0), x_1 = x0;
* (a) momentum: a horizon T (5e5) and SSVR's theoretical schedule for it
  (eta = d^-1/2 T^-2/3, B0 = ceil(T^1/3), B1 = 1), except the fresh-gradient weight, set to
  beta = 1 - momentum for momentum in {0.3, 0.5, 0.7, 0.9, 0.99} (the momentum-style values
  of the paper's sensitivity study); the step stays the schedule's. The theoretical
  beta = T^-2/3 (momentum 1 - T^-2/3) is the reference curve;
* (b) batch: B1 in {1, 4, 16, 64} at equal oracle calls: N is what B1 = 1 spends over T
  (N = B0 + 2 (T - 1)), and each B1 gets the largest horizon T_B with
  B0(T_B) + 2 B1 (T_B - 1) <= N and the theoretical schedule (eta, beta, B0) for T_B, B1
  overridden;
* ``--seeds`` replicates (seed 1) for every setting, one thread per run (``--threads``);
  ``--c-eta`` multiplies the step of every setting alike;
* statistics: M1 = (1/T) sum_t ||grad f(x_t)||_1 over every iterate (exact) with its
  standard error across seeds, the average estimator error (1/T) sum_t ||v_t - grad f(x_t)||_2^2,
  and ||grad f||_1 and f - f_star at x_{T+1}.

Output: a table on stdout, the figure ``ssvr_sensitivity.png`` in ``--out`` (default
docs/figures): ||grad f(x_t)||_1 against the oracle calls spent for each momentum (left)
and each B1 (right), mean over seeds with a +-1 standard-error band; optionally the
numbers as JSON.
"""

from __future__ import annotations

import sys
import time

import _common as com
import numpy as np

import signtheory as st
from signtheory.plot.curves import band_label, plot_trace, save, subplots

MOMENTA = (0.3, 0.5, 0.7, 0.9, 0.99)
BATCHES = (1, 4, 16, 64)
SEEDS, QUICK_SEEDS = 5, 2
HORIZON, QUICK_HORIZON = 500_000, 20_000


def one(problem, args, seeds, T, study, setting, **hyper):
    trace = st.run("ssvr", problem, T, seeds=seeds, seed=1, threads=args.threads, measure="exact",
                   c_eta=args.c_eta, **hyper)
    hp = trace.config["hyperparameters"]
    row = {"study": study, "setting": setting, **com.trace_row(trace), "eta": hp["eta"], "beta": hp["beta"],
           "B0": hp["B0"], "B1": hp["B1"], "estimator_error": trace.measures()["avg_estimator_error"]}
    print(f"  {study:<8} {setting:<18} T = {T:>7}  N = {row['oracle_calls']:.0f}  M1 = {row['m1']:.4g}"
          f"  ({row['seconds']} s)", file=sys.stderr, flush=True)
    return row, trace


def run_all(args, seeds, T):
    problem = st.make_problem("stochastic-lsq", d=args.d)
    rows, traces = [], {"momentum": {}, "batch": {}}
    for mu in args.momenta:
        row, traces["momentum"][f"momentum {mu:g}"] = one(problem, args, seeds, T, "momentum",
                                                           f"momentum {mu:g}", momentum=mu)
        rows.append(row)
    row, traces["momentum"]["theory"] = one(problem, args, seeds, T, "momentum", "theory")
    row["setting"] = f"theory (momentum {1 - row['beta']:.5f})"
    rows.append(row)
    budget = com.oracle_calls("ssvr", st.get_method("ssvr").resolve(problem, T, {"c_eta": args.c_eta}),
                              problem, T)
    for B1 in args.batches:
        TB, _, predicted = com.horizon_for("ssvr", problem, budget, B1=B1, c_eta=args.c_eta)
        row, traces["batch"][f"B1 = {B1}"] = one(problem, args, seeds, TB, "batch", f"B1 = {B1}", B1=B1)
        if row["oracle_calls"] != predicted:
            raise RuntimeError(f"B1 = {B1}: the run spent {row['oracle_calls']} calls, the formula says "
                               f"{predicted}")
        row["budget"] = budget
        rows.append(row)
    return problem, budget, rows, traces


def print_table(rows, f_star):
    headers = ["study", "setting", "T", "oracle calls", "eta", "beta", "B0", "B1",
               "M1 = avg_t ||grad f(x_t)||_1 (± se)", "avg estimator error", "||grad f(x_T+1)||_1",
               "f(x_T+1) - f*"]
    body = [[r["study"], r["setting"], r["T"], f"{r['oracle_calls']:.0f}", com.fmt(r["eta"], ".3g"),
             com.fmt(r["beta"], ".3g"), r["B0"], r["B1"], f"{com.fmt(r['m1'])} ± {com.fmt(r['m1_se'], '.1g')}",
             com.fmt(r["estimator_error"], ".3g"), com.fmt(r["final_l1"], ".3g"),
             com.fmt(r["final_value"] - f_star, ".3g")] for r in rows]
    print(com.markdown_table(headers, body))


def plot(traces, T, budget, path, title, seeds):
    import matplotlib

    fig, axes = subplots(1, 2, panel=(6.5, 4.8), sharey=True)
    cmap = matplotlib.colormaps["viridis"]
    panels = (("momentum", f"(a) momentum = 1 - beta, step fixed (T = {T})"),
              ("batch", f"(b) per-step batch B1 at equal oracle calls (N = {budget})"))
    for ax, (study, heading) in zip(axes[0], panels, strict=True):
        curves = traces[study]
        labels = [k for k in curves if k != "theory"]
        for i, label in enumerate(labels):
            plot_trace(ax, curves[label], "calls", "grad_l1", label=label,
                       color=cmap(i / max(1, len(labels) - 1) * 0.9), lw=1.5)
        if "theory" in curves:
            plot_trace(ax, curves["theory"], "calls", "grad_l1", label="theory: beta = T^-2/3", color="tab:red",
                       ls="--", lw=1.5)
        ax.set(xlabel="oracle calls spent", ylabel="||grad f(x_t)||_1", title=heading)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"{title}\n{band_label('se', seeds)}", fontsize=10)
    return save(fig, path)


def main(argv=None) -> int:
    p = com.parser(__doc__, f"T = {QUICK_HORIZON:g} and {QUICK_SEEDS} seeds", SEEDS, QUICK_SEEDS)
    p.add_argument("--T", type=int, default=None, help=f"horizon of the momentum study (default {HORIZON})")
    p.add_argument("--momenta", type=float, nargs="+", default=list(MOMENTA))
    p.add_argument("--batches", type=int, nargs="+", default=list(BATCHES))
    p.add_argument("--c-eta", type=float, default=1.0, help="step constant applied to every setting alike")
    p.add_argument("--d", type=int, default=50)
    args = p.parse_args(argv)
    seeds = com.seeds_of(args, SEEDS, QUICK_SEEDS)
    T = args.T or (QUICK_HORIZON if args.quick else HORIZON)
    start = time.perf_counter()
    problem, budget, rows, traces = run_all(args, seeds, T)
    consts = problem.constants()
    f_star = consts["f_star"]
    print(f"stochastic-lsq d = {args.d}: f(x_1) = {consts['f_x0']:.6g}, f* = {f_star:.9g}, "
          f"sigma = {consts['sigma']:.4g}; T = {T}, budget of the batch study N = {budget}, {seeds} seeds, "
          f"c_eta = {args.c_eta}\n")
    print_table(rows, f_star)
    for study in ("momentum", "batch"):
        m1 = np.array([r["m1"] for r in rows if r["study"] == study])
        lo, hi = np.nanmin(m1), np.nanmax(m1)
        print(f"{study}: M1 from {lo:.4g} to {hi:.4g} (ratio {hi / lo:.3g})")
    path = plot(traces, T, budget, args.out / "ssvr_sensitivity.png",
                f"SSVR on stochastic-lsq (d = {args.d}), c_eta = {args.c_eta}", seeds)
    total = round(time.perf_counter() - start, 1)
    print(f"figure: {path}\ntotal time: {total} s")
    if args.json:
        com.write_json(args.json, {"problem": "stochastic-lsq", "d": args.d, "T": T, "budget": budget,
                                    "seeds": seeds, "c_eta": args.c_eta, "f_star": f_star, "rows": rows,
                                    "seconds": total})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
