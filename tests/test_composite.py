"""Composite problems F = D + r and the methods for them (SPGM, signProx).

* every proximal operator of :mod:`signtheory.ops.prox` against a direct
  minimization (SLSQP on the smooth reformulation with one epigraph variable per
  |.| term), compiled against its NumPy twin bit for bit, and Condat's 1-D TV prox
  against its exact optimality certificate;
* the problems: r = (1/K_r) sum_k r_k with the r_k written out here, every term
  prox and exact prox against a direct minimization of its definition, the
  gradient mapping, the parameters and what ``signtheory problems`` shows;
* SPGM and signProx against their NumPy references on the same draws (every
  source of stochasticity, every problem); with r = 0 they make exactly the steps
  of SGD and of sign gradient descent on the same samples; oracle and prox calls;
* the incompatibility errors, and ``signtheory run signprox`` on the command line.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from conftest import small_problem
from scipy.optimize import minimize

import signtheory as st
from signtheory.cli import main
from signtheory.engine.draws import DrawPlan, Draws, DrawSource
from signtheory.engine.recorder import make_recorder
from signtheory.methods import METHODS
from signtheory.ops import prox as P
from signtheory.problems import PROBLEMS
from signtheory.problems import oracles as compiled
from signtheory.problems.composite import kernels as ck

COMPOSITE = ("tv1d-denoise", "tv2d-denoise", "l1-lsq")
WEIGHTS = (0.0, 1e-3, 0.07, 0.4, 3.0)


# -----------------------------------------------------------------------------------------------
# A direct minimizer: argmin_x 1/2 ||x - z||^2 + sum_p w_p |<l_p, x>|
# -----------------------------------------------------------------------------------------------


def objective(x, z, forms, weights):
    return 0.5 * np.sum((x - z) ** 2) + float(np.sum(np.asarray(weights) * np.abs(forms @ x)))


def direct_prox(z, forms, weights):
    """SLSQP on (x, s): min 1/2 ||x - z||^2 + w^T s subject to s >= +-(l_p^T x)."""
    z = np.asarray(z, dtype=np.float64)
    n = z.size
    forms = np.asarray(forms, dtype=np.float64).reshape(-1, n)
    P_ = forms.shape[0]
    if P_ == 0:
        return z.copy()
    w = np.asarray(weights, dtype=np.float64) * np.ones(P_)
    upper = np.hstack([-forms, np.eye(P_)])  # s - L x >= 0
    lower = np.hstack([forms, np.eye(P_)])  # s + L x >= 0
    res = minimize(
        lambda v: 0.5 * np.sum((v[:n] - z) ** 2) + w @ v[n:],
        np.concatenate([z, np.abs(forms @ z)]),
        jac=lambda v: np.concatenate([v[:n] - z, w]),
        constraints=[{"type": "ineq", "fun": lambda v: upper @ v, "jac": lambda v: upper},
                     {"type": "ineq", "fun": lambda v: lower @ v, "jac": lambda v: lower}],
        method="SLSQP", options={"ftol": 1e-15, "maxiter": 2000})
    return res.x[:n]


def assert_is_prox(x, z, forms, weights):
    """x is the prox: its objective is no worse than the direct minimizer's (up to 1e-12),
    and by 1-strong convexity ||x - x*||^2 <= 2 (F(x) - F*), so x is also close to it."""
    forms = np.asarray(forms, dtype=np.float64).reshape(-1, np.size(z))
    ref = direct_prox(z, forms, weights)
    f_x, f_ref = objective(x, z, forms, weights), objective(ref, z, forms, weights)
    assert f_x <= f_ref + 1e-12 * (1 + abs(f_ref)), (f_x, f_ref)
    np.testing.assert_allclose(x, ref, atol=2e-6 * (1 + np.abs(z).max()))


def difference_forms(n, first, second):
    L = np.zeros((len(first), n))
    L[np.arange(len(first)), second] = 1.0
    L[np.arange(len(first)), first] = -1.0
    return L


# -----------------------------------------------------------------------------------------------
# Proximal operators (signtheory.ops.prox)
# -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("w", WEIGHTS)
def test_prox_pairs_is_the_prox_of_disjoint_pair_terms(w):
    rng = np.random.default_rng(1)
    for _ in range(6):
        n = 9
        perm = rng.permutation(n)
        first, second = perm[:4], perm[4:8]  # 4 disjoint pairs, one entry untouched
        z = rng.standard_normal(n) * rng.uniform(0.1, 3.0)
        z[second[0]] = z[first[0]]  # a pair that starts merged
        out = np.full(n, np.nan)
        P.prox_pairs(z, w, first, second, out)
        assert np.array_equal(out, P.prox_pairs_np(z, w, first, second))
        assert_is_prox(out, z, difference_forms(n, first, second), w)
        assert out[perm[8]] == z[perm[8]]  # entries in no pair do not move
        # closed form: both move towards each other by min(w, |gap|/2)
        gap = z[second] - z[first]
        move = np.minimum(w, np.abs(gap) / 2)
        np.testing.assert_allclose(out[first], z[first] + np.sign(gap) * move, rtol=0, atol=1e-15)
        np.testing.assert_allclose(out[second], z[second] - np.sign(gap) * move, rtol=0, atol=1e-15)
    assert P.pair_prox(0.3, 0.3, 0.0) == (0.3, 0.3) and P.pair_prox(-1.0, 2.0, 0.0) == (-1.0, 2.0)


@pytest.mark.parametrize(("rows", "cols"), [(1, 8), (1, 7), (3, 4), (4, 3)])
@pytest.mark.parametrize("vertical", [False, True])
@pytest.mark.parametrize("parity", [0, 1])
def test_prox_grid_pairs_is_the_prox_of_one_tv_term(rows, cols, vertical, parity):
    if vertical and rows == 1:
        pytest.skip("a single row has no vertical pairs")
    first, second = P.grid_pairs(rows, cols, vertical, parity)
    step = cols if vertical else 1
    assert np.all(second - first == step)  # neighbours along the axis
    axis_pos = (first // cols) if vertical else (first % cols)
    assert np.all(axis_pos % 2 == parity)  # the first pixel has the term's parity
    assert np.unique(np.concatenate([first, second])).size == 2 * first.size  # disjoint
    rng = np.random.default_rng(2)
    n = rows * cols
    for w in WEIGHTS:
        z = rng.standard_normal(n)
        out = np.full(n, np.nan)
        P.prox_grid_pairs(z, w, rows, cols, vertical, parity, out)
        assert np.array_equal(out, P.prox_grid_pairs_np(z, w, rows, cols, vertical, parity))
        assert_is_prox(out, z, difference_forms(n, first, second), w)


@pytest.mark.parametrize("t", WEIGHTS)
def test_soft_thresholding_is_the_prox_of_the_l1_norm(t):
    rng = np.random.default_rng(3)
    z = np.concatenate([rng.standard_normal(10), [0.0, -0.0, t, -t]])
    out = np.full(z.size, np.nan)
    P.soft_threshold(z, t, out)
    assert np.array_equal(out, P.soft_threshold_np(z, t))
    assert_is_prox(out, z, np.eye(z.size), t)
    for start, step in [(0, 1), (1, 3), (2, 4)]:
        P.soft_threshold_every(z, t, start, step, out)
        assert np.array_equal(out, P.soft_threshold_every_np(z, t, start, step))
        assert_is_prox(out, z, np.eye(z.size)[start::step], t)
    P.soft_threshold(z, 0.0, out)
    assert np.array_equal(out, z)  # t = 0 returns the input bit for bit


@pytest.mark.parametrize("lam", WEIGHTS)
def test_tv1d_prox_matches_a_direct_minimization(lam):
    rng = np.random.default_rng(4)
    for n in (1, 2, 5, 12):
        for trial in range(3):
            y = rng.standard_normal(n) * 2.0 if trial else rng.integers(-2, 3, n).astype(float)
            out = np.full(n, np.nan)
            P.prox_tv1d(y, lam, out)
            assert np.array_equal(out, P.prox_tv1d_np(y, lam))
            assert_is_prox(out, y, difference_forms(n, np.arange(n - 1), np.arange(1, n)), lam)


def test_tv1d_prox_satisfies_its_optimality_certificate():
    """x = prox(y) iff y - x = D^T u with |u| <= lam and u_k = lam sign(x_{k+1} - x_k) on jumps.
    Checked on 2000 inputs (lengths 1..400, plateaus from integer inputs, 7 lams) to 1e-12."""
    rng = np.random.default_rng(5)
    for trial in range(2000):
        n = int(rng.integers(1, 400 if trial % 50 == 0 else 40))
        y = rng.integers(-3, 4, n).astype(float) if trial % 3 == 0 else rng.standard_normal(n) * 3
        lam = float(rng.choice([1e-4, 0.01, 0.1, 0.5, 1.0, 4.0, 100.0]))
        x = np.empty(n)
        P.prox_tv1d(y, lam, x)
        scale = 1.0 + np.abs(y).max()
        u, total = P.tv1d_certificate(y, x, lam)
        assert abs(total) <= 1e-12 * scale * n
        if n > 1:
            assert np.all(np.abs(u) <= lam + 1e-12 * scale * n)
            dx = np.diff(x)
            jump = np.abs(dx) > 1e-12 * scale
            np.testing.assert_allclose(u[jump], lam * np.sign(dx[jump]), rtol=0, atol=1e-12 * scale * n)
    y = rng.standard_normal(50)
    out = np.empty(50)
    P.prox_tv1d(y, 0.0, out)
    assert np.array_equal(out, y)
    P.prox_tv1d(y, 1e3, out)  # a weight above |partial sums| gives the mean everywhere
    np.testing.assert_allclose(out, np.full(50, y.mean()), rtol=0, atol=1e-11)  # rounding ~ lam n eps


# -----------------------------------------------------------------------------------------------
# The composite problems
# -----------------------------------------------------------------------------------------------


def small(name, **params):
    if name == "l1-lsq":
        params.setdefault("blocks", 3)
    return small_problem(name, **params)


def term_forms(problem, k):
    """(forms, weight) of r_k, written from each family's definition."""
    d, K = problem.d, problem.prox_terms
    if problem.name == "l1-lsq":
        return np.eye(d)[k::K], K * problem.lam
    rows, cols = problem.rows, problem.cols
    idx = np.arange(d).reshape(rows, cols)
    if k < 2:  # horizontal pairs (i, j)-(i, j+1) with j = k mod 2
        first = idx[:, k:cols - 1:2].ravel()
        second = first + 1
    else:  # vertical pairs (i, j)-(i+1, j) with i = k mod 2
        first = idx[k % 2:rows - 1:2, :].ravel()
        second = first + cols
    return difference_forms(d, first, second), K * problem.config["lam"] / math.sqrt(d)


