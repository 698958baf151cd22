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

from .._version import __version__
from ..errors import Interrupted, InvalidParameterError
from ..methods import get_method
from ..problems import make_problem
from .controls import SENSITIVITY, Control, control_seeds
from .fits import fit_slope, judge_interval
from .registry import Row, rows
from .store import ResultStore
from .sweep import EXTRAS, point, run_sweep

WARMUP_T = 16
#: the widest interval (in the exponent) that may still be called ``tight``
MAX_WIDTH = 0.15
#: the finest difference of exponents a verdict resolves: the judged interval is never
#: narrower than this on either side of the estimate
RESOLUTION = 0.05
#: a non-vanishing term must lie this many times below the start's measure to count
FLOOR_FACTOR = 4.0
#: rows whose sensitivity variants the quick run computes (the full run: every row)
QUICK_SENSITIVITY = ("ssvr/T", "signsgd/T")


def _vote_floor(point: dict, result: dict) -> float:
    """2 R d n^-1/2: the non-vanishing term of the fixed-R majority-vote bounds (l1)."""
    return 2.0 * result["hyperparameters"]["R"] * point["problem_params"]["d"] / math.sqrt(point["n"])


#: non-vanishing terms of the bounds, evaluated per grid point from the run's hyperparameters
FLOOR_TERMS = {"2 R d n^-1/2": _vote_floor}


def _t_star(row: Row) -> float:
    return float(make_problem(row.problem, **row.problem_params).constants()["t_star"])


#: predicted limits of a statistic (e.g. the biased vote's fixed point)
REFERENCES = {"t_star": _t_star}


def borrowed_step(method_name: str, problem_name: str, problem_params: dict, T: int) -> float:
    """The theoretical step of ``method_name`` for horizon T on the given problem."""
    return float(get_method(method_name).resolve(make_problem(problem_name, **problem_params), T, {})["eta"])


def grid_of(row: Row, full: bool) -> tuple:
    return tuple(row.full_grid or row.grid) if full else tuple(row.grid)


def row_points(row: Row, full: bool = False, seed: int = 0, variant: Control | None = None) -> list[dict]:
    """The sweep points of ``row`` (one per grid value, in grid order), or of one of its
    controls or sensitivity variants (``variant``): the step constant scaled, options or
    problem parameters replaced, or another method run with the row method's step."""
    seeds = row.full_seeds if full else row.seeds
    if variant is not None and variant.expect is not None:
        seeds = variant.seeds or control_seeds(seeds)
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
        method = row.method
        scale = 1.0
        if variant is not None:
            params.update(variant.problem_params)
            options.update(variant.options)
            scale = variant.eta_scale * float(value) ** variant.eta_power
            method = variant.method or row.method
        step_of = row.step_of or (row.method if method != row.method else None)
        if step_of is not None:
            options["eta"] = scale * borrowed_step(step_of, row.problem, params, T)
        elif scale != 1.0:
            options["c_eta"] = scale * options.get("c_eta", 1.0)
        if row.statistic in EXTRAS:
            options["extras"] = [row.statistic]
        out.append(point(method, row.problem, T, seeds=seeds, seed=seed, problem_params=params, **options))
    return out


def warmup_points(plans) -> list[dict]:
    """One tiny run per distinct method/problem pair of the planned points: compiles the
    kernels into Numba's on-disk cache (distinct methods in parallel) before the sweep,
    whose processes then load them; never stored."""
    seen, out = set(), []
    for pts in plans:
        first = pts[0]
        key = (first["method"], first["problem"], "n" in first)
        if key in seen:
            continue
        seen.add(key)
        first = dict(first)
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


def judged_interval(fit) -> tuple[float, float]:
    """The interval a verdict is read from: the fit's (statistical part widened by the
    finite-grid term), never narrower than :data:`RESOLUTION` on either side of the
    estimate, since a finite grid does not resolve exponents more finely."""
    return min(fit.ci_low, fit.slope - RESOLUTION), max(fit.ci_high, fit.slope + RESOLUTION)


def judge(row: Row, fit) -> str:
    """``tight`` when the judged interval meets the theory's exponents, else by the side
    it lies on."""
    return judge_interval(*judged_interval(fit), *theory_range(row, fit.window))


def classify(row: Row, fit) -> str:
    """:func:`judge`, with ``inconclusive`` in place of ``tight`` when the interval is wider
    than :data:`MAX_WIDTH`: data that cannot decide are not evidence of tightness."""
    v = judge(row, fit)
    if v == "tight" and fit.ci_high - fit.ci_low > MAX_WIDTH:
        return "inconclusive"
    return v


