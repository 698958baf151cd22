"""The three-worker counterexample on which the deterministic majority vote of
stochastic worker signs (SSVR-MV option 1) stalls away from a stationary point.

Workers (y = sqrt(d) x, every coordinate an independent copy of the 1-D instance)::

    f_j(x) = f(x) + (kappa_j / sqrt(d)) sum_k x_k,   kappa = (kappa, kappa, -2 kappa),
    f(x) = (1/d) sum_k 1/2 log cosh(sqrt(d) x_k),    (1/3) sum_j f_j = f,  argmin f = 0.

With exact gradients, worker j sends S_R(g_j) on each coordinate (g_j = t + kappa_j in
y units, t = h'(y) = tanh(y)/2, +1 with probability (1 + g_j/R)/2), and the server
takes the majority. The expected vote

    E V(t) = 3 t / (2 R) - (t + kappa)^2 (t - 2 kappa) / (2 R^3)

vanishes at t* = 2 s cos(arccos(kappa^3/s^3)/3 - 2 pi/3), s = (kappa^2 + R^2)^(1/2), not
at t = 0: the iterates drift to x* = artanh(2 t*)/sqrt(d) and stay there in mean, so
||grad f|| does not go to 0 however small the step.

Named instances (:data:`~signtheory.problems.mv_counterexample.INSTANCES`):

* ``canonical``: kappa = 1/4, G_inf = 1/2 + 2 kappa = 1, R = 4 G_inf = 4 (the theorem's
  radius): t* = -1/1542 to five digits. This is the lower bound
  liminf E|f'(x_tau)| >= 1/1542 stated for the counterexample; it is far below the
  O(eta^(1/2)) fluctuations of the iterates at any feasible T, so it cannot be seen in
  E|f'|.
* ``amplified``: kappa = 1, R = G_inf = 2.5 (admissible because exact gradients never
  exceed G_inf): t* = -0.0920, visible in the signed average (1/T) sum_t f'(x_t),
  which tends to t* for option 1 and to 0 for an unbiased server rule (option 2).

The construction and the 1/1542 bound are stated in the follow-up paper (W. Jiang,
Z. Li, L. Zhang, Revisiting Distributed Sign-Based Variance Reduction); the closed form
of t* is derived.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from ..errors import InvalidParameterError
from ..problems import make_problem
from ..problems.mv_counterexample import (
    INSTANCES,
    MVCounterexample,
    counterexample_shift,
    expected_vote,
    fixed_point,
    worker_tilts,
)
from ..validation import check_choice, check_positive
from .split import split

__all__ = [
    "INSTANCES",
    "MVCounterexample",
    "counterexample_shift",
    "expected_vote",
    "exact_vote_expectation",
    "fixed_point",
    "floor",
    "mv_counterexample",
    "worker_tilts",
]


def mv_counterexample(instance="canonical", d=1, kappa=None, vote_radius=None, y0=0.0):
    """The counterexample as a :class:`~signtheory.distributed.split.WorkerProblems`
    (n = 3, exact gradients, f and each f_j in closed form).

    ``kappa`` and ``vote_radius`` (R in y units; the methods' radius in x units is
    R / sqrt(d)) default to the named ``instance``; ``constants()['global']`` holds the
    fixed point ``t_star`` and the floors it implies.
    """
    problem = make_problem("mv-counterexample", d=d, instance=instance, kappa=kappa,
                           vote_radius=vote_radius, y0=y0)
    return split(problem, 3, mode="counterexample")


def floor(kappa: float, R: float, d: int = 1) -> dict:
    """What option 1 converges to on the counterexample: t* (per coordinate, y units),
    the fixed point x* (per coordinate, x units) and ||grad f(x*)||_1, ||grad f(x*)||_2."""
    t = fixed_point(kappa, R)
    return {"t_star": t, "x_star": math.atanh(2.0 * t) / math.sqrt(d),
            "floor_l1": math.sqrt(d) * abs(t), "floor_l2": abs(t)}


def exact_vote_expectation(grads, R: float, zero_rule: str = "zero") -> np.ndarray:
    """E[sign(sum_j S_R(g_j))] per coordinate, by summing over all 2^n sign patterns.

    ``grads``: (n,) or (n, d) worker gradients with |g| <= R; the workers' signs are
    independent, +1 with probability (1 + g/R)/2. A tie (even n) votes 0 under
    ``zero_rule='zero'`` or ``'random'`` (in expectation) and +1 under ``'plus'``.
    """
    R = check_positive("R", R)
    zero_rule = check_choice("zero_rule", zero_rule, ("zero", "plus", "random"))
    G = np.asarray(grads, dtype=float)
    if G.ndim == 1:
        G = G[:, None]
    if G.ndim != 2 or G.shape[0] > 20:
        raise InvalidParameterError("grads", G.shape, "must have shape (n,) or (n, d) with n <= 20")
    if np.any(np.abs(G) > R):
        raise InvalidParameterError("R", R, f"must be >= max |g| = {np.abs(G).max():g}")
    p_plus = 0.5 * (1.0 + G / R)
    total = np.zeros(G.shape[1])
    for pattern in itertools.product((-1.0, 1.0), repeat=G.shape[0]):
        q = np.array(pattern)[:, None]
        prob = np.prod(np.where(q > 0, p_plus, 1.0 - p_plus), axis=0)
        s = q.sum()
        vote = 1.0 if s > 0 or (s == 0 and zero_rule == "plus") else (-1.0 if s < 0 else 0.0)
        total += prob * vote
    return total if np.ndim(grads) == 2 else total[0]

