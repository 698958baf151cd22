"""Oracles and constants of every problem family.

* NumPy reference oracles against finite differences of the values, where each
  sample's value is written out independently here from the family's formula;
* the compiled oracles (``signtheory.problems.oracles``) against the NumPy ones;
* finite sums: the full gradient is the mean of all component gradients;
  stochastic problems: the population gradient (and value, and variance) is the
  Monte Carlo mean of the samples;
* the stated constants (L, L_ms, L_max, G_inf, sigma, f_star) hold where they say
  they do, and the smoothness constants are attained (not vacuous).
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from conftest import (
    FINITE_SUM_NAMES,
    PROBLEM_NAMES,
    STOCHASTIC_NAMES,
    assert_batch_kernels_match,
    empty_payload,
    random_points,
    small_problem,
)

from signtheory.problems import PROBLEMS, make_problem
from signtheory.problems import oracles as compiled

# Monte Carlo tests: N samples, acceptance at 5 standard errors per compared
# number. A two-sided 5-sigma band is exceeded with probability 5.7e-7 per number;
# this module compares fewer than 200 numbers that way, so by Bonferroni the chance
# that any of them fails under fresh randomness is below 1.2e-4 (the seeds are fixed,
# so the outcome itself is deterministic).
MC_SAMPLES = 200_000
MC_Z = 5.0


def psi(u):
    u2 = np.square(u)
    return u2 / (1.0 + u2)


def sample_values(problem, x, idx, z):
    """f(x; sample) for each sample, written from the family's definition."""
    name, d = problem.name, problem.d
    if name == "nonconvex-lsq":
        r = problem.A[idx] @ x - problem.b[idx]
        return 0.5 * r**2 + problem.lam * psi(x).sum()
    if name == "nonconvex-logistic":
        u = problem.A[idx] @ x
        return np.logaddexp(0.0, -problem.b[idx] * u) + problem.lam * psi(x).sum()
    if name == "stochastic-lsq":
        a, eps = z[:, :d], z[:, d]
        return 0.5 * (a @ (x - problem.x_nat) - eps) ** 2 + problem.lam * psi(x).sum()
    if name == "smoothed-separable":
        y = math.sqrt(d) * x[None, :] + z
        h = 0.5 * problem.p * y**2 + problem.q * (1.0 - np.cos(problem.omega * y))
        return h.sum(axis=1) / d
    if name == "sparse-noise-quadratic":
        return 0.5 * x @ x + problem.scale * z[:, 0] * x[0]
    if name == "l1-lsq":  # composite: samples see the smooth part D only
        r = problem.A[idx] @ x - problem.b[idx]
        return 0.5 * r**2 + problem.mu * psi(x).sum()
    if name in ("tv1d-denoise", "tv2d-denoise"):  # composite: D(x) + sigma xi x_i, sample (i, xi)
        r = problem.blur_matrix() @ x - problem.b
        smooth = 0.5 * r @ r + problem.mu / d * psi(math.sqrt(d) * x).sum()
        return smooth + problem.sigma * z[:, 0] * x[idx]
    if name == "mv-counterexample":  # exact gradients: every sample is f
        return np.full(len(idx), np.mean(0.5 * np.log(np.cosh(math.sqrt(d) * x))))
    if name == "noisy-separable":  # f(x) + <xi, x_noisy> / sqrt(d): additive noise on the first w coordinates
        y = math.sqrt(d) * x
        f = np.mean(0.5 * problem.p * y**2 + problem.q * (1.0 - np.cos(problem.omega * y)))
        return f + z @ x[: z.shape[1]] / math.sqrt(d)
    if name == "separable-sum":  # component i: (1/d) sum_k h(sqrt(d) x_k + A_ik)
        u = math.sqrt(d) * x[None, :] + problem.A[idx]
        return np.mean(0.5 * problem.p * u**2 + problem.q * (1.0 - np.cos(problem.omega * u)), axis=1)
    pytest.skip(f"no independent sample value written for {name}")


