"""``assert_unbiased``: is the mean of an estimator's samples the expected vector?

The test
--------
``draw(rng, n)`` returns n independent samples of a d-dimensional estimator as an
(n, d) array. Each coordinate k is tested on its own for E[sample_k] = expected_k:

* by default with a two-sided one-sample t-test (statistic bias_k / (s_k/sqrt(n)),
  n - 1 degrees of freedom); its false-alarm rate is alpha up to the error of the
  central limit theorem in the tail, which is small for n in the thousands unless
  the samples are very skewed or heavy-tailed;
* with ``bounds=(lo, hi)`` (samples known to lie in [lo, hi], e.g. (-1, 1) for
  sign compressors) with the empirical Bernstein inequality of Maurer and Pontil
  (2009, Theorem 4, two-sided): a non-asymptotic test, valid at every n and for
  every law on [lo, hi], including nearly degenerate ones (a coordinate that is
  +1 with probability 1 - 1e-6), where the t-test's normal approximation fails.

Multiplicity: the d tests are combined with the Bonferroni correction, each at
level alpha/d, so the probability of any false alarm is at most alpha whatever
the dependence between coordinates. It needs no estimate and no inversion of the
d x d covariance (a Hotelling T^2 test would, and would need n > d), so it works
for any d. Holm's step-down procedure rejects the global hypothesis exactly when
Bonferroni does; it only sharpens *which* coordinates are flagged, and the
report lists Holm-adjusted p-values for that purpose.

Coordinates whose samples are all equal (spread <= atol + rtol * scale) are
checked exactly: their mean must equal the expected value up to that floating
tolerance (with ``bounds``, a Markov bound gives an exact p-value instead, since
a bounded law can put all n samples on one value with positive probability).
A coordinate whose bias is below the floating tolerance never fails.

Power: see :mod:`signtheory.testing.power` (``unbiased_samples_needed``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..errors import InvalidParameterError
from ..validation import check_positive_int, check_real

DEFAULT_SAMPLES = 4000


@dataclass(frozen=True)
class UnbiasedCheck:
    """Per-coordinate results of :func:`assert_unbiased` (arrays of length d)."""

    n: int
    alpha: float
    test: str
    mean: np.ndarray
    expected: np.ndarray
    std_err: np.ndarray
    z: np.ndarray
    pvalue: np.ndarray
    holm: np.ndarray
    degenerate: np.ndarray
    rejected: np.ndarray

    @property
    def d(self) -> int:
        return int(self.mean.shape[0])

    @property
    def bias(self) -> np.ndarray:
        return self.mean - self.expected

    @property
    def passed(self) -> bool:
        return not bool(self.rejected.any())


def holm_adjust(p) -> np.ndarray:
    """Holm-adjusted p-values (step-down, monotone, capped at 1)."""
    p = np.asarray(p, dtype=float)
    d = p.size
    order = np.argsort(p, kind="stable")
    adj = np.minimum(1.0, np.maximum.accumulate((d - np.arange(d)) * p[order]))
    out = np.empty(d)
    out[order] = adj
    return out


def bernstein_pvalue(abs_bias, var, n, width):
    """Two-sided p-value of the empirical Bernstein bound (Maurer and Pontil 2009).

    With probability at least 1 - delta, |mean - mu| <= sqrt(2 V L / n) + 7 w L / (3 (n - 1)),
    L = ln(4/delta), for n samples with sample variance V of a law supported on an
    interval of width w. Returns the smallest delta whose bound is below ``abs_bias``.
    """
    a = np.sqrt(2.0 * np.asarray(var, dtype=float) / n)
    b = 7.0 * width / (3.0 * (n - 1))
    y = (-a + np.sqrt(a * a + 4.0 * b * abs_bias)) / (2.0 * b)  # y = sqrt(L)
    return np.minimum(1.0, 4.0 * np.exp(-y * y))


def _markov_pvalue(c, e, n, lo, hi):
    """P(all n samples equal c) for a law on [lo, hi] with mean e (Markov bound)."""
    if not lo <= e <= hi:
        return 0.0
    if c > e:
        ratio = (e - lo) / (c - lo)
    else:
        ratio = (hi - e) / (hi - c)
    return float(ratio**n) if ratio > 0 else 0.0


def _samples(draw, rng, n):
    X = np.asarray(draw(rng, n), dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or X.shape[0] != n:
        raise InvalidParameterError(
            "draw", f"a function returning shape {X.shape}", f"must return an (n, d) array with n = {n}")
    if not np.all(np.isfinite(X)):
        bad = np.flatnonzero(~np.all(np.isfinite(X), axis=0))
        raise InvalidParameterError(
            "draw", "a function returning NaN or Inf",
            f"must return finite samples (coordinates {bad[:5].tolist()})")
    return X


def unbiased_check(
    draw, expected, *, n=DEFAULT_SAMPLES, alpha=1e-3, seed=0, bounds=None, rtol=1e-9, atol=1e-12
) -> UnbiasedCheck:
    """Run the test of :func:`assert_unbiased` and return its results without asserting."""
    n = check_positive_int("n", n)
    if n < 2:
        raise InvalidParameterError("n", n, "must be an integer >= 2")
    alpha = check_real("alpha", alpha, low=0.0, high=1.0, low_open=True, high_open=True)
    rtol = check_real("rtol", rtol, low=0.0)
    atol = check_real("atol", atol, low=0.0)
    if bounds is not None:
        if len(bounds) != 2:
            raise InvalidParameterError("bounds", bounds, "must be None or a pair (lo, hi) with lo < hi")
        lo, hi = (check_real("bounds", b) for b in bounds)
        if not lo < hi:
            raise InvalidParameterError("bounds", bounds, "must be None or a pair (lo, hi) with lo < hi")
    X = _samples(draw, np.random.default_rng(seed), n)
    d = X.shape[1]
    e = np.asarray(expected, dtype=np.float64)
    if e.ndim > 1 or (e.ndim == 1 and e.shape[0] not in (1, d)):
        raise InvalidParameterError(
            "expected", f"array of shape {e.shape}", f"must be a scalar or a vector of length {d}")
    e = np.broadcast_to(e, (d,)).astype(np.float64)
    if not np.all(np.isfinite(e)):
        raise InvalidParameterError("expected", "vector with NaN or Inf", "must be finite")
    if bounds is not None and (X.min() < lo or X.max() > hi):
        raise InvalidParameterError(
            "bounds", bounds,
            f"must contain every sample; the samples range over [{X.min():.6g}, {X.max():.6g}]")

    mean = X.mean(axis=0)
    sd = X.std(axis=0, ddof=1)
    se = sd / math.sqrt(n)
    bias = mean - e
    tol = atol + rtol * np.maximum(np.abs(e), np.max(np.abs(X), axis=0))
    degenerate = (X.max(axis=0) - X.min(axis=0)) <= tol
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, bias / se, np.where(np.abs(bias) > tol, np.copysign(np.inf, bias), 0.0))

    p = np.ones(d)
    live = ~degenerate
    if bounds is None:
        test = "t"
        p[live] = 2.0 * stats.t.sf(np.abs(z[live]), n - 1)
        p[degenerate] = np.where(np.abs(bias[degenerate]) > tol[degenerate], 0.0, 1.0)
    else:
        test = "bernstein"
        p[live] = bernstein_pvalue(np.abs(bias[live]), sd[live] ** 2, n, hi - lo)
        for k in np.flatnonzero(degenerate):
            if abs(bias[k]) > tol[k]:
                p[k] = _markov_pvalue(mean[k], e[k], n, lo, hi)
    p = np.where(np.abs(bias) <= tol, 1.0, p)
    rejected = p <= alpha / d
    return UnbiasedCheck(n, alpha, test, mean, e, se, z, p, holm_adjust(p), degenerate, rejected)


def describe_failure(check: UnbiasedCheck, *, seed=0, show=5, label=None) -> str:
    d, n, alpha = check.d, check.n, check.alpha
    name = {
        "t": "two-sided one-sample t-test per coordinate",
        "bernstein": "two-sided empirical Bernstein bound per coordinate (samples in the given bounds)",
    }[check.test]
    bad = np.flatnonzero(check.rejected)
    order = bad[np.lexsort((-np.abs(check.z[bad]), check.pvalue[bad]))]
    lines = [
        ("the estimator is biased" + (f" ({label})" if label else "")
         + f": {bad.size} of {d} coordinate(s) reject E[sample] = expected"),
        f"  n = {n} samples, d = {d} coordinates, seed = {seed}",
        f"  test: {name}; Bonferroni over the d coordinates, each at alpha/d = {alpha / d:.3g}, "
        f"so the family-wise false-alarm rate is at most alpha = {alpha:g}",
        f"  worst coordinate(s) (at most {show}):",
        f"  {'coord':>6} {'mean':>12} {'expected':>12} {'bias':>12} {'std.err':>11} {'z':>9} "
        f"{'p-value':>9} {'Holm p':>9}",
    ]
    for k in order[:show]:
        note = "  (all samples equal: zero sample variance)" if check.degenerate[k] else ""
        lines.append(
            f"  {k:>6d} {check.mean[k]:>12.5g} {check.expected[k]:>12.5g} {check.bias[k]:>12.4g} "
            f"{check.std_err[k]:>11.3g} {check.z[k]:>9.3g} {check.pvalue[k]:>9.2g} {check.holm[k]:>9.2g}{note}")
    if bad.size > show:
        lines.append(f"  ... and {bad.size - show} more")
    return "\n".join(lines)


def assert_unbiased(
    draw,
    expected,
    *,
    n=DEFAULT_SAMPLES,
    alpha=1e-3,
    seed=0,
    bounds=None,
    rtol=1e-9,
    atol=1e-12,
    show=5,
    label=None,
) -> UnbiasedCheck:
    """Assert that the samples returned by ``draw`` have mean ``expected``.

    Parameters
    ----------
    draw : callable
        ``draw(rng, n)`` returns an (n, d) array of independent samples of the
        estimator (a 1-D array is read as d = 1), using only ``rng`` (a NumPy
        Generator) for its randomness.
    expected : array_like
        The vector the estimator should be unbiased for (a scalar broadcasts).
    n : int
        Number of samples (default 4000).
    alpha : float
        Family-wise false-alarm rate: the probability that an unbiased estimator
        fails, over the randomness of ``rng`` (default 1e-3).
    seed : int
        Seed of ``rng``: the outcome is deterministic for a given seed.
    bounds : (lo, hi), optional
        Known support of every sample; switches to the empirical Bernstein test,
        valid at any n (see the module docstring).
    rtol, atol : float
        Floating tolerance on the mean of a coordinate whose samples are all equal,
        and below which a bias is never reported.
    show : int
        How many of the worst coordinates the failure message lists.

    Returns
    -------
    UnbiasedCheck
        The per-coordinate means, standard errors, z-scores and p-values.

    Raises
    ------
    AssertionError
        When some coordinate rejects; the message lists the worst coordinates with
        their estimated bias, standard error, z-score and p-values, n and alpha.
    """
    check = unbiased_check(draw, expected, n=n, alpha=alpha, seed=seed, bounds=bounds, rtol=rtol, atol=atol)
    if not check.passed:
        raise AssertionError(describe_failure(check, seed=seed, show=show, label=label))
    return check
