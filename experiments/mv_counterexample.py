"""SSVR-MV option 1 against option 2 on the three-worker majority-vote counterexample.

Usage::

    python experiments/mv_counterexample.py            # T = 500 .. 32000, 64 seeds (~1 min, 2 cores)
    python experiments/mv_counterexample.py --quick    # T = 500 .. 8000, 16 seeds (~5 s)
    python experiments/mv_counterexample.py --json out.json

Protocol:

* the ``amplified`` instance of ``mv-counterexample`` (d = 1, kappa = 1): three workers with
  exact gradients f_j'(x) = tanh(x)/2 + kappa_j, kappa = (1, 1, -2), so f = (1/3) sum_j f_j
  has its minimiser at 0 and every worker gradient is bounded by G_inf = 2.5;
* x_1 = 0, eta = T^-1/2 (the schedules' eta = c_eta (d T)^-1/2 with c_eta = 1), one fresh
  run per horizon T;
* option 1: stochastic worker signs S_R with R = G_inf = 2.5 (the instance's radius; the
  theorem's R = 4 G_inf makes the floor 1/1542, too small to see), deterministic majority
  vote, beta = 1/2; option 2 with its defaults: beta = T^-1/2, R = G_2 = 2.5, projected
  worker signs and the stochastic server sign S_1 of the averaged bits;
* statistics over seeds: the signed average (1/T) sum_t f'(x_t) over the second half of the
  run, and M1 = (1/T) sum_t |f'(x_t)| over the whole run, with standard errors.

Output: a table on stdout and the figure ``docs/figures/mv_counterexample.png``: the expected
vote of each option against t = f'(x) (exact, by summing over the 2^3 bit patterns), the
running signed average along the runs of the largest T, and M1 against T.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

import signtheory as st
from signtheory.distributed import exact_vote_expectation, mv_counterexample

ROOT = Path(__file__).resolve().parents[1]
COLORS = {1: "tab:red", 2: "tab:blue"}
LABELS = {1: "option 1 (S_R workers, majority vote)", 2: "option 2 (projected S_R, stochastic server sign)"}


def run_option(option: int, T: int, seeds: int, seed: int, radius: float):
    hyper = {"option": option}
    if option == 1:
        hyper["R"] = radius
    trace = st.run("ssvr-mv", "mv-counterexample", T, n=3, split={"mode": "counterexample"},
                   problem_params={"instance": "amplified"}, seeds=seeds, seed=seed, measure="exact",
                   keep_iterates=True, checkpoints=4, **hyper)
    grad = 0.5 * np.tanh(trace.iterates[:, :T, 0])  # f'(x_t), t = 1..T
    return trace, grad


def mean_se(a):
    return float(np.mean(a)), float(np.std(a, ddof=1) / math.sqrt(len(a)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="T up to 8000 and 16 seeds")
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "docs" / "figures" / "mv_counterexample.png"))
    parser.add_argument("--json", default=None, help="also write the numbers to this file")
    args = parser.parse_args(argv)
    Ts = [500, 2000, 8000] if args.quick else [500, 2000, 8000, 32000]
    seeds = args.seeds or (16 if args.quick else 64)
    c = mv_counterexample("amplified").constants()
    t_star, radius = c["t_star"], c["vote_radius_x"]

    rows, running = [], {}
    start = time.perf_counter()
    for T in Ts:
        for option in (1, 2):
            trace, grad = run_option(option, T, seeds, args.seed + T, radius)
            signed, signed_se = mean_se(grad[:, T // 2:].mean(axis=1))
            m1, m1_se = mean_se(trace.avg_grad_l1)
            rows.append({"T": T, "option": option, "eta": trace.config["hyperparameters"]["eta"],
                         "beta": trace.config["hyperparameters"]["beta"],
                         "signed_second_half": signed, "signed_se": signed_se, "M1": m1, "M1_se": m1_se,
                         "clips": int(sum(trace.counters["clips_per_seed"]))})
            if T == Ts[-1]:
                running[option] = np.cumsum(grad, axis=1) / np.arange(1, T + 1)
    elapsed = time.perf_counter() - start

    print(f"amplified counterexample: kappa = {c['kappa']}, R = {radius}, t* = {t_star:.5f}, "
          f"{seeds} seeds, {elapsed:.1f} s")
    print("| T | option | eta | beta | signed avg of f' (2nd half) ± se | M1 = avg |f'| ± se |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['T']} | {r['option']} | {r['eta']:.4g} | {r['beta']:.4g} "
              f"| {r['signed_second_half']:+.4f} ± {r['signed_se']:.4f} | {r['M1']:.4f} ± {r['M1_se']:.4f} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"t_star": t_star, "seeds": seeds, "rows": rows}, indent=2))
    plot(rows, running, t_star, c["kappa"], radius, Path(args.out), seeds)
    print(f"figure: {args.out}")
    return 0


def plot(rows, running, t_star, kappa, radius, path, seeds):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    ax = axes[0]
    t = np.linspace(-0.45, 0.45, 181)
    grads = np.stack([t + kappa, t + kappa, t - 2 * kappa])  # the three workers' gradients
    ax.plot(t, exact_vote_expectation(grads, radius), color=COLORS[1], label="option 1: E[majority]")
    ax.plot(t, t / radius, color=COLORS[2], label="option 2: E[S_1(mean bit)] = t / R")
    ax.axhline(0, color="gray", lw=0.8)
    ax.axvline(t_star, color="gray", ls="--", lw=1, label=f"t* = {t_star:.4f}")
    ax.set(xlabel="t = f'(x)", ylabel="expected vote (the step is -eta times it)",
           title="expected vote at a point with f'(x) = t")
    ax.legend(fontsize=8)

    ax = axes[1]
    for option, curve in running.items():
        T = curve.shape[1]
        mean = curve.mean(axis=0)
        se = curve.std(axis=0, ddof=1) / math.sqrt(curve.shape[0])
        steps = np.arange(1, T + 1)
        ax.plot(steps, mean, color=COLORS[option], label=LABELS[option])
        ax.fill_between(steps, mean - 1.96 * se, mean + 1.96 * se, color=COLORS[option], alpha=0.2)
    ax.axhline(t_star, color="gray", ls="--", lw=1, label="t*")
    ax.axhline(0, color="gray", lw=0.8)
    ax.set(xscale="log", xlabel="t", ylabel="(1/t) sum_{s<=t} f'(x_s)",
           title=f"running signed average (T = {T}, {seeds} seeds, 95% band)")
    ax.legend(fontsize=8)

    ax = axes[2]
    for option in (1, 2):
        rs = [r for r in rows if r["option"] == option]
        Ts = np.array([r["T"] for r in rs], float)
        ax.errorbar(Ts, [r["M1"] for r in rs], yerr=[1.96 * r["M1_se"] for r in rs], marker="o", ms=4,
                    capsize=2, color=COLORS[option], label=LABELS[option])
    ax.axhline(abs(t_star), color="gray", ls="--", lw=1, label="|t*| (option 1's floor)")
    first = [r for r in rows if r["option"] == 2][0]  # a slope -1/4 line through option 2's first point
    Ts = np.array([rows[0]["T"], rows[-1]["T"]], float)
    ax.plot(Ts, first["M1"] * (Ts / first["T"]) ** -0.25, ":", color="gray", lw=1, label="slope -1/4")
    from matplotlib.ticker import NullFormatter

    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set(xscale="log", yscale="log", xlabel="T (fresh run per T, eta = T^-1/2)",
           ylabel="avg over iterates of |f'(x_t)|", title="M1 against the horizon")
    ax.legend(fontsize=8)
    fig.suptitle("SSVR-MV on the amplified three-worker counterexample (kappa = 1, R = 2.5, exact gradients)",
                 fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
