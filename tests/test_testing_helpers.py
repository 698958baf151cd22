"""Self-tests of ``signtheory.testing``: the assertions' false-alarm rates and power,
their failure messages, the power calculations and the strategies.

Frequencies over many seeds are judged with exact binomial tests at level 1e-3
(``binomtest``); the seeds are fixed, so the outcomes are deterministic. The long
versions are marked slow.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from scipy import stats

import signtheory
from signtheory.errors import InvalidParameterError
from signtheory.methods import METHODS
from signtheory.problems import PROBLEMS, Param, Problem
from signtheory.testing import (
    assert_rate,
    assert_unbiased,
    fit_rate,
    geometric_grid,
    rate_grid_needed,
    rate_power,
    rate_seeds_needed,
    unbiased_check,
    unbiased_power,
    unbiased_samples_needed,
    unbiased_samples_normal,
)
from signtheory.testing import power as power_module
from signtheory.testing import strategies as sts
from signtheory.testing.unbiased import bernstein_pvalue, holm_adjust
from signtheory.validation import check_positive_int

SELF_TEST_LEVEL = 1e-3
FIND = settings(max_examples=500, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))
DRAWS = settings(max_examples=40, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow])


def binomial_agrees(count, trials, p):
    return stats.binomtest(count, trials, p).pvalue > SELF_TEST_LEVEL


def gaussian(d, mean=0.0):
    def draw(rng, n):
        return mean + rng.standard_normal((n, d))

    return draw


def rejections(draw, expected, seeds, **kw):
    return sum(not unbiased_check(draw, expected, seed=s, **kw).passed for s in range(seeds))


# -- assert_unbiased: false alarms, power, messages ----------------------------------------------


def test_false_alarm_rate_is_alpha_on_an_unbiased_sampler():
    """Bonferroni over d independent coordinates: P(any rejection) = 1 - (1 - alpha/d)^d <= alpha."""
    d, alpha, seeds = 5, 0.05, 1000
    count = rejections(gaussian(d), np.zeros(d), seeds, n=200, alpha=alpha)
    assert binomial_agrees(count, seeds, 1 - (1 - alpha / d) ** d), count


@pytest.mark.slow
@pytest.mark.parametrize("d, n", [(1, 30), (1, 1000), (10, 500)])
def test_false_alarm_rate_is_alpha_on_an_unbiased_sampler_long(d, n):
    alpha, seeds = 0.01, 20000
    count = rejections(gaussian(d), np.zeros(d), seeds, n=n, alpha=alpha)
    assert binomial_agrees(count, seeds, 1 - (1 - alpha / d) ** d), count


def test_bounded_test_has_no_excess_false_alarms_on_nearly_degenerate_signs():
    """+-1 samples that are +1 with probability 1 - q for tiny q: n samples are often all +1.
    The t-test reads such a coordinate as deterministic and rejects; the bounded test does not."""
    q = np.array([1e-5, 1e-4, 1e-3, 0.5])
    expected = 1.0 - 2.0 * q

    def draw(rng, n):
        return np.where(rng.random((n, q.size)) < q, -1.0, 1.0)

    seeds, alpha = 200, 0.05
    assert rejections(draw, expected, seeds, alpha=alpha) > 0.5 * seeds
    count = rejections(draw, expected, seeds, alpha=alpha, bounds=(-1, 1))
    assert stats.binomtest(count, seeds, alpha, alternative="greater").pvalue > SELF_TEST_LEVEL


def test_power_at_the_documented_sample_size():
    """A bias of 0.2 standard deviations on one of 10 coordinates, alpha = 1e-3: detected
    with probability 0.8 at the sample size given by the power calculation."""
    d, alpha, bias = 10, 1e-3, 0.2
    n = unbiased_samples_needed(bias, d=d, alpha=alpha, power=0.8)
    assert unbiased_power(n, bias, d=d, alpha=alpha) >= 0.8 > unbiased_power(n - 1, bias, d=d, alpha=alpha)
    planted = np.zeros(d)
    planted[3] = bias
    seeds = 1000
    detected = rejections(gaussian(d, planted), np.zeros(d), seeds, n=n, alpha=alpha)
    assert binomial_agrees(detected, seeds, unbiased_power(n, bias, d=d, alpha=alpha)), detected


def test_power_of_the_bounded_test_matches_its_approximation():
    """+-1 samples with mean shifted by bias * sd; the normal approximation of the Bernstein test's power."""
    d, alpha, bias, seeds = 4, 1e-3, 0.1, 300
    p0 = 0.5
    sd = 1.0  # +-1 with probability 1/2 each
    n = unbiased_samples_needed(bias, d=d, alpha=alpha, test="bernstein", range_sd=2.0 / sd)
    shifted = p0 + bias * sd / 2.0  # P(+1) giving mean bias * sd

    def draw(rng, m):
        probs = np.full(d, p0)
        probs[0] = shifted
        return np.where(rng.random((m, d)) < probs, 1.0, -1.0)

    detected = rejections(draw, np.zeros(d), seeds, n=n, alpha=alpha, bounds=(-1, 1))
    power = unbiased_power(n, bias, d=d, alpha=alpha, test="bernstein", range_sd=2.0)
    assert binomial_agrees(detected, seeds, power), (detected, power)


