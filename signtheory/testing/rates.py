"""``assert_rate``: does a measurement scale like size^exponent?

The fit
-------
``values_by_size`` maps a size s (T, N, d, m, n, ...) to the measurements of
independent seeds at that size. Two confidence intervals for the log-log slope
are available:

``method="ols"`` (default)
    Ordinary least squares of log(value) on log(size) over every (size, seed)
    point, with the Student t-interval on N - 2 degrees of freedom (N points).
    It is exact when the seeds' values scatter log-normally with a spread that
    does not depend on the size, works with as few as two seeds per size (or one
    seed at three or more sizes), and its power has a closed form
    (:func:`signtheory.testing.power.rate_power`). With the same number of seeds
    at every size its slope is the slope of the per-size mean of the logs; the
    log of the mean differs from the mean of the logs by a term set by the
    seeds' relative spread, which does not move the slope while that spread is
    the same at every size. Residual lack of fit (a curve that is not a power
    law over the grid) widens the interval. If the same seed labels share their
    random streams across sizes (common random numbers), the shared part cancels
    in the slope and the interval is conservative.
``method="bootstrap"``
    The slope of log(mean over seeds) on log(size), with a percentile interval
    from resampling the seeds independently at each size (``n_boot`` resamples,
    fixed ``seed``). It fits the log of the mean, the quantity the theorems
    bound, but needs several seeds per size (its intervals are too narrow with
    fewer than about 8) and has no closed-form power.

The verdicts
------------
``mode="tight"``
    The rate is attained: the exponent lies inside the two-sided ``level``
    interval (widened by ``tol`` on each side). False-alarm rate 1 - level when
    the measurements follow the power law.
``mode="bound"``
    The bound holds: the measured slope is not significantly larger than the
    exponent, i.e. the one-sided ``level`` lower confidence bound of the slope
    is at most exponent + ``tol``. False-alarm rate 1 - level at a slope equal to
    the exponent, and smaller for any faster decay.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..errors import InvalidParameterError
from ..rates.fits import bootstrap_means, judge_interval, ols_slopes
from ..validation import check_choice, check_nonnegative, check_positive_int, check_real

MODES = ("tight", "bound")
METHODS = ("ols", "bootstrap")


@dataclass(frozen=True)
class RateFit:
    """A log-log fit: value ~ exp(intercept) * size^slope.

    ``interval`` is the two-sided ``level`` confidence interval of the slope and
    ``lower`` its one-sided ``level`` lower confidence bound; ``se`` and ``df``
    are set for the OLS fit.
    """

    slope: float
    intercept: float
    interval: tuple[float, float]
    lower: float
    level: float
    method: str
    sizes: tuple[float, ...]
    seeds: tuple[int, ...]
    se: float | None = None
    df: int | None = None

    @property
    def n_points(self) -> int:
        return int(sum(self.seeds))

    def contains(self, exponent: float, tol: float = 0.0) -> bool:
        return judge_interval(self.interval[0] - tol, self.interval[1] + tol, exponent) == "tight"

    def bound_holds(self, exponent: float, tol: float = 0.0) -> bool:
        """The one-sided lower confidence bound does not exceed ``exponent + tol``."""
        return judge_interval(self.lower - tol, math.inf, exponent) != "violated"


def _collect(values_by_size):
    items = values_by_size.items() if isinstance(values_by_size, Mapping) else values_by_size
    sizes, values = [], []
    for size, vals in items:
        s = check_real("values_by_size", size, low=0.0, low_open=True)
        v = np.atleast_1d(np.asarray(vals, dtype=np.float64)).ravel()
        if v.size == 0:
            raise InvalidParameterError(
                "values_by_size", f"no values at size {size}", "needs values at every size")
        if not np.all(np.isfinite(v) & (v > 0)):
            raise InvalidParameterError(
                "values_by_size", f"values at size {size}: {v[:5].tolist()}",
                "must be finite and > 0 (log-log fit)")
        sizes.append(s)
        values.append(v)
    if len(set(sizes)) < 2:
        raise InvalidParameterError("values_by_size", sorted(set(sizes)), "needs at least two distinct sizes")
    order = np.argsort(sizes, kind="stable")
    return [sizes[i] for i in order], [values[i] for i in order]


def _ols(x, y):
    """Slope, intercept and centred sum of squares of x of the OLS line of y on x."""
    slope = float(ols_slopes(x, y[:, None])[0])
    return slope, float(y.mean() - slope * x.mean()), float(np.sum((x - x.mean()) ** 2))


def fit_rate(values_by_size, *, level=0.95, method="ols", n_boot=2000, seed=0) -> RateFit:
    """Fit the log-log slope of ``values_by_size`` with a confidence interval
    (see the module docstring for the two methods)."""
    level = check_real("level", level, low=0.0, high=1.0, low_open=True, high_open=True)
    method = check_choice("method", method, METHODS)
    sizes, values = _collect(values_by_size)
    seeds = tuple(v.size for v in values)
    logs = np.log(sizes)
    if method == "ols":
        x = np.concatenate([np.full(v.size, ls) for ls, v in zip(logs, values, strict=True)])
        y = np.log(np.concatenate(values))
        if x.size < 3:
            raise InvalidParameterError(
                "values_by_size", f"{x.size} points", "needs at least 3 (size, value) points for an interval")
        slope, intercept, sxx = _ols(x, y)
        df = x.size - 2
        resid = y - (intercept + slope * x)
        se = math.sqrt(float(np.sum(resid**2)) / df / sxx)
        half = float(stats.t.ppf(0.5 + level / 2.0, df)) * se
        lower = slope - float(stats.t.ppf(level, df)) * se
        return RateFit(slope, intercept, (slope - half, slope + half), lower, level, method,
                       tuple(sizes), seeds, se, df)
    n_boot = check_positive_int("n_boot", n_boot)
    if min(seeds) < 2:
        raise InvalidParameterError(
            "values_by_size", f"seeds per size {list(seeds)}",
            "the bootstrap needs at least 2 values at every size")
    slope, intercept, _ = _ols(logs, np.log([v.mean() for v in values]))
    means = bootstrap_means(values, n_boot, np.random.default_rng(seed), paired=False)
    boot = ols_slopes(logs, np.log(means))
    lo, hi = np.quantile(boot, [0.5 - level / 2.0, 0.5 + level / 2.0])
    lower = float(np.quantile(boot, 1.0 - level))
    return RateFit(slope, intercept, (float(lo), float(hi)), lower, level, method, tuple(sizes), seeds)


def _describe(fit: RateFit, exponent, mode, tol, label):
    sizes = ", ".join(f"{s:g}" for s in fit.sizes)
    how = (f"OLS of log(value) on log(size) over {fit.n_points} points, t-interval on {fit.df} df"
           if fit.method == "ols" else
           f"log(mean) on log(size), percentile bootstrap over seeds ({fit.n_points} values)")
    pct = f"{100 * fit.level:g}%"
    if mode == "tight":
        head = (f"the fitted exponent {fit.slope:.4f} (two-sided {pct} CI [{fit.interval[0]:.4f}, "
                f"{fit.interval[1]:.4f}]) is not compatible with the exponent {exponent:.4f}"
                + (f" (tolerance {tol:g})" if tol else "") + ": the rate is not attained")
    else:
        head = (f"the fitted exponent {fit.slope:.4f} is significantly larger than the exponent {exponent:.4f}"
                + (f" + {tol:g}" if tol else "")
                + f": its one-sided {pct} lower confidence bound is {fit.lower:.4f}; the measurements "
                "decrease more slowly than the bound allows")
    return "\n".join([
        "assert_rate" + (f" ({label})" if label else "") + f", mode '{mode}': " + head,
        f"  sizes: {sizes} ({len(fit.sizes)} sizes; seeds per size: {list(fit.seeds)})",
        f"  fit: {how}; intercept {fit.intercept:.4f}",
        f"  false-alarm rate {1 - fit.level:.3g} (level {fit.level:g})",
    ])


def assert_rate(
    values_by_size,
    exponent,
    *,
    mode="tight",
    level=0.95,
    method="ols",
    tol=0.0,
    n_boot=2000,
    seed=0,
    label=None,
) -> RateFit:
    """Assert that the measurements scale like size^exponent.

    Parameters
    ----------
    values_by_size : mapping size -> array_like
        Per-seed measurements (> 0) at each size; at least two sizes.
    exponent : float
        The theoretical exponent (e.g. -1/3 for a T^{-1/3} rate).
    mode : 'tight' or 'bound'
        'tight': the exponent is inside the two-sided interval (the rate is
        attained); 'bound': the slope is not significantly larger than the
        exponent (the bound holds).
    level : float
        Confidence level; the false-alarm rate is 1 - level.
    method : 'ols' or 'bootstrap'
        How the interval is computed (see the module docstring).
    tol : float
        Extra tolerance on the exponent (a pre-registered margin, e.g. 0.05).

    Returns
    -------
    RateFit
        slope, intercept and interval of the fit.

    Raises
    ------
    AssertionError
        With the slope, the interval, the exponent and the sizes.
    """
    exponent = check_real("exponent", exponent)
    mode = check_choice("mode", mode, MODES)
    tol = check_nonnegative("tol", tol)
    fit = fit_rate(values_by_size, level=level, method=method, n_boot=n_boot, seed=seed)
    ok = fit.contains(exponent, tol) if mode == "tight" else fit.bound_holds(exponent, tol)
    if not ok:
        raise AssertionError(_describe(fit, exponent, mode, tol, label))
    return fit
