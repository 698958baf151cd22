"""``separable-sum``: a finite sum of perturbed copies of an isotropic separable profile.

* the compiled oracles against the NumPy reference on the same draws;
* the full gradient and value are the means over all m components (the compiled full
  evaluation equals the compiled batch over every component bit for bit);
* the closed-form per-coordinate profile and dispersion against direct means over the rows;
* nested draws: the rows for m = 64 are the first rows for m = 256, and the columns for
  d = 4 the first columns for d = 256;
* d-isotropy and m-stability of f, ||grad f||_2 and the constants;
* the constants hold and are attained (L_ms = L_max, L_f, sigma, G_inf, f_star);
* the finite-sum methods run on it;
* bad parameters raise InvalidParameterError naming them.

Statistical tolerances. Every constant, and f and ||grad f||_2^2 at x = (y / sqrt(d)) 1, is a
mean over the d coordinates of a per-coordinate quantity q_k computed from column k of the
perturbations alone; the columns are i.i.d., so the q_k are i.i.d. across k. Nesting makes
the d = 4 instance's mean a sub-mean of the d = 256 one's, so their difference has standard
deviation tau sqrt(1/4 - 1/256), tau = std(q_k), estimated from the 256 coordinates: that
is the whole dependence on d, and it shrinks like 1/sqrt(m) because each q_k averages m
rows. Each of the N_COMPARED numbers below is held to a two-sided normal band of Z
standard errors, with Z chosen by Bonferroni so that the chance of any false alarm under
fresh perturbations is at most 1e-3 (CLT approximation over coordinates; the seeds are
fixed, so the outcome itself is deterministic).
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest
from conftest import assert_batch_kernels_match

import signtheory as st
from signtheory.problems import make_problem
from signtheory.problems import oracles as compiled
from signtheory.problems.separable_sum import perturbations

D, M = 11, 40  # 8 + 3 coordinates: both the unrolled part and the tail of any compiled reduction
# d-isotropy (12 numbers) + m-stability (4 m values x 3 numbers) + the law of the draws (4 numbers)
N_COMPARED = 12 + 12 + 4
Z = NormalDist().inv_cdf(1.0 - 1e-3 / (2 * N_COMPARED))  # ~4.1


def make(d=D, m=M, **params):
    return make_problem("separable-sum", d=d, m=m, **params)


def points(problem, seed, n=3):
    rng = np.random.default_rng(seed)
    return problem.x0[None, :] + rng.standard_normal((n, problem.d)) * rng.uniform(0.1, 2.0, (n, 1))


def draw(problem, n, seed):
    idx, z = problem.draw_samples(np.random.default_rng(seed), (n,))
    return np.ascontiguousarray(idx, dtype=np.int64), np.ascontiguousarray(z)


def component_values(problem, x):
    """f_i(x) for every component, written from the definition."""
    u = math.sqrt(problem.d) * x[None, :] + problem.A
    return np.mean(0.5 * problem.p * u**2 + problem.q * (1.0 - np.cos(problem.omega * u)), axis=1)


def dispersion_at(problem, x):
    """(1/m) sum_i ||grad f_i(x) - grad f(x)||_2^2, directly from the component gradients."""
    G = problem.sample_grads(x, np.arange(problem.m))
    return float(np.mean(np.sum((G - G.mean(axis=0)) ** 2, axis=1)))


CONFIGS = [{}, {"p": 0.0}, {"s": 2.0, "omega": 0.7}]


# ---------------------------------------------------------------------------------------------
# Compiled oracles against the NumPy reference, same draws
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("params", CONFIGS, ids=str)
@pytest.mark.parametrize("batch", [1, 5, 17])
def test_compiled_batch_gradient_matches_reference(params, batch):
    problem = make(**params)
    idx, z = draw(problem, batch, seed=batch)
    assert z.shape == (batch, 0) and idx.min() >= 0 and idx.max() < problem.m
    pts = points(problem, seed=1)
    assert_batch_kernels_match(problem, idx, z, pts)
    for x1, x2 in zip(pts, pts[::-1], strict=True):
        ref1, ref2 = problem.batch_grad(x1, idx, z), problem.batch_grad(x2, idx, z)
        tol = 1e-13 * (1 + max(np.abs(ref1).max(), np.abs(ref2).max()))
        out = np.full(D, 0.5)
        compiled.batch_grad_combo(problem.data, x1, 0.3, x2, -1.7, idx, z, out)
        np.testing.assert_allclose(out, 0.5 + 0.3 * ref1 - 1.7 * ref2, rtol=1e-12, atol=4 * tol)


@pytest.mark.parametrize("params", CONFIGS, ids=str)
def test_compiled_full_eval_matches_reference(params):
    problem = make(**params)
    for x in points(problem, seed=2):
        g = np.full(D, np.nan)
        val = compiled.full_eval(problem.data, x, g)
        assert val == pytest.approx(problem.value(x), rel=1e-12, abs=1e-14)
        ref = problem.full_grad(x)
        np.testing.assert_allclose(g, ref, rtol=1e-12, atol=1e-13 * (1 + np.abs(ref).max()))


# ---------------------------------------------------------------------------------------------
# The full gradient and value are the means over the m components
# ---------------------------------------------------------------------------------------------


def test_full_gradient_is_the_mean_of_the_component_gradients():
    problem = make()
    every = np.arange(problem.m, dtype=np.int64)
    empty = np.empty((problem.m, 0))
    for x in points(problem, seed=3):
        g_full, g_all = np.full(D, np.nan), np.full(D, np.nan)
        val = compiled.full_eval(problem.data, x, g_full)
        compiled.batch_grad(problem.data, x, every, empty, g_all)
        assert np.array_equal(g_full, g_all)  # same sums in the same order: exactly equal
        G = problem.sample_grads(x, every)
        np.testing.assert_allclose(G.mean(axis=0), g_full, rtol=1e-13, atol=1e-14)
        assert val == pytest.approx(component_values(problem, x).mean(), rel=1e-13)


def test_closed_form_profiles_match_the_row_means():
    """hbar_k, hbar_k' and V_k from the column statistics equal the direct means over rows."""
    problem = make(s=1.3)
    ks = np.arange(D)
    for y in (-2.4, 0.0, 0.9, 3.0, 17.5):
        u = y + problem.A  # (m, d)
        direct_h = np.mean(problem.h(u), axis=0)
        hp = problem.h_grad(u)
        np.testing.assert_allclose(problem.profile(ks, y), direct_h, rtol=1e-12)
        np.testing.assert_allclose(problem.dispersion(ks, y), hp.var(axis=0), rtol=1e-10, atol=1e-12)
        x = np.full(D, y / math.sqrt(D))
        assert problem.value(x) == pytest.approx(problem.profile(ks, y).mean(), rel=1e-12)
        assert dispersion_at(problem, x) == pytest.approx(hp.var(axis=0).mean(), rel=1e-10)


