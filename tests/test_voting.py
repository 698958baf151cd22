"""The majority-vote methods: compiled runs against the plain NumPy reference on the
same draws, the exact reduction to signSGD with identical noise-free workers, the
tie / zero-message / clipping counters, the SSVR-MV counterexample (option 1 stalls
at its floor, option 2 does not) and the command line.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from conftest import small_problem

import signtheory as st
from signtheory.cli import main
from signtheory.distributed import mv_counterexample, split
from signtheory.engine import replicates
from signtheory.errors import InvalidParameterError
from signtheory.ops import ZERO_RULES
from signtheory.ops.compressors import majority_vote_np
from signtheory.voting import VOTING_METHODS, resolve
from signtheory.voting.draws import VotingDrawSource
from signtheory.voting.reference import simulate, structure, trajectory
from signtheory.voting.rounds import MAJORITY, MEAN, SERVER_STOCHASTIC, server_round
from signtheory.voting.runner import draw_plan

# -----------------------------------------------------------------------------------------------
# Parity: the compiled run against the NumPy reference on the same draws
# -----------------------------------------------------------------------------------------------


def voting_draws(method, wp, hp, T, seed, replicate=0):
    source = VotingDrawSource(wp, *draw_plan(method, hp, wp.d), seed, replicate)
    return source.initial(), source.steps(T)


def compare_to_reference(sim, xs, tol=1e-10):
    """Iterates equal to ``tol`` (relative to 1 + |x|) up to the end, or up to a round whose
    reference decisions include one within 1e-9 of its boundary (a worker estimate within
    1e-9 of 0 under the deterministic sign, or a uniform within 1e-9 of a stochastic sign's
    probability): rounding there may flip a sign. Returns 1 if such a flip happened, else 0."""
    assert xs.shape == sim.iterates.shape
    differs = np.abs(xs - sim.iterates) > tol * (1 + np.abs(sim.iterates))
    rows = np.flatnonzero(differs.any(axis=1))
    if rows.size == 0:
        return 0
    r = rows[0]  # x_{r+1} is the first differing iterate: round r produced it
    assert r >= 1 and sim.margins[r - 1] < 1e-9, (
        f"iterates differ from x_{r + 1} on, by up to {np.abs(xs - sim.iterates)[r].max():.3g}, "
        f"while round {r}'s closest decision was {sim.margins[r - 1]:.3g} from its boundary")
    return 1


def case(method, problem, n, mode="homogeneous", T=30, chunk=None, d=None, pparams=None, **hyper):
    split_kw = {"mode": mode}
    if isinstance(mode, tuple):
        split_kw = {"mode": mode[0], ("zeta" if mode[0] == "shift" else "alpha"): mode[1]}
    ident = f"{method}-{problem}-n{n}-{split_kw['mode']}-" + "-".join(f"{k}={v}" for k, v in hyper.items())
    return pytest.param(method, problem, n, split_kw, T, chunk, d, pparams or {}, hyper, id=ident)


PARITY_CASES = [
    case("mv-signsgd", "nonconvex-logistic", 3, ("shift", 0.5), B=2),
    case("mv-signsgd", "stochastic-lsq", 4, d=3, B=1, eta=0.05, tie_rule="plus", chunk=7),
    case("mv-signsgd", "smoothed-separable", 4, ("shift", 0.3), d=2, B=1, eta=0.02, tie_rule="random",
         zero_rule="random"),
    case("mv-signsgd", "nonconvex-lsq", 1, B=3),
    case("mv-signsgd", "nonconvex-logistic", 3, ("dirichlet", 0.3), pparams={"m": 42}, B=2, n_byzantine=1),
    case("signum-mv", "stochastic-lsq", 3, ("shift", 1.0), beta=0.3, zero_rule="plus", n_byzantine=1),
    case("signum-mv", "nonconvex-logistic", 4, ("dirichlet", 0.5), B=2, tie_rule="random", chunk=7),
    case("ssdm", "smoothed-separable", 3),
    case("ssdm", "nonconvex-logistic", 4, server_rule="vote", tie_rule="plus", n_byzantine=1),
    case("sto-signsgd", "nonconvex-logistic", 3, ("shift", 0.5)),
    case("sto-signsgd", "stochastic-lsq", 4, R=0.3, tie_rule="random", chunk=7),
    case("sto-signsgd", "smoothed-separable", 1, d=1, R=0.5),
    case("mv-signsgd-sim", "nonconvex-logistic", 3, ("shift", 0.5)),
    case("mv-signsgd-sim", "stochastic-lsq", 4, variant="momentum", worker_sign="deterministic", R=1.0,
         zero_rule="random", tie_rule="plus"),
    case("mv-signsgd-sim", "smoothed-separable", 1, d=1, variant="sim", R=2.0, B=2),
    case("ssvr-mv", "nonconvex-logistic", 3, ("shift", 0.5), option=1, B0=3, B=2),
    case("ssvr-mv", "nonconvex-logistic", 4, ("dirichlet", 1.0), B0=2, chunk=7),
    case("ssvr-mv", "stochastic-lsq", 3, projection="linf_clip", server_rule="majority", R=1.0),
    case("ssvr-mv", "smoothed-separable", 4, ("shift", 0.2), d=2, server_rule="mean", R=0.5, n_byzantine=1),
    case("ssvr-mv", "mv-counterexample", 3, "counterexample", d=2, pparams={"instance": "amplified"},
         option=1, R=2.5 / math.sqrt(2)),
    case("ssvr-mv", "mv-counterexample", 3, "counterexample", d=2, pparams={"instance": "amplified"}),
    case("dist-sgd", "nonconvex-lsq", 3, ("shift", 0.5), B=2),
    case("dist-sgd", "stochastic-lsq", 4, eta=0.01, n_byzantine=1),
]


@pytest.mark.parametrize(("name", "problem_name", "n", "split_kw", "T", "chunk", "d", "pparams", "hyper"),
                         PARITY_CASES)
def test_compiled_run_matches_numpy_reference(name, problem_name, n, split_kw, T, chunk, d, pparams, hyper,
                                              monkeypatch, record_property):
    if chunk is not None:
        monkeypatch.setattr(replicates, "MAX_CHUNK_STEPS", chunk)  # rounds drawn in chunks
    problem = small_problem(problem_name, **({} if d is None else {"d": d}), **pparams)
    method = VOTING_METHODS[name]
    seed = 31
    wp = split(problem, n, **split_kw)
    hp = resolve(method, wp, T, hyper)
    trace = st.run(name, problem, T, n=n, split=split_kw, seeds=2, seed=seed, measure="exact",
                   keep_iterates=True, checkpoints=5, threads=1, **hyper)
    assert trace.config["hyperparameters"] == hp
    assert np.array_equal(trace.iterate_t, np.arange(1, T + 2))  # x_1 .. x_{T+1}
    flips = 0
    counts = np.zeros(3, dtype=np.int64)
    for r in range(2):  # replicate r reads the streams of replicate r
        draws0, draws = voting_draws(method, wp, hp, T, seed, r)
        sim = simulate(method, wp, hp, draws0, draws, T)
        assert sim.stopped == 0 and trace.diverged_at[r] == 0
        flip = compare_to_reference(sim, trace.iterates[r], tol=1e-10)
        flips += flip
        assert int(trace.oracle_calls[r]) == sim.calls
        assert sim.calls == n * method.calls_per_worker(hp, T)
        if not flip:
            counts += sim.counts
            assert [trace.counters[k][r] for k in ("clips_per_seed", "zero_messages_per_seed",
                                                   "vote_ties_per_seed")] == sim.counts
        # the public form returns the same numbers
        xs, calls, cnt = trajectory(name, wp, hp, draws0, draws, T)
        assert np.array_equal(xs, sim.iterates) and calls == sim.calls and cnt == sim.counts
    assert not np.array_equal(trace.iterates[0], trace.iterates[1])  # the replicates' streams differ
    record_property("sign_flips", flips)
    c = trace.counters
    assert c["n_workers"] == n and c["rounds"] == T
    assert c["oracle_calls_per_worker"] == method.calls_per_worker(hp, T)
    assert c["uplink_bits"] == T * c["uplink_bits_per_round"]
    assert c["downlink_bits"] == T * c["downlink_bits_per_round"]


def test_reference_structure_matches_the_compiled_codes():
    """The reference's own reading of each method (written from the pseudocode) names the
    same estimator, message and server rule as the compiled method's codes."""
    from signtheory.voting import rounds as R

    est = {"grad": R.GRAD, "momentum": R.MOMENTUM, "sim": R.SIM, "storm": R.STORM}
    msg = {"sign": R.SIGN, "stochastic": R.STOCHASTIC, "norm_scaled": R.NORM_SCALED,
           "projected": R.PROJECTED, "full": R.FULL}
    srv = {"majority": R.MAJORITY, "stochastic": R.SERVER_STOCHASTIC, "mean": R.MEAN}
    wp = split(small_problem("nonconvex-logistic"), 3)
    variants = {
        "ssdm": [{"server_rule": s} for s in ("mean", "vote")],
        "mv-signsgd-sim": [{"variant": v, "worker_sign": w} for v in ("sim", "momentum")
                           for w in ("stochastic", "deterministic")],
        "ssvr-mv": [{"option": 1}] + [{"option": 2, "projection": p, "server_rule": s}
                                      for p in ("l2_ball", "linf_clip")
                                      for s in ("stochastic", "majority", "mean")],
    }
    seen = 0
    for name, method in VOTING_METHODS.items():
        for overrides in variants.get(name, [{}]):
            hp = resolve(method, wp, 50, overrides)
            e, m, s = structure(name, hp)
            assert method.codes(hp) == (est[e], msg[m], srv[s]), (name, overrides)
            seen += 1
    assert seen == 17  # 7 methods; ssdm 2, mv-signsgd-sim 4 and ssvr-mv 7 variants
    with pytest.raises(ValueError, match="signsgd"):
        structure("signsgd", {})