def full_forms(problem):
    """(forms, weight) of r itself."""
    d = problem.d
    if problem.name == "l1-lsq":
        return np.eye(d), problem.lam
    first, second = problem.pairs()
    return difference_forms(d, first, second), problem.config["lam"] / math.sqrt(d)


@pytest.mark.parametrize("name", COMPOSITE)
def test_r_is_the_average_of_its_terms(name):
    problem = small(name)
    K = problem.prox_terms
    assert K == {"tv1d-denoise": 2, "tv2d-denoise": 4, "l1-lsq": 3}[name]
    rng = np.random.default_rng(6)
    for _ in range(5):
        x = rng.standard_normal(problem.d)
        forms, w = full_forms(problem)
        r = w * np.abs(forms @ x).sum()
        terms = [term_forms(problem, k) for k in range(K)]
        assert r == pytest.approx(sum(wk * np.abs(f @ x).sum() for f, wk in terms) / K, rel=1e-12)
        assert problem.reg_value(x) == pytest.approx(r, rel=1e-12)
        assert ck.reg_value(problem.data, x) == pytest.approx(r, rel=1e-12)
        assert problem.objective(x) == pytest.approx(problem.value(x) + r, rel=1e-12)


@pytest.mark.parametrize("name", COMPOSITE)
@pytest.mark.parametrize("gamma", [0.05, 0.5, 3.0])
def test_term_proxes_and_exact_prox_match_a_direct_minimization(name, gamma):
    problem = small(name, lam=0.4)
    rng = np.random.default_rng(7)
    d, K = problem.d, problem.prox_terms
    for _ in range(2):
        z = rng.standard_normal(d) * 0.3
        out = np.full(d, np.nan)
        for k in range(K):
            ck.prox_term(problem.data, k, z, gamma, out)
            assert np.array_equal(out, problem.prox_term(k, z, gamma))
            forms, w = term_forms(problem, k)
            assert_is_prox(out, z, forms, gamma * w)
        ck.prox_r(problem.data, z, gamma, out)
        assert np.array_equal(out, problem.prox_r(z, gamma))
        if problem.has_exact_prox:
            forms, w = full_forms(problem)
            assert_is_prox(out, z, forms, gamma * w)
        else:  # the averaged prox
            avg = np.mean([problem.prox_term(k, z, gamma) for k in range(K)], axis=0)
            np.testing.assert_allclose(out, avg, rtol=0, atol=1e-15)