# ---------------------------------------------------------------------------------------------
# Nested draws
# ---------------------------------------------------------------------------------------------


def test_rows_are_prefix_stable_in_m_and_columns_in_d():
    small, large = make(d=8, m=64), make(d=8, m=256)
    assert np.array_equal(small.A, large.A[:64])
    narrow, wide = make(d=4, m=64), make(d=256, m=64)
    assert np.array_equal(narrow.A, wide.A[:, :4])
    # row i is s times the standard normals of the child i of SeedSequence(instance_seed)
    children = np.random.SeedSequence(3).spawn(5)
    rows = np.stack([np.random.default_rng(c).standard_normal(6) for c in children])
    assert np.array_equal(perturbations(3, 5, 6, 0.25), 0.25 * rows)
    assert np.array_equal(make(d=6, m=5, s=0.25, instance_seed=3).A, 0.25 * rows)
    assert not np.array_equal(make(d=6, m=5, instance_seed=4).A, make(d=6, m=5, instance_seed=3).A)


def test_perturbations_have_the_stated_law():
    """A_ik ~ N(0, s^2) i.i.d.: mean, variance and neighbour correlations of 64 x 256 = 16384
    entries, each within Z standard errors."""
    s = 0.5
    A = make(d=256, m=64, s=s).A
    n = A.size
    assert abs(A.mean()) <= Z * s / math.sqrt(n)
    assert abs(A.var() - s**2) <= Z * s**2 * math.sqrt(2.0 / n)
    # neighbouring rows and columns are uncorrelated
    rows = np.corrcoef(A[:-1].ravel(), A[1:].ravel())[0, 1]
    columns = np.corrcoef(A[:, :-1].ravel(), A[:, 1:].ravel())[0, 1]
    for r in (rows, columns):
        assert abs(r) <= Z / math.sqrt(n)


