"""signSGD with a minibatch.

J. Bernstein, Y.-X. Wang, K. Azizzadenesheli, A. Anandkumar, "signSGD: Compressed
Optimisation for Non-Convex Problems", ICML 2018, arXiv 1802.04434.

Pseudocode::

    for t = 1..T:
        g_t = (1/B) sum_b grad f(x_t; xi_{t,b})
        x_{t+1} = x_t - eta sign(g_t)

Theoretical guarantee (Theorem 1, with l2 constants): with eta = (d L T)^{-1/2} and
B = T,

    (1/T) sum_t E ||grad f(x_t)||_1 <= T^{-1/2} [sqrt(dL) (Delta + 1/2) + 2 ||sigma_vec||_1]
                                     = O(d^{1/2} N^{-1/4}),   N = T^2.
"""

import math
from typing import NamedTuple

import numpy as np

from .._jit import kernel
from ..engine.draws import DrawPlan
from ..engine.recorder import due, observe
from ..ops import sign_step
from ..ops.reference import sign
from ..problems.oracles import batch_grad
from ..validation import check_positive, check_positive_int
from .base import ZERO_RULE, Method, named_state, ratio, rule, uniforms_for
from .spec import ANY_PROBLEM, Hyper, MethodSpec, Rate

SPEC = MethodSpec(
    name="signsgd",
    title="signSGD (minibatch)",
    citation="J. Bernstein, Y.-X. Wang, K. Azizzadenesheli, A. Anandkumar, signSGD: Compressed "
    "Optimisation for Non-Convex Problems, ICML 2018, arXiv 1802.04434 (Theorem 1)",
    setting="stochastic; coordinate-wise smooth, per-coordinate variance; batch growing with T",
    accepts=ANY_PROBLEM,
    hyper=(
        Hyper("eta", check_positive, "sign step"),
        Hyper("B", check_positive_int, "batch size (theory: B = T)"),
        Hyper("c_eta", check_positive, "constant of the step schedule", 1.0),
        ZERO_RULE,
    ),
    schedule="eta = c_eta (d L T)^-1/2, B = T",
    rate=Rate("l1", "O(d^{1/2} T^{-1/2}) = O(d^{1/2} N^{-1/4})", {"T": -0.5, "N": -0.25, "d": 0.5}),
    oracle_calls="N = B T (= T^2 with the theory batch)",
    provenance="algorithm stated in the paper; its O(d^{1/2} N^{-1/4}) rate (written T^{-1/4} there, "
    "T counting gradient evaluations) stated in the SSVR abstract; "
    "theorem constants and schedule reconstructed; general (eta, B) bound derived",
)


@kernel
def loop(pd, x, g, idx, z, u, eta, zero_rule, t0, t1, rec, calls):
    for t in range(t0, t1):
        j = t - t0
        batch_grad(pd, x, idx[j], z[j], g)  # g_t = minibatch mean at x_t
        calls += idx.shape[1]
        if due(rec.ev_t, rec.pos, t) and not observe(pd, rec, t, x, g, True, calls):
            return t, calls
        if not sign_step(x, g, eta, zero_rule, u[j]):  # x_{t+1} = x_t - eta sign(g_t)
            return t, calls
    return t1, calls


def reference(problem, hp, draws0, draws, T):
    x = problem.x0.copy()
    xs = [x.copy()]
    for j in range(T):
        g = problem.batch_grad(x, draws.idx[j], draws.z[j])
        x = x - hp["eta"] * sign(g, hp["zero_rule"], draws.u[j])
        xs.append(x)
    return np.array(xs), T * draws.idx.shape[1]


class SignSGDState(NamedTuple):
    """signSGD's state: the iterate and the batch gradient."""

    x: np.ndarray
    g: np.ndarray


class SignSGD(Method):
    spec = SPEC

    def schedule(self, problem, T, hp):
        L = problem.constants()["L"]
        return {"eta": hp["c_eta"] * ratio(1.0, math.sqrt(problem.d * L * T)), "B": T}

    def plan(self, hp, problem):
        return DrawPlan(0, hp["B"], uniforms_for(hp, problem.d))

    def init_state(self, problem, hp):
        return named_state(SignSGDState, problem)

    def steps(self, pd, state, hp, draws, t0, t1, T, rec, calls):
        x, g = state
        return loop(pd, x, g, draws.idx, draws.z, draws.u, hp["eta"], rule(hp), t0, t1, rec, calls)

    def reference(self, problem, hp, draws0, draws, T):
        return reference(problem, hp, draws0, draws, T)
