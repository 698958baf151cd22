"""Power of the statistical assertions: how many samples, seeds or grid points
are needed to detect a given bias or a given error in an exponent.

Unbiasedness (:func:`signtheory.testing.assert_unbiased`)
    A planted bias of ``bias_sd`` standard deviations on one of d coordinates,
    tested at family-wise level alpha (Bonferroni: alpha/d per coordinate).
    Normal approximation: n = ((z_{1 - alpha/(2d)} + z_{power}) / bias_sd)^2.
    :func:`unbiased_power` computes the power of the t-test exactly for Gaussian
    samples (noncentral t), and :func:`unbiased_samples_needed` the smallest n
    reaching the target power. For the empirical Bernstein test (``bounds``
    given), ``range_sd`` = (hi - lo) / standard deviation enters and the power is
    the normal approximation of the mean crossing the Bernstein threshold.

Rates (:func:`signtheory.testing.assert_rate`, OLS method)
    With ``seeds`` values per size, ``sizes`` the grid, and Gaussian noise of
    standard deviation ``log_sd`` on log(value), the slope's standard error is
    log_sd / sqrt(seeds * sum_i (log s_i - mean log s)^2) and the t-statistic of
    a slope that is off by ``exponent_error`` follows a noncentral t law with
    N - 2 degrees of freedom: :func:`rate_power` is exact under that model;
    :func:`rate_seeds_needed` and :func:`rate_grid_needed` invert it.
    ``log_sd`` is about the seeds' coefficient of variation.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from ..errors import InvalidParameterError
from ..validation import check_choice, check_positive, check_positive_int, check_real

MAX_SAMPLES = 10**9


def _check_alpha(alpha):
    return check_real("alpha", alpha, low=0.0, high=1.0, low_open=True, high_open=True)


def _check_power(power):
    return check_real("power", power, low=0.0, high=1.0, low_open=True, high_open=True)


def _tail(tc, df, nc):
    """P(T > tc) for T noncentral t (df, nc); the normal approximation where SciPy
    returns NaN (far tails)."""
    p = float(stats.nct.sf(tc, df, nc))
    return p if math.isfinite(p) else float(stats.norm.sf(tc - nc))


def _two_sided(tc, df, nc):
    return min(1.0, _tail(tc, df, nc) + _tail(tc, df, -nc))


# -- unbiasedness -------------------------------------------------------------------------------


def unbiased_samples_normal(bias_sd, *, d=1, alpha=1e-3, power=0.8) -> int:
    """Closed-form normal approximation of the samples needed: ((z_a + z_b)/bias_sd)^2."""
    bias_sd = check_positive("bias_sd", bias_sd)
    d = check_positive_int("d", d)
    za = stats.norm.isf(_check_alpha(alpha) / (2 * d))
    zb = stats.norm.ppf(_check_power(power))
    return max(2, math.ceil(((za + zb) / bias_sd) ** 2))


def unbiased_power(n, bias_sd, *, d=1, alpha=1e-3, test="t", range_sd=None) -> float:
    """Probability that ``assert_unbiased`` with ``n`` samples detects a bias of
    ``bias_sd`` standard deviations on one of ``d`` coordinates.

    ``test='t'``: exact for Gaussian samples (noncentral t, n - 1 df).
    ``test='bernstein'``: normal approximation for the empirical Bernstein test;
    needs ``range_sd`` = (hi - lo) / standard deviation of the samples.
    """
    n = check_positive_int("n", n)
    if n < 2:
        raise InvalidParameterError("n", n, "must be an integer >= 2")
    bias_sd = abs(check_real("bias_sd", bias_sd))
    d = check_positive_int("d", d)
    alpha = _check_alpha(alpha)
    test = check_choice("test", test, ("t", "bernstein"))
    if test == "t":
        df = n - 1
        tc = stats.t.isf(alpha / (2 * d), df)
        return _two_sided(tc, df, bias_sd * math.sqrt(n))
    if range_sd is None:
        raise InvalidParameterError("range_sd", None, "the Bernstein test's power needs (hi - lo) / std")
    r = check_positive("range_sd", range_sd)
    L = math.log(4 * d / alpha)
    shift = math.sqrt(2 * L) + 7 * r * L * math.sqrt(n) / (3 * (n - 1))
    root = bias_sd * math.sqrt(n)
    return float(stats.norm.cdf(root - shift) + stats.norm.cdf(-root - shift))


def _smallest(predicate, start, low=2, name="bias_sd"):
    """Smallest integer n >= low with predicate(n), for a predicate monotone in n:
    doubling from ``start`` until it holds, then bisection."""
    hi = max(low, start)
    while not predicate(hi):
        hi *= 2
        if hi > MAX_SAMPLES:
            raise InvalidParameterError(name, None, f"cannot be detected with fewer than {MAX_SAMPLES} points")
    lo = low - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if predicate(mid):
            hi = mid
        else:
            lo = mid
    return hi


def unbiased_samples_needed(bias_sd, *, d=1, alpha=1e-3, power=0.8, test="t", range_sd=None) -> int:
    """Smallest n at which :func:`unbiased_power` reaches ``power``."""
    target = _check_power(power)
    start = unbiased_samples_normal(bias_sd, d=d, alpha=alpha, power=power)
    return _smallest(
        lambda n: unbiased_power(n, bias_sd, d=d, alpha=alpha, test=test, range_sd=range_sd) >= target, start)


# -- rates --------------------------------------------------------------------------------------


def _spread(sizes):
    x = np.log(np.asarray(sizes, dtype=float))
    if x.size < 2 or not np.all(np.isfinite(x)) or np.ptp(x) == 0:
        raise InvalidParameterError(
            "sizes", list(np.asarray(sizes).ravel()), "needs at least two distinct sizes > 0")
    return float(np.sum((x - x.mean()) ** 2)), x.size


def rate_power(exponent_error, sizes, seeds, log_sd, *, level=0.95, mode="tight") -> float:
    """Probability that ``assert_rate`` (OLS) rejects when the true slope is the
    tested exponent + ``exponent_error``, with ``seeds`` values at each of ``sizes``
    and noise of standard deviation ``log_sd`` on log(value).

    ``mode='tight'``: two-sided rejection; ``mode='bound'``: only a slope larger
    than the exponent (``exponent_error`` > 0) is a violation.
    """
    err = check_real("exponent_error", exponent_error)
    seeds = check_positive_int("seeds", seeds)
    log_sd = check_positive("log_sd", log_sd)
    level = check_real("level", level, low=0.0, high=1.0, low_open=True, high_open=True)
    mode = check_choice("mode", mode, ("tight", "bound"))
    sxx, k = _spread(sizes)
    df = seeds * k - 2
    if df < 1:
        raise InvalidParameterError("seeds", seeds, "gives fewer than 3 points; add seeds or sizes")
    nc = err / (log_sd / math.sqrt(seeds * sxx))
    if mode == "tight":
        return _two_sided(stats.t.ppf(0.5 + level / 2, df), df, nc)
    return _tail(stats.t.ppf(level, df), df, nc)


def rate_seeds_needed(exponent_error, sizes, log_sd, *, level=0.95, mode="tight", power=0.8) -> int:
    """Smallest number of seeds per size at which :func:`rate_power` reaches ``power``."""
    target = _check_power(power)
    _, k = _spread(sizes)
    low = 1 if k >= 3 else 2
    return _smallest(lambda r: rate_power(exponent_error, sizes, r, log_sd, level=level, mode=mode) >= target,
                     low, low=low, name="exponent_error")


def geometric_grid(points, span, start=1.0) -> np.ndarray:
    """``points`` sizes spaced geometrically from ``start`` to ``start * span``."""
    return start * np.geomspace(1.0, float(span), int(points))


def rate_grid_needed(exponent_error, span, seeds, log_sd, *, level=0.95, mode="tight", power=0.8) -> int:
    """Smallest number of geometrically spaced sizes covering a factor ``span``
    (e.g. T from 1000 to 16000: span 16) at which :func:`rate_power` reaches ``power``."""
    target = _check_power(power)
    span = check_real("span", span, low=1.0, low_open=True)
    seeds = check_positive_int("seeds", seeds)
    low = 2 if seeds >= 2 else 3
    return _smallest(
        lambda k: rate_power(exponent_error, geometric_grid(k, span), seeds, log_sd, level=level, mode=mode)
        >= target, low, low=low, name="exponent_error")


# -- reference tables -------------------------------------------------------------------------


def unbiased_table(biases=(0.5, 0.2, 0.1, 0.05, 0.02), dims=(1, 10, 100), alpha=1e-3) -> str:
    """Markdown table: samples n needed by ``assert_unbiased`` (t-test) for power 0.8 / 0.9."""
    head = "| bias (in sd) | " + " | ".join(f"d = {d}: power 0.8 / 0.9" for d in dims) + " |"
    lines = [head, "|---|" + "---|" * len(dims)]
    for b in biases:
        cells = [f"{unbiased_samples_needed(b, d=d, alpha=alpha, power=0.8)} / "
                 f"{unbiased_samples_needed(b, d=d, alpha=alpha, power=0.9)}" for d in dims]
        lines.append(f"| {b:g} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def bernstein_table(biases=(0.5, 0.2, 0.1, 0.05), dims=(1, 10, 100), alpha=1e-3, range_sd=2.0) -> str:
    """Markdown table: samples needed by the bounded (empirical Bernstein) test, power 0.8."""
    lines = ["| bias (in sd) | " + " | ".join(f"d = {d}" for d in dims) + " |", "|---|" + "---|" * len(dims)]
    for b in biases:
        cells = [str(unbiased_samples_needed(b, d=d, alpha=alpha, test="bernstein", range_sd=range_sd))
                 for d in dims]
        lines.append(f"| {b:g} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def rate_table(errors=(0.02, 0.05, 0.1, 0.2), log_sds=(0.1, 0.3), points=5, span=16.0, grid_seeds=5) -> str:
    """Markdown table: seeds per size (``points`` sizes over a factor ``span``) and grid
    points (with ``grid_seeds`` seeds) needed by ``assert_rate`` (OLS, level 0.95)."""
    sizes = geometric_grid(points, span)
    lines = [
        f"| exponent error | log_sd | seeds, tight, power 0.8 / 0.9 | seeds, bound, power 0.8 "
        f"| grid points over x{span:g} ({grid_seeds} seeds), tight, power 0.8 |",
        "|---|---|---|---|---|",
    ]
    for s in log_sds:
        for e in errors:
            lines.append(
                f"| {e:g} | {s:g} | {rate_seeds_needed(e, sizes, s, power=0.8)} / "
                f"{rate_seeds_needed(e, sizes, s, power=0.9)} | "
                f"{rate_seeds_needed(e, sizes, s, mode='bound', power=0.8)} | "
                f"{rate_grid_needed(e, span, grid_seeds, s)} |")
    return "\n".join(lines)


def tables() -> str:
    """The three tables quoted in the testing guide, with their default arguments."""
    return "\n\n".join((unbiased_table(), bernstein_table(), rate_table()))
