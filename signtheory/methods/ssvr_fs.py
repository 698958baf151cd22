"""SSVR-FS: sign-based variance reduction for finite sums (Algorithm 2).

W. Jiang, S. Yang, W. Yang, L. Zhang, "Efficient Sign-Based Optimization:
Accelerating Convergence via Variance Reduction", NeurIPS 2024, arXiv 2406.00489
(Algorithm 2, Theorem 2).

Pseudocode (variant 'storm_svrg', the default: an SVRG term inside a STORM recursion)::

    for t = 1..T:
        if (t - 1) mod I == 0:
            x_ref = x_t;  g_ref = grad f(x_ref)                       # m calls
        if t == 1:
            v_1 = g_ref
        else:
            draw i_t ~ Unif{1..m}  (i.i.d.; a batch of B)
            s_t = grad f_i(x_t) - grad f_i(x_ref) + g_ref            # SVRG term
            r_t = grad f_i(x_t) - grad f_i(x_{t-1})                  # correction, same index
            v_t = (1 - beta) v_{t-1} + beta s_t + (1 - beta) r_t    # 3 B calls
        x_{t+1} = x_t - eta sign(v_t)

Variants:

* 'storm_svrg_reset': as above, and v_t = g_ref at every refresh step;
* 'spider': beta = 0 with a reset at every refresh: v_t = v_{t-1} + r_t (2 B calls);
* 'spider_sqrt': 'spider' with I = B = ceil(sqrt(m)).

With I = 1, 'spider' (and 'storm_svrg' with beta = 1) use the full gradient at
every step: sign gradient descent (tested exactly).

Theoretical guarantee (Theorem 2, stated in the abstract): with I = m,
beta = 1/m, B = 1 and eta proportional to m^{-1/4} d^{-1/2} T^{-1/2},

    (1/T) sum_t E ||grad f(x_t)||_1 = O(m^{1/4} d^{1/2} T^{-1/2}),

i.e. O(m^{1/4} d^{1/2} N^{-1/2}) for N >= m. Derived here: ||x_t - x_ref||_2 <= I eta
sqrt(d) gives an average estimator error <= 4 L_ms^2 eta^2 d I / B, hence

    (1/T) sum_t E ||grad f(x_t)||_1 <= Delta/(eta T) + eta d (L/2 + c L_ms sqrt(I/B)),

c = 4 for the STORM variants and 2 for the SPIDER variants; the schedule's eta
minimizes this bound.
"""

import math
from typing import NamedTuple

import numpy as np

from .._jit import kernel
from ..engine.draws import DrawPlan
from ..engine.recorder import due, observe
from ..ops import sign_step
from ..ops.reference import sign
from ..problems.oracles import batch_grad, batch_grad_pair, components, full_eval
from ..validation import check_choice, check_fresh_weight, check_positive, check_positive_int
from .base import ZERO_RULE, Method, named_state, ratio, rule, uniforms_for
from .spec import FINITE_SUM_ONLY, Hyper, MethodSpec, Rate
from .spider import spider_update

VARIANTS = ("storm_svrg", "storm_svrg_reset", "spider", "spider_sqrt")
STORM_SVRG, STORM_SVRG_RESET, SPIDER = 0, 1, 2
MODE = {"storm_svrg": STORM_SVRG, "storm_svrg_reset": STORM_SVRG_RESET, "spider": SPIDER,
        "spider_sqrt": SPIDER}