# -----------------------------------------------------------------------------------------------
# n identical noise-free workers vote exactly like one signSGD node
# -----------------------------------------------------------------------------------------------


def noise_free(name):
    """Problems whose every sample gradient is exactly grad f."""
    if name == "sparse-noise-quadratic":
        return st.make_problem(name, d=7, scale=0.0)
    return st.make_problem(name, d=5, instance="amplified", y0=1.5)


@pytest.mark.parametrize("problem_name", ["sparse-noise-quadratic", "mv-counterexample"])
@pytest.mark.parametrize("n", [1, 3, 4])
def test_identical_exact_workers_vote_like_signsgd(problem_name, n):
    """With exact sample gradients every homogeneous worker computes the same estimate, so
    each sends the same signs, the vote returns them, and MV-signSGD (Signum-MV) makes
    exactly the steps of signSGD (Signum), bit for bit, whatever n and the streams."""
    problem = noise_free(problem_name)
    T = 60
    kw = dict(seeds=2, seed=5, measure="exact", keep_iterates=True, eta=0.03)
    for central, voting, hyper in (("signsgd", "mv-signsgd", {"B": 3}),
                                   ("signum", "signum-mv", {"B": 2, "beta": 0.3})):
        ref = st.run(central, problem, T, **kw, **hyper)
        for tie_rule in ("zero", "plus"):
            run = st.run(voting, problem, T, n=n, **kw, **hyper, tie_rule=tie_rule)
            assert np.array_equal(run.iterates, ref.iterates), (central, n, tie_rule)
            assert run.counters["vote_ties_per_seed"] == [0, 0]  # unanimous, never 0 here
            assert np.array_equal(run.oracle_calls, n * ref.oracle_calls)
    # negative control: with noise, the vote of n workers is not one node's step
    if problem_name == "sparse-noise-quadratic":
        noisy = st.make_problem(problem_name, d=7, scale=1.0)
        a = st.run("signsgd", noisy, T, **kw, B=3)
        b = st.run("mv-signsgd", noisy, T, n=3, **kw, B=3)
        assert not np.array_equal(a.iterates, b.iterates)


