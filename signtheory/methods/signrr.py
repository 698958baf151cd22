"""Sign-based random reshuffling: SignRR, SignRVR and SignRVM.

Z. Qin, Z. Liu, P. Xu, "Convergence of Sign-based Random Reshuffling Algorithms
for Nonconvex Optimization", arXiv 2310.15976.

Setting: a finite sum f = (1/m) sum_i f_i. Each epoch e visits every component
once, in the order of a fresh uniform permutation pi_e (the engine's
``"reshuffle"`` sampling). k is the global step and T the horizon in steps, so
T = m T_ep and a run has ceil(T / m) epochs. When m does not divide T the last
epoch is cut short: it visits only the first T - m (ceil(T/m) - 1) components of
its permutation (SignRVR still pays its full snapshot gradient at its start).

Pseudocode (step gamma_k = eta / sqrt(k); ``eta`` is the initial step gamma_0)::

    v_0 = 0                                                      # SignRVM only
    for e = 1..ceil(T/m):
        pi_e = a fresh uniform permutation of {1..m}
        x~ = x;  mu~ = grad f(x~)                                # SignRVR only: m calls
        for i = 1..m while k = (e - 1) m + i <= T:
            SignRR:  v_k = grad f_{pi_e(i)}(x_k)
            SignRVR: v_k = grad f_{pi_e(i)}(x_k) - grad f_{pi_e(i)}(x~) + mu~
            SignRVM: v_k = (1 - beta) v_{k-1} + beta grad f_{pi_e(i)}(x_k)   # kept across epochs
            x_{k+1} = x_k - gamma_k sign(v_k)

Theoretical guarantee (rates stated in the paper's abstract, in epochs; the
measure is an l1-type gradient norm of a gamma-weighted random iterate)::

    SignRR:            O(log(m T_ep) / sqrt(m T_ep) + sigma_bar)
    SignRVR, SignRVM:  O(log(m T_ep) / sqrt(m T_ep) + log(m T_ep) sqrt(m) / sqrt(T_ep))
                       = O~(m N^{-1/2})

where sigma_bar is a non-vanishing averaged error of the single-component sign.
With gamma_0 = (L d)^{-1/2} the sign-step inequality gives the d^{1/2} factor
(derived); ``gamma0_scaling='inv_sqrt_m'`` (gamma_0 = (L d m)^{-1/2}) lowers the
derived m-dependence of SignRVR to m^{1/2}.

Measures: with a decaying step the natural measures are the gamma-weighted
average sum_k gamma_k ||grad f(x_k)|| / sum_k gamma_k and the minimum over k.
The engine reports the plain average over x_1..x_T; :func:`step_sizes` gives the
weights to form the weighted one from kept iterates.

With m = 1 every step starts an epoch, so SignRVR's snapshot is the current
iterate and its estimator is the full gradient: it is sign gradient descent with
step gamma_k (tested).
"""

import math
from typing import NamedTuple

import numpy as np

from .._jit import kernel
from ..engine.draws import DrawPlan
from ..engine.recorder import due, observe
from ..ops import ema_update, sign_step, svrg_estimate
from ..ops.reference import sign
from ..problems.oracles import batch_grad, batch_grad_pair, components, full_eval
from ..validation import check_choice, check_fresh_weight, check_positive
from .base import ZERO_RULE, Method, named_state, ratio, rule, uniforms_for
from .spec import FINITE_SUM_ONLY, Hyper, MethodSpec, Rate

CITATION = ("Z. Qin, Z. Liu, P. Xu, Convergence of Sign-based Random Reshuffling Algorithms for "
            "Nonconvex Optimization, arXiv 2310.15976")
SETTING = ("finite-sum with random reshuffling (a fresh permutation of the m components each epoch, "
           "T = m T_ep steps); every component L-smooth")
GAMMA0_SCALINGS = ("m_free", "inv_sqrt_m")