SPEC = MethodSpec(
    name="ssvr-fs",
    title="SSVR-FS (sign-based variance reduction for finite sums)",
    citation="W. Jiang, S. Yang, W. Yang, L. Zhang, Efficient Sign-Based Optimization: Accelerating "
    "Convergence via Variance Reduction, NeurIPS 2024, arXiv 2406.00489 (Algorithm 2, Theorem 2)",
    setting="finite-sum; components L-smooth (mean-squared); bounded below; no variance assumption",
    accepts=FINITE_SUM_ONLY,
    hyper=(
        Hyper("eta", check_positive, "sign step"),
        Hyper("beta", check_fresh_weight,
              "weight of the SVRG term in the STORM variants (unused by the SPIDER variants, where it is 0)"),
        Hyper("I", check_positive_int, "refresh period (full gradient every I steps)"),
        Hyper("B", check_positive_int, "components per step"),
        Hyper("variant", lambda n, v: check_choice(n, v, VARIANTS),
              "'storm_svrg' (default), 'storm_svrg_reset', 'spider' or 'spider_sqrt'", "storm_svrg"),
        Hyper("c_eta", check_positive, "constant of the step schedule", 1.0),
        Hyper("c_beta", check_positive, "constant of the beta schedule", 1.0),
        ZERO_RULE,
    ),
    schedule="I = m, B = 1, beta = min(1, c_beta / m) ('spider_sqrt': I = B = ceil(sqrt(m))); "
    "eta = c_eta (Delta / (d T (L/2 + c L_ms sqrt(I/B))))^1/2, c = 4 (STORM variants) or 2 (SPIDER)",
    rate=Rate("l1", "O(m^{1/4} d^{1/2} T^{-1/2}) = O(m^{1/4} d^{1/2} N^{-1/2}) for N >= m",
              {"T": -0.5, "N": -0.5, "m": 0.25, "d": 0.5}),
    oracle_calls="N = m ceil(T / I) + 3 B (T - 1) ('storm_svrg'); m ceil(T / I) + 3 B (T - ceil(T / I)) "
    "('storm_svrg_reset'); m ceil(T / I) + 2 B (T - ceil(T / I)) ('spider', 'spider_sqrt')",
    provenance="stated in the abstract: the setting and the rate; stated in the follow-up paper: the "
    "complexity O(m + d sqrt(m) eps^-2); stated in published summaries: a periodically refreshed "
    "reference point with a full gradient; reconstructed: the estimator and its variants (the default "
    "copies the authors' finite-sum compositional method MSVR), the schedule and the constants; "
    "derived: the bound the step minimizes",
)


@kernel
def storm_svrg_update(v, g_cur, g_sref, g_ref, g_prev, beta):
    """v <- (1 - beta) v + beta (g_cur - g_sref + g_ref) + (1 - beta)(g_cur - g_prev).

    g_cur, g_sref, g_prev: the same components at x_t, x_ref and x_{t-1}; g_ref = grad f(x_ref).
    """
    keep = 1.0 - beta
    for k in range(v.shape[0]):
        v[k] = keep * v[k] + beta * (g_cur[k] - g_sref[k] + g_ref[k]) + keep * (g_cur[k] - g_prev[k])


@kernel
def loop(pd, x, x_prev, x_ref, g_ref, v, g_cur, g_sref, g_prev, idx, z, u, eta, beta, I, mode,
         zero_rule, t0, t1, rec, calls):
    m = components(pd)
    for t in range(t0, t1):
        j = t - t0
        refresh = (t - 1) % I == 0
        if refresh:  # reference point: x_ref = x_t, g_ref = grad f(x_ref)
            x_ref[:] = x
            full_eval(pd, x_ref, g_ref)
            calls += m
        if t == 1 or (refresh and mode != STORM_SVRG):
            v[:] = g_ref  # v_1 = g_ref (and the resets)
        elif mode == SPIDER:
            batch_grad_pair(pd, x, x_prev, idx[j], z[j], g_cur, g_prev)  # same components
            calls += 2 * idx.shape[1]
            spider_update(v, g_cur, g_prev)  # v_t = v_{t-1} + r_t
        else:
            batch_grad_pair(pd, x, x_ref, idx[j], z[j], g_cur, g_sref)  # same components at x_t, x_ref
            batch_grad(pd, x_prev, idx[j], z[j], g_prev)  # ... and at x_{t-1}
            calls += 3 * idx.shape[1]
            storm_svrg_update(v, g_cur, g_sref, g_ref, g_prev, beta)
        if due(rec.ev_t, rec.pos, t) and not observe(pd, rec, t, x, v, True, calls):
            return t, calls
        x_prev[:] = x
        if not sign_step(x, v, eta, zero_rule, u[j]):  # x_{t+1} = x_t - eta sign(v_t)
            return t, calls
    return t1, calls