def central_difference(fun, x, h=1e-6):
    cols = []
    for k in range(x.size):
        e = np.zeros_like(x)
        e[k] = h
        cols.append((fun(x + e) - fun(x - e)) / (2 * h))
    return np.stack(cols, axis=-1)


def draw(problem, n, seed):
    idx, z = problem.draw_samples(np.random.default_rng(seed), (n,))
    return np.ascontiguousarray(idx, dtype=np.int64), np.ascontiguousarray(z)


def eval_points(problem, seed=0, n=3):
    rng = np.random.default_rng(seed)
    return np.vstack([problem.x0[None, :], random_points(problem, rng, n)])


# ---------------------------------------------------------------------------------------------
# Finite differences (h = 1e-6, central: truncation ~1e-12 * |f'''|, round-off ~1e-10 * |f|)
# ---------------------------------------------------------------------------------------------


def test_full_grad_matches_finite_differences_of_value(problem):
    for x in eval_points(problem):
        fd = central_difference(problem.value, x)
        np.testing.assert_allclose(problem.full_grad(x), fd, rtol=1e-5, atol=1e-7)


def test_sample_grads_match_finite_differences_of_sample_values(problem):
    idx, z = draw(problem, 6, seed=1)
    for x in eval_points(problem, seed=2):
        fd = central_difference(lambda y, x=x: sample_values(problem, y, idx, z), x)
        G = problem.sample_grads(x, idx, z)
        assert G.shape == (6, problem.d)
        np.testing.assert_allclose(G, fd, rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------------------------------------
# Compiled oracles against the NumPy reference (different summation order: ~1e-12 relative)
# ---------------------------------------------------------------------------------------------


def test_compiled_full_eval_matches_numpy(problem):
    for x in eval_points(problem, seed=3):
        g = np.full(problem.d, np.nan)
        val = compiled.full_eval(problem.data, x, g)
        ref_val, ref = problem.value(x), problem.full_grad(x)
        if getattr(problem, "is_composite", False):  # F and the gradient mapping (problems.composite)
            ref_val, ref = problem.measure_eval(x)
        assert val == pytest.approx(ref_val, rel=1e-12, abs=1e-14)
        np.testing.assert_allclose(g, ref, rtol=1e-12, atol=1e-13 * (1 + np.abs(ref).max()))


@pytest.mark.parametrize("batch", [1, 5, 17])
def test_compiled_batch_grad_matches_numpy(problem, batch):
    idx, z = draw(problem, batch, seed=4)
    assert_batch_kernels_match(problem, idx, z, eval_points(problem, seed=5))


# ---------------------------------------------------------------------------------------------
# Finite sums: full = mean of all components, exactly
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FINITE_SUM_NAMES)
def test_full_grad_is_mean_of_all_components(name):
    problem = small_problem(name)
    m = problem.m
    all_idx = np.arange(m)
    for x in eval_points(problem, seed=6):
        G = problem.sample_grads(x, all_idx, empty_payload(m))
        np.testing.assert_allclose(G.mean(axis=0), problem.full_grad(x), rtol=1e-12, atol=1e-12)
        vals = sample_values(problem, x, all_idx, empty_payload(m))
        assert vals.mean() == pytest.approx(problem.value(x), rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("name", FINITE_SUM_NAMES)
def test_finite_sum_draws_are_uniform_component_indices(name):
    problem = small_problem(name)
    idx, z = problem.draw_samples(np.random.default_rng(7), (30, 4))
    assert idx.shape == (30, 4) and z.shape == (30, 4, 0)
    assert idx.min() >= 0 and idx.max() < problem.m
    # 40 components, 120 draws: every draw in range, and more than one distinct value
    assert np.unique(idx).size > 10


# ---------------------------------------------------------------------------------------------
# Stochastic problems: Monte Carlo against the population oracles
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", STOCHASTIC_NAMES)
def test_population_oracles_are_means_of_samples(name):
    problem = small_problem(name)
    idx, z = draw(problem, MC_SAMPLES, seed=8)
    for x in eval_points(problem, seed=9, n=1):
        G = problem.sample_grads(x, idx, z)
        mean = G.mean(axis=0)
        se = G.std(axis=0, ddof=1) / math.sqrt(MC_SAMPLES)
        full = problem.full_grad(x)
        dev = np.abs(mean - full)
        # + 1e-9: rounding of a sequential mean of 2e5 numbers on noise-free coordinates
        assert np.all(dev <= MC_Z * se + 1e-9 * (1 + np.abs(full))), (dev / np.maximum(se, 1e-300)).max()

        vals = sample_values(problem, x, idx, z)
        se_v = vals.std(ddof=1) / math.sqrt(MC_SAMPLES)
        assert abs(vals.mean() - problem.value(x)) <= MC_Z * se_v + 1e-12


@pytest.mark.parametrize("name", STOCHASTIC_NAMES)
def test_sigma_at_x0_is_the_noise_level_at_x0(name):
    """sigma_at_x0^2 = E ||g(x0; xi) - grad f(x0)||^2 (Monte Carlo, 5 standard errors)."""
    problem = small_problem(name)
    idx, z = draw(problem, MC_SAMPLES, seed=10)
    x0 = problem.x0
    sq = np.sum((problem.sample_grads(x0, idx, z) - problem.full_grad(x0)) ** 2, axis=1)
    se = sq.std(ddof=1) / math.sqrt(MC_SAMPLES)
    assert abs(sq.mean() - problem.constants()["sigma_at_x0"] ** 2) <= MC_Z * se


@pytest.mark.parametrize("name", FINITE_SUM_NAMES)
def test_sigma_at_x0_finite_sum_exact(name):
    problem = small_problem(name)
    x0, m = problem.x0, problem.m
    G = problem.sample_grads(x0, np.arange(m), empty_payload(m))
    var = np.mean(np.sum((G - problem.full_grad(x0)) ** 2, axis=1))
    assert problem.constants()["sigma_at_x0"] == pytest.approx(math.sqrt(var), rel=1e-10)


# ---------------------------------------------------------------------------------------------
# Smoothness constants
# ---------------------------------------------------------------------------------------------


def random_pairs(problem, rng, n=300):
    """Pairs at widely varying positions (|x| up to ~30) and distances (1e-4 .. 10)."""
    d = problem.d
    x = problem.x0 + rng.standard_normal((n, d)) * 10.0 ** rng.uniform(-2, 1.5, (n, 1))
    step = rng.standard_normal((n, d)) * 10.0 ** rng.uniform(-4, 1, (n, 1))
    return x, x + step


def test_full_gradient_is_L_lipschitz(problem):
    L = problem.constants()["L"]
    xs, ys = random_pairs(problem, np.random.default_rng(11))
    for x, y in zip(xs, ys, strict=True):
        lhs = np.linalg.norm(problem.full_grad(x) - problem.full_grad(y))
        assert lhs <= L * np.linalg.norm(x - y) + 1e-12


def steepest_direction(problem):
    """A unit direction in which the Hessian at 0 has norm L (None where it does not)."""
    d = problem.d
    if problem.name in ("nonconvex-lsq", "nonconvex-logistic", "l1-lsq"):
        return np.linalg.eigh(problem.A.T @ problem.A)[1][:, -1]
    if problem.name in ("tv1d-denoise", "tv2d-denoise"):  # Hessian of D at 0: H^2 + 2 mu I
        H = problem.blur_matrix()
        return np.linalg.eigh(H @ H)[1][:, -1]
    if problem.name == "stochastic-lsq":
        return np.eye(d)[np.argmax(problem.c)]
    if problem.name == "mv-counterexample":  # f'' = 1/2 at 0 along every axis
        return np.eye(d)[0]
    if problem.name == "sparse-noise-quadratic":
        return np.eye(d)[0]
    if problem.name == "noisy-separable":  # h''(0) = p + q omega^2 along every axis
        return np.eye(d)[0]
    return None


def test_L_is_attained_at_the_origin(problem):
    """The stated L is the curvature at 0 in the steepest direction (so it is not loose)."""
    u = steepest_direction(problem)
    if u is None:
        pytest.skip(f"{problem.name}: population curvature never reaches L (only per sample)")
    L = problem.constants()["L"]
    h = 1e-5
    zero = np.zeros(problem.d)
    ratio = np.linalg.norm(problem.full_grad(h * u) - problem.full_grad(zero)) / h
    assert ratio == pytest.approx(L, rel=1e-3)


@pytest.mark.parametrize("name", FINITE_SUM_NAMES)
def test_finite_sum_component_smoothness(name):
    """Every component is L_max-smooth and the mean square of the differences is <= L_ms^2."""
    problem = small_problem(name)
    c = problem.constants()
    m = problem.m
    idx = np.arange(m)
    xs, ys = random_pairs(problem, np.random.default_rng(12), n=100)
    for x, y in zip(xs, ys, strict=True):
        D = problem.sample_grads(x, idx, empty_payload(m)) - problem.sample_grads(y, idx, empty_payload(m))
        norms = np.linalg.norm(D, axis=1)
        dist = np.linalg.norm(x - y)
        assert norms.max() <= c["L_max"] * dist + 1e-12
        assert math.sqrt(np.mean(norms**2)) <= c["L_ms"] * dist + 1e-12
    assert c["L"] <= c["L_ms"] * (1 + 1e-12) and c["L_ms"] <= c["L_max"] * (1 + 1e-12)


def test_smoothed_separable_L_ms_holds_per_sample():
    """A-MS holds pointwise in xi for the smoothed family: ||g(x;xi) - g(y;xi)|| <= L_ms ||x - y||."""
    problem = small_problem("smoothed-separable")
    L_ms = problem.constants()["L_ms"]
    idx, z = draw(problem, 200, seed=13)
    xs, ys = random_pairs(problem, np.random.default_rng(14), n=60)
    for x, y in zip(xs, ys, strict=True):
        D = problem.sample_grads(x, idx, z) - problem.sample_grads(y, idx, z)
        assert np.linalg.norm(D, axis=1).max() <= L_ms * np.linalg.norm(x - y) + 1e-12
    # attained: at y + xi = 0 every coordinate's curvature is p + q omega^2 = L_ms
    zero_sample = np.zeros((1, problem.d))
    h = 1e-6
    e = np.eye(problem.d)[0]
    x = np.zeros(problem.d)
    ratio = np.linalg.norm(problem.sample_grads(x + h * e, idx[:1], zero_sample)
                           - problem.sample_grads(x, idx[:1], zero_sample)) / h
    assert ratio == pytest.approx(L_ms, rel=1e-4)


# ---------------------------------------------------------------------------------------------
# l-infinity bounds and noise bounds on the stated region
# ---------------------------------------------------------------------------------------------


def region_radius(constants):
    region = constants["region"]
    if region == "all of R^d":
        return None
    match = re.fullmatch(r"\|\|x\|\|_2 <= ([0-9.eE+-]+)", region)
    assert match, f"unrecognised region {region!r}"
    return float(match.group(1))


def points_in_region(problem, rho, rng, n=60):
    d = problem.d
    u = rng.standard_normal((n, d))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    if rho is None:  # whole space: go far out
        return u * 10.0 ** rng.uniform(-2, 2, (n, 1))
    r = rho * np.concatenate([rng.uniform(0, 1, n // 2), np.ones(n - n // 2)])  # half on the sphere
    return u * r[:, None]


def all_samples(problem, seed, n=2000):
    if problem.is_finite_sum:
        return np.arange(problem.m), empty_payload(problem.m)
    return draw(problem, n, seed)


G_INF_CASES = [(n, {}) for n in PROBLEM_NAMES] + [("smoothed-separable", {"p": 0.0})]


@pytest.mark.parametrize(("name", "params"), G_INF_CASES, ids=lambda v: str(v) if v else "default")
def test_G_inf_bounds_sample_gradients_on_region(name, params):
    problem = small_problem(name, **params)
    c = problem.constants()
    if c["G_inf"] is None:
        assert c.get("G_inf_note"), "a missing G_inf must come with a note saying why"
        pytest.skip(f"{name} {params}: G_inf is None ({c['G_inf_note']})")
    G_inf = c["G_inf"]
    rho = region_radius(c)
    rng = np.random.default_rng(15)
    pts = list(points_in_region(problem, rho, rng))
    if problem.is_finite_sum and rho is not None:
        # adversarial points: x = -+rho a_i/||a_i|| make |a_i^T x - b_i| = ||a_i|| rho + |b_i|
        for i in range(problem.m):
            a = problem.A[i] / np.linalg.norm(problem.A[i])
            pts += [rho * a, -rho * a]
    idx, z = all_samples(problem, seed=16)
    worst = 0.0
    for x in pts:
        worst = max(worst, np.abs(problem.sample_grads(x, idx, z)).max())
    assert worst <= G_inf + 1e-12
    # and the bound is of the right size (not off by orders of magnitude)
    assert worst >= 0.2 * G_inf


@pytest.mark.parametrize("name", FINITE_SUM_NAMES)
def test_sigma_bounds_component_noise_on_region(name):
    problem = small_problem(name)
    c = problem.constants()
    rho = region_radius(c)
    m = problem.m
    for x in points_in_region(problem, rho, np.random.default_rng(17), n=40):
        G = problem.sample_grads(x, np.arange(m), empty_payload(m))
        std = math.sqrt(np.mean(np.sum((G - problem.full_grad(x)) ** 2, axis=1)))
        assert std <= c["sigma"] + 1e-12


def test_stochastic_lsq_sigma_bounds_noise_on_region():
    problem = small_problem("stochastic-lsq")
    c = problem.constants()
    rho = region_radius(c)
    for x in points_in_region(problem, rho, np.random.default_rng(18), n=40):
        assert problem.sigma_at(x) <= c["sigma"] + 1e-12
    # sigma_at is the noise level: Monte Carlo at one point on the sphere (5 standard errors)
    x = points_in_region(problem, rho, np.random.default_rng(19), n=2)[-1]
    idx, z = draw(problem, MC_SAMPLES, seed=20)
    sq = np.sum((problem.sample_grads(x, idx, z) - problem.full_grad(x)) ** 2, axis=1)
    assert abs(sq.mean() - problem.sigma_at(x) ** 2) <= MC_Z * sq.std(ddof=1) / math.sqrt(MC_SAMPLES)


# ---------------------------------------------------------------------------------------------
# smoothed-separable: closed-form variance and d-independent constants
# ---------------------------------------------------------------------------------------------


def test_smoothed_coordinate_variance_matches_monte_carlo():
    """Var h'(y + xi) in closed form versus the sample variance of sqrt(d) * g_k (5 s.e.)."""
    d = 6
    problem = small_problem("smoothed-separable", d=d)
    ys = np.array([-2.7, -0.9, 0.0, 0.4, 1.6, 3.0])
    x = ys / math.sqrt(d)
    idx, z = draw(problem, MC_SAMPLES, seed=21)
    H = problem.sample_grads(x, idx, z) * math.sqrt(d)  # h'(y_k + xi_k)
    centred = H - H.mean(axis=0)
    var = np.mean(centred**2, axis=0) * MC_SAMPLES / (MC_SAMPLES - 1)
    # standard error of a sample variance: sqrt((mu4 - var^2) / N)
    se = np.sqrt((np.mean(centred**4, axis=0) - var**2) / MC_SAMPLES)
    closed = problem.coordinate_variance(ys)
    assert np.all(np.abs(var - closed) <= MC_Z * se), (var, closed, se)
    # the variance really depends on y (the test is not comparing constants)
    assert closed.max() - closed.min() > 10 * se.max()


def test_smoothed_sigma_bounds_total_noise():
    problem = small_problem("smoothed-separable")
    c = problem.constants()
    rng = np.random.default_rng(22)
    for _ in range(50):
        ys = rng.uniform(-20, 20, problem.d)
        total = problem.coordinate_variance(ys).sum() / problem.d  # E||g - grad f||^2
        assert total <= c["sigma"] ** 2 * (1 + 1e-12)
    assert c["sigma_at_x0"] ** 2 == pytest.approx(problem.coordinate_variance(problem.config["y0"]))


def test_smoothed_constants_do_not_depend_on_d():
    small = make_problem("smoothed-separable", d=4).constants()
    large = make_problem("smoothed-separable", d=400).constants()
    for key in ("L", "L_ms", "sigma", "sigma_at_x0", "delta", "f_star", "f_x0", "dist_x0_to_argmin"):
        assert small[key] == pytest.approx(large[key], rel=1e-12, abs=1e-14), key


def test_smoothed_isotropic_scaling_of_gradient_norms():
    """||grad f_d||_1 = sqrt(d) mean_k |h_s'(y_k)| and ||grad f_d||_2 is d-free at the start."""
    g4 = make_problem("smoothed-separable", d=4)
    g400 = make_problem("smoothed-separable", d=400)
    n4 = np.linalg.norm(g4.full_grad(g4.x0))
    n400 = np.linalg.norm(g400.full_grad(g400.x0))
    assert n4 == pytest.approx(n400, rel=1e-12)
    assert np.abs(g400.full_grad(g400.x0)).sum() == pytest.approx(math.sqrt(400 / 4) * np.abs(
        g4.full_grad(g4.x0)).sum(), rel=1e-12)


def test_smoothed_f_star_is_the_minimum_of_the_profile():
    problem = small_problem("smoothed-separable")
    c = problem.constants()
    ys = np.linspace(-30, 30, 600_001)
    grid_min = problem.h_s(ys).min()
    # grid spacing 1e-4: the grid minimum exceeds the true one by at most L h^2 / 8 < 1e-8
    assert grid_min - 1e-8 <= c["f_star"] <= grid_min + 1e-12
    for x in random_points(problem, np.random.default_rng(23), 200, scale=5.0):
        assert problem.value(x) >= c["f_star"] - 1e-12


# ---------------------------------------------------------------------------------------------
# stochastic-lsq: f_star is the exact minimum
# ---------------------------------------------------------------------------------------------


def test_stochastic_lsq_f_star_is_a_lower_bound_and_attained():
    problem = small_problem("stochastic-lsq")
    c = problem.constants()
    f_star = c["f_star"]
    rng = np.random.default_rng(24)
    for x in list(random_points(problem, rng, 500, scale=3.0)) + [problem.x_nat, problem.x0]:
        assert problem.value(x) >= f_star - 1e-12
    # the objective is separable: minimise each coordinate on a fine grid
    grid = np.linspace(-4, 4, 400_001)[:, None]  # spacing 2e-5, |x_nat| <= radius = 1
    per = 0.5 * problem.c * (grid - problem.x_nat) ** 2 + problem.lam * psi(grid)
    grid_min = per.min(axis=0).sum() + 0.5 * problem.noise**2
    # the grid overestimates each coordinate's minimum by at most L h^2 / 8 ~ 1e-10
    assert grid_min - 1e-8 <= f_star <= grid_min + 1e-12
    assert c["delta"] == pytest.approx(problem.value(problem.x0) - f_star, rel=1e-12)


def test_every_family_is_covered():
    """The helpers above know every registered family (a new one must be added here)."""
    problem_names = set(PROBLEMS)
    assert problem_names == {"nonconvex-lsq", "nonconvex-logistic", "stochastic-lsq",
                             "smoothed-separable", "sparse-noise-quadratic",
                             "tv1d-denoise", "tv2d-denoise", "l1-lsq", "mv-counterexample",
                             "noisy-separable", "separable-sum"}