STEP_HYPER = (
    Hyper("eta", check_positive, "initial step gamma_0: step k moves each coordinate by eta / sqrt(k)"),
    Hyper("c_eta", check_positive, "constant of the initial-step schedule", 1.0),
    Hyper("gamma0_scaling", lambda n, v: check_choice(n, v, GAMMA0_SCALINGS),
          "initial step: 'm_free' (c_eta (L d)^-1/2, default) or 'inv_sqrt_m' (c_eta (L d m)^-1/2)",
          "m_free"),
)
STEP_SCHEDULE = ("eta = gamma_0 = c_eta (L d)^-1/2 ('m_free') or c_eta (L d m)^-1/2 ('inv_sqrt_m'); "
                 "step k is gamma_k = eta / sqrt(k), k = 1..T")
EPOCHS_NOTE = ("; T counts steps, epochs = ceil(T/m), a partial last epoch visits a prefix of its "
               "permutation")
RECONSTRUCTED = ("the update formulas and the step schedule gamma_k = gamma_0/sqrt(k) with "
                 "gamma_0 = (L d)^-1/2 reconstructed; the d-exponent and the N-form of the rate derived")

SIGNRR_SPEC = MethodSpec(
    name="signrr",
    title="SignRR (signSGD with random reshuffling)",
    citation=CITATION,
    setting=SETTING,
    accepts=FINITE_SUM_ONLY,
    hyper=STEP_HYPER + (ZERO_RULE,),
    schedule=STEP_SCHEDULE + EPOCHS_NOTE,
    rate=Rate("l1", "O(log(T)/T^{1/2} + sigma_bar), T = m T_ep = N", {"T": -0.5, "N": -0.5, "d": 0.5},
              floor="sigma_bar, a non-vanishing averaged error of the single-component sign"),
    oracle_calls="N = T",
    provenance="setting, reshuffling and the rate with its non-vanishing term stated in the abstract "
    "(the definition of sigma_bar changed between arXiv versions); " + RECONSTRUCTED,
)

SIGNRVR_SPEC = MethodSpec(
    name="signrvr",
    title="SignRVR (sign random reshuffling with SVRG-type variance reduction)",
    citation=CITATION,
    setting=SETTING,
    accepts=FINITE_SUM_ONLY,
    hyper=STEP_HYPER + (ZERO_RULE,),
    schedule=STEP_SCHEDULE + "; snapshot x~ = x and mu~ = grad f(x~) at every epoch start" + EPOCHS_NOTE,
    rate=Rate("l1", "O(log(m T_ep) m^{1/2} T_ep^{-1/2}) = O~(m N^{-1/2})",
              {"T": -0.5, "N": -0.5, "m": 1.0, "d": 0.5}),
    oracle_calls="N = m ceil(T/m) + 2 T (= 3 T when m divides T)",
    provenance="setting, reshuffling, the method and its rate in epochs stated in the abstract; "
    + RECONSTRUCTED,
)

SIGNRVM_SPEC = MethodSpec(
    name="signrvm",
    title="SignRVM (sign random reshuffling with momentum)",
    citation=CITATION,
    setting=SETTING,
    accepts=FINITE_SUM_ONLY,
    hyper=STEP_HYPER + (
        Hyper("beta", check_fresh_weight,
              "weight of the fresh component gradient (momentum = 1 - beta); kept across epochs"),
        Hyper("c_beta", check_positive, "constant of the beta schedule", 1.0),
        ZERO_RULE,
    ),
    schedule=STEP_SCHEDULE + "; beta = min(1, c_beta / m), v_0 = 0, v carried across epochs" + EPOCHS_NOTE,
    rate=Rate("l1", "O(log(m T_ep) m^{1/2} T_ep^{-1/2}) = O~(m N^{-1/2})",
              {"T": -0.5, "N": -0.5, "m": 1.0, "d": 0.5}),
    oracle_calls="N = T",
    provenance="setting, reshuffling, the method and its rate in epochs stated in the abstract; "
    + RECONSTRUCTED + "; beta = 1/m and v_0 = 0 reconstructed",
)


# -------------------------------------------------------------------------------------------------
# Compiled loops: one step k per iteration; idx[j] holds pi_e(i) for k = t0 + j
# -------------------------------------------------------------------------------------------------


