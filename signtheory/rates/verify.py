"""``verify``: every row of the theory registry swept, fitted and judged, in one call.

For each :class:`~signtheory.rates.registry.Row` the grid of the chosen run (quick or
full) becomes sweep points, one fresh run per grid value with the schedule of its own
horizon. All points of all rows go through one resumable sweep (a local process pool,
or a Dask cluster), whose records live under ``DIR/store``: rerunning the same command
recomputes nothing, and a killed run loses only the points in flight. Each row is
then fitted (:func:`~signtheory.rates.fits.fit_slope`) and given a verdict, and the
report is written: ``report.json``, ``report.md`` and one figure per row plus a
summary figure (see :mod:`signtheory.report`).
"""

from __future__ import annotations

import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .. import __version__
from ..errors import InvalidParameterError
from ..methods import get_method
from ..problems import make_problem
from .fits import fit_slope, verdict
from .registry import Row, rows
from .store import ResultStore
from .sweep import EXTRAS, point, run_sweep

WARMUP_T = 16


def _vote_floor(point: dict, result: dict) -> float:
    """2 R d n^-1/2: the non-vanishing term of the fixed-R majority-vote bounds (l1)."""
    return 2.0 * result["hyperparameters"]["R"] * point["problem_params"]["d"] / math.sqrt(point["n"])


#: non-vanishing terms of the bounds, evaluated per grid point from the run's hyperparameters
FLOOR_TERMS = {"2 R d n^-1/2": _vote_floor}


def _t_star(row: Row) -> float:
    return float(make_problem(row.problem, **row.problem_params).constants()["t_star"])


#: predicted limits of a statistic (e.g. the biased vote's fixed point)
REFERENCES = {"t_star": _t_star}


def borrowed_step(row: Row, problem_params: dict, T: int) -> float:
    """The theoretical step of ``row.step_of`` for horizon T on the row's problem."""
    method = get_method(row.step_of)
    return float(method.resolve(make_problem(row.problem, **problem_params), T, {})["eta"])


def grid_of(row: Row, full: bool) -> tuple:
    return tuple(row.full_grid or row.grid) if full else tuple(row.grid)


def row_points(row: Row, full: bool = False, seed: int = 0) -> list[dict]:
    """The sweep points of ``row``: one per grid value, in grid order."""
    seeds = row.full_seeds if full else row.seeds
    T_fixed = (row.full_T or row.T) if full else row.T
    out = []
    for value in grid_of(row, full):
        params, options, T = dict(row.problem_params), dict(row.options), T_fixed
        if row.variable == "T":
            T = int(value)
        elif row.variable in ("d", "m"):
            params[row.variable] = int(value)
        elif row.variable == "n":
            options["n"] = int(value)
        elif row.variable == "zeta":
            options["split"] = {**options.get("split", {}), "mode": "shift", "zeta": float(value)}
        else:  # pragma: no cover - the registry is static
            raise ValueError(row.variable)
        if row.step_of is not None:
            options["eta"] = borrowed_step(row, params, T)
        if row.statistic in EXTRAS:
            options["extras"] = [row.statistic]
        out.append(point(row.method, row.problem, T, seeds=seeds, seed=seed, problem_params=params, **options))
    return out


def warmup_points(plans: list[tuple[Row, list[dict]]]) -> list[dict]:
    """One tiny run per distinct method/problem pair of the planned rows: compiles the
    kernels into Numba's on-disk cache (distinct methods in parallel) before the sweep,
    whose processes then load them; never stored."""
    seen, out = set(), []
    for row, pts in plans:
        key = (row.method, row.problem, "n" in row.options)
        if key in seen:
            continue
        seen.add(key)
        first = dict(pts[0])
        first.update(T=WARMUP_T, seeds=1)
        first.pop("extras", None)
        out.append(first)
    return out


def theory_range(row: Row, window) -> tuple[float, float]:
    """The exponents the theorem allows on the fitted window: its exponent p, or for a
    rate p with a log T factor, [p, p + 1 / mean(log T)] (the local slope of T^p log T)."""
    p = row.theory_exponent
    if not row.log_factor:
        return p, p
    return p, p + 1.0 / float(np.mean(np.log(np.asarray(window, dtype=float))))