def test_deterministic_sign_in_place_of_the_stochastic_sign_fails_with_a_clear_message():
    v, R = np.array([0.3, -0.2, 0.0, 0.9]), 1.0

    def deterministic_sign(rng, n):
        return np.tile(np.sign(v), (n, 1))

    with pytest.raises(AssertionError, match=r"estimator is biased \(S_R\): 3 of 4 coordinate") as err:
        assert_unbiased(deterministic_sign, v / R, label="S_R")
    msg = str(err.value)
    for piece in ("n = 4000 samples", "alpha = 0.001", "alpha/d = 0.00025", "Bonferroni", "bias", "std.err",
                  "z", "p-value", "Holm p", "zero sample variance"):
        assert piece in msg, piece
    lines = [line.split() for line in msg.splitlines() if line.strip()[:1].isdigit()]
    assert sorted(int(line[0]) for line in lines) == [0, 1, 3]  # the coordinate with v_k = 0 passes


def test_partly_random_bias_is_reported_with_its_z_score():
    """S_R with the wrong radius (2R): E = v/(2R), a finite z-score per coordinate."""
    v, R = np.array([0.6, -0.8, 0.0]), 1.0

    def wrong_radius(rng, n):
        return np.where(rng.random((n, v.size)) < 0.5 * (1 + v / (2 * R)), 1.0, -1.0)

    with pytest.raises(AssertionError, match=r"2 of 3 coordinate") as err:
        assert_unbiased(wrong_radius, v / R, bounds=(-1, 1), seed=7)
    check = unbiased_check(wrong_radius, v / R, bounds=(-1, 1), seed=7)
    assert np.all(np.isfinite(check.z)) and abs(check.z[1]) > 10 and abs(check.z[2]) < 5
    assert f"{check.z[1]:.3g}" in str(err.value)
    assert "seed = 7" in str(err.value)


def test_zero_variance_coordinates_are_checked_exactly():
    c = np.array([1.5, -2.0, 0.0])

    def constant(rng, n):
        return np.tile(c, (n, 1))

    assert assert_unbiased(constant, c).degenerate.all()
    assert_unbiased(constant, c * (1 + 1e-13))  # floating tolerance
    with pytest.raises(AssertionError, match="zero sample variance"):
        assert_unbiased(constant, c + np.array([0.0, 1e-6, 0.0]))


def test_unbiased_checks_its_input():
    with pytest.raises(InvalidParameterError, match="alpha"):
        assert_unbiased(gaussian(2), np.zeros(2), alpha=1.5)
    with pytest.raises(InvalidParameterError, match="expected"):
        assert_unbiased(gaussian(2), np.zeros(3))
    with pytest.raises(InvalidParameterError, match="draw"):
        assert_unbiased(lambda rng, n: np.zeros((n - 1, 2)), np.zeros(2))
    with pytest.raises(InvalidParameterError, match="bounds"):
        assert_unbiased(gaussian(2), np.zeros(2), bounds=(-1, 1))
    check = assert_unbiased(lambda rng, n: rng.standard_normal(n), 0.0)  # 1-D: d = 1
    assert check.d == 1 and check.n == 4000 and check.test == "t"


# -- assert_rate ---------------------------------------------------------------------------------


def planted_rate(slope, sizes, seeds, log_sd, seed, scale=3.0):
    rng = np.random.default_rng(seed)
    return {s: scale * s**slope * np.exp(log_sd * rng.standard_normal(seeds)) for s in sizes}


SIZES = tuple(geometric_grid(5, 16, 1000))


def test_tight_rate_passes_on_the_planted_exponent_and_returns_the_fit():
    values = planted_rate(-1 / 3, SIZES, 8, 0.1, seed=0)
    fit = assert_rate(values, -1 / 3)
    assert fit.interval[0] < fit.slope < fit.interval[1] and fit.df == 38 and fit.n_points == 40
    assert abs(fit.slope + 1 / 3) < 0.05 and fit.intercept == pytest.approx(np.log(3.0), abs=0.5)
    boot = assert_rate(values, -1 / 3, method="bootstrap")
    assert boot.interval[0] < boot.slope < boot.interval[1]
    assert boot.slope == pytest.approx(fit.slope, abs=0.01)


