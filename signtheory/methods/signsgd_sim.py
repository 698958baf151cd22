"""signSGD-SIM and signSGD with momentum (constant batch).

T. Sun, Q. Wang, D. Li, B. Wang, "Momentum Ensures Convergence of SIGNSGD under
Weaker Assumptions", ICML 2023, PMLR 202:33077-33099.

Pseudocode (beta is the weight of the fresh gradient; momentum = 1 - beta)::

    x_0 = x_1;  m_0 = 0
    for t = 1..T:
        y_t = x_t + ((1 - beta) / beta) (x_t - x_{t-1})     # variant 'sim' only
        m_t = (1 - beta) m_{t-1} + beta grad f(y_t; xi_t)   # y_t = x_t for 'momentum'
        x_{t+1} = x_t - eta sign(m_t)

The extrapolation coefficient (1 - beta)/beta transports the old gradients to
x_t: on a noise-free quadratic m_t - grad f(x_t) = (1 - beta)(m_{t-1} - grad f(x_{t-1})),
so with m_0 = 0 the error is exactly -(1 - beta)^t grad f(x_1) (tested). With
beta = 1 both variants are signSGD with the same batch (tested exactly).

Theoretical guarantees:

* 'momentum' (derived): with B = 1, beta = T^{-1/2} and eta = d^{-1/2} T^{-3/4},
  (1/T) sum_t E ||grad f(x_t)||_1 <= Delta/(eta T) + 2 sqrt(d) sigma sqrt(beta)
  + 2 L eta d / beta + L eta d / 2 = O(d^{1/2} T^{-1/4}); the paper's result, as
  reported in later work, is O(d T^{-1/4}).
* 'sim' (improvement stated in the paper, exponent reconstructed): under a
  Lipschitz Hessian, with beta = T^{-4/7} and eta = d^{-1/2} T^{-5/7},
  O(T^{-2/7}); the d-factor is not known here.
"""

from typing import NamedTuple

import numpy as np

from .._jit import kernel
from ..engine.draws import DrawPlan
from ..engine.recorder import due, observe
from ..ops import ema_update, sign_step
from ..ops.reference import sign
from ..problems.oracles import batch_grad
from ..validation import check_choice, check_fresh_weight, check_positive, check_positive_int
from .base import ZERO_RULE, Method, named_state, rule, uniforms_for
from .spec import ANY_PROBLEM, Hyper, MethodSpec, Rate

VARIANTS = ("sim", "momentum")

SPEC = MethodSpec(
    name="signsgd-sim",
    title="signSGD-SIM (extrapolated sign momentum) and signSGD with momentum",
    citation="T. Sun, Q. Wang, D. Li, B. Wang, Momentum Ensures Convergence of SIGNSGD under Weaker "
    "Assumptions, ICML 2023, PMLR 202:33077-33099 (rates as reported in arXiv 2406.00489)",
    setting="stochastic, constant batch, no bounded-gradient assumption; 'sim' assumes a Lipschitz Hessian",
    accepts=ANY_PROBLEM,
    hyper=(
        Hyper("eta", check_positive, "sign step"),
        Hyper("beta", check_fresh_weight, "weight of the fresh gradient (momentum = 1 - beta)"),
        Hyper("B", check_positive_int, "batch size"),
        Hyper("variant", lambda n, v: check_choice(n, v, VARIANTS),
              "'sim' (extrapolated gradient point, default) or 'momentum' (plain sign momentum)", "sim"),
        Hyper("c_eta", check_positive, "constant of the step schedule", 1.0),
        Hyper("c_beta", check_positive, "constant of the beta schedule", 1.0),
        ZERO_RULE,
    ),
    schedule="B = 1; 'sim': beta = min(1, c_beta T^-4/7), eta = c_eta d^-1/2 T^-5/7; "
    "'momentum': beta = min(1, c_beta T^-1/2), eta = c_eta d^-1/2 T^-3/4",
    rate=Rate("l1", "'sim': O(T^{-2/7}) under a Lipschitz Hessian (d-factor open); "
              "'momentum': O(d^{1/2} T^{-1/4}) derived, O(d T^{-1/4}) reported",
              {"T": -2 / 7, "N": -2 / 7}),
    oracle_calls="N = B T",
    provenance="stated in the abstract: convergence of sign momentum with a constant batch and no "
    "bounded-gradient assumption, and an improved rate under second-order smoothness; reconstructed: "
    "the exact extrapolated update of 'sim', the schedules and the d-factors (the -2/7 exponent "
    "matches normalized SGD with implicit gradient transport); derived: the 'momentum' bound and "
    "the extrapolation coefficient (1 - beta)/beta",
)


