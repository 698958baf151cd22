"""Properties of the compressors, the problems' oracles and the estimators.

Hypothesis draws the inputs (vectors, radii, problem instances, recursion weights);
the statistical judgement is made by :mod:`signtheory.testing`:

* ``assert_unbiased`` with its default family-wise false-alarm rate alpha = 1e-3
  per call (Bonferroni over the coordinates), on n = 4000 samples drawn from a
  fixed seed, so every outcome is deterministic. Compressor outputs are bounded,
  and are tested with ``bounds`` (the empirical Bernstein test, valid at any n);
* exact invariants (parity of the compiled kernels with their NumPy twins on the
  same uniforms, sign(0) and tie rules, bit packing) are compared exactly.

Hypothesis runs derandomized with a fixed number of examples, so the suite is
deterministic.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats

from signtheory.errors import InvalidParameterError
from signtheory.ops import (
    ZERO_RULES,
    apply_norm_scaled_sign,
    apply_scaled_sign,
    apply_stochastic_sign,
    majority_vote,
    pack_signs,
    sign_of,
    stochastic_sign,
    storm_update,
    svrg_estimate,
    unpack_signs,
    vote,
)
from signtheory.ops import compressors as cmp
from signtheory.problems import PROBLEMS
from signtheory.testing import assert_unbiased
from signtheory.testing import strategies as sts

FAST = settings(max_examples=12, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
EXACT = settings(max_examples=40, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow])
SIGN_BOUNDS = (-1.0, 1.0)


def rows(v, n):
    return np.ascontiguousarray(np.broadcast_to(v, (n, v.size)))


# -- stochastic signs ------------------------------------------------------------------------


@FAST
@given(sts.vectors_and_radii(inside=True))
def test_stochastic_sign_is_unbiased_inside_the_ball(case):
    v, R = case

    def draw(rng, n):
        s, clipped = apply_stochastic_sign(rows(v, n), R, rng.random((n, v.size)))
        assert clipped == 0
        assert np.all(np.abs(s) == 1.0)  # never 0
        return s

    assert_unbiased(draw, v / R, bounds=SIGN_BOUNDS, label="S_R(v), ||v||_inf <= R")


@FAST
@given(sts.vectors_and_radii(inside=False))
def test_stochastic_sign_outside_the_ball_clips_counted_or_raises(case):
    v, R = case
    over = int(np.count_nonzero(np.abs(v) > R))
    unif = np.random.default_rng(1).random(v.size)
    s, clipped = apply_stochastic_sign(v, R, unif)
    assert clipped == over >= 1
    assert np.array_equal(s, apply_stochastic_sign(np.clip(v, -R, R), R, unif)[0])
    assert np.array_equal(s, cmp.stochastic_sign_np(v, R, unif)[0])
    out = np.empty_like(v)
    assert stochastic_sign(v, R, unif, out, cmp.overflow_code("clip")) == over
    assert stochastic_sign(v, R, unif, out, cmp.overflow_code("raise")) == -1
    for fn in (apply_stochastic_sign, cmp.stochastic_sign_np):
        with pytest.raises(InvalidParameterError, match=r"invalid R=.*overflow='raise'") as err:
            fn(v, R, unif, overflow="raise")
        assert err.value.parameter == "R"

    def draw(rng, n):
        s, clipped = apply_stochastic_sign(rows(v, n), R, rng.random((n, v.size)))
        assert clipped == n * over
        return s

    assert_unbiased(draw, np.clip(v, -R, R) / R, bounds=SIGN_BOUNDS, label="S_R(clip(v))")


@FAST
@given(sts.vectors(max_dim=12))
def test_norm_scaled_stochastic_sign_is_unbiased_for_the_direction(v):
    norm = np.linalg.norm(v / np.max(np.abs(v))) * np.max(np.abs(v)) if np.any(v) else 0.0
    expected = v / norm if norm > 0 else np.zeros_like(v)

    def draw(rng, n):
        s = apply_norm_scaled_sign(rows(v, n), rng.random((n, v.size)))
        if norm > 0:
            assert np.all(np.abs(s) == 1.0)
        else:
            assert not np.any(s)  # S(0) is the zero vector
        return s

    assert_unbiased(draw, expected, bounds=SIGN_BOUNDS, label="S_{||v||_2}(v)")


@EXACT
@given(sts.vectors(max_dim=20), st.floats(1e-3, 1e3), st.integers(0, 2**32 - 1))
def test_compiled_compressors_equal_their_numpy_twins(v, R, seed):
    rng = np.random.default_rng(seed)
    U = np.stack([v, -v, rng.standard_normal(v.size) * R])
    W = rng.random(U.shape)
    s, c = apply_stochastic_sign(U, R, W)
    s_np, c_np = cmp.stochastic_sign_np(U, R, W)
    assert c == c_np and np.array_equal(s, s_np)
    assert np.array_equal(apply_norm_scaled_sign(U, W), cmp.norm_scaled_stochastic_sign_np(U, W))
    assert np.array_equal(apply_scaled_sign(U), cmp.scaled_sign_np(U))


@EXACT
@given(sts.vectors(max_dim=20))
def test_scaled_sign_density_identity(u):
    """||C(u) - u||^2 = ||u||^2 - (2d - nnz) ||u||_1^2 / d^2 <= (1 - phi(u)) ||u||^2, with
    phi = ||u||_1^2 / (d ||u||_2^2) in [1/d, 1]; equality when no coordinate is 0."""
    d = u.size
    c = apply_scaled_sign(u)
    a = np.max(np.abs(u))
    if a == 0.0:
        assert not np.any(c)
        return
    assert np.all(np.sign(c) == np.sign(u))
    assert np.unique(np.abs(c[u != 0])).size == 1  # one magnitude, ||u||_1 / d
    w, cw = u / a, apply_scaled_sign(u / a)  # C is positively homogeneous; this avoids underflow
    phi = np.sum(np.abs(w)) ** 2 / (d * np.sum(w * w))
    assert 1.0 / d - 1e-12 <= phi <= 1.0 + 1e-12
    nnz = np.count_nonzero(w)
    lhs = np.sum((cw - w) ** 2)
    exact = np.sum(w * w) - (2 * d - nnz) * np.sum(np.abs(w)) ** 2 / d**2
    assert lhs == pytest.approx(exact, rel=1e-9, abs=1e-12 * d)
    rhs = (1.0 - phi) * np.sum(w * w)
    assert lhs <= rhs + 1e-12 * d
    if nnz == d:
        assert lhs == pytest.approx(rhs, rel=1e-9, abs=1e-12 * d)


# -- the problems' oracles and the estimators -----------------------------------------------


PER_FAMILY = settings(max_examples=4, deadline=None, derandomize=True,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
# One parameter per registered family (read at collection time, so new families are
# included), and Hypothesis draws the instance (d, m, instance seed) and the points.
families = pytest.mark.parametrize("family", sorted(PROBLEMS))


def sampler(problem, x):
    def draw(rng, n):
        idx, z = problem.draw_samples(rng, (n,))
        return problem.sample_grads(x, idx, z)

    return draw


@families
@PER_FAMILY
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_sample_gradients_are_unbiased_for_the_exact_gradient(family, data, seed):
    problem = data.draw(sts.problems([family]))
    rng = np.random.default_rng(seed)
    x = sts.points_near(problem, rng)
    assert_unbiased(sampler(problem, x), problem.full_grad(x), label=problem.name)
    idx, z = problem.draw_samples(rng, (7,))
    assert np.allclose(problem.batch_grad(x, idx, z), problem.sample_grads(x, idx, z).mean(axis=0),
                       rtol=1e-12, atol=1e-12)
    if problem.is_finite_sum:  # the exact statement: the mean over all m components
        _, z = problem.draw_samples(rng, (problem.m,))
        every = problem.sample_grads(x, np.arange(problem.m), z).mean(axis=0)
        assert np.allclose(every, problem.full_grad(x), rtol=1e-10, atol=1e-12)


@families
@PER_FAMILY
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_svrg_estimate_is_unbiased(family, data, seed):
    problem = data.draw(sts.problems([family]))
    rng = np.random.default_rng(seed)
    x, x_ref = sts.points_near(problem, rng), sts.points_near(problem, rng)
    mu = problem.full_grad(x_ref)

    def draw(rng, n):
        idx, z = problem.draw_samples(rng, (n,))
        G_cur, G_ref = problem.sample_grads(x, idx, z), problem.sample_grads(x_ref, idx, z)
        V = np.empty_like(G_cur)
        for i in range(n):  # the compiled estimator, one draw at a time
            svrg_estimate(V[i], G_cur[i], G_ref[i], mu)
        return V

    assert_unbiased(draw, problem.full_grad(x), label=f"SVRG on {problem.name}")


@families
@PER_FAMILY
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_spider_increment_is_unbiased_for_the_gradient_difference(family, data, seed):
    problem = data.draw(sts.problems([family]))
    rng = np.random.default_rng(seed)
    x, y = sts.points_near(problem, rng), sts.points_near(problem, rng)

    def draw(rng, n):
        idx, z = problem.draw_samples(rng, (n,))  # the same samples at both points
        return problem.sample_grads(x, idx, z) - problem.sample_grads(y, idx, z)

    assert_unbiased(draw, problem.full_grad(x) - problem.full_grad(y), label=f"SPIDER on {problem.name}")


@families
@PER_FAMILY
@given(data=st.data(), beta=st.floats(0.01, 1.0), seed=st.integers(0, 2**32 - 1))
def test_storm_error_contracts_by_one_minus_beta_in_expectation(family, data, beta, seed):
    """E[v_{t+1} - grad f(x_{t+1}) | past] = (1 - beta)(v_t - grad f(x_t))."""
    problem = data.draw(sts.problems([family]))
    rng = np.random.default_rng(seed)
    x0, x1 = sts.points_near(problem, rng), sts.points_near(problem, rng)
    v0 = problem.full_grad(x0) + rng.standard_normal(problem.d)
    g1 = problem.full_grad(x1)

    def draw(rng, n):
        idx, z = problem.draw_samples(rng, (n,))
        G_new, G_old = problem.sample_grads(x1, idx, z), problem.sample_grads(x0, idx, z)
        V = np.repeat(v0[None, :], n, axis=0)
        for i in range(n):
            storm_update(V[i], G_new[i], G_old[i], beta)
        return V - g1

    assert_unbiased(draw, (1.0 - beta) * (v0 - problem.full_grad(x0)), label=f"STORM on {problem.name}")


# -- majority vote ----------------------------------------------------------------------------

WORKERS = (1, 3, 9, 27)


def vote_wrong_probability(p_worker, n):
    """P(majority of n (odd) independent votes is wrong) when each is wrong w.p. p_worker."""
    return stats.binom.sf(n // 2, n, p_worker)


def vote_errors(worker_signs, truth):
    """``worker_signs(rng, shape)`` gives the workers' signs; returns draw(rng, n) of the
    indicators [V_k != truth_k] for each worker count in WORKERS, side by side."""
    d = truth.size

    def draw(rng, n):
        out = np.empty((n, len(WORKERS) * d))
        V = np.empty(d)
        empty = np.empty(0)
        for c, workers in enumerate(WORKERS):
            Q = worker_signs(rng, (n, workers, d)).astype(np.int8)
            for i in range(n):
                majority_vote(Q[i], ZERO_RULES["zero"], empty, V)
                out[i, c * d:(c + 1) * d] = V != truth
        return out

    return draw


@settings(max_examples=6, deadline=None, derandomize=True)
@given(arrays(np.float64, 4, elements=st.floats(0.05, 1.0)), arrays(np.bool_, 4))
def test_vote_error_falls_with_workers_under_symmetric_unimodal_noise(snr, negative):
    """Gaussian noise: each worker is wrong w.p. p = Phi(-|g|/sigma) < 1/2, and the vote's
    error P(Binom(n, p) > n/2) falls as n grows."""
    g = np.where(negative, -snr, snr)  # sigma = 1
    truth = np.sign(g)
    p = stats.norm.cdf(-np.abs(g))
    exact = np.concatenate([vote_wrong_probability(p, n) for n in WORKERS])
    assert_unbiased(vote_errors(lambda rng, shape: np.sign(g + rng.standard_normal(shape)), truth),
                    exact, n=2000, bounds=(0.0, 1.0), label="vote errors, Gaussian noise")
    curve = exact.reshape(len(WORKERS), -1)
    assert np.all(np.diff(curve, axis=0) < 0)


@settings(max_examples=6, deadline=None, derandomize=True)
@given(st.floats(0.05, 0.95), st.floats(0.1, 10.0))
def test_vote_error_grows_with_workers_under_skewed_noise(ratio, s):
    """Noise +s w.p. 3/4 and -3s w.p. 1/4 (mean 0, median +s): for a gradient -delta with
    0 < delta < s, each worker is wrong w.p. 3/4 and the vote's error rises towards 1."""
    g = np.array([-ratio * s, ratio * s])
    truth = np.sign(g)

    def worker_signs(rng, shape):
        noise = np.where(rng.random(shape) < 0.75, s, -3.0 * s)
        return np.sign(g + noise)

    p = np.array([0.75, 0.25])  # wrong w.p. 3/4 against the median, 1/4 with it
    exact = np.concatenate([vote_wrong_probability(p, n) for n in WORKERS])
    assert_unbiased(vote_errors(worker_signs, truth), exact, n=2000, bounds=(0.0, 1.0),
                    label="vote errors, skewed noise")
    curve = exact.reshape(len(WORKERS), -1)
    assert np.all(np.diff(curve[:, 0]) > 0) and curve[-1, 0] > 0.99  # against the median: fails
    assert np.all(np.diff(curve[:, 1]) < 0)  # with the median: improves


