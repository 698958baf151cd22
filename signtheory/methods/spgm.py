"""SPGM: mini-batch stochastic proximal gradient, the full-precision reference for
composite problems F = D + r.

S. Ghadimi, G. Lan, H. Zhang, "Mini-batch Stochastic Approximation Methods for
Nonconvex Stochastic Composite Optimization", Math. Program. 155, 2016,
arXiv 1308.6594 (the RSPG method with the Euclidean distance).

Pseudocode::

    for t = 1..T:
        g_t = (1/B) sum_b grad D(x_t; xi_{t,b})          # batch-B estimate of grad D
        x_{t+1} = prox_{eta r}(x_t - eta g_t)

Theoretical guarantee (Ghadimi-Lan-Zhang 2016, Euclidean case): for D L-smooth
(possibly nonconvex) with variance sigma^2, r convex, eta = 1/(2L) and batch B,

    (1/T) sum_t E ||G_eta(x_t)||_2^2 = O(L Delta / T + sigma^2 / B),

G_eta(x) = (x - prox_{eta r}(x - eta grad D(x)))/eta the gradient mapping. With
B = T this is O(1/T): E ||G(x_tau)||_2 = O(T^{-1/2}) = O(N^{-1/4}), N = B T.

prox_{eta r} is the problem's exact prox where it has one (l1, 1-D TV) and the
averaged prox (1/K_r) sum_k prox_{eta r_k} otherwise (2-D TV), which is the
exact prox of the proximal average of the r_k. The measure is the gradient
mapping at the problem's fixed gamma_eval (see
:mod:`signtheory.problems.composite`). With r = 0 the method is minibatch SGD
(tested exactly).
"""

import math
from typing import NamedTuple

import numpy as np

from .._jit import kernel
from ..engine.draws import DrawPlan
from ..engine.recorder import due, observe
from ..problems.composite.kernels import mapping, prox_r
from ..problems.oracles import batch_grad
from ..validation import check_positive, check_positive_int
from .base import Method, named_state, ratio
from .spec import ANY_PROBLEM, Hyper, MethodSpec, Rate

SPEC = MethodSpec(
    name="spgm",
    title="SPGM (mini-batch stochastic proximal gradient, full-precision reference for composite problems)",
    citation="S. Ghadimi, G. Lan, H. Zhang, Mini-batch Stochastic Approximation Methods for Nonconvex "
    "Stochastic Composite Optimization, Math. Program. 155, 2016, arXiv 1308.6594",
    setting="composite F = D + r: D L-smooth (possibly nonconvex), variance sigma^2; r convex with a "
    "computable prox",
    accepts=ANY_PROBLEM,
    hyper=(
        Hyper("eta", check_positive, "step size, also the prox parameter: prox_{eta r}"),
        Hyper("B", check_positive_int, "batch size for the estimate of grad D"),
        Hyper("c_eta", check_positive, "constant of the step schedule", 1.0),
        Hyper("c_B", check_positive, "constant of the batch schedule", 1.0),
    ),
    schedule="eta = c_eta / (2 L), B = ceil(c_B T)",
    rate=Rate("l2", "O(T^{-1/2}) = O(N^{-1/4}) for the gradient mapping", {"T": -0.5, "N": -0.25}),
    oracle_calls="N = B T gradient calls of D; prox calls T (T K_r with the averaged prox), "
    "reported as prox_calls",
    provenance="standard (the paper's RSPG with the Euclidean distance; its randomized output is "
    "replaced by the average over all iterates)",
    composite=True,
)


@kernel
def loop(pd, x, g, zz, p, v, idx, z, eta, t0, t1, rec, calls):
    d = x.shape[0]
    for t in range(t0, t1):
        j = t - t0
        batch_grad(pd, x, idx[j], z[j], g)  # g_t = batch-B estimate of grad D(x_t)
        calls += idx.shape[1]
        for k in range(d):
            zz[k] = x[k] - eta * g[k]  # forward step
        prox_r(pd, zz, eta, p)  # p = prox_{eta r}(x_t - eta g_t)
        if due(rec.ev_t, rec.pos, t):
            mapping(x, g, zz, p, eta, v)  # the step's stochastic gradient mapping (x_t - x_{t+1})/eta
            if not observe(pd, rec, t, x, v, True, calls):
                return t, calls
        finite = True
        for k in range(d):
            x[k] = p[k]  # x_{t+1} = prox_{eta r}(x_t - eta g_t)
            if not math.isfinite(p[k]):
                finite = False
        if not finite:
            return t, calls
    return t1, calls


def reference(problem, hp, draws0, draws, T):
    """Plain NumPy SPGM on the same draws; returns (iterates x_1..x_{T+1}, calls)."""
    eta = hp["eta"]
    x = problem.x0.copy()
    xs = [x.copy()]
    for j in range(T):
        g = problem.batch_grad(x, draws.idx[j], draws.z[j])
        x = problem.prox_r(x - eta * g, eta)
        xs.append(x)
    return np.array(xs), T * draws.idx.shape[1]


def prox_calls_per_step(problem) -> int:
    """One exact prox, or K_r term proxes for the averaged prox."""
    return problem.prox_terms if problem.averaged_measure else 1


class SPGMState(NamedTuple):
    """SPGM's state: the iterate, the batch gradient, the prox workspace, the prox point and the
    gradient mapping."""

    x: np.ndarray
    g: np.ndarray
    zz: np.ndarray
    p: np.ndarray
    v: np.ndarray


class SPGM(Method):
    spec = SPEC

    def schedule(self, problem, T, hp):
        L = problem.constants()["L"]
        return {"eta": hp["c_eta"] * ratio(1.0, 2.0 * L), "B": math.ceil(hp["c_B"] * T)}

    def plan(self, hp, problem):
        return DrawPlan(0, hp["B"], 0)

    def init_state(self, problem, hp):
        return named_state(SPGMState, problem)

    def steps(self, pd, state, hp, draws, t0, t1, T, rec, calls):
        x, g, zz, p, v = state
        return loop(pd, x, g, zz, p, v, draws.idx, draws.z, hp["eta"], t0, t1, rec, calls)

    def reference(self, problem, hp, draws0, draws, T):
        return reference(problem, hp, draws0, draws, T)

    def counters(self, hp, problem, T):
        return {"prox_calls": T * prox_calls_per_step(problem)}
