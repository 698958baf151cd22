"""Worker splits (signtheory.distributed) and the majority-vote counterexample.

* every mode: (1/n) sum_j grad f_j = grad f (and the values), NumPy and compiled;
* the compiled worker oracles equal their NumPy twins, and the all-workers kernels
  equal the per-worker ones bit for bit;
* shift: the heterogeneity is exactly zeta at every point; the per-worker l-inf bound;
* dirichlet: an equal-size partition whose label skew grows as alpha decreases;
* every worker's sample gradients are unbiased for its own full gradient (Monte Carlo);
* the counterexample: the closed-form fixed point is the zero of the exactly enumerated
  expected vote, and a simulated option-1 vote settles there.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import PROBLEM_NAMES, random_points, small_problem

from signtheory.distributed import (
    exact_vote_expectation,
    fixed_point,
    floor,
    mv_counterexample,
    split,
    split_from_config,
)
from signtheory.distributed import oracles as wo
from signtheory.errors import IncompatibleProblemError, InvalidParameterError
from signtheory.problems import PROBLEMS, make_problem
from signtheory.problems import oracles as po
from signtheory.problems.mv_counterexample import expected_vote

N_WORKERS = 5  # divides conftest's m = 40
FAMILIES = [name for name in PROBLEM_NAMES if PROBLEMS[name].kind in ("finite-sum", "stochastic")
            and not getattr(PROBLEMS[name], "is_composite", False)]
# Families whose component values are known, so Dirichlet worker values can be checked.
VALUED = ("nonconvex-lsq", "nonconvex-logistic")


def modes_for(name):
    modes = [("homogeneous", {}), ("shift", {"zeta": 0.7})]
    if PROBLEMS[name].kind == "finite-sum":
        modes += [("dirichlet", {"alpha": 0.3}), ("dirichlet", {"alpha": math.inf})]
    return modes


CASES = [(name, mode, kw) for name in FAMILIES for mode, kw in modes_for(name)]
CASES += [("mv-counterexample", "counterexample", {})]


def case_id(case):
    name, mode, kw = case
    return f"{name}-{mode}" + "".join(f"-{k}={v}" for k, v in kw.items())


@pytest.fixture(scope="module", params=CASES, ids=case_id)
def workers(request):
    name, mode, kw = request.param
    if mode == "counterexample":  # three workers, amplified tilts, 11 coordinates
        return split(small_problem(name, instance="amplified", y0=0.4), 3, mode=mode)
    return split(small_problem(name), N_WORKERS, mode=mode, seed=3, **kw)


def points(wp, seed, n=3):
    return np.vstack([wp.problem.x0[None, :], random_points(wp.problem, np.random.default_rng(seed), n)])


def worker_draws(wp, j, B, seed):
    idx, z = wp.worker_draw_samples(np.random.default_rng([seed, j]), j, (B,))
    return np.ascontiguousarray(idx, dtype=np.int64), np.ascontiguousarray(z, dtype=float)


# ---------------------------------------------------------------------------------------------
# The average of the workers is the global problem
# ---------------------------------------------------------------------------------------------


def test_average_of_worker_gradients_is_the_global_gradient(workers):
    wp = workers
    d = wp.d
    for x in points(wp, seed=1):
        full = wp.problem.full_grad(x)
        scale = 1 + np.abs(full).max()
        G = wp.worker_full_grads(x)
        np.testing.assert_allclose(G.mean(axis=0), full, rtol=1e-12, atol=1e-13 * scale)
        Gc = np.full((wp.n, d), np.nan)
        for j in range(wp.n):
            wo.worker_full_grad(wp.data, j, x, Gc[j])
        g = np.empty(d)
        po.full_eval(wp.problem.data, x, g)
        np.testing.assert_allclose(Gc.mean(axis=0), g, rtol=1e-12, atol=1e-13 * scale)
        np.testing.assert_allclose(Gc, G, rtol=1e-12, atol=1e-13 * scale)
        if wp.mode != "dirichlet" or wp.problem.name in VALUED:
            vals = [wp.worker_value(j, x) for j in range(wp.n)]
            assert np.mean(vals) == pytest.approx(wp.problem.value(x), rel=1e-12, abs=1e-13)


def test_worker_full_gradient_is_the_gradient_of_the_worker_value(workers):
    """Central differences of f_j (written independently of the gradient code)."""
    wp = workers
    if wp.mode == "dirichlet" and wp.problem.name not in VALUED:
        pytest.skip("no component values for this family")
    x = points(wp, seed=2, n=1)[-1]
    h = 1e-6
    for j in (0, wp.n - 1):
        fd = np.array([(wp.worker_value(j, x + h * e) - wp.worker_value(j, x - h * e)) / (2 * h)
                       for e in np.eye(wp.d)])
        np.testing.assert_allclose(wp.worker_full_grad(j, x), fd, rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------------------------------------
# Compiled worker oracles against the NumPy twins
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("batch", [1, 6])
def test_compiled_worker_oracles_match_numpy(workers, batch):
    wp = workers
    d, n = wp.d, wp.n
    pts = points(wp, seed=4)
    draws = [worker_draws(wp, j, batch, seed=5) for j in range(n)]
    for x1, x2 in zip(pts, pts[::-1], strict=True):
        G1 = np.full((n, d), np.nan)
        G2 = np.full((n, d), np.nan)
        for j, (idx, z) in enumerate(draws):
            ref1, ref2 = wp.worker_batch_grad_pair(j, x1, x2, idx, z)
            scale = 1 + max(np.abs(ref1).max(), np.abs(ref2).max())
            g = np.full(d, np.nan)
            wo.worker_batch_grad(wp.data, j, x1, idx, z, g)
            np.testing.assert_allclose(g, ref1, rtol=1e-12, atol=1e-13 * scale)
            np.testing.assert_allclose(wp.worker_batch_grad(j, x1, idx, z), ref1, rtol=0, atol=0)
            wo.worker_batch_grad_pair(wp.data, j, x1, x2, idx, z, G1[j], G2[j])
            np.testing.assert_allclose(G2[j], ref2, rtol=1e-12, atol=1e-13 * scale)
            assert np.array_equal(G1[j], g)  # the pair follows the single kernel bit for bit
            np.testing.assert_allclose(wp.worker_sample_grads(j, x1, idx, z).mean(axis=0), ref1,
                                       rtol=1e-12, atol=1e-13 * scale)
        idx_all = np.stack([dr[0] for dr in draws])
        z_all = np.stack([dr[1] for dr in draws])
        A = np.full((n, d), np.nan)
        wo.workers_batch_grad(wp.data, x1, idx_all, z_all, A)
        assert np.array_equal(A, G1)
        B1 = np.full((n, d), np.nan)
        B2 = np.full((n, d), np.nan)
        wo.workers_batch_grad_pair(wp.data, x1, x2, idx_all, z_all, B1, B2)
        assert np.array_equal(B1, G1) and np.array_equal(B2, G2)


def test_worker_draws_are_the_problems_draws_or_local_indices(workers):
    wp = workers
    idx, z = wp.worker_draw_samples(np.random.default_rng(6), 1, (30, 4))
    assert idx.shape == (30, 4) and z.shape == (30, 4, wp.sample_width)
    if wp.mode == "dirichlet":
        assert idx.min() >= 0 and idx.max() < wp.m_worker
        assert np.array_equal(wp.global_indices(1, idx), wp.members[1][idx])
    else:  # homogeneous and shift: exactly the problem's own draws
        ref = wp.problem.draw_samples(np.random.default_rng(6), (30, 4))
        assert np.array_equal(idx, ref[0]) and np.array_equal(z, ref[1])


# ---------------------------------------------------------------------------------------------
# Unbiasedness of every worker's samples (Monte Carlo)
# ---------------------------------------------------------------------------------------------

# 20,000 samples per worker, acceptance at 5 standard errors per coordinate: a two-sided
# 5-sigma band is exceeded with probability 5.7e-7 per number; the module compares fewer
# than 3,000 numbers that way, so the chance that any fails under fresh randomness is
# below 2e-3 (the seeds are fixed, so the outcome itself is deterministic).
MC_SAMPLES = 20_000


def test_worker_samples_are_unbiased_for_the_worker_gradient(workers):
    wp = workers
    x = points(wp, seed=7, n=1)[-1]
    for j in range(wp.n):
        idx, z = worker_draws(wp, j, MC_SAMPLES, seed=8)
        S = wp.worker_sample_grads(j, x, idx, z)
        mean = S.mean(axis=0)
        se = S.std(axis=0, ddof=1) / math.sqrt(MC_SAMPLES)
        full = wp.worker_full_grad(j, x)
        dev = np.abs(mean - full)
        assert np.all(dev <= 5.0 * se + 1e-9 * (1 + np.abs(full))), (j, (dev / np.maximum(se, 1e-300)).max())


def test_dirichlet_worker_gradient_is_the_mean_over_its_own_components():
    wp = split(small_problem("nonconvex-lsq"), 4, mode="dirichlet", alpha=0.5, seed=1)
    x = points(wp, seed=9, n=1)[-1]
    for j in range(wp.n):
        local = np.arange(wp.m_worker)  # every local index once: the exact mean
        S = wp.worker_sample_grads(j, x, local, np.empty((local.size, 0)))
        np.testing.assert_allclose(S.mean(axis=0), wp.worker_full_grad(j, x), rtol=1e-13, atol=1e-14)


# ---------------------------------------------------------------------------------------------
# Shift: heterogeneity is zeta, exactly
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "n", "d", "zeta"), [
    ("nonconvex-logistic", 5, 11, 0.7), ("smoothed-separable", 9, 3, 2.0),
    ("stochastic-lsq", 2, 1, 0.1), ("smoothed-separable", 33, 64, 1.0)])
def test_shift_heterogeneity_is_zeta_everywhere(name, n, d, zeta):
    wp = split(small_problem(name, d=d), n, mode="shift", zeta=zeta, seed=11)
    np.testing.assert_allclose(wp.shift.sum(axis=0), 0.0, atol=1e-14 * zeta * n)
    c = wp.constants()
    assert c["heterogeneity_exact"]
    assert c["heterogeneity_l2_max"] == pytest.approx(zeta, rel=1e-14)
    for x in points(wp, seed=12, n=4):
        het = wp.heterogeneity(x)
        assert het["l2_max"] == pytest.approx(zeta, rel=1e-10)
        assert het["linf_max"] == pytest.approx(c["heterogeneity_linf_max"], rel=1e-10)
        assert het["l2_rms"] == pytest.approx(c["heterogeneity_l2_rms"], rel=1e-10)
    assert c["heterogeneity_l2_rms"] <= zeta * (1 + 1e-14)
    # shifts move each worker's optimum but not the global f: same values on average
    x = points(wp, seed=13, n=1)[-1]
    assert np.mean([wp.worker_value(j, x) for j in range(n)]) == pytest.approx(wp.problem.value(x), rel=1e-12)


def test_shift_directions_depend_on_seed_only():
    p = small_problem("nonconvex-logistic")
    a, b = split(p, 5, "shift", zeta=1.0, seed=4), split(p, 5, "shift", zeta=1.0, seed=4)
    assert np.array_equal(a.shift, b.shift)
    assert not np.allclose(a.shift, split(p, 5, "shift", zeta=1.0, seed=5).shift)
    # scaling zeta scales the shifts, directions unchanged
    np.testing.assert_allclose(split(p, 5, "shift", zeta=3.0, seed=4).shift, 3.0 * a.shift, rtol=1e-15)


def test_shift_worker_linf_bound_holds_for_sample_gradients():
    """G_j = G_inf + zeta ||c_j||_inf bounds worker j's sample gradients (logistic: everywhere)."""
    wp = split(small_problem("nonconvex-logistic"), 5, mode="shift", zeta=1.5, seed=2)
    c = wp.constants()
    m = wp.problem.m
    rng = np.random.default_rng(14)
    worst = np.zeros(wp.n)
    for x in rng.standard_normal((40, wp.d)) * 10.0 ** rng.uniform(-1, 2, (40, 1)):
        for j in range(wp.n):
            S = wp.worker_sample_grads(j, x, np.arange(m), np.empty((m, 0)))
            worst[j] = max(worst[j], np.abs(S).max())
    assert np.all(worst <= np.array(c["G_inf_workers"]) + 1e-12)
    assert c["G_inf"] == max(c["G_inf_workers"])
    assert np.all(worst >= 0.5 * np.array(c["G_inf_workers"]))  # not vacuous