def _sqrt_delta(point: dict) -> float:
    """sqrt(Delta) of the point's problem: the constant of the finite-sum bounds
    2 (Delta L d (1/2 + 4 sqrt(I)) / T)^1/2."""
    return math.sqrt(make_problem(point["problem"], **point["problem_params"]).constants()["delta"])


#: divisors of a statistic that take a constant of the bound out of it, per grid point
NORMALIZERS = {"sqrt_delta": _sqrt_delta}


def statistic(row: Row, result: dict, point: dict | None = None) -> np.ndarray:
    """The per-seed values fitted for ``row`` (a signed limit is fitted in size; a row with
    ``normalize`` divides by that constant of the bound at the point)."""
    values = np.asarray(result[row.statistic], dtype=float)
    if row.statistic == "late_signed_gradient":
        values = np.abs(values)
    if row.normalize is not None:
        values = values / NORMALIZERS[row.normalize](point)
    return values


def _fittable(values) -> bool:
    return all(np.all(np.isfinite(v)) and np.all(v > 0) for v in values)


def _fit_summary(fit) -> dict:
    return {"measured_exponent": fit.slope, "ci_low": fit.ci_low, "ci_high": fit.ci_high,
            "ci_stat_low": fit.ci_stat_low, "ci_stat_high": fit.ci_stat_high, "systematic": fit.systematic,
            "window": fit.window, "window_rule": fit.window_rule}


def judge_variant(row: Row, grid, points: list[dict], results: list[dict], variant: Control) -> dict:
    """A control's or a variant's fit and verdict, by the rules of the row itself; a
    control is ``caught`` when its verdict is the one it expects."""
    values = [statistic(row, res, p) for res, p in zip(results, points, strict=True)]
    out = {"name": variant.name, "label": variant.label, "expect": variant.expect,
           "mean": [float(v.mean()) for v in values], "seeds": int(values[0].size)}
    if not _fittable(values):
        out.update(measured_exponent=None, verdict="violated",
                   note="a measurement is not finite and positive")
    else:
        fit = fit_slope(grid, values)
        out.update(_fit_summary(fit),
                   verdict=judge(row, fit) if variant.expect else decide(row, fit, points, results)[0])
    if variant.expect is not None:
        out["caught"] = out["verdict"] == variant.expect
    return out


def start_measure(row: Row, point: dict) -> float:
    """The row's measure at the start point x_1 of ``point``'s problem (what a method that
    never moves reports)."""
    problem = make_problem(point["problem"], **point["problem_params"])
    g = np.asarray(problem.full_grad(problem.x0), dtype=float)
    return float(np.abs(g).sum()) if row.measure == "l1" else float(np.sqrt(np.sum(g * g)))


def decide(row: Row, fit, points, results) -> tuple[str, dict | None]:
    """The verdict of a fit of ``row`` on its points: :func:`classify`, and for a row whose
    bound has a non-vanishing term, the floor-aware verdict where the slope is violated
    (with the floor's numbers, else None)."""
    v = classify(row, fit)
    if row.floor_term is None or v != "violated":
        return v, None
    return _floor_verdict(row, points, results, fit)


def _floor_verdict(row: Row, points, results, fit) -> tuple[str, dict]:
    """The floor-aware verdict of a row that decays more slowly than its T-term: the
    bound holds through its non-vanishing term only where that term could have been
    broken, i.e. lies below the start's measure by :data:`FLOOR_FACTOR` on the window."""
    floors = [FLOOR_TERMS[row.floor_term](p, res) for p, res in zip(points, results, strict=True)]
    starts = [start_measure(row, p) for p in points]
    inside = [i for i, x in enumerate(fit.x) if x in fit.window]  # the points are in grid order
    below = all(fit.mean[i] <= floors[i] for i in inside)
    meaningful = all(floors[i] * FLOOR_FACTOR <= starts[i] for i in inside)
    info = {"formula": row.floor_term, "value": floors, "start_measure": starts, "factor": FLOOR_FACTOR,
            "measure_below": below, "could_be_broken": meaningful}
    if not below:
        return "violated", info
    power = f"{row.variable}^({row.theory_exponent:+.3g})"
    if meaningful:
        info["note"] = (f"the measure decays more slowly than {power} but stays below the bound's "
                        f"non-vanishing term {row.floor_term} ({_range(floors, inside)}) on the whole window, "
                        f"which is at least {FLOOR_FACTOR:g}x below the start's measure "
                        f"({_range(starts, inside)}): the bound holds and could have been broken")
        return "bound-holds", info
    info["note"] = (f"the measure decays more slowly than {power} and stays below the bound's non-vanishing "
                    f"term {row.floor_term} ({_range(floors, inside)}), but that term is not "
                    f"{FLOOR_FACTOR:g}x below the start's measure ({_range(starts, inside)}): a method that "
                    "never moves would satisfy it too, so the bound is vacuous here")
    return "vacuous", info