@pytest.mark.parametrize("name", COMPOSITE)
def test_full_eval_is_the_objective_and_the_gradient_mapping(name):
    """The recorded value is F and the recorded gradient is G_gamma_eval(x) = (x - P(x - gamma
    grad D))/gamma with the measure's prox; with lam = 0 it is grad D itself, bit for bit."""
    for lam in (0.4, 0.0):
        problem = small(name, lam=lam)
        gamma = problem.gamma_eval
        assert gamma == pytest.approx(1.0 / problem.constants()["L"], rel=1e-12)
        rng = np.random.default_rng(8)
        for _ in range(3):
            x = rng.standard_normal(problem.d) * 0.3
            g = np.full(problem.d, np.nan)
            val = compiled.full_eval(problem.data, x, g)
            assert val == pytest.approx(problem.objective(x), rel=1e-12)
            p = problem.prox_r(x - gamma * problem.full_grad(x), gamma)
            np.testing.assert_allclose(g, (x - p) / gamma, rtol=1e-9, atol=1e-9)
            if lam == 0.0:
                gD = np.empty(problem.d)
                ck.smooth_eval(problem.data, x, gD)
                assert np.array_equal(g, gD)
    # a coordinate held at the kink of |x_j| has a gradient mapping of exactly 0
    problem = small("l1-lsq", lam=100.0)
    g = np.empty(problem.d)
    compiled.full_eval(problem.data, np.zeros(problem.d), g)
    assert np.array_equal(g, np.zeros(problem.d))


