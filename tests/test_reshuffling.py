"""Random reshuffling: the engine's reshuffled draws and the SignRR, SignRVR and
SignRVM methods (parity with their NumPy references, epoch structure, exact
equivalences, oracle and epoch accounting, the finite-sum guard, the CLI)."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from conftest import FINITE_SUM_NAMES, SMALL_D, small_problem
from scipy import stats

import signtheory as st
from signtheory.cli import main
from signtheory.engine import replicates
from signtheory.engine.draws import SAMPLES, DrawPlan, Draws, DrawSource, concat, stream
from signtheory.methods import METHODS
from signtheory.methods.signrr import step_sizes
from signtheory.problems import PROBLEMS

RESHUFFLING = ("signrr", "signrvr", "signrvm")

# the reshuffling methods refuse composite problems (their measure is a gradient mapping)
SMOOTH_FINITE_SUMS = [n for n in FINITE_SUM_NAMES if not getattr(PROBLEMS[n], "is_composite", False)]


def draws_for(method, problem, hp, T, seed, replicate=0):
    source = DrawSource(problem, method.plan(hp, problem), seed, replicate)
    return source.initial(), source.steps(T)


def assert_same_trajectory(xs_fast, xs_ref, tol=1e-10):
    """Equal up to rounding (the compiled and NumPy oracles sum in different orders);
    a sign flip of any coordinate would show as a difference of 2 gamma_k."""
    assert xs_fast.shape == xs_ref.shape
    np.testing.assert_allclose(xs_fast, xs_ref, rtol=tol, atol=tol)


# -------------------------------------------------------------------------------------------------
# Reshuffled draws
# -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("problem_name", FINITE_SUM_NAMES)
def test_chunked_reshuffled_draws_equal_one_draw(problem_name):
    """Chunks of every size (1, odd, longer than an epoch, ending mid-epoch) continue the
    current permutation and concatenate to exactly one big draw, also with an i.i.d. initial
    batch, several samples per step (blocks straddling epochs) and uniforms."""
    problem = small_problem(problem_name)  # m = 40
    for plan in (DrawPlan(0, 1, 0, "reshuffle"), DrawPlan(2, 3, problem.d, "reshuffle")):
        whole = DrawSource(problem, plan, 11, 2)
        w0, w = whole.initial(), whole.steps(200)
        parts = DrawSource(problem, plan, 11, 2)
        p0 = parts.initial()
        p = concat([parts.steps(n) for n in (7, 33, 1, 40, 59, 13, 47)])
        for field in Draws._fields:
            assert np.array_equal(getattr(w0, field), getattr(p0, field))
            assert np.array_equal(getattr(w, field), getattr(p, field)), field
        assert w.idx.shape == (200, plan.samples) and w.idx.dtype == np.int64
        assert w.z.shape == (200, plan.samples, problem.sample_width)


def test_iid_sampling_is_the_default_and_unchanged():
    """The new field defaults to 'iid', and an explicit 'iid' draws the very numbers of the
    three-field plan (backward compatible)."""
    problem = small_problem("nonconvex-lsq")
    assert DrawPlan(1, 2, 3).sampling == "iid"
    a = DrawSource(problem, DrawPlan(1, 2, 3), 5, 0)
    b = DrawSource(problem, DrawPlan(1, 2, 3, "iid"), 5, 0)
    for x, y in ((a.initial(), b.initial()), (a.steps(30), b.steps(30))):
        for field in Draws._fields:
            assert np.array_equal(getattr(x, field), getattr(y, field))


def test_every_epoch_visits_every_component_once():
    """Each block of m consecutive indices is a permutation of 0..m-1; the permutations
    are the successive permutation(m) draws of the replicate's sample stream; a partial
    last epoch is a prefix of its permutation."""
    problem = small_problem("nonconvex-logistic", m=13)
    m, epochs = problem.m, 9
    T = m * epochs - 5  # the last epoch is cut short
    source = DrawSource(problem, DrawPlan(0, 1, 0, "reshuffle"), 3, 1)
    idx = concat([source.steps(n) for n in (5, 20, 1, T - 26)]).idx[:, 0]
    rng = stream(3, 1, SAMPLES)
    perms = [rng.permutation(m) for _ in range(epochs)]
    assert np.array_equal(idx, np.concatenate(perms)[:T])
    for e in range(epochs - 1):
        assert sorted(idx[e * m:(e + 1) * m]) == list(range(m))
    tail = idx[(epochs - 1) * m:]
    assert tail.size == m - 5 and len(set(tail.tolist())) == tail.size
    assert len({tuple(p) for p in perms}) == epochs  # fresh permutations


def test_permutations_are_uniform_and_independent_across_epochs():
    """m = 3: the 6 permutations of 20000 epochs, and the 36 ordered pairs of consecutive
    epochs, are uniform. Chi-square tests at level 1e-6 each (false-alarm rate 2e-6 for the
    fixed seed; observed p-values are reported on failure)."""
    problem = small_problem("nonconvex-lsq", m=3)
    epochs = 20000
    idx = DrawSource(problem, DrawPlan(0, 1, 0, "reshuffle"), 0, 0).steps(3 * epochs).idx.reshape(epochs, 3)
    code = {p: i for i, p in enumerate(itertools.permutations(range(3)))}
    labels = np.array([code[tuple(row)] for row in idx])
    singles = np.bincount(labels, minlength=6)
    pairs = np.bincount(6 * labels[:-1] + labels[1:], minlength=36)
    p1 = stats.chisquare(singles).pvalue
    p2 = stats.chisquare(pairs).pvalue
    assert p1 > 1e-6 and p2 > 1e-6, (p1, p2)


def test_reshuffling_needs_a_finite_sum_and_a_known_sampling():
    with pytest.raises(st.IncompatibleProblemError, match="finite-sum"):
        DrawSource(small_problem("stochastic-lsq"), DrawPlan(0, 1, 0, "reshuffle"), 0, 0)
    with pytest.raises(st.InvalidParameterError, match="sampling"):
        DrawSource(small_problem("nonconvex-lsq"), DrawPlan(0, 1, 0, "shuffle"), 0, 0)


# -------------------------------------------------------------------------------------------------
# Parity with the NumPy references on the same draws
# -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", ["zero", "random"])
@pytest.mark.parametrize("problem_name", SMOOTH_FINITE_SUMS)
@pytest.mark.parametrize("name", RESHUFFLING)
def test_compiled_run_matches_numpy_reference(name, problem_name, rule, monkeypatch):
    """47 steps on m = 10 components (4 full epochs and a partial one), drawn by the engine
    in chunks of 7 that straddle the epochs."""
    monkeypatch.setattr(replicates, "MAX_CHUNK_STEPS", 7)
    problem = small_problem(problem_name, m=10)
    method = METHODS[name]
    T, seed = 47, 21
    hp = method.resolve(problem, T, {"zero_rule": rule})
    draws0, draws = draws_for(method, problem, hp, T, seed)
    xs_ref, calls_ref = method.reference(problem, hp, draws0, draws, T)
    trace = st.run(name, problem, T, seed=seed, measure="exact", keep_iterates=True, checkpoints=5,
                   zero_rule=rule)
    assert trace.config["hyperparameters"] == hp
    assert np.array_equal(trace.iterate_t, np.arange(1, T + 2))
    assert_same_trajectory(trace.iterates[0], xs_ref)
    assert int(trace.oracle_calls[0]) == calls_ref
    assert trace.counters == {"epochs": 5, "last_epoch_steps": 7}


@pytest.mark.parametrize("name", RESHUFFLING)
def test_every_step_moves_each_coordinate_by_gamma_k_or_zero(name):
    """A sign step: |x_{k+1} - x_k| is gamma_k = eta / sqrt(k) in every coordinate whose
    estimate is nonzero ('plus' rule: in every coordinate)."""
    problem = small_problem("nonconvex-lsq", m=10)
    T = 60
    trace = st.run(name, problem, T, seed=2, measure="exact", keep_iterates=True, zero_rule="plus")
    gamma = step_sizes(trace.config["hyperparameters"], T)
    steps = np.abs(np.diff(trace.iterates[0], axis=0))
    np.testing.assert_allclose(steps, np.repeat(gamma[:, None], problem.d, axis=1), rtol=1e-9, atol=0)
    assert gamma[0] == trace.config["hyperparameters"]["eta"]


def epoch_loop_signrvr(problem, hp, T, seed):
    """SignRVR written as the paper's double loop, with the permutations drawn directly
    (epoch e uses the e-th permutation(m) of the replicate's sample stream)."""
    m, rng = problem.m, stream(seed, 0, SAMPLES)
    x = problem.x0.copy()
    xs, k = [x.copy()], 0
    for _ in range(math.ceil(T / m)):
        perm = rng.permutation(m)
        x_snap, mu = x.copy(), problem.full_grad(x)
        for i in perm[: min(m, T - k)]:
            k += 1
            v = problem.sample_grads(x, [i])[0] - problem.sample_grads(x_snap, [i])[0] + mu
            x = x - hp["eta"] / math.sqrt(k) * np.sign(v)
            xs.append(x)
    return np.array(xs)


def test_signrvr_follows_the_epoch_double_loop(monkeypatch):
    """The run visits the components epoch by epoch in the order of fresh permutations and
    takes its snapshot at each epoch start, across the engine's chunk boundaries."""
    monkeypatch.setattr(replicates, "MAX_CHUNK_STEPS", 9)
    problem = small_problem("nonconvex-lsq", m=12)
    T, seed = 12 * 4 + 5, 8
    trace = st.run("signrvr", problem, T, seed=seed, measure="exact", keep_iterates=True)
    xs = epoch_loop_signrvr(problem, trace.config["hyperparameters"], T, seed)
    assert_same_trajectory(trace.iterates[0], xs)


# -------------------------------------------------------------------------------------------------
# Exact equivalences
# -------------------------------------------------------------------------------------------------


def test_signrvr_with_one_component_is_sign_gradient_descent():
    """m = 1: every step starts an epoch, the snapshot is the current iterate, and the
    estimator is exactly the full gradient (NumPy reference bit for bit; compiled up to
    rounding). Costs 1 + 2 calls per step."""
    problem = st.make_problem("nonconvex-lsq", d=SMALL_D, m=1)
    T = 40
    hp = METHODS["signrvr"].resolve(problem, T, {})
    x = problem.x0.copy()
    gd = [x.copy()]
    for k in range(1, T + 1):
        x = x - hp["eta"] / math.sqrt(k) * np.sign(problem.full_grad(x))
        gd.append(x)
    gd = np.array(gd)
    draws0, draws = draws_for(METHODS["signrvr"], problem, hp, T, 0)
    xs_ref, calls = METHODS["signrvr"].reference(problem, hp, draws0, draws, T)
    assert np.array_equal(xs_ref, gd)
    trace = st.run("signrvr", problem, T, measure="exact", keep_iterates=True)
    assert_same_trajectory(trace.iterates[0], gd, tol=1e-12)
    assert calls == trace.oracle_calls[0] == 3 * T
    assert trace.counters == {"epochs": T, "last_epoch_steps": 1}
    assert not np.allclose(np.diff(gd, axis=0)[0], np.diff(gd, axis=0)[-1])  # the step decays


@pytest.mark.parametrize("rule", ["zero", "random"])
def test_signrvm_without_momentum_is_signrr(rule):
    """beta = 1 keeps no memory: SignRVM makes exactly SignRR's steps on the same draws."""
    problem = small_problem("nonconvex-logistic", m=10)
    kw = dict(seeds=2, seed=4, measure="exact", keep_iterates=True, zero_rule=rule)
    rr = st.run("signrr", problem, 70, **kw)
    rvm = st.run("signrvm", problem, 70, beta=1.0, **kw)
    assert np.array_equal(rr.iterates, rvm.iterates)
    assert np.array_equal(rr.avg_grad_l1, rvm.avg_grad_l1)
    other = st.run("signrvm", problem, 70, momentum=0.5, **kw)  # negative control
    assert other.config["hyperparameters"]["beta"] == 0.5
    assert not np.array_equal(other.iterates, rr.iterates)


# -------------------------------------------------------------------------------------------------
# Schedules, hyperparameters and the finite-sum guard
# -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("c", [1.0, 0.3])
def test_default_schedules(c):
    problem = small_problem("nonconvex-lsq")
    L, d, m = problem.constants()["L"], problem.d, problem.m
    for name in RESHUFFLING:
        hp = METHODS[name].resolve(problem, 500, {"c_eta": c})
        assert hp["gamma0_scaling"] == "m_free" and hp["zero_rule"] == "zero"
        assert hp["eta"] == pytest.approx(c / math.sqrt(L * d), rel=1e-12)
        hp = METHODS[name].resolve(problem, 500, {"c_eta": c, "gamma0_scaling": "inv_sqrt_m"})
        assert hp["eta"] == pytest.approx(c / math.sqrt(L * d * m), rel=1e-12)
        assert METHODS[name].resolve(problem, 10**6, {"c_eta": c})["eta"] == pytest.approx(
            c / math.sqrt(L * d), rel=1e-12)  # gamma_0 does not depend on T
    rvm = METHODS["signrvm"].resolve(problem, 500, {"c_beta": c})
    assert rvm["beta"] == pytest.approx(c / m, rel=1e-12)
    assert METHODS["signrvm"].resolve(small_problem("nonconvex-lsq", m=1), 5, {})["beta"] == 1.0


def test_bad_hyperparameters_name_the_parameter():
    problem = small_problem("nonconvex-lsq")
    with pytest.raises(st.InvalidParameterError, match="gamma0_scaling"):
        METHODS["signrr"].resolve(problem, 10, {"gamma0_scaling": "sqrt_m"})
    with pytest.raises(st.InvalidParameterError, match="beta"):
        METHODS["signrvm"].resolve(problem, 10, {"beta": 0.0})
    with pytest.raises(st.InvalidParameterError, match="eta"):
        METHODS["signrvr"].resolve(problem, 10, {"eta": -1.0})
    with pytest.raises(st.InvalidParameterError, match="is not a hyperparameter"):
        METHODS["signrr"].resolve(problem, 10, {"beta": 0.5})


@pytest.mark.parametrize("name", RESHUFFLING)
def test_finite_sum_guard(name, capsys):
    with pytest.raises(st.IncompatibleProblemError, match="finite-sum"):
        st.run(name, "stochastic-lsq", 10, problem_params={"d": 5})
    code = main(["run", name, "--problem", "stochastic-lsq", "--d", "5", "--T", "10", "--no-progress"])
    _, err = capsys.readouterr()
    assert code == 2 and "finite-sum" in err and name in err


# -------------------------------------------------------------------------------------------------
# Oracle calls and epochs in the run's JSON
# -------------------------------------------------------------------------------------------------


def run_json(capsys, argv):
    code = main(argv + ["--json", "--no-progress"])
    out, _ = capsys.readouterr()
    assert code == 0
    return json.loads(out)


def test_cli_json_reports_oracle_calls_and_epochs(capsys):
    r = run_json(capsys, ["run", "signrvr", "--problem", "nonconvex-lsq", "--d", "20", "--m", "100",
                          "--T", "1000"])
    assert r["oracle_calls"] == 100 * 10 + 2 * 1000  # a full gradient per epoch, 2 per step
    assert r["epochs"] == 10 and r["last_epoch_steps"] == 100
    assert r["config"]["T"] == 1000 and r["config"]["problem_params"]["m"] == 100
    assert math.isfinite(r["measures"]["avg_grad_l1"])
    # a partial last epoch still pays its snapshot
    r = run_json(capsys, ["run", "signrvr", "--problem", "nonconvex-lsq", "--d", "20", "--m", "100",
                          "--T", "1050"])
    assert r["oracle_calls"] == 100 * 11 + 2 * 1050
    assert r["epochs"] == 11 and r["last_epoch_steps"] == 50
    for name in ("signrr", "signrvm"):
        r = run_json(capsys, ["run", name, "--problem", "nonconvex-lsq", "--d", "20", "--m", "100",
                              "--T", "250", "--seeds", "2"])
        assert r["oracle_calls"] == 250 and r["oracle_calls_per_seed"] == [250, 250]
        assert r["epochs"] == 3 and r["last_epoch_steps"] == 50


def test_methods_without_counters_report_none(capsys):
    r = run_json(capsys, ["run", "sgd", "--problem", "nonconvex-lsq", "--d", "7", "--m", "20", "--T", "30"])
    assert "epochs" not in r
    assert st.run("sgd", "nonconvex-lsq", 5, problem_params={"d": 7, "m": 20}).counters == {}


def test_methods_listing_has_the_reshuffling_methods(capsys):
    code = main(["methods", "--json"])
    out, _ = capsys.readouterr()
    assert code == 0
    by_name = {e["name"]: e for e in json.loads(out)}
    for name in RESHUFFLING:
        e = by_name[name]
        assert e["accepts"] == ["finite-sum"] and e["measure"] == "l1"
        assert "2310.15976" in e["citation"] and "reconstructed" in e["provenance"]
        assert e["exponents"]["N"] == pytest.approx(-0.5)
        assert e["hyperparameters"]["gamma0_scaling"]["default"] == "m_free"
    assert by_name["signrvr"]["exponents"]["m"] == 1.0 and "m" not in by_name["signrr"]["exponents"]
    assert by_name["signrr"]["floor"]


# -------------------------------------------------------------------------------------------------
# Behaviour
# -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", RESHUFFLING)
def test_a_shorter_run_is_a_prefix_of_a_longer_one(name):
    """gamma_k = gamma_0 / sqrt(k) and beta = 1/m do not depend on the horizon, and the
    permutations are drawn epoch by epoch, so the horizon-T run is the first T steps of any
    longer run with the same seed (unlike methods whose schedule depends on T)."""
    problem = small_problem("nonconvex-lsq", m=10)
    kw = dict(seed=6, measure="exact", keep_iterates=True)
    short, long = st.run(name, problem, 33, **kw), st.run(name, problem, 95, **kw)
    assert short.config["hyperparameters"] == long.config["hyperparameters"]
    assert np.array_equal(short.iterates[0], long.iterates[0][:34])


def test_signrr_stalls_where_signrvr_and_signrvm_descend():
    """The non-vanishing term of SignRR against the vanishing rates of SignRVR and SignRVM
    (nonconvex-lsq, d = 20, m = 100, 4 seeds, T_ep = 10 and 160 epochs). Observed ratios
    M1(160 epochs) / M1(10 epochs): SignRR 1.16, SignRVR 0.26, SignRVM 0.29 (the -1/2
    slope predicts 0.25; the log factor raises it). The thresholds 0.8 and 0.5 leave wide
    margins for these fixed seeds."""
    problem = st.make_problem("nonconvex-lsq", d=20, m=100)

    def ratio(name):
        m1 = [st.run(name, problem, 100 * t_ep, seeds=4, seed=0, measure="exact").avg_grad_l1.mean()
              for t_ep in (10, 160)]
        return m1[1] / m1[0]

    assert ratio("signrr") > 0.8
    assert ratio("signrvr") < 0.5
    assert ratio("signrvm") < 0.5
