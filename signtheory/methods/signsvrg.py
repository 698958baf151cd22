"""SignSVRG: signSGD on an SVRG estimator, for nonconvex finite sums.

E. Chzhen, S. Schechtman, "SignSVRG: fixing SignSGD via variance reduction",
arXiv 2305.13187, 2023.

Pseudocode::

    for t = 1..T:
        if refresh(t):                    # 'epoch': (t - 1) mod I == 0
            x_ref = x_t;  mu = grad f(x_ref)          # 'loopless': t = 1, then w.p. 1/I
        draw i_t ~ Unif{1..m}  (a batch of B)         # m calls per refresh
        v_t = grad f_i(x_t) - grad f_i(x_ref) + mu    # same components at both points
        x_{t+1} = x_t - eta sign(v_t)

With I = 1 the estimator is the full gradient, so the method is sign gradient
descent (tested exactly).

Theoretical guarantee: the paper states O(1/sqrt(T)) for the expected gradient
norm of smooth nonconvex finite sums. Derived here (mean-squared smoothness L_ms,
smoothness L of f): ||x_t - x_ref||_2 <= I eta sqrt(d) gives
E ||v_t - grad f(x_t)||_1 <= L_ms d I eta / sqrt(B), so

    (1/T) sum_t E ||grad f(x_t)||_1 <= Delta/(eta T) + eta d (L/2 + 2 L_ms I / sqrt(B)),

which the schedule eta = (Delta / (d T (L/2 + 2 L_ms I)))^{1/2} with I = m, B = 1
minimizes: O((d m L_ms Delta / T)^{1/2}) = O(m^{1/2} d^{1/2} N^{-1/2}).
"""

import math

import numpy as np

from .._jit import kernel
from ..engine.draws import DrawPlan
from ..engine.recorder import due, observe
from ..ops import sign_step, svrg_estimate
from ..ops.reference import sign
from ..problems.oracles import batch_grad_pair, components, full_eval
from ..validation import check_choice, check_positive, check_positive_int
from .base import ZERO_RULE, Method, named_state, ratio, rule, uniforms_for
from .spec import FINITE_SUM_ONLY, Hyper, MethodSpec, Rate
from .svrg import SVRGState

LOOPS = ("epoch", "loopless")

SPEC = MethodSpec(
    name="signsvrg",
    title="SignSVRG (sign step on an SVRG estimator)",
    citation="E. Chzhen, S. Schechtman, SignSVRG: fixing SignSGD via variance reduction, arXiv 2305.13187",
    setting="finite-sum; every component L-smooth (mean-squared smoothness suffices for the derived bound)",
    accepts=FINITE_SUM_ONLY,
    hyper=(
        Hyper("eta", check_positive, "sign step"),
        Hyper("I", check_positive_int, "snapshot period (expected period for 'loopless')"),
        Hyper("B", check_positive_int, "components per step", 1),
        Hyper("loop", lambda n, v: check_choice(n, v, LOOPS),
              "'epoch' (snapshot every I steps, default) or 'loopless' (snapshot w.p. 1/I)", "epoch"),
        Hyper("c_eta", check_positive, "constant of the step schedule", 1.0),
        ZERO_RULE,
    ),
    schedule="I = m, B = 1, eta = c_eta (Delta / (d T (L/2 + 2 L_ms I)))^1/2",
    rate=Rate("l1", "O(T^{-1/2}) stated; O(m^{1/2} d^{1/2} N^{-1/2}) derived",
              {"T": -0.5, "N": -0.5, "m": 0.5, "d": 0.5}),
    oracle_calls="N = m ceil(T / I) + 2 B T ('epoch'); m (1 + number of refresh coins won) + 2 B T "
    "('loopless')",
    provenance="stated in the abstract: variance reduction inside signSGD and the O(1/sqrt(T)) rate; "
    "reconstructed: the estimator, the norm of the measure and the m-dependence (the paper builds its "
    "construction for convex Lipschitz sums first); derived: the bound and the schedule",
)


@kernel
def loop(pd, x, x_ref, mu, v, g_cur, g_ref, idx, z, u, eta, I, loopless, zero_rule, t0, t1, rec, calls):
    m = components(pd)
    off = 1 if loopless else 0  # u[j, 0] is the refresh coin of 'loopless'
    for t in range(t0, t1):
        j = t - t0
        if loopless:
            refresh = t == 1 or u[j, 0] < 1.0 / I
        else:
            refresh = (t - 1) % I == 0
        if refresh:  # snapshot: x_ref = x_t, mu = grad f(x_ref)
            x_ref[:] = x
            full_eval(pd, x_ref, mu)
            calls += m
        batch_grad_pair(pd, x, x_ref, idx[j], z[j], g_cur, g_ref)  # same components, two points
        calls += 2 * idx.shape[1]
        svrg_estimate(v, g_cur, g_ref, mu)  # v_t = grad f_i(x_t) - grad f_i(x_ref) + mu
        if due(rec.ev_t, rec.pos, t) and not observe(pd, rec, t, x, v, True, calls):
            return t, calls
        if not sign_step(x, v, eta, zero_rule, u[j, off:]):  # x_{t+1} = x_t - eta sign(v_t)
            return t, calls
    return t1, calls


def refreshes(hp, draws, t):
    """Whether step t (1-based) takes a snapshot, with the draws of its chunk row t - 1."""
    if hp["loop"] == "loopless":
        return t == 1 or draws.u[t - 1, 0] < 1.0 / hp["I"]
    return (t - 1) % hp["I"] == 0


def reference(problem, hp, draws0, draws, T):
    """Plain NumPy SignSVRG on the same draws; returns (iterates x_1..x_{T+1}, calls)."""
    off = 1 if hp["loop"] == "loopless" else 0
    x = problem.x0.copy()
    xs = [x.copy()]
    calls = 0
    for t in range(1, T + 1):
        j = t - 1
        if refreshes(hp, draws, t):
            x_ref, mu = x.copy(), problem.full_grad(x)
            calls += problem.m
        v = (problem.batch_grad(x, draws.idx[j], draws.z[j])
             - problem.batch_grad(x_ref, draws.idx[j], draws.z[j]) + mu)
        calls += 2 * draws.idx.shape[1]
        x = x - hp["eta"] * sign(v, hp["zero_rule"], draws.u[j, off:])
        xs.append(x)
    return np.array(xs), calls


class SignSVRG(Method):
    spec = SPEC

    def schedule(self, problem, T, hp):
        k = problem.constants()
        I = problem.m
        kappa = k["L"] / 2 + 2 * k["L_ms"] * I
        return {"I": I, "eta": hp["c_eta"] * math.sqrt(ratio(k["delta"], problem.d * T * kappa))}

    def plan(self, hp, problem):
        coin = 1 if hp["loop"] == "loopless" else 0
        return DrawPlan(0, hp["B"], coin + uniforms_for(hp, problem.d))

    def init_state(self, problem, hp):
        return named_state(SVRGState, problem)  # the SVRG estimator's state

    def steps(self, pd, state, hp, draws, t0, t1, T, rec, calls):
        x, x_ref, mu, v, g_cur, g_ref = state
        return loop(pd, x, x_ref, mu, v, g_cur, g_ref, draws.idx, draws.z, draws.u, hp["eta"], hp["I"],
                    hp["loop"] == "loopless", rule(hp), t0, t1, rec, calls)

    def reference(self, problem, hp, draws0, draws, T):
        return reference(problem, hp, draws0, draws, T)