def test_tv1d_measure_prox_choice_and_gamma_eval():
    exact = small("tv1d-denoise", lam=0.5)
    averaged = small("tv1d-denoise", lam=0.5, mapping="averaged")
    custom = small("tv1d-denoise", lam=0.5, gamma_eval=0.1)
    x = np.random.default_rng(9).standard_normal(exact.d) * 0.3
    for problem, prox, gamma in ((exact, "exact", exact.gamma_eval), (averaged, "averaged", exact.gamma_eval),
                                 (custom, "exact", 0.1)):
        g = np.empty(problem.d)
        compiled.full_eval(problem.data, x, g)
        np.testing.assert_allclose(g, exact.gradient_mapping(x, gamma, prox), rtol=1e-12, atol=1e-14)
        assert problem.describe(False)["composite"]["measure_prox"] == prox
    assert not np.allclose(exact.gradient_mapping(x), averaged.gradient_mapping(x))
    assert custom.gamma_eval == 0.1 and custom.constants()["gamma_eval"] == 0.1


@pytest.mark.parametrize(("name", "params", "parameter"), [
    ("tv2d-denoise", {"d": 10}, "d"), ("tv2d-denoise", {"d": 1}, "d"), ("tv1d-denoise", {"mapping": "rough"},
                                                                         "mapping"),
    ("tv1d-denoise", {"gamma_eval": 0.0}, "gamma_eval"), ("l1-lsq", {"sparsity": 0.0}, "sparsity"),
    ("l1-lsq", {"blocks": 0}, "blocks"), ("tv2d-denoise", {"lam": -1.0}, "lam"),
])
def test_invalid_problem_parameters(name, params, parameter):
    with pytest.raises(st.InvalidParameterError) as info:
        st.make_problem(name, **params)
    assert info.value.parameter == parameter