# -----------------------------------------------------------------------------------------------
# Ties, zero messages and clipping
# -----------------------------------------------------------------------------------------------

# four workers, six coordinates: column sums 0, 2, 0, -2, 0, 1 (ties at 0, 2, 4)
Q_TIES = np.array([[1.0, 1.0, 1.0, -1.0, 0.0, 1.0],
                   [-1.0, 1.0, -1.0, -1.0, 0.0, 0.0],
                   [1.0, 1.0, 1.0, -1.0, 0.0, 0.0],
                   [-1.0, -1.0, -1.0, 1.0, 0.0, 0.0]])
U_SERVER = np.array([0.2, 0.9, 0.7, 0.1, 0.5, 0.3])


@pytest.mark.parametrize(("rule", "expected"), [
    ("zero", [0.0, 1.0, 0.0, -1.0, 0.0, 1.0]),
    ("plus", [1.0, 1.0, 1.0, -1.0, 1.0, 1.0]),
    ("random", [1.0, 1.0, -1.0, -1.0, -1.0, 1.0]),  # +1 iff the tie's uniform is below 1/2
])
def test_server_round_ties_follow_the_rule(rule, expected):
    V = np.full(6, np.nan)
    counts = np.array([5], dtype=np.int64)
    server_round(MAJORITY, Q_TIES, V, U_SERVER, ZERO_RULES[rule], counts)
    assert V.tolist() == expected
    assert counts[0] == 5 + 3  # three ties added to the counter
    ref, ties = majority_vote_np(Q_TIES, rule, U_SERVER)
    assert ref.tolist() == expected and ties == 3