# ---------------------------------------------------------------------------------------------
# d-isotropy and m-stability
# ---------------------------------------------------------------------------------------------


def per_coordinate(problem, ys):
    """The i.i.d.-across-k quantities whose means over k are f, ||grad f||_2^2 and the constants."""
    ks = np.arange(problem.d)
    per = problem.coordinate_constants()
    y0 = problem.config["y0"]
    h_y0 = problem.profile(ks, y0)
    out = {f"f(y={y})": problem.profile(ks, y) for y in ys}
    for y in ys:
        u = y + problem.A
        out[f"|grad f(y={y})|^2"] = np.mean(problem.h_grad(u), axis=0) ** 2
    out.update({
        "f_x0": h_y0,
        "f_star": per["f_star"],
        "delta": h_y0 - per["f_star"],
        "sigma^2": per["dispersion_max"],
        "sigma_at_x0^2": problem.dispersion(ks, y0),
        "dist_x0_to_argmin^2": (y0 - per["y_star"]) ** 2,
    })
    return out


def test_constants_do_not_depend_on_d():
    ys = (0.7, -1.3, 1.9)
    narrow, wide = make(d=4, m=128), make(d=256, m=128)
    q4, q256 = per_coordinate(narrow, ys), per_coordinate(wide, ys)
    assert len(q4) == 12  # the d-isotropy share of N_COMPARED
    c4, c256 = narrow.constants(), wide.constants()
    # exact: L = L_ms = L_max = p + q omega^2 for every d
    for key in ("L", "L_ms", "L_max"):
        assert c4[key] == c256[key] == 1.0 + 4.0 * 1.5**2
    # exact: the narrow instance's coordinates are the first four of the wide one
    for key in q4:
        np.testing.assert_allclose(q4[key], q256[key][:4], rtol=1e-9, atol=1e-12, err_msg=key)
    # exact: each number is the mean of its per-coordinate quantity
    for prob, q, c in ((narrow, q4, c4), (wide, q256, c256)):
        sd = math.sqrt(prob.d)
        for y in ys:
            x = np.full(prob.d, y / sd)
            assert prob.value(x) == pytest.approx(q[f"f(y={y})"].mean(), rel=1e-12)
            g = prob.full_grad(x)
            assert g @ g == pytest.approx(q[f"|grad f(y={y})|^2"].mean(), rel=1e-10)
            # ||grad f||_1 = sqrt(d) mean_k |hbar_k'(y_k)|
            assert np.abs(g).sum() == pytest.approx(sd * np.sqrt(q[f"|grad f(y={y})|^2"]).mean(), rel=1e-10)
        assert c["f_x0"] == pytest.approx(q["f_x0"].mean(), rel=1e-12)
        assert c["f_star"] == pytest.approx(q["f_star"].mean(), rel=1e-12)
        assert c["delta"] == pytest.approx(q["delta"].mean(), rel=1e-10)
        assert c["sigma"] ** 2 == pytest.approx(q["sigma^2"].mean(), rel=1e-10)
        assert c["sigma_at_x0"] ** 2 == pytest.approx(q["sigma_at_x0^2"].mean(), rel=1e-10)
        assert c["dist_x0_to_argmin"] ** 2 == pytest.approx(q["dist_x0_to_argmin^2"].mean(), rel=1e-10)
    # statistical: the d = 4 and d = 256 means differ only by the spread of the q_k
    for key, values in q256.items():
        tau = values.std(ddof=1)
        gap = abs(q4[key].mean() - values.mean())
        assert gap <= Z * tau * math.sqrt(1 / 4 - 1 / 256) + 1e-12, (key, gap, tau)