@pytest.mark.parametrize("name", COMPOSITE)
def test_constants_and_d_scaling(name):
    """L <= 1 + 2 mu (TV) in every dimension; ||x_nat|| = radius (TV) or radius sqrt(d) (l1);
    the reported f_star is no worse than the start and the planted point; F >= 0."""
    dims = {"tv1d-denoise": (16, 96), "tv2d-denoise": (16, 64), "l1-lsq": (8, 60)}[name]
    for d in dims:
        problem = st.make_problem(name, d=d)
        c = problem.constants()
        assert c["f_star"] <= c["f_x0"] and c["f_star"] <= problem.objective(problem.x_nat) + 1e-12
        assert c["f_star"] >= c["f_star_lower"] == 0.0
        assert c["delta"] == pytest.approx(c["f_x0"] - c["f_star"]) and c["delta"] >= 0
        assert c["f_x0"] == pytest.approx(problem.objective(problem.x0), rel=1e-12)
        if name == "l1-lsq":
            assert np.linalg.norm(problem.x_nat) == pytest.approx(math.sqrt(d), rel=1e-12)
            assert np.count_nonzero(problem.x_nat) == max(1, round(0.2 * d))
        else:
            assert c["L"] <= 1.0 + 2 * problem.mu + 1e-12 and c["L_data"] <= 1.0 + 1e-12
            assert np.linalg.norm(problem.x_nat) == pytest.approx(1.0, rel=1e-12)
            assert c["sigma"] == c["sigma_at_x0"] == problem.sigma
            H = problem.blur_matrix()
            assert np.allclose(H, H.T) and c["L_data"] == pytest.approx(np.linalg.eigvalsh(H @ H)[-1], rel=1e-9)
        rng = np.random.default_rng(10)
        for _ in range(20):
            assert problem.objective(rng.standard_normal(d) * 0.5) >= 0.0


def test_problems_json_describes_the_composite_part(capsys, monkeypatch):
    import signtheory.cli

    shown = {n: PROBLEMS[n] for n in COMPOSITE + ("nonconvex-lsq",)}
    monkeypatch.setattr(signtheory.cli, "PROBLEMS", shown)  # only the default instances needed here
    assert main(["problems", "--json"]) == 0
    entries = {e["name"]: e for e in json.loads(capsys.readouterr().out)}
    for name in COMPOSITE:
        comp = entries[name]["composite"]
        assert comp["prox_terms"] == {"tv1d-denoise": 2, "tv2d-denoise": 4, "l1-lsq": 1}[name]
        assert comp["measure_prox"] == ("averaged" if name == "tv2d-denoise" else "exact")
        assert "gradient mapping" in comp["measure"] and comp["gamma_eval"] > 0
        assert entries[name]["kind"] in ("finite-sum", "stochastic")
    plain = [e for n, e in entries.items() if not getattr(PROBLEMS[n], "is_composite", False)]
    assert plain and all("composite" not in e for e in plain)