def schedule(problem, T, hp):
    k = problem.constants()
    m = problem.m
    if hp["variant"] == "spider_sqrt":
        I = B = math.ceil(math.sqrt(m))
    else:
        I, B = m, 1
    c = 2.0 if MODE[hp["variant"]] == SPIDER else 4.0
    kappa = k["L"] / 2 + c * k["L_ms"] * math.sqrt(I / B)
    return {
        "I": I,
        "B": B,
        "beta": min(1.0, hp["c_beta"] / m),
        "eta": hp["c_eta"] * math.sqrt(ratio(k["delta"], problem.d * T * kappa)),
    }


def effective_beta(hp) -> float:
    """The beta the recursion uses: 0 for the SPIDER variants."""
    return 0.0 if MODE[hp["variant"]] == SPIDER else hp["beta"]


def reference(problem, hp, draws0, draws, T):
    """Plain NumPy SSVR-FS on the same draws; returns (iterates x_1..x_{T+1}, calls)."""
    mode, beta, I = MODE[hp["variant"]], effective_beta(hp), hp["I"]
    x = problem.x0.copy()
    x_prev = x
    xs = [x.copy()]
    calls = 0
    for t in range(1, T + 1):
        j = t - 1
        refresh = (t - 1) % I == 0
        if refresh:
            x_ref, g_ref = x.copy(), problem.full_grad(x)
            calls += problem.m
        if t == 1 or (refresh and mode != STORM_SVRG):
            v = g_ref.copy()
        else:
            idx, z = draws.idx[j], draws.z[j]
            g_cur = problem.batch_grad(x, idx, z)
            g_prev = problem.batch_grad(x_prev, idx, z)
            if mode == SPIDER:
                v = v + (g_cur - g_prev)
                calls += 2 * idx.shape[0]
            else:
                s = g_cur - problem.batch_grad(x_ref, idx, z) + g_ref
                v = (1 - beta) * v + beta * s + (1 - beta) * (g_cur - g_prev)
                calls += 3 * idx.shape[0]
        x_prev = x
        x = x - hp["eta"] * sign(v, hp["zero_rule"], draws.u[j])
        xs.append(x)
    return np.array(xs), calls


class SSVRFSState(NamedTuple):
    """SSVR-FS's state: the iterate, the previous iterate, the reference point and its full gradient,
    the estimator, and the component gradients at x, at the reference and at the previous iterate."""

    x: np.ndarray
    x_prev: np.ndarray
    x_ref: np.ndarray
    g_ref: np.ndarray
    v: np.ndarray
    g_cur: np.ndarray
    g_sref: np.ndarray
    g_prev: np.ndarray


class SSVRFS(Method):
    spec = SPEC

    def schedule(self, problem, T, hp):
        return schedule(problem, T, hp)

    def plan(self, hp, problem):
        return DrawPlan(0, hp["B"], uniforms_for(hp, problem.d))

    def init_state(self, problem, hp):
        return named_state(SSVRFSState, problem)

    def steps(self, pd, state, hp, draws, t0, t1, T, rec, calls):
        x, x_prev, x_ref, g_ref, v, g_cur, g_sref, g_prev = state
        return loop(pd, x, x_prev, x_ref, g_ref, v, g_cur, g_sref, g_prev, draws.idx, draws.z, draws.u,
                    hp["eta"], effective_beta(hp), hp["I"], MODE[hp["variant"]], rule(hp),
                    t0, t1, rec, calls)

    def reference(self, problem, hp, draws0, draws, T):
        return reference(problem, hp, draws0, draws, T)
