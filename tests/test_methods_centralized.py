"""EF-signSGD, signSGD-SIM, SignSVRG, SPIDER and SSVR-FS: parity of every variant with its
NumPy reference, exact invariants of the estimators, schedules, oracle calls and the
finite-sum guard.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import small_problem

import signtheory as st
from signtheory.cli import main
from signtheory.engine.draws import Draws, DrawSource
from signtheory.engine.recorder import make_recorder
from signtheory.methods import METHODS
from signtheory.methods.ef_signsgd import compress, density, scaled_sign
from signtheory.ops import ZERO_RULES

FINITE_SUM_METHODS = ("signsvrg", "spider", "ssvr-fs")
SIGN_VR = [("signsvrg", {}), ("ssvr-fs", {"beta": 1.0}), ("ssvr-fs", {"variant": "storm_svrg_reset"}),
           ("ssvr-fs", {"variant": "spider"}), ("ssvr-fs", {"variant": "spider_sqrt"})]


def draws_for(method, problem, hp, T, seed):
    source = DrawSource(problem, method.plan(hp, problem), seed, 0)
    return source.initial(), source.steps(T)


def same_steps(a, b):
    """Identical iterates and oracle calls; the same measures up to the last bits (the exact
    gradient and value come from reductions that the compiler may vectorize differently in
    different method loops)."""
    assert np.array_equal(a.iterates, b.iterates)
    for field in ("avg_grad_l1", "avg_grad_l2", "sign_agreement", "ck_value", "final_value"):
        np.testing.assert_allclose(getattr(a, field), getattr(b, field), rtol=1e-12, atol=0, err_msg=field)
    np.testing.assert_allclose(a.avg_estimator_error, b.avg_estimator_error, rtol=1e-9, atol=1e-28)


# -----------------------------------------------------------------------------------------------
# Every variant against its NumPy reference (the generic parity test covers the defaults)
# -----------------------------------------------------------------------------------------------

VARIANT_CASES = [
    ("ef-signsgd", {"B": 2, "zero_rule": "random"}),
    ("signsgd-sim", {"variant": "momentum", "B": 3}),
    ("signsgd-sim", {"variant": "sim", "beta": 0.2, "zero_rule": "random"}),
    ("signsvrg", {"loop": "loopless", "I": 6, "B": 2}),
    ("signsvrg", {"loop": "loopless", "I": 4, "zero_rule": "random"}),
    ("spider", {"step": "normalized"}),
    ("spider", {"step": "constant", "I": 1}),
    ("ssvr-fs", {"variant": "storm_svrg_reset", "I": 9, "B": 3}),
    ("ssvr-fs", {"variant": "spider", "I": 7, "B": 2, "zero_rule": "random"}),
    ("ssvr-fs", {"variant": "spider_sqrt"}),
    ("ssvr-fs", {"beta": 0.3, "I": 5}),
]


@pytest.mark.parametrize("problem_name", ["nonconvex-lsq", "nonconvex-logistic"])
@pytest.mark.parametrize(("name", "overrides"), VARIANT_CASES)
def test_variants_match_their_numpy_reference(name, overrides, problem_name):
    problem = small_problem(problem_name)
    method = METHODS[name]
    T, seed = 40, 31
    hp = method.resolve(problem, T, overrides)
    draws0, draws = draws_for(method, problem, hp, T, seed)
    xs_ref, calls_ref = method.reference(problem, hp, draws0, draws, T)
    trace = st.run(name, problem, T, seed=seed, measure="exact", keep_iterates=True, checkpoints=5,
                   **overrides)
    np.testing.assert_allclose(trace.iterates[0], xs_ref, rtol=1e-10, atol=1e-10)
    assert int(trace.oracle_calls[0]) == calls_ref


def test_loopless_signsvrg_refreshes_on_its_coins():
    """'loopless' takes a snapshot at t = 1 and then whenever the step's first uniform is
    below 1/I; every snapshot costs m calls, every step 2 B."""
    problem = small_problem("nonconvex-lsq")
    method = METHODS["signsvrg"]
    T, seed, I, B = 400, 8, 10, 2
    hp = method.resolve(problem, T, {"loop": "loopless", "I": I, "B": B})
    _, draws = draws_for(method, problem, hp, T, seed)
    assert draws.u.shape == (T, 1)  # one coin per step, no sign uniforms under 'zero'
    snapshots = 1 + int(np.sum(draws.u[1:, 0] < 1.0 / I))
    trace = st.run("signsvrg", problem, T, seed=seed, loop="loopless", I=I, B=B)
    assert trace.oracle_calls[0] == problem.m * snapshots + 2 * B * T
    # about (T - 1)/I coins are won: 39.9 expected, sd 6; 5 sd either side
    assert 10 <= snapshots - 1 <= 70


# -----------------------------------------------------------------------------------------------
# SVRG-type and SPIDER estimators refreshed at every step are the full gradient
# -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("problem_name", ["nonconvex-lsq", "nonconvex-logistic"])
def test_refresh_every_step_is_sign_gradient_descent(problem_name):
    """With I = 1 the SignSVRG estimator grad f_i(x) - grad f_i(x) + grad f(x), SSVR-FS's
    (with beta = 1, or with a reset, or the SPIDER variants) and the recorder's exact
    gradient are the same vector: every method makes the same steps, and these are sign
    gradient descent on the full gradient. (The recorder's gradient comes from the same
    compiled oracle, but its reductions may be vectorized differently where it is inlined, so
    the recorded estimator error is 0 up to the last bits: below 1e-28 against ||grad f||^2 of
    order 1e-2.)"""
    problem = small_problem(problem_name)
    T, eta = 60, 0.02
    runs = [st.run(name, problem, T, seed=3, measure="exact", keep_iterates=True, I=1, eta=eta, **kw)
            for name, kw in SIGN_VR]
    assert runs[0].avg_grad_l2sq[0] > 1e-3
    for trace in runs:
        assert trace.avg_estimator_error[0] < 1e-28
        assert trace.sign_agreement[0] == 1.0
        assert np.array_equal(trace.iterates[0], runs[0].iterates[0])
    x = problem.x0.copy()
    xs = [x]
    for _ in range(T):
        x = x - eta * np.sign(problem.full_grad(x))
        xs.append(x)
    np.testing.assert_allclose(runs[0].iterates[0], np.array(xs), rtol=0, atol=1e-12)
    # oracle calls: a full gradient per step, plus the per-step batches of each variant
    m = problem.m
    calls = [int(trace.oracle_calls[0]) for trace in runs]
    assert calls == [m * T + 2 * T, m * T + 3 * (T - 1), m * T, m * T, m * T]


def test_spider_refreshed_every_step_is_gradient_descent():
    """Full-precision SPIDER with I = 1 and SVRG with I = 1 both step along the exact
    gradient: the same iterates (to the last bits of the compiled full gradient)."""
    problem = small_problem("nonconvex-lsq")
    kw = dict(seed=2, measure="exact", keep_iterates=True, I=1, eta=0.5)
    spider = st.run("spider", problem, 50, **kw)
    svrg = st.run("svrg", problem, 50, **kw)
    assert spider.avg_estimator_error[0] < 1e-28 and svrg.avg_estimator_error[0] < 1e-28
    np.testing.assert_allclose(spider.iterates[0], svrg.iterates[0], rtol=1e-13, atol=1e-13)
    assert spider.oracle_calls[0] == 50 * problem.m and svrg.oracle_calls[0] == 50 * (problem.m + 2)


@pytest.mark.parametrize("rule", ["zero", "random"])
def test_ssvr_fs_with_beta_one_is_signsvrg(rule):
    """With beta = 1 the STORM-SVRG recursion keeps only its SVRG term, so SSVR-FS makes
    exactly SignSVRG's steps on the same draws (at every snapshot period), while spending
    3 instead of 2 calls per component."""
    problem = small_problem("nonconvex-logistic")
    T, I, B = 90, 13, 2
    kw = dict(seed=6, measure="exact", keep_iterates=True, I=I, B=B, eta=0.03, zero_rule=rule)
    fs = st.run("ssvr-fs", problem, T, beta=1.0, **kw)
    svrg = st.run("signsvrg", problem, T, **kw)
    same_steps(fs, svrg)
    snapshots = math.ceil(T / I)
    assert fs.oracle_calls[0] == problem.m * snapshots + 3 * B * (T - 1)
    assert svrg.oracle_calls[0] == problem.m * snapshots + 2 * B * T
    # negative control: with memory the trajectories separate
    other = st.run("ssvr-fs", problem, T, beta=0.2, **kw)
    assert not np.array_equal(other.iterates, svrg.iterates)


# -----------------------------------------------------------------------------------------------
# signSGD-SIM
# -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["momentum", "sim"])
@pytest.mark.parametrize("problem_name", ["nonconvex-lsq", "smoothed-separable"])
def test_sim_with_beta_one_is_signsgd(problem_name, variant):
    """beta = 1: no memory and, for 'sim', an extrapolation coefficient (1 - beta)/beta = 0,
    so both variants are signSGD with batch 1 on the same samples, number for number."""
    problem = small_problem(problem_name)
    kw = dict(seeds=2, seed=4, measure="exact", keep_iterates=True, B=1, eta=0.01, zero_rule="random")
    ref = st.run("signsgd", problem, 80, **kw)
    same_steps(ref, st.run("signsgd-sim", problem, 80, variant=variant, beta=1.0, **kw))
    same_steps(ref, st.run("signsgd-sim", problem, 80, variant=variant, momentum=0.0, **kw))
    other = st.run("signsgd-sim", problem, 80, variant=variant, beta=0.5, **kw)
    assert not np.array_equal(other.iterates, ref.iterates)


@pytest.mark.parametrize("beta", [0.1, 0.35])
def test_sim_extrapolation_is_exact_on_a_quadratic(beta):
    """Noise-free quadratic f = |x|^2/2 (sparse-noise-quadratic with scale 0): with
    y_t = x_t + ((1 - beta)/beta)(x_t - x_{t-1}) the momentum obeys
    m_t - grad f(x_t) = (1 - beta)(m_{t-1} - grad f(x_{t-1})), so from m_0 = 0, x_0 = x_1,
    ||m_t - grad f(x_t)||^2 = (1 - beta)^{2t} ||grad f(x_1)||^2 and the recorded estimator
    error is the mean of these. Plain momentum does not have this property."""
    problem = st.make_problem("sparse-noise-quadratic", d=13, scale=0.0)
    T = 60
    g1 = np.sum(problem.x0**2)  # ||grad f(x_1)||^2
    expected = np.mean([(1 - beta) ** (2 * t) * g1 for t in range(1, T + 1)])
    sim = st.run("signsgd-sim", problem, T, measure="exact", beta=beta, eta=0.5)
    assert sim.avg_estimator_error[0] == pytest.approx(expected, rel=1e-9)
    # plain momentum lags behind the moving gradient (by 28% and 59% here, noise-free)
    mom = st.run("signsgd-sim", problem, T, measure="exact", beta=beta, eta=0.5, variant="momentum")
    assert mom.avg_estimator_error[0] > 1.2 * expected


# -----------------------------------------------------------------------------------------------
# EF-signSGD: error memory and the scaled-sign compressor
# -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", sorted(ZERO_RULES))
@pytest.mark.parametrize("problem_name", ["stochastic-lsq", "nonconvex-logistic"])
def test_ef_memory_is_what_compression_left_out(problem_name, rule):
    """Step the compiled loop one iteration at a time and check, bit for bit, that
    x_{t+1} = x_t - Delta_t and e_{t+1} = p_t - Delta_t with p_t = eta g_t + e_t, that every
    coordinate of Delta_t has magnitude ||p_t||_1/d, and that the iterate shifted by the memory
    follows SGD: x_{T+1} - e_{T+1} = x_1 - eta sum_t g_t."""
    problem = small_problem(problem_name)
    method = METHODS["ef-signsgd"]
    T, eta = 30, 0.05
    hp = method.resolve(problem, T, {"eta": eta, "B": 2, "zero_rule": rule})
    draws0, draws = draws_for(method, problem, hp, T, seed=12)
    rec = make_recorder(np.zeros(0, dtype=np.int64), problem.d)
    state = method.init_state(problem, hp)
    x, g, e, p, delta, _ = state
    assert not e.any()  # e_1 = 0
    g_sum = np.zeros(problem.d)
    calls = 0
    for t in range(1, T + 1):
        x_old, e_old = x.copy(), e.copy()
        step = Draws(draws.idx[t - 1:t], draws.z[t - 1:t], draws.u[t - 1:t])
        t_stop, calls = method.steps(problem.data, state, hp, step, t, t + 1, T, rec, calls)
        assert t_stop == t + 1
        assert np.array_equal(p, eta * g + e_old)
        assert np.array_equal(x, x_old - delta)
        assert np.array_equal(e, p - delta)
        np.testing.assert_allclose(np.abs(delta), np.abs(p).sum() / problem.d, rtol=1e-13)
        np.testing.assert_allclose(delta, compress(p, rule, draws.u[t - 1]), rtol=1e-13, atol=0)
        g_sum += g
    assert calls == 2 * T
    np.testing.assert_allclose(x - e, problem.x0 - eta * g_sum, rtol=1e-11, atol=1e-11)


def _compressed(u, rule, r):
    out = np.empty_like(u)
    scaled_sign(u, ZERO_RULES[rule], r, out)
    return out


@pytest.mark.parametrize("rule", sorted(ZERO_RULES))
def test_scaled_sign_compression_identity(rule):
    """||C(u) - u||^2 = (1 - phi(u)) ||u||^2 with phi(u) = ||u||_1^2 / (d ||u||_2^2) in
    [1/d, 1], for vectors without zeros under every zero rule. A zero coordinate costs
    nothing under 'zero' (the error is ||u||^2 - (||u||_1^2/d)(2 - nnz/d), below the bound)
    and keeps the identity under 'plus' and 'random'."""
    rng = np.random.default_rng(2024)
    cases = [rng.standard_normal(d) for d in (1, 2, 7, 50, 333)]
    cases += [rng.standard_cauchy(40), np.exp(5 * rng.standard_normal(30)) * rng.choice([-1, 1], 30)]
    cases += [np.full(9, -2.5), np.eye(12)[3] * 4.0]
    cases += [np.where(rng.random(25) < 0.4, 0.0, rng.standard_normal(25))]  # with zeros
    for u in cases:
        d = u.size
        r = rng.random(d)
        c = _compressed(u, rule, r)
        np.testing.assert_allclose(c, compress(u, rule, r), rtol=1e-14, atol=0)
        phi = density(u)
        assert 1 / d - 1e-12 <= phi <= 1 + 1e-12
        err = np.sum((c - u) ** 2)
        sq = np.sum(u**2)
        nnz = np.count_nonzero(u)
        if nnz == d or rule != "zero":
            assert err == pytest.approx((1 - phi) * sq, rel=1e-9, abs=1e-12 * sq)
        else:
            l1 = np.abs(u).sum()
            assert err == pytest.approx(sq - l1**2 / d * (2 - nnz / d), rel=1e-9, abs=1e-12 * sq)
            assert err <= (1 - phi) * sq
    # extremes: equal magnitudes are compressed exactly (phi = 1); a one-hot vector has phi = 1/d
    assert density(np.full(9, -2.5)) == pytest.approx(1.0)
    assert np.array_equal(_compressed(np.full(9, -2.5), rule, np.zeros(9)), np.full(9, -2.5))
    assert density(np.eye(12)[3]) == pytest.approx(1 / 12)
    assert density(np.zeros(5)) == 1.0 and not _compressed(np.zeros(5), rule, np.full(5, 0.3)).any()


# -----------------------------------------------------------------------------------------------
# Schedules and the finite-sum guard
# -----------------------------------------------------------------------------------------------


def test_schedules():
    problem = small_problem("nonconvex-lsq")
    k = problem.constants()
    T, d, m = 500, problem.d, problem.m
    L, L_ms, delta = k["L"], k["L_ms"], k["delta"]

    def hp(name, **over):
        return METHODS[name].resolve(problem, T, over)

    ef = hp("ef-signsgd", c_eta=2.0)
    assert ef["B"] == 1 and ef["eta"] == pytest.approx(2.0 / (L * math.sqrt(T + 1)), rel=1e-12)
    sim = hp("signsgd-sim")
    assert sim["variant"] == "sim" and sim["B"] == 1
    assert sim["beta"] == pytest.approx(T ** (-4 / 7)) and sim["eta"] == pytest.approx(d**-0.5 * T ** (-5 / 7))
    mom = hp("signsgd-sim", variant="momentum", c_beta=3.0)
    assert mom["beta"] == pytest.approx(3 * T**-0.5) and mom["eta"] == pytest.approx(d**-0.5 * T**-0.75)
    sv = hp("signsvrg")
    assert sv["I"] == m and sv["B"] == 1 and sv["loop"] == "epoch"
    assert sv["eta"] == pytest.approx(math.sqrt(delta / (d * T * (L / 2 + 2 * L_ms * m))), rel=1e-12)
    sp = hp("spider")
    assert sp["I"] == sp["B"] == math.ceil(math.sqrt(m)) == 7 and sp["eta"] == pytest.approx(1 / (2 * L_ms))
    spn = hp("spider", step="normalized")
    assert spn["eta"] == pytest.approx(math.sqrt(delta / (T * (L / 2 + 2 * L_ms))), rel=1e-12)
    fs = hp("ssvr-fs")
    assert (fs["variant"], fs["I"], fs["B"]) == ("storm_svrg", m, 1) and fs["beta"] == pytest.approx(1 / m)
    assert fs["eta"] == pytest.approx(math.sqrt(delta / (d * T * (L / 2 + 4 * L_ms * math.sqrt(m)))), rel=1e-12)
    fsp = hp("ssvr-fs", variant="spider")
    assert fsp["eta"] == pytest.approx(math.sqrt(delta / (d * T * (L / 2 + 2 * L_ms * math.sqrt(m)))))
    fsq = hp("ssvr-fs", variant="spider_sqrt")
    assert fsq["I"] == fsq["B"] == 7
    assert fsq["eta"] == pytest.approx(math.sqrt(delta / (d * T * (L / 2 + 2 * L_ms))), rel=1e-12)
    # eta ~ m^-1/4 d^-1/2 T^-1/2 (up to the L/2 term): a fresh horizon rescales it by T^-1/2
    assert hp("ssvr-fs")["eta"] / METHODS["ssvr-fs"].resolve(problem, 4 * T)["eta"] == pytest.approx(2.0)


@pytest.mark.parametrize("name", FINITE_SUM_METHODS)
def test_finite_sum_methods_refuse_stochastic_problems(name, capsys):
    with pytest.raises(st.IncompatibleProblemError) as info:
        st.run(name, "stochastic-lsq", 20, problem_params={"d": 5})
    assert info.value.parameter == "problem" and "finite-sum" in str(info.value) and name in str(info.value)
    code = main(["run", name, "--problem", "stochastic-lsq", "--d", "5", "--T", "20", "--no-progress"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.startswith("signtheory: error: invalid problem='stochastic-lsq'") and "finite-sum" in err


@pytest.mark.parametrize(("name", "parameter", "value"), [
    ("signsgd-sim", "variant", "nesterov"), ("signsvrg", "loop", "random"), ("spider", "step", "adaptive"),
    ("ssvr-fs", "variant", "storm"), ("ssvr-fs", "I", 0), ("ef-signsgd", "B", 0)])
def test_invalid_variants(name, parameter, value):
    with pytest.raises(st.InvalidParameterError) as info:
        st.run(name, "nonconvex-lsq", 20, problem_params={"d": 5, "m": 20}, **{parameter: value})
    assert info.value.parameter == parameter