# ---------------------------------------------------------------------------------------------
# Dirichlet partitions
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["nonconvex-lsq", "nonconvex-logistic"])
@pytest.mark.parametrize("alpha", [0.05, 1.0, math.inf])
def test_dirichlet_parts_are_an_equal_size_partition(name, alpha):
    problem = small_problem(name, m=60)
    wp = split(problem, 6, mode="dirichlet", alpha=alpha, seed=0)
    assert wp.members.shape == (6, 10) and wp.members.dtype == np.int64
    assert np.array_equal(np.sort(wp.members.ravel()), np.arange(60))
    assert np.all(np.diff(wp.members, axis=1) > 0)  # each part sorted
    counts = np.array(wp.constants()["label_counts"])
    assert counts.sum(axis=1).tolist() == [10] * 6
    again = split(problem, 6, mode="dirichlet", alpha=alpha, seed=0)
    assert np.array_equal(again.members, wp.members)


@pytest.mark.parametrize("by", ["label", "gradient"])
def test_dirichlet_label_skew_grows_as_alpha_decreases(by):
    problem = small_problem("nonconvex-logistic", m=600)
    alphas = [0.03, 0.3, 3.0, 30.0, math.inf]
    skew = np.array([[split(problem, 6, "dirichlet", alpha=a, seed=s, by=by).constants()["label_skew"]
                      for a in alphas] for s in range(4)])
    mean = skew.mean(axis=0)
    assert np.all(np.diff(mean) < 0), mean
    assert mean[0] > 0.3 and mean[-1] < 0.05, mean


