"""SPIDER / SARAH / SpiderBoost for nonconvex finite sums (full-precision reference).

C. Fang, C. J. Li, Z. Lin, T. Zhang, "SPIDER: Near-Optimal Non-Convex Optimization via
Stochastic Path Integrated Differential Estimator", NeurIPS 2018, arXiv 1807.01695;
L. M. Nguyen, J. Liu, K. Scheinberg, M. Takac, "SARAH", ICML 2017, arXiv 1703.00102
(nonconvex: arXiv 1705.07261); Z. Wang, K. Ji, Y. Zhou, Y. Liang, V. Tarokh,
"SpiderBoost and Momentum", NeurIPS 2019, arXiv 1810.10690.

Pseudocode::

    for t = 1..T:
        if (t - 1) mod I == 0:
            v_t = grad f(x_t)                                             # m calls
        else:
            draw a batch of B components
            v_t = v_{t-1} + (1/B) sum_i [grad f_i(x_t) - grad f_i(x_{t-1})]   # 2 B calls
        x_{t+1} = x_t - eta v_t                 # step 'constant' (SpiderBoost)
        x_{t+1} = x_t - eta v_t / ||v_t||_2     # step 'normalized' (SPIDER-SFO)

With I = 1 every step uses the full gradient: gradient descent (or normalized
gradient descent).

Theoretical guarantee: O(m^{1/2} eps^{-2}) component gradients reach
E ||grad f||_2 <= eps, i.e. E ||grad f(x_tau)||_2 = O(m^{1/4} N^{-1/2}), with
I = B = ceil(sqrt(m)) and eta = 1/(2 L) (SpiderBoost). For the normalized step
the derived bound (1/T) sum_t E||grad f(x_t)||_2 <= Delta/(eta T) + eta (L/2 +
2 L_ms sqrt(I/B)) is minimized by eta = (Delta / (T (L/2 + 2 L_ms)))^{1/2} for I = B.
"""

import math
from typing import NamedTuple

import numpy as np

from .._jit import kernel
from ..engine.draws import DrawPlan
from ..engine.recorder import due, observe
from ..ops import gradient_step, norm2sq
from ..problems.oracles import batch_grad_pair, components, full_eval
from ..validation import check_choice, check_positive, check_positive_int
from .base import Method, named_state, ratio
from .spec import FINITE_SUM_ONLY, Hyper, MethodSpec, Rate

STEPS = ("constant", "normalized")

SPEC = MethodSpec(
    name="spider",
    title="SPIDER / SARAH / SpiderBoost (full-precision reference, nonconvex finite sums)",
    citation="C. Fang, C. J. Li, Z. Lin, T. Zhang, SPIDER, NeurIPS 2018, arXiv 1807.01695; "
    "L. M. Nguyen et al., SARAH, ICML 2017, arXiv 1703.00102; Z. Wang et al., SpiderBoost and "
    "Momentum, NeurIPS 2019, arXiv 1810.10690",
    setting="finite-sum; components L_ms-mean-squared smooth",
    accepts=FINITE_SUM_ONLY,
    hyper=(
        Hyper("eta", check_positive, "step size (length of the step for 'normalized')"),
        Hyper("I", check_positive_int, "refresh period (full gradient every I steps)"),
        Hyper("B", check_positive_int, "components per step (each evaluated at two points)"),
        Hyper("step", lambda n, v: check_choice(n, v, STEPS),
              "'constant' (x - eta v, SpiderBoost, default) or 'normalized' (x - eta v/||v||, SPIDER-SFO)",
              "constant"),
        Hyper("c_eta", check_positive, "constant of the step schedule", 1.0),
    ),
    schedule="I = B = ceil(sqrt(m)); 'constant': eta = c_eta / (2 L_ms); "
    "'normalized': eta = c_eta (Delta / (T (L/2 + 2 L_ms)))^1/2",
    rate=Rate("l2", "O(m^{1/4} N^{-1/2})", {"T": -0.5, "N": -0.5, "m": 0.25}),
    oracle_calls="N = m ceil(T / I) + 2 B (T - ceil(T / I)) (no batch at the refresh steps)",
    provenance="complexity O(m^{1/2} eps^-2) stated in the SPIDER abstract; the parameter formulas "
    "reconstructed (SpiderBoost's eta = 1/(2L) with I = B = sqrt(m)); the normalized-step schedule "
    "derived",
)


