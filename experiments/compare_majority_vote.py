"""Every majority-vote method, with n = 4 and n = 8 workers, on homogeneous and heterogeneous data.

Usage::

    python experiments/compare_majority_vote.py            # T = 5000 rounds, 5 seeds
    python experiments/compare_majority_vote.py --quick    # T = 300 rounds, 2 seeds
    python experiments/compare_majority_vote.py --zeta 0.2 --n 3 9 --json out.json

Protocol:

* one global problem with bounded gradients: ``nonconvex-logistic`` with d = 50, m = 500
  (instance seed 0), x_1 = 0; the measures are those of the global f;
* two worker splits of it, both with f = (1/n) sum_j f_j exactly: ``homogeneous`` (every
  worker samples the global finite sum, with its own random stream) and ``shift:ZETA``
  (worker j's gradients are tilted by zeta c_j with sum_j c_j = 0 and max_j ||c_j||_2 = 1,
  so zeta = max_j ||grad f_j - grad f||_2 exactly; ZETA = 0.5 by default; split seed 0);
* n = 4 and n = 8 workers (``--n``); every method with its theoretical schedule for the
  horizon T (rounds) and every constant at 1 (``--c-eta`` multiplies every step alike):
  mv-signsgd (batch B = T per worker), signum-mv, ssdm, sto-signsgd, mv-signsgd-sim,
  ssvr-mv option 1 and option 2, and dist-sgd (full-precision gradients averaged by the
  server) as the reference;
* even n: a coordinate whose votes sum to 0 follows the method's tie rule, the default
  ``tie_rule='zero'`` (the coordinate does not move that round) for the methods that take a
  majority vote (mv-signsgd, signum-mv, sto-signsgd, mv-signsgd-sim, ssvr-mv option 1);
  ssdm (server mean), ssvr-mv option 2 (stochastic server sign) and dist-sgd (mean) never
  tie; the table reports the fraction of coordinate-rounds that tied;
* ``--seeds`` replicates (seed 1), one thread per run (``--threads``), the inline backend;
* statistics: M1 = (1/T) sum_t ||grad f(x_t)||_1 (exact up to T = 4096 rounds, else over
  4096 uniformly drawn iterates) with its standard error across seeds, and ||grad f||_1 and
  f at x_{T+1}.

Output: a table on stdout; the figures ``compare_majority_vote.png`` (||grad f(x_t)||_1
against rounds, one panel per n and split) and ``compare_majority_vote_bits.png`` (the same
against the uplink bits sent by all workers together) in ``--out`` (default docs/figures),
mean over seeds with a +-1 standard-error band; optionally the numbers as JSON.
"""

from __future__ import annotations

import sys
import time

import _common as com
import numpy as np

import signtheory as st
from signtheory.plot.curves import band_label, plot_trace, save, subplots

# (label, method, hyperparameters)
VARIANTS = (
    ("mv-signsgd", "mv-signsgd", {}),
    ("signum-mv", "signum-mv", {}),
    ("ssdm", "ssdm", {}),
    ("sto-signsgd", "sto-signsgd", {}),
    ("mv-signsgd-sim", "mv-signsgd-sim", {}),
    ("ssvr-mv option 1", "ssvr-mv", {"option": 1}),
    ("ssvr-mv option 2", "ssvr-mv", {"option": 2}),
    ("dist-sgd", "dist-sgd", {}),
)
COLORS = {"mv-signsgd": "tab:blue", "signum-mv": "tab:green", "ssdm": "tab:purple", "sto-signsgd": "tab:orange",
          "mv-signsgd-sim": "tab:olive", "ssvr-mv option 1": "tab:pink", "ssvr-mv option 2": "tab:red",
          "dist-sgd": "black"}
SEEDS, QUICK_SEEDS = 5, 2
ROUNDS, QUICK_ROUNDS = 5000, 300


def style(label: str) -> dict:
    if label == "mv-signsgd-sim":  # drawn dash-dotted on top: it runs close to SSVR-MV option 1
        return {"color": COLORS[label], "ls": "-.", "lw": 1.6, "zorder": 3}
    return {"color": COLORS[label], "ls": "--" if label == "dist-sgd" else "-",
            "lw": 2.2 if label.startswith("ssvr-mv") else 1.3}


def splits(zeta: float):
    return (("homogeneous", {"mode": "homogeneous"}), (f"shift:{zeta:g}", {"mode": "shift", "zeta": zeta}))


