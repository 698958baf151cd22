"""SVRG for nonconvex finite sums (full-precision reference).

R. Johnson, T. Zhang, "Accelerating Stochastic Gradient Descent using Predictive
Variance Reduction", NeurIPS 2013; S. J. Reddi, A. Hefny, S. Sra, B. Poczos,
A. Smola, "Stochastic Variance Reduction for Nonconvex Optimization", ICML 2016,
arXiv 1603.06160.

Pseudocode::

    for t = 1..T:
        if (t - 1) mod I == 0:
            x_ref = x_t;  mu = grad f(x_ref)                        # m calls
        draw i_t ~ Unif{1..m}  (a batch of B)
        v_t = grad f_i(x_t) - grad f_i(x_ref) + mu
        x_{t+1} = x_t - eta v_t

Theoretical guarantee (Reddi et al. 2016): with I = m and eta = 1/(L m^{2/3}),

    (1/T) sum_t E ||grad f(x_t)||_2^2 = O(L m^{2/3} Delta / T),

so E ||grad f(x_tau)||_2 = O(m^{1/3} N^{-1/2}).
"""

from typing import NamedTuple

import numpy as np

from .._jit import kernel
from ..engine.draws import DrawPlan
from ..engine.recorder import due, observe
from ..ops import gradient_step, svrg_estimate
from ..problems.oracles import batch_grad_pair, components, full_eval
from ..validation import check_positive, check_positive_int
from .base import Method, named_state, ratio
from .spec import FINITE_SUM_ONLY, Hyper, MethodSpec, Rate

SPEC = MethodSpec(
    name="svrg",
    title="SVRG (full-precision reference, nonconvex finite sums)",
    citation="R. Johnson, T. Zhang, NeurIPS 2013; S. J. Reddi et al., Stochastic Variance Reduction "
    "for Nonconvex Optimization, ICML 2016, arXiv 1603.06160",
    setting="finite-sum; every component L-smooth",
    accepts=FINITE_SUM_ONLY,
    hyper=(
        Hyper("eta", check_positive, "step size"),
        Hyper("I", check_positive_int, "snapshot period (full gradient every I steps)"),
        Hyper("B", check_positive_int, "components per step", 1),
        Hyper("c_eta", check_positive, "constant of the step schedule", 1.0),
    ),
    schedule="I = m, B = 1, eta = c_eta / (L_max m^2/3)",
    rate=Rate("l2", "O(m^{1/3} N^{-1/2})", {"T": -0.5, "N": -0.5, "m": 1 / 3}),
    oracle_calls="N = m ceil(T / I) + 2 B T",
    provenance="standard",
)


@kernel
def loop(pd, x, x_ref, mu, v, g_cur, g_ref, idx, z, eta, I, t0, t1, rec, calls):
    m = components(pd)
    for t in range(t0, t1):
        j = t - t0
        if (t - 1) % I == 0:  # snapshot: x_ref = x_t, mu = grad f(x_ref)
            x_ref[:] = x
            full_eval(pd, x_ref, mu)
            calls += m
        batch_grad_pair(pd, x, x_ref, idx[j], z[j], g_cur, g_ref)  # same components, two points
        calls += 2 * idx.shape[1]
        svrg_estimate(v, g_cur, g_ref, mu)
        if due(rec.ev_t, rec.pos, t) and not observe(pd, rec, t, x, v, True, calls):
            return t, calls
        if not gradient_step(x, v, eta):  # x_{t+1} = x_t - eta v_t
            return t, calls
    return t1, calls


def reference(problem, hp, draws0, draws, T):
    x = problem.x0.copy()
    xs = [x.copy()]
    calls = 0
    for t in range(1, T + 1):
        j = t - 1
        if (t - 1) % hp["I"] == 0:
            x_ref, mu = x.copy(), problem.full_grad(x)
            calls += problem.m
        v = (problem.batch_grad(x, draws.idx[j], draws.z[j])
             - problem.batch_grad(x_ref, draws.idx[j], draws.z[j]) + mu)
        calls += 2 * draws.idx.shape[1]
        x = x - hp["eta"] * v
        xs.append(x)
    return np.array(xs), calls


class SVRGState(NamedTuple):
    """The state of the SVRG estimator (SVRG, SignSVRG): the iterate, the snapshot and its full
    gradient mu, the estimator, and the component gradients at x and at the snapshot."""

    x: np.ndarray
    x_ref: np.ndarray
    mu: np.ndarray
    v: np.ndarray
    g_cur: np.ndarray
    g_ref: np.ndarray


class SVRG(Method):
    spec = SPEC

    def schedule(self, problem, T, hp):
        L = problem.constants()["L_max"]
        return {"I": problem.m, "eta": hp["c_eta"] * ratio(1.0, L * problem.m ** (2 / 3))}

    def plan(self, hp, problem):
        return DrawPlan(0, hp["B"], 0)

    def init_state(self, problem, hp):
        return named_state(SVRGState, problem)

    def steps(self, pd, state, hp, draws, t0, t1, T, rec, calls):
        x, x_ref, mu, v, g_cur, g_ref = state
        return loop(pd, x, x_ref, mu, v, g_cur, g_ref, draws.idx, draws.z, hp["eta"], hp["I"],
                    t0, t1, rec, calls)

    def reference(self, problem, hp, draws0, draws, T):
        return reference(problem, hp, draws0, draws, T)