def test_gradient_classes_make_heterogeneity_grow_and_labels_do_not():
    """On the symmetric regression families a label class and its complement have the
    same gradient law; clusters of the gradients do not."""
    for name in ("nonconvex-logistic", "nonconvex-lsq"):
        problem = small_problem(name, m=600)

        def het(alpha, by, problem=problem):
            wp = split(problem, 6, "dirichlet", alpha=alpha, seed=0, by=by)
            return wp.heterogeneity(problem.x0)["l2_max"]

        assert het(0.03, "gradient") > 3 * het(math.inf, "gradient")
        assert het(0.03, "label") < 1.5 * het(math.inf, "label")


def test_dirichlet_constants_report_an_estimate():
    wp = split(small_problem("nonconvex-logistic"), 4, mode="dirichlet", alpha=0.2, seed=0)
    c = wp.constants()
    assert not c["heterogeneity_exact"] and "estimate" in c["heterogeneity_note"]
    assert c["heterogeneity_l2_max"] >= c["heterogeneity_l2_max_at_x0"] > 0
    assert c["heterogeneity_linf_max"] <= 2 * c["G_inf"]
    assert c["G_inf_workers"] == [c["global"]["G_inf"]] * 4
    glob = wp.problem.constants()["sigma"]
    assert c["sigma"] == pytest.approx(math.sqrt(4) * glob)
    assert max(c["sigma_workers_at_x0"]) <= c["sigma"]


