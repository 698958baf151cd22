"""Signum: signSGD with momentum.

J. Bernstein, Y.-X. Wang, K. Azizzadenesheli, A. Anandkumar, "signSGD: Compressed
Optimisation for Non-Convex Problems", ICML 2018, arXiv 1802.04434 (Algorithm 2).

Pseudocode (beta is the weight of the fresh gradient; momentum = 1 - beta)::

    m_0 = 0
    for t = 1..T:
        g_t = (1/B) sum_b grad f(x_t; xi_{t,b})
        m_t = (1 - beta) m_{t-1} + beta g_t
        x_{t+1} = x_t - eta sign(m_t)

Theoretical guarantee (derived, constant-batch schedule): with B = 1,
beta = T^{-1/2} and eta = d^{-1/2} T^{-3/4},

    (1/T) sum_t E ||grad f(x_t)||_1 <= Delta/(eta T) + 2 sqrt(d) sigma sqrt(beta)
                                       + 2 L eta d / beta + L eta d / 2 = O(d^{1/2} T^{-1/4}).

With beta = 1 (no momentum) Signum is signSGD with the same batch (tested exactly).
"""

from typing import NamedTuple

import numpy as np

from .._jit import kernel
from ..engine.draws import DrawPlan
from ..engine.recorder import due, observe
from ..ops import ema_update, sign_step
from ..ops.reference import sign
from ..problems.oracles import batch_grad
from ..validation import check_fresh_weight, check_positive, check_positive_int
from .base import ZERO_RULE, Method, named_state, rule, uniforms_for
from .spec import ANY_PROBLEM, Hyper, MethodSpec, Rate

SPEC = MethodSpec(
    name="signum",
    title="Signum (signSGD with momentum)",
    citation="J. Bernstein, Y.-X. Wang, K. Azizzadenesheli, A. Anandkumar, signSGD: Compressed "
    "Optimisation for Non-Convex Problems, ICML 2018, arXiv 1802.04434 (Algorithm 2)",
    setting="stochastic; constant batch with the derived schedule",
    accepts=ANY_PROBLEM,
    hyper=(
        Hyper("eta", check_positive, "sign step"),
        Hyper("beta", check_fresh_weight, "weight of the fresh gradient (momentum = 1 - beta)"),
        Hyper("B", check_positive_int, "batch size"),
        Hyper("c_eta", check_positive, "constant of the step schedule", 1.0),
        Hyper("c_beta", check_positive, "constant of the beta schedule", 1.0),
        ZERO_RULE,
    ),
    schedule="constant_batch: B = 1, beta = min(1, c_beta T^-1/2), eta = c_eta d^-1/2 T^-3/4",
    rate=Rate("l1", "O(d^{1/2} T^{-1/4})", {"T": -0.25, "N": -0.25, "d": 0.5}),
    oracle_calls="N = B T",
    provenance="EMA form stated in the paper and its code; the constant-batch schedule and its "
    "rate are derived (the paper's decaying-step, growing-batch schedule is reconstructed with low "
    "confidence and not implemented)",
)


@kernel
def loop(pd, x, g, m, idx, z, u, eta, beta, zero_rule, t0, t1, rec, calls):
    for t in range(t0, t1):
        j = t - t0
        batch_grad(pd, x, idx[j], z[j], g)  # g_t
        calls += idx.shape[1]
        ema_update(m, g, beta)  # m_t = (1 - beta) m_{t-1} + beta g_t
        if due(rec.ev_t, rec.pos, t) and not observe(pd, rec, t, x, m, True, calls):
            return t, calls
        if not sign_step(x, m, eta, zero_rule, u[j]):  # x_{t+1} = x_t - eta sign(m_t)
            return t, calls
    return t1, calls


def reference(problem, hp, draws0, draws, T):
    x = problem.x0.copy()
    m = np.zeros_like(x)
    xs = [x.copy()]
    for j in range(T):
        g = problem.batch_grad(x, draws.idx[j], draws.z[j])
        m = (1 - hp["beta"]) * m + hp["beta"] * g
        x = x - hp["eta"] * sign(m, hp["zero_rule"], draws.u[j])
        xs.append(x)
    return np.array(xs), T * draws.idx.shape[1]


class SignumState(NamedTuple):
    """Signum's state: the iterate, the batch gradient and the momentum."""

    x: np.ndarray
    g: np.ndarray
    m: np.ndarray


class Signum(Method):
    spec = SPEC

    def schedule(self, problem, T, hp):
        return {
            "eta": hp["c_eta"] * problem.d ** -0.5 * T ** -0.75,
            "beta": min(1.0, hp["c_beta"] * T ** -0.5),
            "B": 1,
        }

    def plan(self, hp, problem):
        return DrawPlan(0, hp["B"], uniforms_for(hp, problem.d))

    def init_state(self, problem, hp):
        return named_state(SignumState, problem)

    def steps(self, pd, state, hp, draws, t0, t1, T, rec, calls):
        x, g, m = state
        return loop(pd, x, g, m, draws.idx, draws.z, draws.u, hp["eta"], hp["beta"], rule(hp),
                    t0, t1, rec, calls)

    def reference(self, problem, hp, draws0, draws, T):
        return reference(problem, hp, draws0, draws, T)
