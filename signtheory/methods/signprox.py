"""signProx: one-bit proximal algorithm for nonconvex stochastic composite problems.

X. Xu, U. S. Kamilov, "signProx: One-Bit Proximal Algorithm for Nonconvex
Stochastic Optimization", ICASSP 2019, arXiv 1807.08023.

The problem is F = D + r with D smooth (possibly nonconvex) and
r = (1/K_r) sum_k r_k, each r_k with a cheap prox. Pseudocode (reconstructed)::

    for t = 1..T:
        gD = grad D(x_t)                                     stoch_source = "prox" (default)
           | (1/B) sum_b grad D(x_t; xi_{t,b})               "grad" | "both"
        z  = x_t - gamma gD
        P  = (1/B) sum_b prox_{gamma r_{k_b}}(z),  k_b ~ Unif{1..K_r}    "prox" | "both"
           | (1/K_r) sum_k prox_{gamma r_k}(z)                           "grad"
        G  = (x_t - P)/gamma                                 # stochastic gradient mapping
        x_{t+1} = x_t - eta sign(G)

As compiled, P = z - sum_k w_k (z - prox_{gamma r_k}(z)) with w_k = n_k/B (n_k
draws of term k among the B) or 1/K_r: each distinct term is evaluated once,
while the prox-call count follows the algorithm (B per step). A coordinate that
P leaves unchanged (P_i = z_i) gets G_i = gD_i exactly instead of the rounded
(x_i - z_i)/gamma; with r = 0 this makes G exactly gD, so signProx with lam = 0
makes the steps of sign gradient descent on the same samples (tested exactly),
and a coordinate held at a kink of r (P_i = x_i) has G_i = 0 exactly and does not
move under the default zero rule.

Theoretical guarantee: the paper states convergence for nonconvex problems
under explicit assumptions, at the rate of the uncompressed stochastic proximal
gradient method. The rate used here is reconstructed by analogy with signSGD:
with eta = gamma = (||L_vec||_1 T)^{-1/2} = (d L T)^{-1/2} and B = T,

    (1/T) sum_t E ||G(x_t)||_1 = O(d^{1/2} T^{-1/2}) = O(d^{1/2} N^{-1/4}),

N the sampled oracle calls (B per step). The engine measures the gradient
mapping at the problem's fixed gamma_eval (default 1/L), not at the shrinking
gamma of the schedule (see :mod:`signtheory.problems.composite`).
"""

import math
from typing import NamedTuple

import numpy as np

from .._jit import kernel
from ..engine.draws import DrawPlan
from ..engine.recorder import due, observe
from ..ops import sign_step
from ..ops.reference import sign
from ..problems.composite.base import mapping_np
from ..problems.composite.kernels import mapping, prox_term, prox_terms, smooth_eval
from ..problems.oracles import batch_grad
from ..validation import check_choice, check_positive, check_positive_int
from .base import ZERO_RULE, Method, named_state, ratio, rule, uniforms_for
from .spec import ANY_PROBLEM, Hyper, MethodSpec, Rate

STOCH_SOURCES = ("prox", "grad", "both")
PROX, GRAD, BOTH = 0, 1, 2

SPEC = MethodSpec(
    name="signprox",
    title="signProx (one-bit proximal algorithm for composite problems)",
    citation="X. Xu, U. S. Kamilov, signProx: One-Bit Proximal Algorithm for Nonconvex Stochastic "
    "Optimization, ICASSP 2019, arXiv 1807.08023",
    setting="composite F = D + r: D smooth (possibly nonconvex), r = (1/K_r) sum_k r_k, each r_k with "
    "a cheap prox; stochasticity from sampled prox terms and/or sampled gradients of D",
    accepts=ANY_PROBLEM,
    hyper=(
        Hyper("eta", check_positive, "sign step"),
        Hyper("gamma", check_positive, "prox parameter of the gradient mapping (default: eta)"),
        Hyper("B", check_positive_int, "batch: prox terms sampled ('prox', 'both') and/or gradients of D "
              "averaged ('grad', 'both') per step"),
        Hyper("stoch_source", lambda n, v: check_choice(n, v, STOCH_SOURCES),
              "'prox': exact grad D and B sampled prox terms; 'grad': B sampled gradients of D and the "
              "averaged prox; 'both': B of each", "prox"),
        Hyper("c_eta", check_positive, "constant of the step schedule", 1.0),
        Hyper("c_B", check_positive, "constant of the batch schedule", 1.0),
        ZERO_RULE,
    ),
    schedule="eta = c_eta (d L T)^-1/2 (= (||L_vec||_1 T)^-1/2 with L_vec = L 1), gamma = eta, "
    "B = ceil(c_B T), stoch_source = 'prox'",
    rate=Rate("l1", "O(d^{1/2} T^{-1/2}) = O(d^{1/2} N^{-1/4}) for the gradient mapping (reconstructed)",
              {"T": -0.5, "N": -0.25, "d": 0.5}),
    oracle_calls="'prox': N = T c (c = m for a finite sum, 1 for a stochastic D: one exact grad D per "
    "step) and B T prox calls; 'grad': N = B T and K_r T prox calls; 'both': N = B T and B T prox "
    "calls; prox calls are reported as prox_calls",
    provenance="problem class, one bit per update element and the claim of matching the uncompressed "
    "stochastic proximal-gradient rate stated in the abstract; the algorithm box, the source of "
    "stochasticity, the step sizes (eta, gamma = eta, B = T) and the rate reconstructed",
    composite=True,
)


