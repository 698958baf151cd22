"""SGD, the full-precision reference.

S. Ghadimi, G. Lan, "Stochastic first- and zeroth-order methods for nonconvex
stochastic programming", SIAM J. Optim. 23(4), 2013, arXiv 1309.5549.

Pseudocode::

    for t = 1..T:
        g_t = (1/B) sum_b grad f(x_t; xi_{t,b})
        x_{t+1} = x_t - eta g_t

Theoretical guarantee: with B = 1 and eta = min{1/L, (2 Delta / (L sigma^2 T))^{1/2}},

    (1/T) sum_t E ||grad f(x_t)||_2^2 = O(L Delta / T + sigma (L Delta / T)^{1/2}),

so E ||grad f(x_tau)||_2 = O(T^{-1/4}) = O(N^{-1/4}) when noise dominates.
"""

import math
from typing import NamedTuple

import numpy as np

from .._jit import kernel
from ..engine.draws import DrawPlan
from ..engine.recorder import due, observe
from ..ops import gradient_step
from ..problems.oracles import batch_grad
from ..validation import check_positive, check_positive_int
from .base import Method, named_state, ratio
from .spec import ANY_PROBLEM, Hyper, MethodSpec, Rate

SPEC = MethodSpec(
    name="sgd",
    title="SGD (full-precision reference)",
    citation="S. Ghadimi, G. Lan, Stochastic first- and zeroth-order methods for nonconvex "
    "stochastic programming, SIAM J. Optim. 23(4), 2013, arXiv 1309.5549",
    setting="stochastic; L-smooth, variance sigma^2",
    accepts=ANY_PROBLEM,
    hyper=(
        Hyper("eta", check_positive, "step size"),
        Hyper("B", check_positive_int, "batch size", 1),
        Hyper("c_eta", check_positive, "constant of the step schedule", 1.0),
    ),
    schedule="B = 1, eta = c_eta min{1/L, (2 Delta / (L sigma^2 T))^1/2} (problem's L, Delta, sigma)",
    rate=Rate("l2", "O(T^{-1/4}) = O(N^{-1/4})", {"T": -0.25, "N": -0.25}),
    oracle_calls="N = B T",
    provenance="standard",
)


@kernel
def loop(pd, x, g, idx, z, eta, t0, t1, rec, calls):
    for t in range(t0, t1):
        j = t - t0
        batch_grad(pd, x, idx[j], z[j], g)  # g_t
        calls += idx.shape[1]
        if due(rec.ev_t, rec.pos, t) and not observe(pd, rec, t, x, g, True, calls):
            return t, calls
        if not gradient_step(x, g, eta):  # x_{t+1} = x_t - eta g_t
            return t, calls
    return t1, calls


def reference(problem, hp, draws0, draws, T):
    x = problem.x0.copy()
    xs = [x.copy()]
    for j in range(T):
        x = x - hp["eta"] * problem.batch_grad(x, draws.idx[j], draws.z[j])
        xs.append(x)
    return np.array(xs), T * draws.idx.shape[1]


class SGDState(NamedTuple):
    """SGD's state: the iterate and the batch gradient."""

    x: np.ndarray
    g: np.ndarray


class SGD(Method):
    spec = SPEC

    def schedule(self, problem, T, hp):
        c = problem.constants()
        L, delta = c["L"], max(c["delta"], 1e-12)
        sigma = c["sigma"] if c.get("sigma") is not None else c["sigma_at_x0"]
        eta = ratio(1.0, L)
        if sigma > 0:
            eta = min(eta, math.sqrt(ratio(2 * delta, L * sigma**2 * T)))
        return {"eta": hp["c_eta"] * eta}

    def plan(self, hp, problem):
        return DrawPlan(0, hp["B"], 0)

    def init_state(self, problem, hp):
        return named_state(SGDState, problem)

    def steps(self, pd, state, hp, draws, t0, t1, T, rec, calls):
        x, g = state
        return loop(pd, x, g, draws.idx, draws.z, hp["eta"], t0, t1, rec, calls)

    def reference(self, problem, hp, draws0, draws, T):
        return reference(problem, hp, draws0, draws, T)