# -----------------------------------------------------------------------------------------------
# SPGM and signProx: parity with the NumPy references, equivalences, accounting
# -----------------------------------------------------------------------------------------------


def run_and_reference(name, problem, T, seed, **hyper):
    method = METHODS[name]
    hp = method.resolve(problem, T, hyper)
    source = DrawSource(problem, method.plan(hp, problem), seed, 0)
    draws0, draws = source.initial(), source.steps(T)
    xs_ref, calls_ref = method.reference(problem, hp, draws0, draws, T)
    trace = st.run(name, problem, T, seed=seed, measure="exact", keep_iterates=True, checkpoints=4, **hyper)
    return trace, hp, xs_ref, calls_ref


SIGNPROX_CASES = [(p, s, r) for p in COMPOSITE for s in ("prox", "grad", "both") for r in ("zero", "random")]


@pytest.mark.parametrize(("problem_name", "source", "rule"), SIGNPROX_CASES)
def test_signprox_matches_numpy_reference(problem_name, source, rule):
    problem = small(problem_name, lam=0.3)
    T = 30
    trace, hp, xs_ref, calls_ref = run_and_reference("signprox", problem, T, 3, stoch_source=source, B=7,
                                                     zero_rule=rule, eta=0.02, gamma=0.05)
    np.testing.assert_allclose(trace.iterates[0], xs_ref, rtol=0, atol=1e-12)
    assert int(trace.oracle_calls[0]) == calls_ref
    per_step = {"prox": problem.full_grad_cost, "grad": 7, "both": 7}[source]
    assert calls_ref == T * per_step
    assert trace.counters == {"prox_calls": T * (problem.prox_terms if source == "grad" else 7)}
    assert trace.to_dict()["prox_calls"] == trace.counters["prox_calls"]


@pytest.mark.parametrize("problem_name", COMPOSITE + ("tv1d-averaged",))
def test_spgm_matches_numpy_reference(problem_name):
    problem = (small("tv1d-denoise", mapping="averaged") if problem_name == "tv1d-averaged"
               else small(problem_name, lam=0.3))
    T = 30
    trace, hp, xs_ref, calls_ref = run_and_reference("spgm", problem, T, 4, B=5)
    np.testing.assert_allclose(trace.iterates[0], xs_ref, rtol=1e-10, atol=1e-12)
    assert int(trace.oracle_calls[0]) == calls_ref == 5 * T
    assert trace.counters["prox_calls"] == T * (problem.prox_terms if problem.averaged_measure else 1)
    assert hp["eta"] == pytest.approx(1.0 / (2 * problem.constants()["L"]), rel=1e-12)


def test_schedules():
    problem = small("tv1d-denoise")
    L, d, T = problem.constants()["L"], problem.d, 400
    hp = METHODS["signprox"].resolve(problem, T, {})
    assert hp["eta"] == pytest.approx((d * L * T) ** -0.5, rel=1e-12) and hp["gamma"] == hp["eta"]
    assert hp["B"] == T and hp["stoch_source"] == "prox" and hp["zero_rule"] == "zero"
    hp = METHODS["signprox"].resolve(problem, T, {"eta": 0.01, "c_B": 0.5})
    assert hp["gamma"] == 0.01 and hp["B"] == 200  # gamma follows eta unless set
    assert METHODS["signprox"].resolve(problem, T, {"eta": 0.01, "gamma": 0.2})["gamma"] == 0.2
    hp = METHODS["spgm"].resolve(problem, T, {"c_eta": 0.5})
    assert hp["eta"] == pytest.approx(0.25 / L, rel=1e-12) and hp["B"] == T
    with pytest.raises(st.InvalidParameterError) as info:
        METHODS["signprox"].resolve(problem, T, {"stoch_source": "noise"})
    assert info.value.parameter == "stoch_source" and "prox" in str(info.value)