@kernel
def loop(pd, x, gD, zz, P, acc, G, counts, idx, z, u, eta, gamma, source, nprox, zero_rule, full_cost,
         t0, t1, rec, calls):
    d = x.shape[0]
    K = prox_terms(pd)
    for t in range(t0, t1):
        j = t - t0
        if source == PROX:
            smooth_eval(pd, x, gD)  # gD = grad D(x_t)
            calls += full_cost
        else:
            batch_grad(pd, x, idx[j], z[j], gD)  # gD = batch-B estimate of grad D(x_t)
            calls += idx.shape[1]
        for i in range(d):
            zz[i] = x[i] - gamma * gD[i]  # z = x_t - gamma gD
        # P = sum_k w_k prox_{gamma r_k}(z): w_k = n_k / B, k_b ~ Unif{1..K_r}, or w_k = 1/K_r
        if source == GRAD:
            for k in range(K):
                counts[k] = 1
            total = K
        else:
            for k in range(K):
                counts[k] = 0
            for b in range(nprox):
                k = int(u[j, b] * K)
                if k >= K:
                    k = K - 1
                counts[k] += 1
            total = nprox
        for i in range(d):
            acc[i] = 0.0
        for k in range(K):
            if counts[k] > 0:
                w = counts[k] / total
                prox_term(pd, k, zz, gamma, P)
                for i in range(d):
                    acc[i] += w * (zz[i] - P[i])
        for i in range(d):
            P[i] = zz[i] - acc[i]
        mapping(x, gD, zz, P, gamma, G)  # G = (x_t - P)/gamma
        if due(rec.ev_t, rec.pos, t) and not observe(pd, rec, t, x, G, True, calls):
            return t, calls
        if not sign_step(x, G, eta, zero_rule, u[j, nprox:]):  # x_{t+1} = x_t - eta sign(G)
            return t, calls
    return t1, calls


def reference(problem, hp, draws0, draws, T):
    """Plain NumPy signProx on the same draws; returns (iterates x_1..x_{T+1}, calls)."""
    eta, gamma, B, source = hp["eta"], hp["gamma"], hp["B"], hp["stoch_source"]
    K = problem.prox_terms
    nprox = prox_draws(hp)
    x = problem.x0.copy()
    xs = [x.copy()]
    calls = 0
    for j in range(T):
        if source == "prox":
            gD = problem.full_grad(x)
            calls += problem.full_grad_cost
        else:
            gD = problem.batch_grad(x, draws.idx[j], draws.z[j])
            calls += B
        zz = x - gamma * gD
        if source == "grad":
            counts, total = np.ones(K, dtype=np.int64), K
        else:
            k_b = np.minimum((draws.u[j, :nprox] * K).astype(np.int64), K - 1)
            counts, total = np.bincount(k_b, minlength=K), nprox
        acc = np.zeros(problem.d)
        for k in range(K):
            if counts[k] > 0:
                acc = acc + (counts[k] / total) * (zz - problem.prox_term(k, zz, gamma))
        G = mapping_np(x, gD, zz, zz - acc, gamma)
        x = x - eta * sign(G, hp["zero_rule"], draws.u[j, nprox:])
        xs.append(x)
    return np.array(xs), calls


def prox_draws(hp) -> int:
    """Prox terms sampled per step (the first uniforms of each step's draws)."""
    return hp["B"] if hp["stoch_source"] in ("prox", "both") else 0


def prox_calls_per_step(hp, problem) -> int:
    return problem.prox_terms if hp["stoch_source"] == "grad" else hp["B"]


class SignProxState(NamedTuple):
    """signProx's state: the iterate, grad D, the prox workspace, the sampled prox terms' counts and the
    calls of one exact grad D."""

    x: np.ndarray
    gD: np.ndarray
    zz: np.ndarray
    P: np.ndarray
    acc: np.ndarray
    G: np.ndarray
    counts: np.ndarray
    cost: np.ndarray


class SignProx(Method):
    spec = SPEC

    def schedule(self, problem, T, hp):
        L = problem.constants()["L"]
        eta = hp["c_eta"] * ratio(1.0, math.sqrt(problem.d * L * T))
        return {"eta": eta, "gamma": eta, "B": math.ceil(hp["c_B"] * T)}

    def resolve(self, problem, T, overrides=None):
        overrides = dict(overrides or {})
        if "eta" in overrides and "gamma" not in overrides:
            overrides["gamma"] = overrides["eta"]  # gamma = eta unless set on its own
        return super().resolve(problem, T, overrides)

    def plan(self, hp, problem):
        grads = hp["B"] if hp["stoch_source"] in ("grad", "both") else 0
        return DrawPlan(0, grads, prox_draws(hp) + uniforms_for(hp, problem.d))

    def init_state(self, problem, hp):
        return named_state(SignProxState, problem, counts=np.zeros(problem.prox_terms, dtype=np.int64),
                           cost=np.array([problem.full_grad_cost], dtype=np.int64))  # calls of one exact grad D

    def steps(self, pd, state, hp, draws, t0, t1, T, rec, calls):
        x, gD, zz, P, acc, G, counts, cost = state
        return loop(pd, x, gD, zz, P, acc, G, counts, draws.idx, draws.z, draws.u, hp["eta"], hp["gamma"],
                    STOCH_SOURCES.index(hp["stoch_source"]), prox_draws(hp), rule(hp),
                    int(cost[0]), t0, t1, rec, calls)

    def reference(self, problem, hp, draws0, draws, T):
        return reference(problem, hp, draws0, draws, T)

    def counters(self, hp, problem, T):
        return {"prox_calls": T * prox_calls_per_step(hp, problem)}