def test_split_rebuilds_from_its_config():
    for wp in (split(small_problem("nonconvex-lsq"), 5, "dirichlet", alpha=0.4, seed=2),
               split(small_problem("smoothed-separable", d=4), 3, "shift", zeta=0.2, seed=1),
               split(small_problem("nonconvex-logistic"), 4, "dirichlet", alpha=math.inf, seed=3),
               split(small_problem("nonconvex-logistic"), 8, "dirichlet", alpha=0.1, seed=3, by="gradient"),
               mv_counterexample("amplified", d=2)):
        again = split_from_config(wp.config)
        assert again.mode == wp.mode and again.n == wp.n
        assert np.array_equal(again.shift, wp.shift)
        assert (again.members is None and wp.members is None) or np.array_equal(again.members, wp.members)


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kwargs", "param"), [
    ({"n": 0}, "n"), ({"n": 2.5}, "n"), ({"n": True}, "n"),
    ({"mode": "iid"}, "mode"),
    ({"mode": "shift", "zeta": -1.0}, "zeta"), ({"mode": "shift", "zeta": math.nan}, "zeta"),
    ({"mode": "homogeneous", "zeta": 0.5}, "zeta"),
    ({"alpha": 0.0}, "alpha"), ({"alpha": -1.0}, "alpha"), ({"alpha": math.nan}, "alpha"),
    ({"alpha": "big"}, "alpha"),
    ({"seed": -1}, "seed"), ({"seed": 1.5}, "seed"),
    ({"n": 1, "mode": "shift", "zeta": 1.0}, "n"),
    ({"mode": "dirichlet", "by": "cluster"}, "by"), ({"mode": "shift", "by": "gradient"}, "by"),
    ({"n": 7, "mode": "dirichlet"}, "n"), ({"n": 41, "mode": "dirichlet"}, "n"),
    ({"mode": "counterexample"}, "problem"),
])
def test_split_rejects_bad_arguments(kwargs, param):
    args = {"n": 5, **kwargs}
    with pytest.raises(InvalidParameterError) as err:
        split(small_problem("nonconvex-lsq"), **args)
    assert err.value.parameter == param


