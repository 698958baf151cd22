"""Pieces shared by the comparison scripts of this folder: the command-line options every
script has, oracle-call budgets, the measure setting, tables and JSON output.

Budgets: ``oracle_calls(name, hp, problem, T)`` is N(T) of a single-node method with the
hyperparameters ``hp`` (as each method's documentation states it; full gradients count
m, measurement gradients are not counted), and ``horizon_for`` finds the largest T whose
theoretical schedule spends at most a budget. The scripts check the prediction against
the calls the run reports.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np

import signtheory as st

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "docs" / "figures"

# Above this horizon the average over iterates is estimated from this many uniformly drawn
# iterates (the run reports the within-run standard error); below it, it is exact.
MEASURE_POINTS = 4096


def parser(doc: str, quick: str, seeds: int, quick_seeds: int) -> argparse.ArgumentParser:
    """The options every script takes: --quick, --seeds, --out, --json, --threads."""
    p = argparse.ArgumentParser(description=doc.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help=quick)
    p.add_argument("--seeds", type=int, default=None,
                   help=f"replicates per configuration (default {seeds}, {quick_seeds} with --quick)")
    p.add_argument("--out", type=Path, default=FIGURES, help="folder of the figures (default docs/figures)")
    p.add_argument("--json", type=Path, default=None, help="also write the numbers to this JSON file")
    p.add_argument("--threads", type=int, default=1,
                   help="threads running the replicates of one run (default 1; never changes the numbers)")
    return p


def seeds_of(args, seeds: int, quick_seeds: int) -> int:
    return args.seeds or (quick_seeds if args.quick else seeds)


def measure_for(T: int, points: int = MEASURE_POINTS):
    """``'exact'`` up to ``points`` iterates, else ``points`` sampled iterates."""
    return "exact" if T <= points else points


# ---------------------------------------------------------------------------------------------
# Oracle-call budgets
# ---------------------------------------------------------------------------------------------


def oracle_calls(name: str, hp: dict, problem, T: int) -> int | None:
    """N(T) of single-node method ``name`` with hyperparameters ``hp``; None where it is
    random (SignSVRG's loopless variant)."""
    m = getattr(problem, "m", None)
    if name in ("sgd", "signsgd", "signum", "ef-signsgd", "signsgd-sim"):
        return hp["B"] * T
    if name in ("storm", "ssvr"):
        return hp["B0"] + 2 * hp["B1"] * (T - 1)
    if name in ("signrr", "signrvm"):
        return T
    if name == "signrvr":
        return m * math.ceil(T / m) + 2 * T
    refreshes = None if m is None or "I" not in hp else math.ceil(T / hp["I"])
    if name == "svrg":
        return m * refreshes + 2 * hp["B"] * T
    if name == "signsvrg":
        return m * refreshes + 2 * hp["B"] * T if hp["loop"] == "epoch" else None
    if name == "spider":
        return m * refreshes + 2 * hp["B"] * (T - refreshes)
    if name == "ssvr-fs":
        if hp["variant"] == "storm_svrg":
            return m * refreshes + 3 * hp["B"] * (T - 1)
        if hp["variant"] == "storm_svrg_reset":
            return m * refreshes + 3 * hp["B"] * (T - refreshes)
        return m * refreshes + 2 * hp["B"] * (T - refreshes)
    raise ValueError(f"no oracle-call formula for {name!r}")


def horizon_for(name: str, problem, budget: int, **hyper) -> tuple[int, dict, int]:
    """(T, hp, N): the largest horizon T whose theoretical schedule (with the overrides
    ``hyper``) spends N(T) <= ``budget`` oracle calls, its hyperparameters and N(T)."""
    method = st.get_method(name)

    def calls(T):
        hp = method.resolve(problem, T, hyper)
        return oracle_calls(name, hp, problem, T), hp

    lo, hi = 1, max(1, int(budget))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if calls(mid)[0] <= budget:
            lo = mid
        else:
            hi = mid - 1
    N, hp = calls(lo)
    if N > budget:
        raise ValueError(f"{name}: even T = 1 spends {N} > {budget} oracle calls")
    return lo, hp, N


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------


def fmt(value, spec: str = ".4g") -> str:
    """A number for a table ('nan' for missing values)."""
    if value is None:
        return "-"
    try:
        value = float(value)
    except (TypeError, ValueError):
        return str(value)
    return "nan" if not math.isfinite(value) else format(value, spec)


def markdown_table(headers, rows) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def plain(obj):
    """``obj`` with NumPy scalars and arrays as Python numbers and lists, and NaN or
    infinities as None (JSON has neither)."""
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return plain(obj.tolist())
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    return obj


def write_json(path, payload) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(plain(payload), indent=1, allow_nan=False))


def trace_row(trace) -> dict:
    """The measures of a run every table reports (means over seeds, and standard errors)."""
    ms = trace.measures()
    return {
        "T": trace.T,
        "seeds": trace.seeds,
        "oracle_calls": float(np.mean(trace.oracle_calls)),
        "m1": ms["avg_grad_l1"],
        "m1_se": ms["avg_grad_l1_se"],
        "m2": ms["avg_grad_l2"],
        "final_l1": ms["final_grad_l1"],
        "final_value": ms["final_value"],
        "measure": ms["measure"],
        "measure_points": ms["measure_points"],
        "diverged_replicates": int(np.sum(trace.diverged_at > 0)),
        "seconds": round(trace.elapsed_s, 2),
    }
