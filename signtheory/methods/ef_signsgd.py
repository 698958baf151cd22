"""EF-signSGD: signSGD with error feedback and a scaled-sign compressor.

S. P. Karimireddy, Q. Rebjock, S. U. Stich, M. Jaggi, "Error Feedback Fixes SignSGD
and other Gradient Compression Schemes", ICML 2019, arXiv 1901.09847 (Algorithm 1).

Pseudocode::

    e_1 = 0
    for t = 1..T:
        g_t = (1/B) sum_b grad f(x_t; xi_{t,b})
        p_t = eta g_t + e_t                        # step applied before compression
        Delta_t = C(p_t) = (||p_t||_1 / d) sign(p_t)   # scaled sign
        x_{t+1} = x_t - Delta_t
        e_{t+1} = p_t - Delta_t                    # what the compression left out

The scaled sign is a delta-approximate compressor:
||C(u) - u||_2^2 = (1 - phi(u)) ||u||_2^2 with the density
phi(u) = ||u||_1^2 / (d ||u||_2^2) in [1/d, 1], an identity when no coordinate of u is 0
(under the default zero rule a zero coordinate is sent exactly, which only lowers the
error; tested). The iterate shifted by the memory, x_t - e_t, follows plain SGD:
x_{t+1} - e_{t+1} = x_t - e_t - eta g_t (tested).

Theoretical guarantee (Theorem II of the paper, form reconstructed): under
L-smoothness and a bounded second moment E||g||^2 <= sigma_2^2, with step
1/sqrt(T + 1),

    min_t E ||grad f(x_t)||_2^2 <= [2 Delta + L sigma_2^2] / sqrt(T + 1)
                                   + 4 L^2 sigma_2^2 (1 - delta) / (delta^2 (T + 1)),

delta = min_t phi(p_t) >= 1/d; so E ||grad f(x_tau)||_2 = O(N^{-1/4}) after a
transient of about delta^{-4} steps.
"""

import math
from typing import NamedTuple

import numpy as np

from .._jit import kernel
from ..engine.draws import DrawPlan
from ..engine.recorder import due, observe
from ..ops import norm1, norm2sq, sign_of
from ..ops.reference import sign
from ..problems.oracles import batch_grad
from ..validation import check_positive, check_positive_int
from .base import ZERO_RULE, Method, named_state, ratio, rule, uniforms_for
from .spec import ANY_PROBLEM, Hyper, MethodSpec, Rate

SPEC = MethodSpec(
    name="ef-signsgd",
    title="EF-signSGD (signSGD with error feedback, scaled sign)",
    citation="S. P. Karimireddy, Q. Rebjock, S. U. Stich, M. Jaggi, Error Feedback Fixes SignSGD and "
    "other Gradient Compression Schemes, ICML 2019, arXiv 1901.09847 (Algorithm 1, Theorem II)",
    setting="stochastic, single node; L-smooth, bounded second moment of the stochastic gradient",
    accepts=ANY_PROBLEM,
    hyper=(
        Hyper("eta", check_positive, "step applied to the gradient before compression"),
        Hyper("B", check_positive_int, "batch size"),
        Hyper("c_eta", check_positive, "constant of the step schedule", 1.0),
        ZERO_RULE,
    ),
    schedule="B = 1, eta = c_eta / (L sqrt(T + 1))",
    rate=Rate("l2", "O(T^{-1/4}) = O(N^{-1/4}) after a transient of about delta^-4 steps",
              {"T": -0.25, "N": -0.25}),
    oracle_calls="N = B T",
    provenance="error feedback and its repair of signSGD stated in the abstract; the algorithm box "
    "stated in the authors' released code; the theorem's form reconstructed; the step 1/sqrt(T+1) "
    "stated, its 1/L scaling and the constants derived",
)