def compiled_iterates(method, problem, hp, draws, T):
    rec = make_recorder(np.arange(1, T + 1, dtype=np.int64), problem.d, keep_iterates=True)
    state = method.init_state(problem, hp)
    t_stop, calls = method.steps(problem.data, state, hp, draws, 1, T + 1, T, rec, 0)
    assert t_stop == T + 1
    return np.vstack([rec.xs, state[0][None, :]])


@pytest.mark.parametrize("problem_name", COMPOSITE)
def test_without_regularizer_the_methods_are_sgd_and_sign_descent(problem_name):
    """With lam = 0: signProx ('grad') makes exactly the steps of signSGD and SPGM those of SGD
    on the same samples (compiled kernels, bit for bit); signProx ('prox') those of sign
    descent on the exact grad D, i.e. of signSGD on the noise-free TV problems."""
    problem = small(problem_name, lam=0.0)
    T, B, eta = 40, 4, 0.01
    draws = DrawSource(problem, DrawPlan(0, B, 0), 5, 0).steps(T)
    sign = compiled_iterates(METHODS["signsgd"], problem, {"eta": eta, "B": B, "zero_rule": "zero"}, draws, T)
    hp = METHODS["signprox"].resolve(problem, T, {"eta": eta, "B": B, "stoch_source": "grad"})
    assert np.array_equal(compiled_iterates(METHODS["signprox"], problem, hp, draws, T), sign)
    sgd = compiled_iterates(METHODS["sgd"], problem, {"eta": 0.3, "B": B}, draws, T)
    hp = METHODS["spgm"].resolve(problem, T, {"eta": 0.3, "B": B})
    assert np.array_equal(compiled_iterates(METHODS["spgm"], problem, hp, draws, T), sgd)
    # negative control: with a regularizer the trajectories separate
    reg = small(problem_name, lam=0.5)
    hp = METHODS["signprox"].resolve(reg, T, {"eta": eta, "B": B, "stoch_source": "grad"})
    assert not np.array_equal(compiled_iterates(METHODS["signprox"], reg, hp, draws, T), sign)
    if problem_name != "l1-lsq":
        exact = small(problem_name, lam=0.0, sigma=0.0)
        sign = compiled_iterates(METHODS["signsgd"], exact, {"eta": eta, "B": B, "zero_rule": "zero"}, draws, T)
        hp = METHODS["signprox"].resolve(exact, T, {"eta": eta, "B": B, "stoch_source": "prox"})
        prox_draws = DrawSource(exact, METHODS["signprox"].plan(hp, exact), 5, 0).steps(T)
        none = Draws(draws.idx, draws.z, prox_draws.u)
        assert np.array_equal(compiled_iterates(METHODS["signprox"], exact, hp, none, T), sign)


def test_signprox_holds_coordinates_at_the_l1_kink():
    """With a large lam every coordinate of x = 0 is stationary (|grad_j D| <= lam): the gradient
    mapping is exactly 0 there and signProx does not move under the default zero rule."""
    problem = small("l1-lsq", lam=100.0, blocks=1)  # K_r = 1: the sampled prox is the exact prox
    trace = st.run("signprox", problem, 50, keep_iterates=True, measure="exact")
    assert np.array_equal(trace.iterates[0], np.zeros((51, problem.d)))
    assert trace.avg_grad_l1[0] == 0.0 and trace.final_value[0] == pytest.approx(problem.value(problem.x0))