def judge(row: Row, fit) -> str:
    """``tight`` when the interval meets the theory's exponents, else by the side it lies on."""
    lo, hi = theory_range(row, fit.window)
    if fit.ci_high < lo:
        return "bound-holds"
    if fit.ci_low > hi:
        return "violated"
    return "tight"


def statistic(row: Row, result: dict) -> np.ndarray:
    """The per-seed values fitted for ``row`` (a signed limit is fitted in size)."""
    values = np.asarray(result[row.statistic], dtype=float)
    if row.statistic == "late_signed_gradient":
        values = np.abs(values)
    return values


def evaluate(row: Row, points: list[dict], results: list[dict], full: bool = False) -> dict:
    """The report row of ``row`` from the results of its points."""
    spec = get_method(row.method).spec
    grid = np.asarray(grid_of(row, full), dtype=float)
    values = [statistic(row, res) for res in results]
    means = [float(v.mean()) for v in values]
    ses = [float(v.std(ddof=1) / math.sqrt(v.size)) if v.size > 1 else 0.0 for v in values]
    out = {
        "id": row.id, "method": row.method, "label": row.label, "table": row.table, "setting": row.setting,
        "kind": row.kind, "variable": row.variable, "measure": row.measure, "statistic": row.statistic,
        "power": row.power, "log_factor": row.log_factor, "theory_exponent": row.theory_exponent,
        "exponent_text": row.exponent_text, "rate": spec.rate.expression, "non_vanishing": row.non_vanishing,
        "problem": row.problem, "problem_params": row.problem_params, "options": row.options,
        "schedule": spec.schedule, "hyperparameters": results[-1].get("hyperparameters"),
        "citation": spec.citation, "provenance": spec.provenance, "design": row.design, "loose": row.loose,
        "grid": grid.tolist(), "T": [p["T"] for p in points], "seeds": points[0]["seeds"], "mean": means,
        "std_error": ses, "oracle_calls": [float(np.mean(r["oracle_calls"])) for r in results],
        "diverged": sum(int(np.count_nonzero(np.asarray(r["diverged_at"]) > 0)) for r in results),
    }
    finite = all(np.all(np.isfinite(v)) and np.all(v > 0) for v in values)
    if not finite:
        out.update(measured_exponent=None, ci_low=None, ci_high=None, verdict="violated",
                   note="a measurement is not finite and positive (a run diverged or reached 0 exactly)")
        return out
    fit = fit_slope(grid, values)
    out.update(measured_exponent=fit.slope, ci_low=fit.ci_low, ci_high=fit.ci_high,
               ci_stat_low=fit.ci_stat_low, ci_stat_high=fit.ci_stat_high, systematic=fit.systematic,
               local_slopes=fit.local_slopes, window=fit.window, intercept=fit.intercept, level=fit.level,
               verdict=judge(row, fit), theory_range=list(theory_range(row, fit.window)))
    if row.floor_term is not None:
        floors = [FLOOR_TERMS[row.floor_term](p, res) for p, res in zip(points, results, strict=True)]
        out["floor_term"] = {"formula": row.floor_term, "value": floors}
        below = all(m <= f for m, f, x in zip(means, floors, grid, strict=True) if x in fit.window)
        if out["verdict"] == "violated" and below:
            out["verdict"] = "bound-holds"
            power = f"{row.variable}^({row.theory_exponent:+.3g})"
            out["note"] = (f"the measure decays more slowly than {power} but stays below the "
                           f"bound's non-vanishing term {row.floor_term} (from {min(floors):.3g}) on the whole "
                           "window, so the bound holds; its decaying term is not the dominant one here")
    if row.reference is not None:
        ref = REFERENCES[row.reference](row)
        signed = np.asarray(results[-1][row.statistic], dtype=float)
        half = 1.96 * signed.std(ddof=1) / math.sqrt(signed.size)
        out["reference"] = {"name": row.reference, "value": ref, "measured": float(signed.mean()),
                            "ci_low": float(signed.mean() - half), "ci_high": float(signed.mean() + half),
                            "at": float(grid[-1])}
    if row.variable == "T" and "N" in spec.rate.exponents and row.kind == "slope" and row.table != "mechanism":
        calls = np.asarray(out["oracle_calls"])
        if np.all(np.diff(calls) > 0):
            nfit = fit_slope(calls, values)
            theory_n = row.theory_exponent * math.log(grid[-1] / grid[0]) / math.log(calls[-1] / calls[0])
            out["in_N"] = {"theory_exponent": theory_n, "measured_exponent": nfit.slope,
                           "ci_low": nfit.ci_low, "ci_high": nfit.ci_high,
                           "verdict": verdict(theory_n, nfit)}
    return out