def test_server_round_unbiased_rules():
    z = Q_TIES.sum(axis=0) / 4  # 0, 1/2, 0, -1/2, 0, 1/4
    counts = np.zeros(1, dtype=np.int64)
    V = np.full(6, np.nan)
    server_round(MEAN, Q_TIES, V, U_SERVER, 0, counts)
    assert V.tolist() == z.tolist()
    server_round(SERVER_STOCHASTIC, Q_TIES, V, U_SERVER, 0, counts)
    assert V.tolist() == np.where(U_SERVER < (1 + z) / 2, 1.0, -1.0).tolist() == [1, -1, -1, 1, -1, 1]
    assert counts[0] == 0  # only the majority rule counts ties


@pytest.mark.parametrize("n", [2, 3, 4])
def test_vote_ties_in_a_run(n):
    """Stochastic worker signs are never 0, so a vote ties exactly when the +1 and -1 are
    equally many: never for odd n; for even n, under tie_rule='zero', exactly on the
    coordinates that do not move."""
    problem = small_problem("nonconvex-logistic")
    T = 80
    trace = st.run("sto-signsgd", problem, T, n=n, split={"mode": "shift", "zeta": 0.5}, seeds=2, seed=2,
                   measure="exact", keep_iterates=True, threads=1)
    ties = trace.counters["vote_ties_per_seed"]
    still = [int(np.count_nonzero(np.diff(trace.iterates[r], axis=0) == 0.0)) for r in range(2)]
    assert trace.counters["zero_messages_per_seed"] == [0, 0]
    if n % 2:
        assert ties == [0, 0] and still == [0, 0]
    else:
        assert ties == still and min(ties) > 0
        plus = st.run("sto-signsgd", problem, T, n=n, split={"mode": "shift", "zeta": 0.5}, seeds=2, seed=2,
                      measure="exact", keep_iterates=True, threads=1, tie_rule="plus")
        assert min(plus.counters["vote_ties_per_seed"]) > 0
        assert not np.any(np.diff(plus.iterates, axis=1) == 0.0)  # a tie now moves by -eta
        # the first round reads the same worker draws: the ties sit on the same coordinates
        first_zero = np.flatnonzero(np.diff(trace.iterates[0][:2], axis=0)[0] == 0.0)
        step = np.diff(plus.iterates[0][:2], axis=0)[0]
        assert first_zero.size > 0 and np.all(step[first_zero] == -plus.config["hyperparameters"]["eta"])


@pytest.mark.parametrize("rule", ["zero", "plus", "random"])
def test_zero_messages_are_counted(rule):
    """A noise-free stationary start (every sample gradient exactly 0 at x_1): every worker's
    estimate is 0, so each of the n d signs of round 1 is a zero message. Under the rule
    'zero' the messages and the vote stay 0 and x never moves; under 'plus' the vote is +1
    and the first step is -eta on every coordinate."""
    problem = st.make_problem("smoothed-separable", d=5, p=0.0, s=0.0, y0=0.0)
    n, T, eta = 3, 12, 0.01
    trace = st.run("mv-signsgd", problem, T, n=n, seed=4, measure="exact", keep_iterates=True, eta=eta, B=1,
                   zero_rule=rule)
    xs = trace.iterates[0]
    zeros = trace.counters["zero_messages_per_seed"][0]
    ties = trace.counters["vote_ties_per_seed"][0]
    assert trace.counters["uplink_bits_per_round"] == (2 if rule == "zero" else 1) * problem.d * n
    if rule == "zero":
        assert zeros == n * problem.d * T and ties == problem.d * T
        assert np.array_equal(xs, np.zeros((T + 1, problem.d)))
    else:
        assert zeros >= n * problem.d
        if rule == "plus":
            assert np.array_equal(xs[1], np.full(problem.d, -eta))
    wp = split(problem, n)
    method = VOTING_METHODS["mv-signsgd"]
    hp = resolve(method, wp, T, {"eta": eta, "B": 1, "zero_rule": rule})
    sim = simulate(method, wp, hp, *voting_draws(method, wp, hp, T, 4), T)
    assert np.array_equal(sim.iterates, xs) and sim.counts[1] == zeros and sim.counts[2] == ties