@kernel
def signrr_loop(pd, x, v, idx, z, u, eta, zero_rule, t0, t1, rec, calls):
    for k in range(t0, t1):
        j = k - t0
        batch_grad(pd, x, idx[j], z[j], v)  # v_k = grad f_{pi_e(i)}(x_k)
        calls += idx.shape[1]
        if due(rec.ev_t, rec.pos, k) and not observe(pd, rec, k, x, v, True, calls):
            return k, calls
        if not sign_step(x, v, eta / math.sqrt(k), zero_rule, u[j]):  # x_{k+1} = x_k - gamma_k sign(v_k)
            return k, calls
    return t1, calls


@kernel
def signrvr_loop(pd, x, x_snap, mu, v, g_cur, g_snap, idx, z, u, eta, zero_rule, t0, t1, rec, calls):
    m = components(pd)
    for k in range(t0, t1):
        j = k - t0
        if (k - 1) % m == 0:  # epoch start: x~ = x_k, mu~ = grad f(x~)
            x_snap[:] = x
            full_eval(pd, x_snap, mu)
            calls += m
        batch_grad_pair(pd, x, x_snap, idx[j], z[j], g_cur, g_snap)  # component pi_e(i) at x_k and x~
        calls += 2 * idx.shape[1]
        svrg_estimate(v, g_cur, g_snap, mu)  # v_k = g_cur - g_snap + mu~
        if due(rec.ev_t, rec.pos, k) and not observe(pd, rec, k, x, v, True, calls):
            return k, calls
        if not sign_step(x, v, eta / math.sqrt(k), zero_rule, u[j]):  # x_{k+1} = x_k - gamma_k sign(v_k)
            return k, calls
    return t1, calls


@kernel
def signrvm_loop(pd, x, g, v, idx, z, u, eta, beta, zero_rule, t0, t1, rec, calls):
    for k in range(t0, t1):
        j = k - t0
        batch_grad(pd, x, idx[j], z[j], g)  # g = grad f_{pi_e(i)}(x_k)
        calls += idx.shape[1]
        ema_update(v, g, beta)  # v_k = (1 - beta) v_{k-1} + beta g, across epoch boundaries
        if due(rec.ev_t, rec.pos, k) and not observe(pd, rec, k, x, v, True, calls):
            return k, calls
        if not sign_step(x, v, eta / math.sqrt(k), zero_rule, u[j]):  # x_{k+1} = x_k - gamma_k sign(v_k)
            return k, calls
    return t1, calls


# -------------------------------------------------------------------------------------------------
# NumPy references on the same draws
# -------------------------------------------------------------------------------------------------


def step_sizes(hp: dict, T: int) -> np.ndarray:
    """gamma_1..gamma_T = eta / sqrt(k): the weights of the gamma-weighted measure
    sum_k gamma_k ||grad f(x_k)|| / sum_k gamma_k."""
    return np.array([hp["eta"] / math.sqrt(k) for k in range(1, T + 1)])


def _trajectory(problem, hp, draws, T, estimate):
    """x_{k+1} = x_k - gamma_k sign(v_k) with v_k = estimate(x_k, k, j)."""
    x = problem.x0.copy()
    xs = [x.copy()]
    for k in range(1, T + 1):
        j = k - 1
        v = estimate(x, k, j)
        x = x - hp["eta"] / math.sqrt(k) * sign(v, hp["zero_rule"], draws.u[j])
        xs.append(x)
    return np.array(xs)


def signrr_reference(problem, hp, draws0, draws, T):
    xs = _trajectory(problem, hp, draws, T, lambda x, k, j: problem.batch_grad(x, draws.idx[j], draws.z[j]))
    return xs, T * draws.idx.shape[1]


def signrvr_reference(problem, hp, draws0, draws, T):
    m = problem.m
    snap = {}
    calls = 0

    def estimate(x, k, j):
        nonlocal calls
        if (k - 1) % m == 0:
            snap["x"], snap["mu"] = x.copy(), problem.full_grad(x)
            calls += m
        calls += 2 * draws.idx.shape[1]
        return (problem.batch_grad(x, draws.idx[j], draws.z[j])
                - problem.batch_grad(snap["x"], draws.idx[j], draws.z[j]) + snap["mu"])

    xs = _trajectory(problem, hp, draws, T, estimate)
    return xs, calls