# -- exact invariants -------------------------------------------------------------------------


@pytest.mark.parametrize("zero", [0.0, -0.0])
def test_sign_of_zero_follows_the_rule(zero):
    assert sign_of(zero, ZERO_RULES["zero"], 0.3) == 0.0
    assert sign_of(zero, ZERO_RULES["plus"], 0.9) == 1.0
    assert sign_of(zero, ZERO_RULES["random"], 0.49) == 1.0
    assert sign_of(zero, ZERO_RULES["random"], 0.5) == -1.0
    for rule in ZERO_RULES.values():
        assert sign_of(1e-300, rule, 0.9) == 1.0 and sign_of(-5e-324, rule, 0.1) == -1.0


@EXACT
@given(st.integers(1, 8), st.integers(1, 12), st.integers(0, 2**32 - 1))
def test_majority_vote_ties_follow_the_rule(n, d, seed):
    rng = np.random.default_rng(seed)
    Q = rng.integers(-1, 2, (n, d)).astype(np.int8)
    unif = rng.random(d)
    total = Q.sum(axis=0)
    ties = total == 0
    for rule in ZERO_RULES:
        V, count = vote(Q, rule, unif)
        assert count == int(ties.sum())
        assert np.array_equal(V[~ties], np.sign(total[~ties]))
        expected_tie = {"zero": 0.0, "plus": 1.0}.get(rule)
        if expected_tie is None:
            expected_tie = np.where(unif < 0.5, 1.0, -1.0)[ties]
        assert np.all(V[ties] == expected_tie)
        V_np, count_np = cmp.majority_vote_np(Q, rule, unif)
        assert count_np == count and np.array_equal(V, V_np)
        V_f, count_f = vote(Q.astype(np.float64), rule, unif)  # float input, same vote
        assert count_f == count and np.array_equal(V, V_f)