def test_ssdm_zero_vector_message():
    """SSDM's norm-scaled sign of the zero vector is the zero vector (d zero messages per worker)."""
    problem = st.make_problem("smoothed-separable", d=4, p=0.0, s=0.0, y0=0.0)
    trace = st.run("ssdm", problem, 5, n=3, measure="exact", keep_iterates=True)
    assert trace.counters["zero_messages_per_seed"] == [3 * 4 * 5]
    assert np.array_equal(trace.iterates[0], np.zeros((6, 4)))


def test_clipping_is_counted_below_the_gradient_bound():
    """With R = G_inf of the workers (the schedule) no coordinate exceeds R, and SSVR-MV
    option 1's R = 4 G_inf with beta = 1/2 covers its estimator (|v_k| <= 3 G_inf): no clips.
    With R overridden below the bound, clips happen and equal the reference's count of
    coordinates beyond R."""
    problem = small_problem("nonconvex-logistic")
    sk = {"mode": "shift", "zeta": 0.5}
    kw = dict(n=3, split=sk, seeds=2, seed=8, measure="exact", threads=1)
    G = split(problem, 3, **sk).constants()["G_inf"]
    sto = st.run("sto-signsgd", problem, 200, **kw)
    assert sto.config["hyperparameters"]["R"] == G and sto.counters["clips_per_seed"] == [0, 0]
    opt1 = st.run("ssvr-mv", problem, 200, option=1, **kw)
    assert opt1.config["hyperparameters"]["R"] == 4 * G and opt1.counters["clips_per_seed"] == [0, 0]
    low = st.run("sto-signsgd", problem, 40, R=G / 20, keep_iterates=True, **kw)
    clips = low.counters["clips_per_seed"]
    assert min(clips) > 0
    wp = split(problem, 3, **sk)
    method = VOTING_METHODS["sto-signsgd"]
    hp = resolve(method, wp, 40, {"R": G / 20})
    for r in range(2):
        sim = simulate(method, wp, hp, *voting_draws(method, wp, hp, 40, 8, r), 40)
        if not compare_to_reference(sim, low.iterates[r]):
            assert sim.counts[0] == clips[r]


def test_dist_sgd_does_not_see_shift_heterogeneity():
    """The shifts sum to zero, so the server's mean of the workers' full gradients is the mean
    of the unshifted ones up to rounding: dist-sgd's trajectory hardly moves when zeta grows,
    while the vote of MV-signSGD is biased by it (the negative control of the vote)."""
    problem = small_problem("nonconvex-logistic")
    kw = dict(n=5, seeds=2, seed=3, measure="exact", keep_iterates=True, threads=1)
    flat = st.run("dist-sgd", problem, 60, **kw, B=2)
    tilted = st.run("dist-sgd", problem, 60, split={"mode": "shift", "zeta": 2.0}, **kw, B=2)
    np.testing.assert_allclose(tilted.iterates, flat.iterates, rtol=0, atol=1e-12)
    vote_flat = st.run("mv-signsgd", problem, 60, **kw, B=2)
    vote_tilted = st.run("mv-signsgd", problem, 60, split={"mode": "shift", "zeta": 2.0}, **kw, B=2)
    assert not np.allclose(vote_tilted.iterates, vote_flat.iterates, rtol=0, atol=1e-3)