def test_split_rejects_bad_problems_and_workers():
    with pytest.raises(InvalidParameterError, match="problem"):
        split(42, 3)
    with pytest.raises(IncompatibleProblemError) as err:
        split(small_problem("smoothed-separable"), 5, mode="dirichlet")
    assert err.value.parameter == "problem"
    with pytest.raises(InvalidParameterError) as err:
        split(make_problem("mv-counterexample"), 5, mode="counterexample")
    assert err.value.parameter == "n"
    wp = split("nonconvex-logistic", 3)
    for bad in (-1, 3, 1.0, True):
        with pytest.raises(InvalidParameterError) as err:
            wp.worker_full_grad(bad, wp.problem.x0)
        assert err.value.parameter == "j"
    with pytest.raises(InvalidParameterError) as err:
        make_problem("mv-counterexample", kappa=1.0, vote_radius=2.0)
    assert err.value.parameter == "vote_radius"


# ---------------------------------------------------------------------------------------------
# The counterexample
# ---------------------------------------------------------------------------------------------


def test_fixed_point_is_the_root_of_the_cubic():
    for kappa, R in [(0.25, 4.0), (1.0, 2.5), (0.5, 1.5), (0.1, 10.0)]:
        t = fixed_point(kappa, R)
        roots = np.roots([1.0, 0.0, -3.0 * (kappa**2 + R**2), -2.0 * kappa**3])
        inside = [r.real for r in roots if abs(r.imag) < 1e-12 and abs(r.real) < 0.5]
        assert len(inside) == 1 and t == pytest.approx(inside[0], rel=1e-12)
        assert expected_vote(t, kappa, R) == pytest.approx(0.0, abs=1e-13)
        assert t == pytest.approx(-2 * kappa**3 / (3 * (kappa**2 + R**2)), rel=0.02)
    # the stated numbers: canonical t* = -1/1542 (five digits), amplified ~ -0.092
    assert round(-1.0 / fixed_point(0.25, 4.0)) == 1542
    assert fixed_point(1.0, 2.5) == pytest.approx(-0.0920, abs=5e-5)


def test_closed_form_vote_equals_the_enumerated_vote():
    rng = np.random.default_rng(15)
    for kappa, R in [(0.25, 4.0), (1.0, 2.5)]:
        t = rng.uniform(-0.5, 0.5, 50)
        grads = t[None, :] + np.array([kappa, kappa, -2 * kappa])[:, None]
        np.testing.assert_allclose(exact_vote_expectation(grads, R), expected_vote(t, kappa, R),
                                   rtol=1e-12, atol=1e-15)
    # a sanity anchor for the enumeration: all workers certain of +1 -> vote +1
    assert exact_vote_expectation([2.0, 2.0, -2.0], 2.0) == pytest.approx(1.0)
    assert exact_vote_expectation([1.0, -1.0], 1.0) == 0.0
    assert exact_vote_expectation([1.0, -1.0], 1.0, zero_rule="plus") == 1.0