def _range(values, inside) -> str:
    sel = [values[i] for i in inside]
    return f"{min(sel):.3g} to {max(sel):.3g}" if min(sel) != max(sel) else f"{sel[0]:.3g}"


def evaluate(row: Row, points: list[dict], results: list[dict], full: bool = False,
             controls=(), variants=()) -> dict:
    """The report row of ``row`` from the results of its points, and of its controls' and
    sensitivity variants' points: ``controls`` and ``variants`` hold pairs
    ``(Control, (points, results))``."""
    spec = get_method(row.method).spec
    grid = np.asarray(grid_of(row, full), dtype=float)
    values = [statistic(row, res, p) for res, p in zip(results, points, strict=True)]
    means = [float(v.mean()) for v in values]
    ses = [float(v.std(ddof=1) / math.sqrt(v.size)) if v.size > 1 else 0.0 for v in values]
    out = {
        "id": row.id, "method": row.method, "label": row.label, "table": row.table, "setting": row.setting,
        "kind": row.kind, "variable": row.variable, "measure": row.measure, "statistic": row.statistic,
        "normalize": row.normalize, "power": row.power, "log_factor": row.log_factor,
        "theory_exponent": row.theory_exponent,
        "exponent_text": row.exponent_text, "rate": spec.rate.expression, "non_vanishing": row.non_vanishing,
        "problem": row.problem, "problem_params": row.problem_params, "options": row.options,
        "schedule": spec.schedule, "hyperparameters": results[-1].get("hyperparameters"),
        "citation": spec.citation, "provenance": spec.provenance, "design": row.design, "loose": row.loose,
        "grid": grid.tolist(), "T": [p["T"] for p in points], "seeds": points[0]["seeds"], "mean": means,
        "std_error": ses, "oracle_calls": [float(np.mean(r["oracle_calls"])) for r in results],
        "diverged": sum(int(np.count_nonzero(np.asarray(r["diverged_at"]) > 0)) for r in results),
        "max_width": MAX_WIDTH,
    }
    out["controls"] = [judge_variant(row, grid, *pts_res, c) for c, pts_res in controls]
    out["sensitivity"] = [judge_variant(row, grid, *pts_res, c) for c, pts_res in variants]
    if not _fittable(values):
        out.update(measured_exponent=None, ci_low=None, ci_high=None, verdict="violated",
                   note="a measurement is not finite and positive (a run diverged or reached 0 exactly)")
        return out
    fit = fit_slope(grid, values)
    verdict_, floor = decide(row, fit, points, results)
    out.update(_fit_summary(fit), local_slopes=fit.local_slopes, intercept=fit.intercept, level=fit.level,
               paired_bootstrap=fit.paired, verdict=verdict_, theory_range=list(theory_range(row, fit.window)))
    if floor is not None:
        out["floor_term"] = floor
        if "note" in floor:
            out["note"] = floor["note"]
    half = fit_slope(grid, values, window="half")
    out["second_window"] = {**_fit_summary(half), "verdict": decide(row, half, points, results)[0]}
    out["second_window"]["agrees"] = out["second_window"]["verdict"] == out["verdict"]
    if out["sensitivity"]:
        out["sensitivity_changes"] = any(v["verdict"] != out["verdict"] for v in out["sensitivity"])
    missed = [c["name"] for c in out["controls"] if not c["caught"]]
    if not out["controls"]:
        missed = ["(no control declared)"]
    if missed and out["verdict"] != "violated":
        out["judged"] = out["verdict"]
        out["verdict"] = "not falsifiable"
        out["note"] = (f"judged {out['judged']}, but the control(s) {', '.join(missed)} did not come out as "
                       "expected: at this size the fit cannot tell this method from a broken one")
    if row.reference is not None:
        ref = REFERENCES[row.reference](row)
        signed = np.asarray(results[-1][row.statistic], dtype=float)
        half_width = 1.96 * signed.std(ddof=1) / math.sqrt(signed.size)
        out["reference"] = {"name": row.reference, "value": ref, "measured": float(signed.mean()),
                            "ci_low": float(signed.mean() - half_width),
                            "ci_high": float(signed.mean() + half_width), "at": float(grid[-1])}
    if row.variable == "T" and "N" in spec.rate.exponents and row.kind == "slope" and row.table != "mechanism":
        calls = np.asarray(out["oracle_calls"])
        if np.all(np.diff(calls) > 0):
            nfit = fit_slope(calls, values)
            theory_n = row.theory_exponent * math.log(grid[-1] / grid[0]) / math.log(calls[-1] / calls[0])
            out["in_N"] = {"theory_exponent": theory_n, "measured_exponent": nfit.slope,
                           "ci_low": nfit.ci_low, "ci_high": nfit.ci_high,
                           "verdict": judge_interval(*judged_interval(nfit), theory_n)}
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


