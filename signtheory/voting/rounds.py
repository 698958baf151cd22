"""One round of a majority-vote method, written once for every backend.

A round t of every method in :mod:`signtheory.voting` is::

    worker j:  v^j_t = estimator update at x_t (and x_{t-1}) on its own samples
               q^j_t = message(v^j_t)                  # 1 bit per coordinate, or a float
    server:    V_t   = server rule over q^1_t .. q^n_t
    all:       x_{t+1} = x_t - eta V_t

The backends call these compiled functions and only move the messages: the
inline backend calls them for all workers in one loop, the process and MPI
backends call :func:`worker_round` in each worker and :func:`server_round` in
the server. Given the same draws, every backend therefore computes the same
numbers.

Worker estimators (``est``):

``GRAD``      v = g(x_t; xi_t)
``MOMENTUM``  v = (1 - beta) v + beta g(x_t; xi_t), v_0 = 0
``SIM``       y_t = x_t + ((1 - beta)/beta)(x_t - x_{t-1}) (x_0 = x_1);
              v = (1 - beta) v + beta g(y_t; xi_t)
``STORM``     v_1 = mean of B0 samples at x_1 (set by :func:`worker_start`);
              v = g(x_t; xi_t) + (1 - beta)(v - g(x_{t-1}; xi_t)) for t >= 2

Worker messages (``msg``):

``SIGN``         sign(v) with the zero rule (values in {-1, 0, +1})
``STOCHASTIC``   S_R(v), |v_k| > R clipped to R (counted)
``NORM_SCALED``  S_{||v||_2}(v) (the zero vector for v = 0)
``PROJECTED``    S_R(w) with w = v min(1, R/||v||_2) (never clips)
``FULL``         v itself (full precision, 64 bits per coordinate)

A Byzantine worker sends the negation of its message.

Server rules (``server``):

``MAJORITY``    V = sign(sum_j q^j), ties by the tie rule (counted)
``STOCHASTIC``  V = S_1((1/n) sum_j q^j)
``MEAN``        V = (1/n) sum_j q^j (full precision downlink)
"""

from __future__ import annotations

import math

from .._jit import kernel
from ..distributed.oracles import worker_batch_grad, worker_batch_grad_pair
from ..ops import ema_update, mean_rows, sign_of, storm_update
from ..ops.compressors import (
    majority_vote,
    norm_scaled_stochastic_sign,
    projected_stochastic_sign,
    stochastic_sign,
    unit_stochastic_sign,
)

GRAD, MOMENTUM, SIM, STORM = 0, 1, 2, 3
SIGN, STOCHASTIC, NORM_SCALED, PROJECTED, FULL = 0, 1, 2, 3, 4
MAJORITY, SERVER_STOCHASTIC, MEAN = 0, 1, 2

# counters kept per worker (row j of a (n, 2) int64 array) and for the server
CLIPS, ZEROS = 0, 1
TIES = 0


@kernel
def worker_start(wd, j, est, x, v, idx0, z0):
    """v^j_1 for STORM workers (the initial batch); the other estimators start at 0."""
    if est == STORM:
        worker_batch_grad(wd, j, x, idx0, z0, v)
        return idx0.shape[0]
    v[:] = 0.0
    return 0


@kernel
def worker_estimate(wd, j, est, t, x, x_prev, v, g1, g2, idx, z, beta):
    """Update worker j's estimator to v^j_t; returns the oracle calls spent."""
    if est == GRAD:
        worker_batch_grad(wd, j, x, idx, z, v)
        return idx.shape[0]
    if est == MOMENTUM:
        worker_batch_grad(wd, j, x, idx, z, g1)
        ema_update(v, g1, beta)
        return idx.shape[0]
    if est == SIM:
        c = (1.0 - beta) / beta
        for k in range(x.shape[0]):
            g2[k] = x[k] + c * (x[k] - x_prev[k])  # y_t, the extrapolated point
        worker_batch_grad(wd, j, g2, idx, z, g1)
        ema_update(v, g1, beta)
        return idx.shape[0]
    # STORM: v_1 comes from worker_start
    if t == 1:
        return 0
    worker_batch_grad_pair(wd, j, x, x_prev, idx, z, g1, g2)  # same samples, two points
    storm_update(v, g1, g2, beta)
    return 2 * idx.shape[0]


@kernel
def worker_message(msg, v, q, u, R, zero_rule, byzantine, counts):
    """q <- the message of an estimator v; counts[CLIPS] and counts[ZEROS] grow.
    Returns False if v is not finite."""
    d = v.shape[0]
    for k in range(d):
        if not math.isfinite(v[k]):
            return False
    if msg == SIGN:
        for k in range(d):
            q[k] = sign_of(v[k], zero_rule, u[k] if zero_rule == 2 else 0.5)
            if v[k] == 0.0:
                counts[ZEROS] += 1
    elif msg == STOCHASTIC:
        counts[CLIPS] += stochastic_sign(v, R, u, q, 0)
    elif msg == NORM_SCALED:
        if norm_scaled_stochastic_sign(v, u, q) == 0.0:
            counts[ZEROS] += d
    elif msg == PROJECTED:
        projected_stochastic_sign(v, R, u, q)
    else:
        q[:] = v
    if byzantine:
        for k in range(d):
            q[k] = -q[k]
    return True


@kernel
def worker_round(wd, j, est, msg, t, x, x_prev, v, g1, g2, q, idx, z, u, beta, R, zero_rule,
                 byzantine, counts):
    """Worker j's part of round t: its estimator, then its message q.
    Returns the oracle calls spent, or -1 if the estimator is not finite."""
    calls = worker_estimate(wd, j, est, t, x, x_prev, v, g1, g2, idx, z, beta)
    if not worker_message(msg, v, q, u, R, zero_rule, byzantine, counts):
        return -1
    return calls


@kernel
def server_round(server, Q, V, u, tie_rule, counts):
    """V <- the server's rule over the messages Q (n, d)."""
    if server == MAJORITY:
        counts[TIES] += majority_vote(Q, tie_rule, u, V)
        return
    mean_rows(Q, V)
    if server == SERVER_STOCHASTIC:
        unit_stochastic_sign(V, u, V)


@kernel
def apply_vote(x, x_prev, V, eta):
    """x_{t+1} = x_t - eta V_t, keeping x_t in ``x_prev``; False if x is not finite."""
    ok = True
    for k in range(x.shape[0]):
        x_prev[k] = x[k]
        x[k] -= eta * V[k]
        if not math.isfinite(x[k]):
            ok = False
    return ok