@pytest.mark.parametrize("instance", ["canonical", "amplified"])
@pytest.mark.parametrize("d", [1, 7])
def test_expected_vote_vanishes_at_the_predicted_fixed_point(instance, d):
    """Exact worker gradients at x*, exact option-1 vote probabilities: E V = 0, and the
    vote pushes back towards x* from both sides (a stable point that is not stationary)."""
    wp = mv_counterexample(instance, d=d)
    c = wp.constants()
    R_x = c["vote_radius_x"]
    x_star = np.full(d, c["x_star"])
    G = wp.worker_full_grads(x_star)  # (3, d), x units
    assert np.max(np.abs(G)) <= c["G_inf"] * (1 + 1e-12) and c["G_inf"] <= R_x
    np.testing.assert_allclose(exact_vote_expectation(G, R_x), 0.0, atol=1e-14)
    grad = wp.problem.full_grad(x_star)
    np.testing.assert_allclose(G.mean(axis=0), grad, rtol=1e-13)
    assert np.abs(grad).sum() == pytest.approx(c["floor_l1"], rel=1e-12)
    assert np.linalg.norm(grad) == pytest.approx(c["floor_l2"], rel=1e-12)
    assert c["floor_l1"] == pytest.approx(math.sqrt(d) * abs(c["t_star"]), rel=1e-12)
    for delta, sign in ((0.05, 1.0), (-0.05, -1.0)):  # x above x*: vote +1 on average, step down
        ev = exact_vote_expectation(wp.worker_full_grads(x_star + delta / math.sqrt(d)), R_x)
        assert np.all(sign * ev > 0)
    # while at the minimiser of f the vote is not zero: it drives the iterates away
    assert np.all(exact_vote_expectation(wp.worker_full_grads(np.zeros(d)), R_x) > 0)
    keys = ("t_star", "x_star", "floor_l1", "floor_l2")
    assert floor(c["kappa"], c["vote_radius"], d) == {k: c[k] for k in keys}


def test_simulated_option_one_vote_settles_at_the_fixed_point():
    """Option 1 with exact worker gradients (v_j = grad f_j, q_j = S_R(v_j), V = majority),
    eta = T^-1/2 from x = 0 on the amplified instance: the signed average of f'(x_t) over
    the second half of the run is t*, not 0.

    Tolerance: 5 standard errors over the 400 independent chains (false-alarm rate about
    6e-7 under the normal approximation) plus 0.001 for the derived O(eta) bias of the
    stationary mean and what is left of the initial transient (about 600 steps)."""
    wp = mv_counterexample("amplified")
    c = wp.constants()
    R, t_star = c["vote_radius"], c["t_star"]
    tilts = np.array(c["global"]["worker_tilts"])[:, None]
    chains, T = 400, 40_000
    eta = T**-0.5
    rng = np.random.default_rng(16)
    x = np.zeros(chains)
    acc = np.zeros(chains)
    for t in range(T):
        g = 0.5 * np.tanh(x)
        if t >= T // 2:
            acc += g
        q = np.where(rng.random((3, chains)) < 0.5 * (1.0 + (g + tilts) / R), 1.0, -1.0)
        x -= eta * np.sign(q.sum(axis=0))
    avg = acc / (T - T // 2)
    se = avg.std(ddof=1) / math.sqrt(chains)
    assert abs(avg.mean() - t_star) <= 5 * se + 1e-3, (avg.mean(), t_star, se)
    assert avg.mean() < -0.08  # far from the stationary value 0


def test_mv_counterexample_problem_is_registered_and_compiled():
    problem = make_problem("mv-counterexample", d=3, y0=1.2)
    assert problem.kind == "stochastic" and problem.sample_width == 0
    x = np.array([0.3, -2.0, 40.0])
    g = np.empty(3)
    val = po.full_eval(problem.data, x, g)
    y = math.sqrt(3) * x
    assert val == pytest.approx(np.mean(0.5 * np.log(np.cosh(y))), rel=1e-13)
    np.testing.assert_allclose(g, 0.5 * np.tanh(y) / math.sqrt(3), rtol=1e-14)
    assert problem.value(x) == pytest.approx(val, rel=1e-14)
    c = problem.constants()
    assert c["delta"] == pytest.approx(0.5 * math.log(math.cosh(1.2)), rel=1e-13)
    assert c["t_star"] == pytest.approx(fixed_point(0.25, 4.0), rel=1e-15)
    assert make_problem("mv-counterexample", instance="amplified").constants()["vote_radius"] == 2.5