def test_tight_rate_fails_on_a_wrong_exponent_with_a_clear_message():
    values = planted_rate(-1 / 3, SIZES, 8, 0.1, seed=0)
    with pytest.raises(AssertionError, match=r"mode 'tight'.*not compatible with the exponent -0\.5000") as err:
        assert_rate(values, -0.5, label="ssvr")
    msg = str(err.value)
    fit = fit_rate(values)
    for piece in (f"{fit.slope:.4f}", f"{fit.interval[0]:.4f}", f"{fit.interval[1]:.4f}", "1000, 2000, 4000",
                  "seeds per size: [8, 8, 8, 8, 8]", "38 df", "(ssvr)"):
        assert piece in msg, piece
    assert_rate(values, -0.5, tol=0.25)  # a wide enough pre-registered margin accepts it


def test_bound_mode_accepts_faster_decay_and_rejects_slower_decay():
    faster = planted_rate(-0.5, SIZES, 8, 0.1, seed=1)
    slower = planted_rate(-0.2, SIZES, 8, 0.1, seed=1)
    assert_rate(faster, -1 / 3, mode="bound")
    with pytest.raises(AssertionError, match=r"mode 'bound'.*significantly larger than the exponent -0\.3333"):
        assert_rate(slower, -1 / 3, mode="bound")
    with pytest.raises(AssertionError, match="not compatible"):
        assert_rate(faster, -1 / 3, mode="tight")


@pytest.mark.parametrize("mode", ["tight", "bound"])
def test_rate_false_alarm_rate_is_one_minus_level(mode):
    reps, level = 2000, 0.9
    count = 0
    for r in range(reps):
        try:
            assert_rate(planted_rate(-0.5, SIZES, 3, 0.2, seed=r), -0.5, mode=mode, level=level)
        except AssertionError:
            count += 1
    assert binomial_agrees(count, reps, 1 - level), count


def test_rate_power_matches_simulation():
    err, log_sd, reps = 0.05, 0.1, 1000
    seeds = rate_seeds_needed(err, SIZES, log_sd, power=0.8)
    power = rate_power(err, SIZES, seeds, log_sd)
    assert power >= 0.8 > rate_power(err, SIZES, seeds - 1, log_sd)
    detected = 0
    for r in range(reps):
        try:
            assert_rate(planted_rate(-1 / 3 + err, SIZES, seeds, log_sd, seed=r), -1 / 3)
        except AssertionError:
            detected += 1
    assert binomial_agrees(detected, reps, power), (detected, power)


def test_rate_grid_needed_is_minimal():
    k = rate_grid_needed(0.05, 16, 5, 0.1)
    power = [rate_power(0.05, geometric_grid(points, 16), 5, 0.1) for points in (k - 1, k)]
    assert power[1] >= 0.8 > power[0]
    assert rate_power(0.0, SIZES, 5, 0.1) == pytest.approx(0.05, abs=1e-6)  # no error: the false-alarm rate
    assert rate_power(-0.1, SIZES, 5, 0.1, mode="bound") < 0.05


def test_rate_checks_its_input():
    with pytest.raises(InvalidParameterError, match="values_by_size"):
        assert_rate({100: [1.0, -1.0], 200: [1.0, 2.0]}, -0.5)
    with pytest.raises(InvalidParameterError, match="two distinct sizes"):
        assert_rate({100: [1.0, 2.0, 3.0]}, -0.5)
    with pytest.raises(InvalidParameterError, match="mode"):
        assert_rate({100: [1.0, 2.0], 200: [1.0, 2.0]}, -0.5, mode="exact")
    with pytest.raises(InvalidParameterError, match="bootstrap"):
        assert_rate({100: [1.0], 200: [1.0], 400: [0.5]}, -0.5, method="bootstrap")
    fit = assert_rate([(100, [2.0]), (200, [1.0]), (400, [0.5])], -1.0)  # pairs, one seed per size
    assert fit.slope == pytest.approx(-1.0) and fit.df == 1


def test_bernstein_pvalue_inverts_the_bound():
    n, var, width = 500, 0.3, 2.0
    for delta in (0.5, 1e-2, 1e-6):
        L = math.log(4 / delta)
        threshold = math.sqrt(2 * var * L / n) + 7 * width * L / (3 * (n - 1))
        assert bernstein_pvalue(threshold, var, n, width) == pytest.approx(delta, rel=1e-9)
    assert bernstein_pvalue(0.0, var, n, width) == 1.0


def test_holm_adjustment():
    p = np.array([0.01, 0.04, 0.03, 0.5])
    assert np.allclose(holm_adjust(p), [0.04, 0.09, 0.09, 0.5])


# -- power calculations ------------------------------------------------------------------------


