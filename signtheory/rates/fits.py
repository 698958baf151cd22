"""Log-log fits of a measure against a sweep variable, with bootstrap intervals.

The statistic at each grid point is the mean over seeds of the measure (the
theorems bound expectations, so the log of the mean is fitted, not the mean of
the logs). The slope is the ordinary least-squares slope of log(mean) on
log(variable) over the asymptotic window.

Its confidence interval comes from a bootstrap over seeds (the statistical
interval: the percentile interval of the refitted slopes). Replicate r of every
grid point runs on the streams of seed index r, so the points of one sweep are
correlated; the bootstrap therefore resamples seed *indices* jointly: one draw of
indices is applied to every grid point (``paired``, the default whenever every
point has the same number of seeds). Points with different seed counts are
resampled independently.

A finite grid only approximates an asymptotic exponent: where the curve still bends,
the slope depends on which points are fitted, and the seeds' scatter (often tiny,
since every measurement already averages T iterates) says nothing about that. The
reported interval therefore widens the statistical one on both sides by the
finite-grid term ``systematic``: half the range of the consecutive local slopes
(between neighbouring grid points) inside the window. A straight line on the grid
gives ``systematic`` = 0 up to noise; a curve that is still bending gives a wide
interval rather than a confident wrong exponent. Both parts are reported.

Window rules (reported with every fit): ``two-thirds`` (the default) keeps the
largest two thirds of the grid, i.e. drops the smallest ``floor(k/3)`` of the k
points, since transients (the travel distance, the initial batch) shrink as the
variable grows; ``half`` keeps the largest half (drops ``floor(k/2)``), the check
that a verdict does not depend on the window. At least three points are kept.

Verdicts, for a theory exponent p against the interval [lo, hi]:

``tight``        lo <= p <= hi: the rate is attained;
``bound-holds``  hi < p: the measure decays faster than the bound requires;
``violated``     lo > p: the measure decays more slowly than the theorem allows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

VERDICTS = ("tight", "bound-holds", "violated")


@dataclass
class SlopeFit:
    slope: float
    intercept: float
    ci_low: float  # the statistical interval widened by `systematic` on both sides
    ci_high: float
    level: float
    window: list  # the variable values used
    x: list
    mean: list  # mean over seeds at every grid point
    n_boot: int
    ci_stat_low: float = float("nan")  # bootstrap-over-seeds percentile interval
    ci_stat_high: float = float("nan")
    systematic: float = 0.0  # half the range of the local slopes inside the window
    local_slopes: list | None = None  # between consecutive grid points, whole grid
    paired: bool = True  # seed indices resampled jointly across grid points
    window_rule: str = "two-thirds"

    def to_dict(self) -> dict:
        return asdict(self)


#: window rule -> fraction of the grid dropped at its small end
WINDOW_RULES = {"two-thirds": 3, "half": 2}


def window_of(k: int, rule: str = "two-thirds") -> slice:
    """The slice of a sorted grid of k points that ``rule`` keeps (at least three points)."""
    drop = k // WINDOW_RULES[rule]
    if k - drop < 3:
        drop = max(0, k - 3)
    return slice(drop, k)


def default_window(k: int) -> slice:
    return window_of(k, "two-thirds")


def ols_slopes(lx, log_means):
    """OLS slopes of the columns of ``log_means`` (k, B) on ``lx`` (k,): the one log-log
    slope of the package (``verify`` and :func:`signtheory.testing.assert_rate`)."""
    lc = lx - lx.mean()
    return lc @ (log_means - log_means.mean(axis=0)) / float(lc @ lc)


def bootstrap_means(vals, n_boot, rng, paired):
    """(k, n_boot) means over resampled seeds of the k arrays ``vals``; ``paired`` draws one
    set of seed indices per bootstrap replicate and applies it to every point, otherwise
    each point is resampled on its own."""
    if paired:
        V = np.stack(vals)  # (k, S)
        idx = rng.integers(0, V.shape[1], (n_boot, V.shape[1]))
        return V[:, idx].mean(axis=2)
    return np.stack([v[rng.integers(0, v.size, (n_boot, v.size))].mean(axis=1) for v in vals])


def fit_slope(x, values, *, window=None, level: float = 0.95, n_boot: int = 2000, seed: int = 0,
              paired: bool | None = None) -> SlopeFit:
    """Fit log(mean over seeds) = intercept + slope * log(x).

    ``values[i]`` holds the per-seed measurements at ``x[i]``; ``window`` is a slice of
    the (sorted) grid or the name of a rule of :data:`WINDOW_RULES` (default
    ``two-thirds``). ``paired`` (default: every point has as many seeds) resamples the
    same seed indices at every grid point.
    """
    x = np.asarray(x, dtype=float)
    order = np.argsort(x)
    x = x[order]
    vals = [np.asarray(values[i], dtype=float) for i in order]
    if x.size < 2 or np.any(x <= 0):
        raise ValueError("need at least two positive grid values")
    if any(v.size == 0 or np.any(~np.isfinite(v)) or np.any(v <= 0) for v in vals):
        raise ValueError("every grid point needs finite, positive measurements")
    rule = window if isinstance(window, str) else ("two-thirds" if window is None else "custom")
    w = window_of(x.size, rule) if rule in WINDOW_RULES else window
    same_size = len({v.size for v in vals}) == 1
    paired = same_size if paired is None else bool(paired and same_size)
    xs, vs = x[w], vals[w]
    lx = np.log(xs)
    means = np.array([v.mean() for v in vals])
    slope = float(ols_slopes(lx, np.log(means[w])[:, None])[0])
    intercept = float(np.log(means[w]).mean() - slope * lx.mean())
    boot = ols_slopes(lx, np.log(bootstrap_means(vs, n_boot, np.random.default_rng(seed), paired)))
    alpha = 1.0 - level
    lo, hi = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    local = np.diff(np.log(means)) / np.diff(np.log(x))
    inside = local[w.start or 0:][: max(0, len(lx) - 1)]
    systematic = 0.5 * float(inside.max() - inside.min()) if inside.size > 1 else 0.0
    return SlopeFit(slope, intercept, float(lo - systematic), float(hi + systematic), level,
                    xs.tolist(), x.tolist(), means.tolist(), n_boot, float(lo), float(hi), systematic,
                    local.tolist(), paired, rule)


def judge_interval(low: float, high: float, theory_low: float, theory_high: float | None = None) -> str:
    """The verdict of an exponent interval [low, high] against the theory's exponents
    [theory_low, theory_high] (one exponent when ``theory_high`` is omitted): ``tight`` when
    they meet, ``bound-holds`` when the interval lies below (faster decay), ``violated``
    above. The one verdict rule of the package."""
    theory_high = theory_low if theory_high is None else theory_high
    if high < theory_low:
        return "bound-holds"
    if low > theory_high:
        return "violated"
    return "tight"


def verdict(theory_exponent: float, fit: SlopeFit) -> str:
    """:func:`judge_interval` of the fit's interval against one exponent."""
    return judge_interval(fit.ci_low, fit.ci_high, theory_exponent)