def test_constants_are_stable_in_m_around_the_smoothed_limit():
    """At d = 256 and m = 16 ... 1024 the per-coordinate f(x0), hbar_k'(y0) and the unbiased
    dispersion (m/(m-1)) V_k(y0) average to the smoothed-separable values (the m -> infinity
    limit) within Z standard errors over coordinates, and their spread is O(m^-1/2): the
    coordinates' std of hbar_k(y0) is std(h(y0 + xi)) / sqrt(m), xi ~ N(0, s^2)."""
    d, y0, s = 256, 3.0, 0.5
    limit = make_problem("smoothed-separable", d=d, s=s)
    targets = {"f": float(limit.h_s(y0)), "grad": float(limit.h_s_grad(y0)),
               "var": float(limit.coordinate_variance(y0))}
    nodes, weights = np.polynomial.hermite_e.hermegauss(80)  # E over N(0, 1), exact for smooth h
    weights = weights / weights.sum()
    h = make(d=1, m=1).h(y0 + s * nodes)
    spread = math.sqrt(weights @ h**2 - (weights @ h) ** 2)
    assert weights @ h == pytest.approx(targets["f"], rel=1e-12)
    for m in (16, 64, 256, 1024):
        problem = make(d=d, m=m, s=s)
        ks = np.arange(d)
        q = {"f": problem.profile(ks, y0),
             "grad": np.mean(problem.h_grad(y0 + problem.A), axis=0),
             "var": problem.dispersion(ks, y0) * m / (m - 1)}
        for key, values in q.items():
            se = values.std(ddof=1) / math.sqrt(d)
            assert abs(values.mean() - targets[key]) <= Z * se, (m, key, values.mean(), targets[key], se)
        # the sample std of 256 i.i.d. values has relative standard error about
        # sqrt((kurtosis - 1) / (4 * 256)) ~ 5%: a 25% band is 4 or more of them
        assert math.sqrt(m) * q["f"].std(ddof=1) == pytest.approx(spread, rel=0.25), m


# ---------------------------------------------------------------------------------------------
# Constants: they hold where they say, and are attained
# ---------------------------------------------------------------------------------------------


def test_smoothness_constants_are_attained():
    problem = make()
    c = problem.constants()
    L = c["L"]
    assert c["L_ms"] == c["L_max"] == L == problem.p + problem.q * problem.omega**2
    h, sd = 1e-6, math.sqrt(D)
    # component i, coordinate k: curvature p + q omega^2 at y_k = -A_ik
    i, k = 7, 3
    x = np.zeros(D)
    x[k] = -problem.A[i, k] / sd
    e = np.eye(D)[k]
    diff = problem.sample_grads(x + h * e, [i]) - problem.sample_grads(x - h * e, [i])
    ratio = np.linalg.norm(diff) / (2 * h)
    assert ratio == pytest.approx(L, rel=1e-6)
    # f itself: hbar_k'' = p + q omega^2 |c_k| at omega y + phi_k = 0, largest over k = L_f <= L
    stats = problem.column_statistics()
    k = int(np.argmax(np.hypot(stats["C"], stats["S"])))
    x = np.zeros(D)
    x[k] = -math.atan2(stats["S"][k], stats["C"][k]) / problem.omega / sd
    e = np.eye(D)[k]
    ratio = np.linalg.norm(problem.full_grad(x + h * e) - problem.full_grad(x - h * e)) / (2 * h)
    assert ratio == pytest.approx(c["L_f"], rel=1e-6)
    assert c["L_f"] < L and c["nonconvex"]
    assert not make(q=0.0).constants()["nonconvex"]


@pytest.mark.parametrize("params", CONFIGS, ids=str)
def test_sigma_bounds_the_dispersion_and_is_attained(params):
    problem = make(**params)
    c = problem.constants()
    rng = np.random.default_rng(4)
    for scale in (0.1, 1.0, 10.0, 100.0):
        for x in problem.x0 + scale * rng.standard_normal((20, D)):
            assert dispersion_at(problem, x) <= c["sigma"] ** 2 * (1 + 1e-12) + 1e-14
    per = problem.coordinate_constants()
    x = per["y_dispersion_max"] / math.sqrt(D)
    assert dispersion_at(problem, x) == pytest.approx(c["sigma"] ** 2, rel=1e-10)
    assert dispersion_at(problem, problem.x0) == pytest.approx(c["sigma_at_x0"] ** 2, rel=1e-10)
    x_star = per["y_star"] / math.sqrt(D)
    assert dispersion_at(problem, x_star) == pytest.approx(c["sigma_at_argmin"] ** 2, rel=1e-10)