# -----------------------------------------------------------------------------------------------
# Errors and the command line
# -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(n for n, m in METHODS.items() if not m.spec.composite))
def test_other_methods_refuse_composite_problems(name):
    with pytest.raises(st.IncompatibleProblemError) as info:
        st.run(name, "tv1d-denoise", 10, problem_params={"d": 8})
    assert info.value.parameter == "problem" and "composite" in str(info.value)
    with pytest.raises(st.IncompatibleProblemError) as info:  # the method's own check says what to use
        METHODS[name].check_problem(small("l1-lsq"))
    assert "composite" in str(info.value) and "signprox" in str(info.value) and "spgm" in str(info.value)


@pytest.mark.parametrize("name", ["spgm", "signprox"])
@pytest.mark.parametrize("problem_name", ["nonconvex-lsq", "stochastic-lsq"])
def test_composite_methods_refuse_other_problems(name, problem_name):
    with pytest.raises(st.IncompatibleProblemError) as info:
        st.run(name, problem_name, 10, problem_params={"d": 5})
    message = str(info.value)
    assert info.value.parameter == "problem" and "composite" in message
    assert all(p in message for p in COMPOSITE)  # names the problems it accepts
    assert main(["run", name, "--problem", problem_name, "--d", "5", "--T", "10", "--no-progress"]) == 2


def test_methods_json_marks_the_composite_methods(capsys):
    assert main(["methods", "--json"]) == 0
    entries = {e["name"]: e for e in json.loads(capsys.readouterr().out)}
    assert {n for n, e in entries.items() if e["composite"]} == {"spgm", "signprox"}
    assert entries["signprox"]["measure"] == "l1" and entries["spgm"]["measure"] == "l2"
    assert entries["signprox"]["exponents"]["T"] == -0.5 and entries["spgm"]["exponents"]["N"] == -0.25
    assert "reconstructed" in entries["signprox"]["provenance"]


def test_cli_run_signprox_on_tv1d(capsys):
    code = main(["run", "signprox", "--problem", "tv1d-denoise", "--T", "2000", "--seeds", "4", "--json",
                 "--no-progress"])
    out, _ = capsys.readouterr()
    assert code == 0
    r = json.loads(out)
    hp = r["config"]["hyperparameters"]
    assert hp["B"] == 2000 and hp["stoch_source"] == "prox" and hp["gamma"] == hp["eta"]
    assert r["oracle_calls"] == 2000 and r["oracle_calls_per_seed"] == [2000] * 4  # one exact grad D per step
    assert r["prox_calls"] == 2000 * 2000  # B sampled prox terms per step
    m = r["measures"]
    assert m["measure"] == "exact" and len(m["avg_grad_l1_per_seed"]) == 4
    for key in ("avg_grad_l1", "avg_grad_l2", "final_grad_l1", "final_value", "avg_estimator_error"):
        assert isinstance(m[key], float) and math.isfinite(m[key]), key
    assert m["avg_grad_l2"] <= m["avg_grad_l1"] <= math.sqrt(128) * m["avg_grad_l2"]
    c = st.make_problem("tv1d-denoise").constants()
    assert c["f_star"] - 1e-9 <= m["final_value"] < c["f_x0"]  # F decreased from F(x0)


@pytest.mark.slow
def test_signprox_reaches_its_reconstructed_rate_on_l1_lsq():
    """signProx (stoch_source='grad', theory schedule eta = (d L T)^-1/2, B = T) on l1-lsq with
    d = 20, m = 200: the least-squares slope of log M1 against log T over T = 512, 2048, 8192
    (4 seeds each) is -1/2. Observed -0.517. The across-seed relative standard errors are below
    1%, so the slope's standard error is below 0.01 and the band +-0.08 is over 8 of them."""
    Ts = [512, 2048, 8192]
    m1 = [st.run("signprox", "l1-lsq", T, seeds=4, seed=1, problem_params={"d": 20, "m": 200},
                 stoch_source="grad").avg_grad_l1.mean() for T in Ts]
    slope = np.polyfit(np.log(Ts), np.log(m1), 1)[0]
    assert -0.5 - 0.08 < slope < -0.5 + 0.08, slope