def signrvm_reference(problem, hp, draws0, draws, T):
    beta = hp["beta"]
    state = {"v": np.zeros(problem.d)}

    def estimate(x, k, j):
        state["v"] = (1 - beta) * state["v"] + beta * problem.batch_grad(x, draws.idx[j], draws.z[j])
        return state["v"]

    xs = _trajectory(problem, hp, draws, T, estimate)
    return xs, T * draws.idx.shape[1]


# -------------------------------------------------------------------------------------------------
# Methods
# -------------------------------------------------------------------------------------------------


def initial_step(problem, hp) -> float:
    """gamma_0 for the chosen scaling (infinite when L = 0, which the checks reject)."""
    L = problem.constants()["L"]
    scale = L * problem.d * (problem.m if hp["gamma0_scaling"] == "inv_sqrt_m" else 1)
    return hp["c_eta"] * ratio(1.0, math.sqrt(scale))


def epoch_counters(problem, T: int) -> dict:
    epochs = -(-T // problem.m)
    return {"epochs": epochs, "last_epoch_steps": T - problem.m * (epochs - 1)}


class SignRRState(NamedTuple):
    """SignRR's state: the iterate and the component gradient."""

    x: np.ndarray
    v: np.ndarray


class SignRVRState(NamedTuple):
    """SignRVR's state: the iterate, the epoch snapshot and its full gradient mu, the estimator, and the
    component gradients at x and at the snapshot."""

    x: np.ndarray
    x_snap: np.ndarray
    mu: np.ndarray
    v: np.ndarray
    g_cur: np.ndarray
    g_snap: np.ndarray


class SignRVMState(NamedTuple):
    """SignRVM's state: the iterate, the component gradient and the momentum."""

    x: np.ndarray
    g: np.ndarray
    v: np.ndarray


class _Reshuffling(Method):
    """Shared parts: one component per step from reshuffled epochs, decaying step."""

    def schedule(self, problem, T, hp):
        return {"eta": initial_step(problem, hp)}

    def plan(self, hp, problem):
        return DrawPlan(0, 1, uniforms_for(hp, problem.d), "reshuffle")

    def counters(self, hp, problem, T):
        return epoch_counters(problem, T)


class SignRR(_Reshuffling):
    spec = SIGNRR_SPEC

    def init_state(self, problem, hp):
        return named_state(SignRRState, problem)

    def steps(self, pd, state, hp, draws, t0, t1, T, rec, calls):
        x, v = state
        return signrr_loop(pd, x, v, draws.idx, draws.z, draws.u, hp["eta"], rule(hp), t0, t1, rec, calls)

    def reference(self, problem, hp, draws0, draws, T):
        return signrr_reference(problem, hp, draws0, draws, T)


class SignRVR(_Reshuffling):
    spec = SIGNRVR_SPEC

    def init_state(self, problem, hp):
        return named_state(SignRVRState, problem)

    def steps(self, pd, state, hp, draws, t0, t1, T, rec, calls):
        x, x_snap, mu, v, g_cur, g_snap = state
        return signrvr_loop(pd, x, x_snap, mu, v, g_cur, g_snap, draws.idx, draws.z, draws.u, hp["eta"],
                            rule(hp), t0, t1, rec, calls)

    def reference(self, problem, hp, draws0, draws, T):
        return signrvr_reference(problem, hp, draws0, draws, T)


class SignRVM(_Reshuffling):
    spec = SIGNRVM_SPEC

    def schedule(self, problem, T, hp):
        return {"eta": initial_step(problem, hp), "beta": min(1.0, hp["c_beta"] / problem.m)}

    def init_state(self, problem, hp):
        return named_state(SignRVMState, problem)

    def steps(self, pd, state, hp, draws, t0, t1, T, rec, calls):
        x, g, v = state
        return signrvm_loop(pd, x, g, v, draws.idx, draws.z, draws.u, hp["eta"], hp["beta"], rule(hp),
                            t0, t1, rec, calls)

    def reference(self, problem, hp, draws0, draws, T):
        return signrvm_reference(problem, hp, draws0, draws, T)