@pytest.mark.parametrize("bias, d", [(0.2, 1), (0.1, 10), (0.05, 100)])
def test_sample_size_agrees_with_the_normal_approximation(bias, d):
    exact = unbiased_samples_needed(bias, d=d, alpha=1e-3)
    approx = unbiased_samples_normal(bias, d=d, alpha=1e-3)
    assert approx <= exact <= 1.03 * approx + 5
    assert unbiased_samples_needed(bias, d=d, power=0.9) > exact
    assert unbiased_samples_needed(bias / 2, d=d) == pytest.approx(4 * exact, rel=0.02)


def test_the_guide_quotes_the_computed_power_tables():
    guide = Path(__file__).resolve().parents[1] / "docs" / "testing.md"
    if not guide.exists():
        pytest.skip("the documentation is not part of this installation")
    text = guide.read_text()
    for table in power_module.tables().split("\n\n"):
        assert table in text


def test_power_helpers_check_their_input():
    with pytest.raises(InvalidParameterError, match="bias_sd"):
        unbiased_samples_needed(0.0)
    with pytest.raises(InvalidParameterError, match="range_sd"):
        unbiased_power(100, 0.1, test="bernstein")
    with pytest.raises(InvalidParameterError, match="sizes"):
        rate_power(0.1, [10, 10], 5, 0.1)


# -- strategies ----------------------------------------------------------------------------------


@DRAWS
@given(sts.vectors())
def test_vectors_are_finite_float64(v):
    assert v.dtype == np.float64 and 1 <= v.size <= 16 and np.all(np.isfinite(v))


def test_vectors_include_exact_zeros_and_values_near_zero():
    assert (find(sts.vectors(), lambda v: np.any(v == 0), settings=FIND) == 0).any()
    tiny = find(sts.vectors(), lambda v: np.any((v != 0) & (np.abs(v) < 1e-300)), settings=FIND)
    assert np.any((tiny != 0) & (np.abs(tiny) < 1e-300))


@DRAWS
@given(sts.vectors_and_radii(inside=True), sts.vectors_and_radii(inside=False), sts.vectors_and_radii(d=3))
def test_radii_put_vectors_inside_or_outside_the_ball(inside, outside, either):
    v, R = inside
    assert R > 0 and np.max(np.abs(v)) <= R
    v, R = outside
    assert np.max(np.abs(v)) > R
    assert either[0].shape == (3,)


@DRAWS
@given(sts.problems())
def test_problems_are_small_registered_instances(problem):
    assert isinstance(problem, Problem) and problem.name in PROBLEMS
    assert problem.d <= 64
    assert problem.full_grad(problem.x0).shape == (problem.d,)


class _NewFamily(Problem):
    name = "new-family"
    params = (Param("d", 4, check_positive_int, "dimension"),)

    def build(self, d):
        self.d, self.m, self.x0 = d, None, np.zeros(d)


def test_problems_pick_up_families_registered_later(monkeypatch):
    monkeypatch.setitem(PROBLEMS, _NewFamily.name, _NewFamily)
    found = find(sts.problems(), lambda p: p.name == "new-family", settings=FIND)
    assert isinstance(found, _NewFamily) and 1 <= found.d <= 8


@DRAWS
@given(sts.worker_splits())
def test_worker_splits_are_valid(split):
    n, mode, h = split
    assert 1 <= n <= 9 and mode in sts.SPLIT_MODES
    assert {"homogeneous": h == 0.0, "shift": h >= 0.0, "dirichlet": h > 0.0}[mode]
    assert split.kwargs == {"shift": {"zeta": h}, "dirichlet": {"alpha": h}}.get(mode, {})


@DRAWS
@given(sts.worker_splits(problem=signtheory.make_problem("stochastic-lsq", d=3)))
def test_worker_splits_leave_out_dirichlet_for_stochastic_problems(split):
    assert split.mode != "dirichlet"


@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(sts.method_configs())
def test_method_configs_are_valid(config):
    method = METHODS[config.name]
    method.check_problem(config.problem)
    assert 3 <= config.T <= 40
    hp = method.resolve(config.problem, config.T, config.overrides)
    for key, value in config.overrides.items():
        assert hp[key] == value


@pytest.mark.slow
@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(sts.method_configs(T=st.integers(3, 12)))
def test_method_configs_run(config):
    trace = signtheory.run(config.name, config.problem, config.T, seeds=1, **config.overrides)
    assert trace.config["T"] == config.T


def test_importing_the_package_does_not_import_hypothesis():
    code = ("import sys, signtheory; assert 'hypothesis' not in sys.modules; "
            "from signtheory.testing import assert_unbiased, assert_rate; "
            "assert 'hypothesis' not in sys.modules; "
            "from signtheory.testing import vectors; assert 'hypothesis' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