@kernel
def scaled_sign(p, zero_rule, u, out):
    """out <- C(p) = (||p||_1 / d) sign(p); returns the scale ||p||_1 / d."""
    d = p.shape[0]
    scale = norm1(p) / d
    for k in range(d):
        r = u[k] if zero_rule == 2 else 0.5
        out[k] = scale * sign_of(p[k], zero_rule, r)
    return scale


@kernel
def loop(pd, x, g, e, p, delta, v, idx, z, u, eta, zero_rule, t0, t1, rec, calls):
    d = x.shape[0]
    for t in range(t0, t1):
        j = t - t0
        batch_grad(pd, x, idx[j], z[j], g)  # g_t
        calls += idx.shape[1]
        for k in range(d):
            p[k] = eta * g[k] + e[k]  # p_t = eta g_t + e_t
            v[k] = p[k] / eta  # the error-corrected gradient whose sign is taken
        if due(rec.ev_t, rec.pos, t) and not observe(pd, rec, t, x, v, True, calls):
            return t, calls
        scaled_sign(p, zero_rule, u[j], delta)  # Delta_t = (||p_t||_1 / d) sign(p_t)
        ok = True
        for k in range(d):
            x[k] -= delta[k]  # x_{t+1} = x_t - Delta_t
            e[k] = p[k] - delta[k]  # e_{t+1} = p_t - Delta_t
            if not math.isfinite(x[k]):
                ok = False
        if not ok:
            return t, calls
    return t1, calls


def compress(p, zero_rule="zero", u=None):
    """NumPy twin of :func:`scaled_sign`: (||p||_1 / d) sign(p)."""
    return (np.abs(p).sum() / p.shape[0]) * sign(p, zero_rule, u)


def density(u) -> float:
    """phi(u) = ||u||_1^2 / (d ||u||_2^2) in [1/d, 1] (1 for u = 0, where C(u) = u)."""
    sq = float(norm2sq(np.ascontiguousarray(u, dtype=np.float64)))
    if sq == 0.0:
        return 1.0
    return float(norm1(np.ascontiguousarray(u, dtype=np.float64))) ** 2 / (u.shape[0] * sq)


def reference(problem, hp, draws0, draws, T):
    """Plain NumPy EF-signSGD on the same draws; returns (iterates x_1..x_{T+1}, calls)."""
    x = problem.x0.copy()
    e = np.zeros_like(x)
    xs = [x.copy()]
    for j in range(T):
        g = problem.batch_grad(x, draws.idx[j], draws.z[j])
        p = hp["eta"] * g + e
        delta = compress(p, hp["zero_rule"], draws.u[j])
        x = x - delta
        e = p - delta
        xs.append(x)
    return np.array(xs), T * draws.idx.shape[1]


class EFSignSGDState(NamedTuple):
    """EF-signSGD's state: the iterate, the batch gradient g, the error memory e, p = eta g + e,
    the scaled sign step Delta of p and the error-corrected gradient v = p / eta."""

    x: np.ndarray
    g: np.ndarray
    e: np.ndarray
    p: np.ndarray
    delta: np.ndarray
    v: np.ndarray


class EFSignSGD(Method):
    spec = SPEC

    def schedule(self, problem, T, hp):
        L = problem.constants()["L"]
        return {"B": 1, "eta": hp["c_eta"] * ratio(1.0, L * math.sqrt(T + 1))}

    def plan(self, hp, problem):
        return DrawPlan(0, hp["B"], uniforms_for(hp, problem.d))

    def init_state(self, problem, hp):
        return named_state(EFSignSGDState, problem)

    def steps(self, pd, state, hp, draws, t0, t1, T, rec, calls):
        x, g, e, p, delta, v = state
        return loop(pd, x, g, e, p, delta, v, draws.idx, draws.z, draws.u, hp["eta"], rule(hp),
                    t0, t1, rec, calls)

    def reference(self, problem, hp, draws0, draws, T):
        return reference(problem, hp, draws0, draws, T)