@pytest.mark.parametrize("params", CONFIGS + [{"p": 0.05}, {"q": 0.0}], ids=str)
def test_f_star_is_the_minimum(params):
    problem = make(**params)
    c = problem.constants()
    per = problem.coordinate_constants()
    x_star = per["y_star"] / math.sqrt(D)
    assert problem.value(x_star) == pytest.approx(c["f_star"], rel=1e-12, abs=1e-14)
    assert np.abs(problem.full_grad(x_star)).max() <= 1e-6
    assert c["delta"] == pytest.approx(problem.value(problem.x0) - c["f_star"], rel=1e-12)
    assert c["dist_x0_to_argmin"] == pytest.approx(np.linalg.norm(problem.x0 - x_star), rel=1e-12)
    # brute force, coordinate by coordinate, over rows: spacing h = 1e-3 on |y| <= 12, so the
    # grid minimum exceeds the true one by at most L h^2 / 8 < 2e-6
    grid = np.linspace(-12.0, 12.0, 24001)
    brute = np.array([problem.h(grid[:, None] + problem.A[None, :, k]).mean(axis=1).min() for k in range(D)])
    assert brute.mean() - 2e-6 <= c["f_star"] <= brute.mean() + 1e-12
    rng = np.random.default_rng(5)
    for x in problem.x0 + 2.0 * rng.standard_normal((200, D)):
        assert problem.value(x) >= c["f_star"] - 1e-12


def test_G_inf_with_p_zero():
    problem = make(p=0.0)
    c = problem.constants()
    G = problem.q * problem.omega / math.sqrt(D)
    assert c["G_inf"] == pytest.approx(G, rel=1e-15)
    rng = np.random.default_rng(6)
    every = np.arange(problem.m)
    for x in 10.0 * rng.standard_normal((50, D)):
        assert np.abs(problem.sample_grads(x, every)).max() <= G * (1 + 1e-12)
    # attained: sin(omega (y_k + A_ik)) = 1 for component 0
    x = (math.pi / (2 * problem.omega) - problem.A[0]) / math.sqrt(D)
    assert np.abs(problem.sample_grads(x, [0])).max() == pytest.approx(G, rel=1e-12)
    assert make().constants()["G_inf"] is None and make().constants()["G_inf_note"]


# ---------------------------------------------------------------------------------------------
# Methods run on it
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["ssvr-fs", "signsvrg", "svrg", "spider", "signrvr"])
def test_finite_sum_methods_run(method):
    params = {"d": 8, "m": 32}
    problem = make_problem("separable-sum", **params)
    trace = st.run(method, "separable-sum", 512, seeds=2, problem_params=params)
    assert not np.any(trace.diverged)
    for arr in (trace.avg_grad_l1, trace.avg_grad_l2, trace.final_grad_l1, trace.final_value):
        assert np.all(np.isfinite(arr))
    # the run moved towards a stationary point
    assert np.all(trace.final_grad_l1 < np.abs(problem.full_grad(problem.x0)).sum())


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("params", "name"), [
    ({"d": 0}, "d"),
    ({"d": 2.5}, "d"),
    ({"m": 0}, "m"),
    ({"m": True}, "m"),
    ({"p": -1.0}, "p"),
    ({"q": -0.5}, "q"),
    ({"omega": 0.0}, "omega"),
    ({"s": -0.1}, "s"),
    ({"s": float("nan")}, "s"),
    ({"y0": float("nan")}, "y0"),
    ({"instance_seed": -1}, "instance_seed"),
    ({"sigma": 1.0}, "sigma"),
])
def test_bad_parameters_are_named(params, name):
    with pytest.raises(st.InvalidParameterError) as info:
        make_problem("separable-sum", **params)
    assert info.value.parameter == name
    assert f"invalid {name}=" in str(info.value)