def run_all(args, seeds, T):
    problem = st.make_problem("nonconvex-logistic", d=args.d, m=args.m)
    rows, traces = [], {}
    for n in args.n:
        for data, split in splits(args.zeta):
            for label, name, hyper in VARIANTS:
                start = time.perf_counter()
                trace = st.run(name, problem, T, n=n, split=split, seeds=seeds, seed=1, threads=args.threads,
                               measure=com.measure_for(T), c_eta=args.c_eta, **hyper)
                hp = trace.config["hyperparameters"]
                c = trace.counters
                ties = np.asarray(c["vote_ties_per_seed"], dtype=float) / (T * problem.d)
                row = {"n": n, "data": data, "method": label, **com.trace_row(trace),
                       "eta": hp["eta"], "B": hp.get("B"), "beta": hp.get("beta"), "R": hp.get("R"),
                       "oracle_calls_per_worker": c["oracle_calls_per_worker"],
                       "uplink_bits_per_round": c["uplink_bits_per_round"],
                       "downlink_bits_per_round": c["downlink_bits_per_round"],
                       "tie_rule": hp.get("tie_rule"), "tied_fraction": float(ties.mean()),
                       "seconds": round(time.perf_counter() - start, 2)}
                rows.append(row)
                traces[(n, data, label)] = trace
                print(f"  n = {n}  {data:<12} {label:<17} M1 = {row['m1']:.4g}  ({row['seconds']} s)",
                      file=sys.stderr, flush=True)
    return problem, rows, traces


def print_table(rows):
    headers = ["n", "data", "method", "eta", "B", "oracle calls / worker", "uplink bits / round",
               "tied coords", "M1 = avg_t ||grad f(x_t)||_1 (± se)", "||grad f(x_T+1)||_1", "f(x_T+1)"]
    body = [[r["n"], r["data"], r["method"], com.fmt(r["eta"], ".3g"), r["B"], r["oracle_calls_per_worker"],
             r["uplink_bits_per_round"], com.fmt(r["tied_fraction"], ".3f"),
             f"{com.fmt(r['m1'])} ± {com.fmt(r['m1_se'], '.1g')}", com.fmt(r["final_l1"], ".3g"),
             com.fmt(r["final_value"], ".4g")] for r in rows]
    print(com.markdown_table(headers, body))


def plot(traces, ns, datas, x, xlabel, path, title, seeds):
    fig, axes = subplots(len(ns), len(datas), panel=(6.0, 4.2), sharey=True)
    for i, n in enumerate(ns):
        for j, data in enumerate(datas):
            ax = axes[i, j]
            for label, _, _ in VARIANTS:
                plot_trace(ax, traces[(n, data, label)], x, "grad_l1", label=label, **style(label))
            ax.set(xlabel=xlabel, ylabel="||grad f(x_t)||_1", title=f"n = {n} workers, {data} data")
            ax.grid(True, which="major", alpha=0.3)
    axes[0, -1].legend(fontsize=7.5, ncol=2)
    fig.suptitle(f"{title}\n{band_label('se', seeds)}", fontsize=10)
    return save(fig, path)


def main(argv=None) -> int:
    p = com.parser(__doc__, f"T = {QUICK_ROUNDS} rounds and {QUICK_SEEDS} seeds", SEEDS, QUICK_SEEDS)
    p.add_argument("--T", type=int, default=None, help=f"rounds (default {ROUNDS})")
    p.add_argument("--n", type=int, nargs="+", default=[4, 8], help="numbers of workers (default 4 8)")
    p.add_argument("--zeta", type=float, default=0.5, help="heterogeneity of the shifted split (default 0.5)")
    p.add_argument("--c-eta", type=float, default=1.0, help="step constant applied to every method alike")
    p.add_argument("--d", type=int, default=50)
    p.add_argument("--m", type=int, default=500)
    args = p.parse_args(argv)
    seeds = com.seeds_of(args, SEEDS, QUICK_SEEDS)
    T = args.T or (QUICK_ROUNDS if args.quick else ROUNDS)
    start = time.perf_counter()
    problem, rows, traces = run_all(args, seeds, T)
    consts = problem.constants()
    print(f"nonconvex-logistic d = {args.d}, m = {args.m}: f(x_1) = {consts['f_x0']:.6g}, f_star (L-BFGS) = "
          f"{consts['f_star']:.6g}, G_inf = {consts['G_inf']:.4g}; T = {T} rounds, {seeds} seeds, "
          f"c_eta = {args.c_eta}; tied coords = fraction of coordinate-rounds whose votes summed to 0\n")
    print_table(rows)
    datas = [data for data, _ in splits(args.zeta)]
    title = (f"nonconvex-logistic (d = {args.d}, m = {args.m}), theoretical schedules (c_eta = {args.c_eta}), "
             f"T = {T} rounds; ties: tie_rule = 'zero'")
    paths = [plot(traces, args.n, datas, "rounds", "rounds t - 1", args.out / "compare_majority_vote.png",
                  title, seeds),
             plot(traces, args.n, datas, "uplink_bits", "uplink bits sent (all workers)",
                  args.out / "compare_majority_vote_bits.png", title, seeds)]
    total = round(time.perf_counter() - start, 1)
    print("figures: " + ", ".join(str(p) for p in paths) + f"\ntotal time: {total} s")
    if args.json:
        com.write_json(args.json, {"problem": "nonconvex-logistic", "d": args.d, "m": args.m, "T": T,
                                    "n": args.n, "zeta": args.zeta, "seeds": seeds, "c_eta": args.c_eta,
                                    "rows": rows, "seconds": total})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