@kernel
def spider_update(v, g_cur, g_prev):
    """SARAH / SPIDER: v <- v + (grad f_i(x_t) - grad f_i(x_{t-1})) (same components)."""
    for k in range(v.shape[0]):
        v[k] = v[k] + (g_cur[k] - g_prev[k])


@kernel
def loop(pd, x, x_prev, v, g_cur, g_prev, idx, z, eta, I, normalized, t0, t1, rec, calls):
    m = components(pd)
    for t in range(t0, t1):
        j = t - t0
        if (t - 1) % I == 0:
            full_eval(pd, x, v)  # v_t = grad f(x_t)
            calls += m
        else:
            batch_grad_pair(pd, x, x_prev, idx[j], z[j], g_cur, g_prev)  # same components, two points
            calls += 2 * idx.shape[1]
            spider_update(v, g_cur, g_prev)
        if due(rec.ev_t, rec.pos, t) and not observe(pd, rec, t, x, v, True, calls):
            return t, calls
        x_prev[:] = x
        step = eta
        if normalized:
            nrm = math.sqrt(norm2sq(v))
            step = eta / nrm if nrm > 0.0 else 0.0  # v = 0: stay
        if not gradient_step(x, v, step):  # x_{t+1} = x_t - step v_t
            return t, calls
    return t1, calls


def reference(problem, hp, draws0, draws, T):
    """Plain NumPy SPIDER on the same draws; returns (iterates x_1..x_{T+1}, calls)."""
    x = problem.x0.copy()
    x_prev = x
    xs = [x.copy()]
    calls = 0
    for t in range(1, T + 1):
        j = t - 1
        if (t - 1) % hp["I"] == 0:
            v = problem.full_grad(x)
            calls += problem.m
        else:
            v = v + (problem.batch_grad(x, draws.idx[j], draws.z[j])
                     - problem.batch_grad(x_prev, draws.idx[j], draws.z[j]))
            calls += 2 * draws.idx.shape[1]
        x_prev = x
        step = hp["eta"]
        if hp["step"] == "normalized":
            nrm = np.linalg.norm(v)
            step = hp["eta"] / nrm if nrm > 0 else 0.0
        x = x - step * v
        xs.append(x)
    return np.array(xs), calls


class SpiderState(NamedTuple):
    """SPIDER's state: the iterate, the previous iterate, the estimator and the component gradients at
    both."""

    x: np.ndarray
    x_prev: np.ndarray
    v: np.ndarray
    g_cur: np.ndarray
    g_prev: np.ndarray


class Spider(Method):
    spec = SPEC

    def schedule(self, problem, T, hp):
        k = problem.constants()
        I = math.ceil(math.sqrt(problem.m))
        if hp["step"] == "constant":
            eta = hp["c_eta"] * ratio(1.0, 2 * k["L_ms"])
        else:
            eta = hp["c_eta"] * math.sqrt(ratio(k["delta"], T * (k["L"] / 2 + 2 * k["L_ms"])))
        return {"I": I, "B": I, "eta": eta}

    def plan(self, hp, problem):
        return DrawPlan(0, hp["B"], 0)

    def init_state(self, problem, hp):
        return named_state(SpiderState, problem)

    def steps(self, pd, state, hp, draws, t0, t1, T, rec, calls):
        x, x_prev, v, g_cur, g_prev = state
        return loop(pd, x, x_prev, v, g_cur, g_prev, draws.idx, draws.z, hp["eta"], hp["I"],
                    hp["step"] == "normalized", t0, t1, rec, calls)

    def reference(self, problem, hp, draws0, draws, T):
        return reference(problem, hp, draws0, draws, T)