@EXACT
@given(arrays(np.int8, st.integers(1, 70), elements=st.sampled_from([-1, 1])))
def test_pack_unpack_is_lossless(s):
    buf = pack_signs(s)
    assert isinstance(buf, bytes) and len(buf) == math.ceil(s.size / 8)
    assert buf == cmp.pack_signs_np(s) == np.packbits(s > 0).tobytes()
    assert np.array_equal(unpack_signs(buf, s.size), s)
    assert np.array_equal(cmp.unpack_signs_np(buf, s.size), s)
    assert pack_signs(s.astype(np.float64)) == buf


@EXACT
@given(arrays(np.float64, st.integers(1, 30), elements=st.sampled_from([-1.0, 0.0, 1.0])))
def test_a_zero_cannot_be_packed(s):
    if np.any(s == 0):
        with pytest.raises(InvalidParameterError, match="a 0 cannot be packed") as err:
            pack_signs(s)
        assert err.value.parameter == "s"
        out = np.empty(math.ceil(s.size / 8), dtype=np.uint8)
        assert cmp.pack_signs_into(s, out) == int(np.count_nonzero(s == 0))
    else:
        assert np.array_equal(unpack_signs(pack_signs(s), s.size), s)


def test_unpack_checks_the_length():
    with pytest.raises(InvalidParameterError, match="ceil") as err:
        unpack_signs(b"\x00\x00", 7)
    assert err.value.parameter == "buf"