def plan_row(row: Row, full: bool, seed: int, sensitivity: bool) -> dict:
    """The points of a row, of each of its controls and of its sensitivity variants."""
    return {"row": row, "points": row_points(row, full, seed),
            "controls": [(c, row_points(row, full, seed, c)) for c in row.controls],
            "variants": [(v, row_points(row, full, seed, v)) for v in SENSITIVITY] if sensitivity else []}


def _point_lists(plan: dict) -> list[list[dict]]:
    return [plan["points"]] + [pts for _, pts in plan["controls"]] + [pts for _, pts in plan["variants"]]


def verify(out="verify-report", *, quick: bool = True, only=None, scheduler: str | None = None,
           processes: int | None = None, figures: bool = True, progress=sys.stderr,
           selected: list[Row] | None = None, seed: int = 0, sensitivity: bool | None = None) -> dict:
    """Sweep, fit and judge every row of the theory registry and its controls; write the
    report to ``out``.

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
    sensitivity : bool, optional
        Also run every row with the step constant scaled by 1/4 and by 4. Default: every
        row in the full run, the rows of :data:`QUICK_SENSITIVITY` in the quick run.

    Returns
    -------
    dict
        The report, as written to ``report.json``: ``rows`` and the run's settings.
    """
    from ..report import write_report

    if not isinstance(quick, bool):
        raise InvalidParameterError("quick", quick, "must be True or False")
    if sensitivity is not None and not isinstance(sensitivity, bool):
        raise InvalidParameterError("sensitivity", sensitivity, "must be True, False or None")
    chosen = list(selected) if selected is not None else rows(only)
    full = not quick
    out = Path(out)
    store = ResultStore(out / "store")
    start = time.perf_counter()
    plans = [plan_row(row, full, seed, (full or row.id in QUICK_SENSITIVITY) if sensitivity is None
                      else sensitivity) for row in chosen]
    lists = [pts for plan in plans for pts in _point_lists(plan)]
    everything = [p for pts in lists for p in pts]
    todo = [p for p in everything if p not in store]
    try:
        if todo:  # compile (or load) the kernels in the pool's processes first; nothing is kept
            with tempfile.TemporaryDirectory() as scratch:
                run_sweep(warmup_points([pts for pts in lists if any(p in todo for p in pts)]),
                          ResultStore(scratch), scheduler=scheduler, processes=processes)
        results = iter(run_sweep(everything, store, scheduler=scheduler, processes=processes,
                                 progress=_Progress(progress, "verify")))
    except KeyboardInterrupt:
        raise Interrupted(sum(p in store for p in everything), len(everything)) from None

    def take(pts):
        return [next(results) for _ in pts]

    report_rows = []
    for plan in plans:
        main = take(plan["points"])
        controls = [(c, (pts, take(pts))) for c, pts in plan["controls"]]
        variants = [(v, (pts, take(pts))) for v, pts in plan["variants"]]
        report_rows.append(evaluate(plan["row"], plan["points"], main, full, controls, variants))
    report = {
        "version": __version__, "run": "full" if full else "quick", "seed": seed,
        "elapsed_s": time.perf_counter() - start, "points": len(everything),
        "computed_points": len(todo), "max_width": MAX_WIDTH, "resolution": RESOLUTION,
        "floor_factor": FLOOR_FACTOR,
        "rows": report_rows,
    }
    write_report(report, out, figures=figures)
    return report


__all__ = ["evaluate", "plan_row", "row_points", "verify", "warmup_points"]