def test_byzantine_workers_must_be_a_minority_of_the_workers():
    with pytest.raises(InvalidParameterError, match="n_byzantine"):
        st.run("mv-signsgd", "stochastic-lsq", 10, n=3, n_byzantine=3, problem_params={"d": 3})
    # n - 1 blind adversaries against one honest worker: the vote follows the adversaries
    problem = st.make_problem("sparse-noise-quadratic", d=4, scale=0.0)
    honest = st.run("mv-signsgd", problem, 20, n=1, keep_iterates=True, measure="exact", eta=0.01, B=1)
    attacked = st.run("mv-signsgd", problem, 20, n=3, n_byzantine=2, keep_iterates=True, measure="exact",
                      eta=0.01, B=1)
    x1 = honest.iterates[0][0]  # grad f = x exactly here
    assert np.array_equal(honest.iterates[0][1], x1 - 0.01 * np.sign(x1))
    assert np.array_equal(attacked.iterates[0][1], x1 - 0.01 * -np.sign(x1))
    assert attacked.counters["vote_ties_per_seed"] == [0]


# -----------------------------------------------------------------------------------------------
# The counterexample: SSVR-MV option 1 stalls at t*, option 2 does not
# -----------------------------------------------------------------------------------------------


def counterexample_runs(T, seeds, seed=1):
    """Both options on the amplified counterexample (d = 1, exact gradients, x_1 = 0, the
    schedules' eta = T^-1/2; option 1 with the instance's radius R = G_inf = 2.5). Returns,
    per option, the per-seed signed averages (1/T) sum_t f'(x_t) over the second half of the
    run and the per-seed averages of |f'(x_t)| over the whole run."""
    out = {}
    ce = mv_counterexample("amplified").constants()
    for option in (1, 2):
        hyper = {"option": option}
        if option == 1:
            hyper["R"] = ce["vote_radius_x"]
        trace = st.run("ssvr-mv", "mv-counterexample", T, n=3, split={"mode": "counterexample"},
                       problem_params={"instance": "amplified"}, seeds=seeds, seed=seed, measure="exact",
                       keep_iterates=True, checkpoints=4, **hyper)
        assert trace.config["hyperparameters"]["R"] == 2.5 and trace.counters["clips_per_seed"] == [0] * seeds
        grad = 0.5 * np.tanh(trace.iterates[:, :T, 0])  # f'(x_t), t = 1..T
        out[option] = (grad[:, T // 2:].mean(axis=1), trace.avg_grad_l1.copy())
    return out, ce["t_star"]


def mean_se(a):
    return a.mean(), a.std(ddof=1) / math.sqrt(a.size)


def check_counterexample(T_short, T_long, seeds, z):
    """The checks of the two tests below, each one-sided at z standard errors across seeds."""
    short, t_star = counterexample_runs(T_short, seeds)
    long, _ = counterexample_runs(T_long, seeds, seed=2)
    # option 1: the second-half signed average sits near t* = -0.092, far from 0
    mean, se = mean_se(long[1][0])
    assert mean + z * se < 0.5 * t_star < 0, (mean, se)
    assert abs(mean - t_star) < 0.15 * abs(t_star) + z * se, (mean, se, t_star)
    # option 2: the signed average is 0 within noise ...
    mean, se = mean_se(long[2][0])
    assert abs(mean) < z * se, (mean, se)
    # ... its average |f'| falls as T grows ...
    (a, sa), (b, sb) = mean_se(short[2][1]), mean_se(long[2][1])
    drop = b / a
    assert drop + z * drop * math.hypot(sa / a, sb / b) < 1.0, (a, sa, b, sb)
    # ... and ends below option 1's, which cannot fall below |t*| (|E f'| <= E|f'|)
    c, sc = mean_se(long[1][1])
    assert b + z * math.hypot(sb, sc) < c, (b, sb, c, sc)
    assert c > 0.8 * abs(t_star)


def test_counterexample_option1_stalls_option2_converges():
    """Amplified instance (kappa = 1, R = 2.5), 32 seeds at T = 500 and T = 8000 (a few seconds).

    Option 1 (stochastic worker signs, deterministic vote) drifts to the fixed point t* of
    its expected vote: at T = 8000 the second-half signed average of f'(x_t) was between
    -0.084 and -0.093 over five seed sets (standard error about 0.0035; t* = -0.092), and its
    average |f'| about 0.093. Option 2 (unbiased server sign) has no such point: its signed
    average was 0 within noise, and its average |f'| fell from about 0.117 (T = 500) to
    0.065 (T = 8000), ratio 0.53-0.59 with a standard error of about 0.035. Each of the five
    one-sided checks is at z = 4 standard errors (false-alarm rate about 3e-5 each under the
    normal approximation, below 2e-4 in all); the closeness to t* allows 15% for the finite-T
    bias of the fixed-step chain."""
    check_counterexample(500, 8000, 32, z=4.0)


@pytest.mark.slow
def test_counterexample_long():
    """The same checks at T = 4000 and T = 32000 with 64 seeds (20 s to a minute): the signed
    average of option 1 was -0.0932 (standard error 0.0012), that of option 2 -0.001 (0.0025)."""
    check_counterexample(4000, 32000, 64, z=4.0)


# -----------------------------------------------------------------------------------------------
# Command line
# -----------------------------------------------------------------------------------------------


def test_cli_run_voting_json(capsys):
    code = main(["run", "ssvr-mv", "--problem", "nonconvex-logistic", "--n", "8", "--heterogeneity",
                 "shift:0.5", "--T", "200", "--seeds", "2", "--json", "--no-progress"])
    out, _ = capsys.readouterr()
    assert code == 0
    r = json.loads(out)
    d = r["config"]["problem_params"]["d"]
    assert r["method"] == "ssvr-mv" and r["T"] == 200 and r["seeds"] == 2
    assert r["n_workers"] == 8
    assert r["config"]["workers"]["n"] == 8 and r["config"]["workers"]["mode"] == "shift"
    assert r["config"]["workers"]["zeta"] == 0.5
    hp = r["config"]["hyperparameters"]
    assert r["oracle_calls_per_worker"] == hp["B0"] + 2 * hp["B"] * 199
    assert r["oracle_calls"] == 8 * r["oracle_calls_per_worker"]
    # option 2 (default): 1 bit per coordinate each way
    assert r["uplink_bits_per_round"] == 8 * d and r["downlink_bits_per_round"] == d
    assert r["uplink_bits"] == 200 * 8 * d and r["downlink_bits"] == 200 * d
    for key in ("clips_per_seed", "zero_messages_per_seed", "vote_ties_per_seed"):
        assert len(r[key]) == 2
    m = r["measures"]
    for key in ("avg_grad_l1", "avg_grad_l2", "final_value"):
        assert isinstance(m[key], float) and math.isfinite(m[key])


@pytest.mark.parametrize(("argv", "parameter"), [
    (["run", "mv-signsgd", "--problem", "nonconvex-logistic", "--n", "0"], "n"),
    (["run", "mv-signsgd", "--problem", "nonconvex-logistic", "--n", "3", "--heterogeneity", "shift"],
     "--heterogeneity"),
    (["run", "mv-signsgd", "--problem", "nonconvex-logistic", "--n", "3", "--heterogeneity", "tilt:0.5"],
     "--heterogeneity"),
    (["run", "mv-signsgd", "--problem", "nonconvex-logistic", "--n", "3", "--heterogeneity", "shift:-1"],
     "zeta"),
    (["run", "signsgd", "--problem", "nonconvex-logistic", "--n", "3"], "--n"),
    (["run", "mv-signsgd", "--problem", "nonconvex-logistic", "--n", "3", "--set", "n_byzantine=3"],
     "n_byzantine"),
    (["run", "mv-signsgd", "--problem", "stochastic-lsq", "--n", "3", "--heterogeneity", "dirichlet:0.5"],
     "problem"),
    (["run", "sto-signsgd", "--problem", "smoothed-separable", "--n", "3"], "R"),  # no G_inf to set R from
])
def test_cli_voting_errors(capsys, argv, parameter):
    code = main(argv + ["--T", "10", "--no-progress"])
    _, err = capsys.readouterr()
    assert code == 2
    assert f"invalid {parameter}=" in err, err


def test_bits_are_an_x_axis_of_the_curves():
    trace = st.run("ssvr-mv", "nonconvex-logistic", 60, n=3, problem_params={"d": 5, "m": 30}, seeds=1,
                   checkpoints=8)
    curves = trace.curves()
    per_round = trace.counters["uplink_bits_per_round"]
    assert per_round == 3 * 5  # three workers, one bit per coordinate
    assert np.array_equal(curves["uplink_bits"], (curves["t"] - 1) * per_round)
    down = trace.counters["downlink_bits_per_round"]
    assert np.array_equal(curves["downlink_bits"], (curves["t"] - 1) * down)
    assert curves["uplink_bits"][-1] == trace.counters["uplink_bits"]