class _Progress:
    """One line per finished point on a terminal (rewritten in place), else one line per
    tenth of the sweep."""

    def __init__(self, stream, label):
        self.stream, self.label, self.start = stream, label, time.perf_counter()
        self.tty = bool(stream is not None and getattr(stream, "isatty", lambda: False)())
        self.shown = -1

    def __call__(self, done, total):
        if self.stream is None:
            return
        tenth = 10 * done // max(total, 1)
        if not self.tty and tenth == self.shown and done != total:
            return
        self.shown = tenth
        elapsed = time.perf_counter() - self.start
        line = f"{self.label}: {done}/{total} points done, {elapsed:.0f} s"
        if self.tty:
            self.stream.write("\r" + line + ("\n" if done == total else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def verify(out="verify-report", *, quick: bool = True, only=None, scheduler: str | None = None,
           processes: int | None = None, figures: bool = True, progress=sys.stderr,
           selected: list[Row] | None = None, seed: int = 0) -> dict:
    """Sweep, fit and judge every row of the theory registry; write the report to ``out``.

    Parameters
    ----------
    out : path
        Directory of ``report.json``, ``report.md``, the figures and the result store
        (``out/store``): rerunning with the same ``out`` resumes and recomputes nothing done.
    quick : bool
        The quick grids (default; a few minutes on two cores) or the full ones.
    only : list of str
        Method names or row ids to keep (default: every row).
    scheduler : str
        Address of a Dask distributed scheduler (``tcp://HOST:PORT``); default: a local
        process pool with ``processes`` workers (default: every core).
    figures : bool
        Also draw the per-row fits and the summary figure (needs matplotlib).
    progress : file or None
        Where the progress line goes (default: standard error).
    selected : list of Row
        Rows to run instead of the registry's (tests, new estimators).

    Returns
    -------
    dict
        The report, as written to ``report.json``: ``rows`` and the run's settings.
    """
    from ..report import write_report

    if not isinstance(quick, bool):
        raise InvalidParameterError("quick", quick, "must be True or False")
    chosen = list(selected) if selected is not None else rows(only)
    full = not quick
    out = Path(out)
    store = ResultStore(out / "store")
    start = time.perf_counter()
    plans = [(row, row_points(row, full, seed)) for row in chosen]
    everything = [p for _, pts in plans for p in pts]
    todo = [p for p in everything if p not in store]
    if todo:  # compile (or load) the kernels in the pool's processes first; nothing is kept
        with tempfile.TemporaryDirectory() as scratch:
            run_sweep(warmup_points([(r, pts) for r, pts in plans if any(p in todo for p in pts)]),
                      ResultStore(scratch), scheduler=scheduler, processes=processes)
    results = run_sweep(everything, store, scheduler=scheduler, processes=processes,
                        progress=_Progress(progress, "verify"))
    report_rows, i = [], 0
    for row, pts in plans:
        report_rows.append(evaluate(row, pts, results[i:i + len(pts)], full))
        i += len(pts)
    report = {
        "version": __version__, "run": "full" if full else "quick", "seed": seed,
        "elapsed_s": time.perf_counter() - start, "points": len(everything),
        "computed_points": len(todo), "rows": report_rows,
    }
    write_report(report, out, figures=figures)
    return report


__all__ = ["evaluate", "row_points", "verify", "warmup_points"]

