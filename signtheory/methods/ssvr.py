"""SSVR: sign-based stochastic variance reduction (Algorithm 1).

W. Jiang, S. Yang, W. Yang, L. Zhang, "Efficient Sign-Based Optimization:
Accelerating Convergence via Variance Reduction", NeurIPS 2024, arXiv 2406.00489.

Pseudocode::

    v_1 = (1/B0) sum_b grad f(x_1; xi_{1,b})
    for t = 1..T:
        x_{t+1} = x_t - eta sign(v_t)
        if t < T:
            draw xi_{t+1,1..B1}
            v_{t+1} = g(x_{t+1}; xi_{t+1}) + (1 - beta) (v_t - g(x_t; xi_{t+1}))   # same samples

Theoretical guarantee (Theorem 1): under L-mean-squared smoothness and variance
sigma^2, with beta = T^{-2/3}, eta = d^{-1/2} T^{-2/3}, B0 = T^{1/3}, B1 = 1,

    (1/T) sum_t E ||grad f(x_t)||_1 = O(d^{1/2} T^{-1/3}) = O(d^{1/2} N^{-1/3}).

With beta = 1 the method is minibatch signSGD with batch B1 (tested exactly).
"""

import math
from typing import NamedTuple

import numpy as np

from .._jit import kernel
from ..engine.draws import DrawPlan
from ..engine.recorder import due, observe
from ..ops import sign_step
from ..ops.reference import sign
from ..problems.oracles import batch_grad, storm_correction
from ..validation import check_fresh_weight, check_positive, check_positive_int
from .base import ZERO_RULE, Method, named_state, rule, uniforms_for
from .spec import ANY_PROBLEM, Hyper, MethodSpec, Rate

SPEC = MethodSpec(
    name="ssvr",
    title="SSVR (sign-based stochastic variance reduction)",
    citation="W. Jiang, S. Yang, W. Yang, L. Zhang, Efficient Sign-Based Optimization: Accelerating "
    "Convergence via Variance Reduction, NeurIPS 2024, arXiv 2406.00489 (Algorithm 1, Theorem 1)",
    setting="stochastic; L-mean-squared smooth, variance sigma^2; no growing batch",
    accepts=ANY_PROBLEM,
    hyper=(
        Hyper("eta", check_positive, "sign step"),
        Hyper("beta", check_fresh_weight, "weight of the fresh gradient in the STORM recursion"),
        Hyper("B0", check_positive_int, "initial batch"),
        Hyper("B1", check_positive_int, "per-step batch (each sample evaluated at two points)"),
        Hyper("c_eta", check_positive, "constant of the step schedule", 1.0),
        Hyper("c_beta", check_positive, "constant of the beta schedule", 1.0),
        Hyper("c_0", check_positive, "constant of the initial-batch schedule", 1.0),
        ZERO_RULE,
    ),
    schedule="beta = min(1, c_beta T^-2/3), eta = c_eta d^-1/2 T^-2/3, B0 = ceil(c_0 T^1/3), B1 = 1",
    rate=Rate("l1", "O(d^{1/2} T^{-1/3})", {"T": -1 / 3, "N": -1 / 3, "d": 0.5}),
    oracle_calls="N = B0 + 2 B1 (T - 1)",
    provenance="rate stated in the abstract; STORM-type recursion stated in the follow-up paper; "
    "B0, the output rule and the beta/eta schedules reconstructed; constants derived",
)


@kernel
def start(pd, x, v, idx0, z0):
    batch_grad(pd, x, idx0[0], z0[0], v)  # v_1 = mean of B0 samples at x_1
    return idx0.shape[1]


@kernel
def loop(pd, x, x_prev, v, idx, z, u, eta, beta, zero_rule, t0, t1, T, rec, calls):
    for t in range(t0, t1):
        j = t - t0
        if due(rec.ev_t, rec.pos, t) and not observe(pd, rec, t, x, v, True, calls):
            return t, calls
        x_prev[:] = x
        if not sign_step(x, v, eta, zero_rule, u[j]):  # x_{t+1} = x_t - eta sign(v_t)
            return t, calls
        if t < T:
            # v_{t+1} = g(x_{t+1}; xi) + (1 - beta)(v_t - g(x_t; xi)), the same samples xi at both
            storm_correction(pd, v, x, x_prev, beta, idx[j], z[j])
            calls += 2 * idx.shape[1]
    return t1, calls


def schedule(problem, T, hp):
    return {
        "beta": min(1.0, hp["c_beta"] * T ** (-2 / 3)),
        "eta": hp["c_eta"] * problem.d ** -0.5 * T ** (-2 / 3),
        "B0": math.ceil(hp["c_0"] * T ** (1 / 3)),
        "B1": 1,
    }


def reference(problem, hp, draws0, draws, T):
    """Plain NumPy SSVR on the same draws; returns (iterates x_1..x_{T+1}, calls)."""
    return storm_trajectory(
        problem, hp["beta"], draws0, draws, T,
        lambda v, j: hp["eta"] * sign(v, hp["zero_rule"], draws.u[j]))


def storm_trajectory(problem, beta, draws0, draws, T, displacement):
    """The STORM recursion in plain NumPy, stepping x <- x - displacement(v_t, t - 1)."""
    x = problem.x0.copy()
    v = problem.batch_grad(x, draws0.idx[0], draws0.z[0])
    calls = draws0.idx.shape[1]
    xs = [x.copy()]
    for t in range(1, T + 1):
        j = t - 1
        x_prev = x
        x = x - displacement(v, j)
        xs.append(x)
        if t < T:
            g_new = problem.batch_grad(x, draws.idx[j], draws.z[j])
            g_old = problem.batch_grad(x_prev, draws.idx[j], draws.z[j])
            v = g_new + (1 - beta) * (v - g_old)
            calls += 2 * draws.idx.shape[1]
    return np.array(xs), calls


class SSVRState(NamedTuple):
    """SSVR's state: the iterate, the previous iterate and the STORM estimator v."""

    x: np.ndarray
    x_prev: np.ndarray
    v: np.ndarray


class SSVR(Method):
    spec = SPEC

    def schedule(self, problem, T, hp):
        return schedule(problem, T, hp)

    def plan(self, hp, problem):
        return DrawPlan(hp["B0"], hp["B1"], uniforms_for(hp, problem.d))

    def init_state(self, problem, hp):
        return named_state(SSVRState, problem)

    def start(self, pd, state, hp, draws0, rec):
        x, _, v = state
        return start(pd, x, v, draws0.idx, draws0.z)

    def steps(self, pd, state, hp, draws, t0, t1, T, rec, calls):
        x, x_prev, v = state
        return loop(pd, x, x_prev, v, draws.idx, draws.z, draws.u,
                    hp["eta"], hp["beta"], rule(hp), t0, t1, T, rec, calls)

    def reference(self, problem, hp, draws0, draws, T):
        return reference(problem, hp, draws0, draws, T)
