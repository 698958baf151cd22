"""STORM: momentum-based variance reduction (full-precision reference).

A. Cutkosky, F. Orabona, "Momentum-Based Variance Reduction in Non-Convex SGD",
NeurIPS 2019, arXiv 1905.10018.

Pseudocode (non-adaptive schedule; beta is the weight of the fresh gradient)::

    v_1 = (1/B0) sum_b grad f(x_1; xi_{1,b})
    for t = 1..T:
        x_{t+1} = x_t - eta v_t
        if t < T:
            v_{t+1} = g(x_{t+1}; xi_{t+1}) + (1 - beta)(v_t - g(x_t; xi_{t+1}))   # same samples

Theoretical guarantee: with eta = T^{-1/3}/L (L the mean-squared smoothness L_ms),
beta = T^{-2/3} and B0 = T^{1/3},

    E ||grad f(x_tau)||_2 = O(T^{-1/2} + sigma^{1/3} T^{-1/3}).

SSVR (:mod:`signtheory.methods.ssvr`) is this recursion with a sign step.
"""

import math
from typing import NamedTuple

import numpy as np

from .._jit import kernel
from ..engine.draws import DrawPlan
from ..engine.recorder import due, observe
from ..ops import gradient_step
from ..problems.oracles import storm_correction
from ..validation import check_fresh_weight, check_positive, check_positive_int
from . import ssvr
from .base import Method, named_state, ratio
from .spec import ANY_PROBLEM, Hyper, MethodSpec, Rate

SPEC = MethodSpec(
    name="storm",
    title="STORM (full-precision reference)",
    citation="A. Cutkosky, F. Orabona, Momentum-Based Variance Reduction in Non-Convex SGD, "
    "NeurIPS 2019, arXiv 1905.10018",
    setting="stochastic; L-mean-squared smooth, variance sigma^2",
    accepts=ANY_PROBLEM,
    hyper=(
        Hyper("eta", check_positive, "step size"),
        Hyper("beta", check_fresh_weight, "weight of the fresh gradient"),
        Hyper("B0", check_positive_int, "initial batch"),
        Hyper("B1", check_positive_int, "per-step batch (each sample evaluated at two points)"),
        Hyper("c_eta", check_positive, "constant of the step schedule", 1.0),
        Hyper("c_beta", check_positive, "constant of the beta schedule", 1.0),
        Hyper("c_0", check_positive, "constant of the initial-batch schedule", 1.0),
    ),
    schedule="eta = c_eta T^-1/3 / L_ms, beta = min(1, c_beta T^-2/3), B0 = ceil(c_0 T^1/3), B1 = 1",
    rate=Rate("l2", "O(T^{-1/2} + sigma^{1/3} T^{-1/3})", {"T": -1 / 3, "N": -1 / 3}),
    oracle_calls="N = B0 + 2 B1 (T - 1)",
    provenance="rate stated in the abstract; recursion indexing and the non-adaptive schedule "
    "reconstructed (the paper's adaptive step is not implemented)",
)


@kernel
def loop(pd, x, x_prev, v, idx, z, eta, beta, t0, t1, T, rec, calls):
    for t in range(t0, t1):
        j = t - t0
        if due(rec.ev_t, rec.pos, t) and not observe(pd, rec, t, x, v, True, calls):
            return t, calls
        x_prev[:] = x
        if not gradient_step(x, v, eta):  # x_{t+1} = x_t - eta v_t
            return t, calls
        if t < T:
            # v_{t+1} = g(x_{t+1}; xi) + (1 - beta)(v_t - g(x_t; xi)), the same samples xi at both
            storm_correction(pd, v, x, x_prev, beta, idx[j], z[j])
            calls += 2 * idx.shape[1]
    return t1, calls


def reference(problem, hp, draws0, draws, T):
    """Plain NumPy STORM on the same draws; returns (iterates x_1..x_{T+1}, calls)."""
    return ssvr.storm_trajectory(problem, hp["beta"], draws0, draws, T, lambda v, j: hp["eta"] * v)


class STORMState(NamedTuple):
    """STORM's state: the iterate, the previous iterate and the estimator."""

    x: np.ndarray
    x_prev: np.ndarray
    v: np.ndarray


class STORM(Method):
    spec = SPEC

    def schedule(self, problem, T, hp):
        L = problem.constants()["L_ms"]
        return {
            "eta": hp["c_eta"] * ratio(T ** (-1 / 3), L),
            "beta": min(1.0, hp["c_beta"] * T ** (-2 / 3)),
            "B0": math.ceil(hp["c_0"] * T ** (1 / 3)),
            "B1": 1,
        }

    def plan(self, hp, problem):
        return DrawPlan(hp["B0"], hp["B1"], 0)

    def init_state(self, problem, hp):
        return named_state(STORMState, problem)

    def start(self, pd, state, hp, draws0, rec):
        x, _, v = state
        return ssvr.start(pd, x, v, draws0.idx, draws0.z)

    def steps(self, pd, state, hp, draws, t0, t1, T, rec, calls):
        x, x_prev, v = state
        return loop(pd, x, x_prev, v, draws.idx, draws.z, hp["eta"], hp["beta"],
                    t0, t1, T, rec, calls)

    def reference(self, problem, hp, draws0, draws, T):
        return reference(problem, hp, draws0, draws, T)