@kernel
def loop(pd, x, x_prev, y, g, m, idx, z, u, eta, beta, extrapolate, zero_rule, t0, t1, rec, calls):
    d = x.shape[0]
    coef = (1.0 - beta) / beta
    for t in range(t0, t1):
        j = t - t0
        if extrapolate:
            for k in range(d):
                y[k] = x[k] + coef * (x[k] - x_prev[k])  # y_t = x_t + ((1-beta)/beta)(x_t - x_{t-1})
            batch_grad(pd, y, idx[j], z[j], g)  # grad f(y_t; xi_t)
        else:
            batch_grad(pd, x, idx[j], z[j], g)  # grad f(x_t; xi_t)
        calls += idx.shape[1]
        ema_update(m, g, beta)  # m_t = (1 - beta) m_{t-1} + beta g
        if due(rec.ev_t, rec.pos, t) and not observe(pd, rec, t, x, m, True, calls):
            return t, calls
        x_prev[:] = x
        if not sign_step(x, m, eta, zero_rule, u[j]):  # x_{t+1} = x_t - eta sign(m_t)
            return t, calls
    return t1, calls


def schedule(problem, T, hp):
    if hp["variant"] == "sim":
        beta, eta = hp["c_beta"] * T ** (-4 / 7), hp["c_eta"] * problem.d ** -0.5 * T ** (-5 / 7)
    else:
        beta, eta = hp["c_beta"] * T ** -0.5, hp["c_eta"] * problem.d ** -0.5 * T ** -0.75
    return {"beta": min(1.0, beta), "eta": eta, "B": 1}


def reference(problem, hp, draws0, draws, T):
    """Plain NumPy signSGD-SIM on the same draws; returns (iterates x_1..x_{T+1}, calls)."""
    beta = hp["beta"]
    coef = (1.0 - beta) / beta
    x = problem.x0.copy()
    x_prev = x.copy()
    m = np.zeros_like(x)
    xs = [x.copy()]
    for j in range(T):
        y = x + coef * (x - x_prev) if hp["variant"] == "sim" else x
        m = (1 - beta) * m + beta * problem.batch_grad(y, draws.idx[j], draws.z[j])
        x_prev = x
        x = x - hp["eta"] * sign(m, hp["zero_rule"], draws.u[j])
        xs.append(x)
    return np.array(xs), T * draws.idx.shape[1]


class SignSGDSIMState(NamedTuple):
    """signSGD-SIM's state: the iterate, the previous iterate, the extrapolated point, its gradient and
    the momentum."""

    x: np.ndarray
    x_prev: np.ndarray
    y: np.ndarray
    g: np.ndarray
    m: np.ndarray


class SignSGDSIM(Method):
    spec = SPEC

    def schedule(self, problem, T, hp):
        return schedule(problem, T, hp)

    def plan(self, hp, problem):
        return DrawPlan(0, hp["B"], uniforms_for(hp, problem.d))

    def init_state(self, problem, hp):
        return named_state(SignSGDSIMState, problem, x_prev=problem.x0.copy())

    def steps(self, pd, state, hp, draws, t0, t1, T, rec, calls):
        x, x_prev, y, g, m = state
        return loop(pd, x, x_prev, y, g, m, draws.idx, draws.z, draws.u, hp["eta"], hp["beta"],
                    hp["variant"] == "sim", rule(hp), t0, t1, rec, calls)

    def reference(self, problem, hp, draws0, draws, T):
        return reference(problem, hp, draws0, draws, T)