@dataclass
class FloorFit:
    """M(x) = A x^-p + C fitted on log residuals; C is the floor."""

    A: float
    p: float
    C: float
    C_low: float
    C_high: float
    level: float

    def to_dict(self) -> dict:
        return asdict(self)


def fit_floor(x, values, *, level: float = 0.95, n_boot: int = 500, seed: int = 0) -> FloorFit:
    from scipy.optimize import least_squares

    x = np.asarray(x, dtype=float)
    vals = [np.asarray(v, dtype=float) for v in values]

    def fit(means):
        def resid(theta):
            a, p, c = np.exp(theta[0]), theta[1], np.exp(theta[2])
            return np.log(a * x ** (-p) + c) - np.log(means)

        m0 = means.min()
        start = np.array([np.log(max(means[0] - 0.5 * m0, 1e-12)) + 0.5 * np.log(x[0]), 0.5, np.log(0.5 * m0)])
        sol = least_squares(resid, start, method="lm")
        return np.exp(sol.x[0]), sol.x[1], np.exp(sol.x[2])

    means = np.array([v.mean() for v in vals])
    A, p, C = fit(means)
    rng = np.random.default_rng(seed)
    Cs = np.empty(n_boot)
    for b in range(n_boot):
        Cs[b] = fit(np.array([v[rng.integers(0, v.size, v.size)].mean() for v in vals]))[2]
    lo, hi = np.quantile(Cs, [(1 - level) / 2, (1 + level) / 2])
    return FloorFit(float(A), float(p), float(C), float(lo), float(hi), level)
