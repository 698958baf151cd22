"""Plain NumPy majority-vote methods, written from their pseudocode.

Every method of :mod:`signtheory.voting` is a round::

    worker j:  v^j_t = its estimator at x_t (and x_{t-1}) on its own samples
               q^j_t = its message (a sign, a stochastic sign or v itself)
    server:    V_t   = a rule over q^1_t .. q^n_t
    all:       x_{t+1} = x_t - eta V_t

This module restates each method's round in NumPy, one worker after the other,
from the methods' pseudocode rather than from the compiled rounds of
:mod:`signtheory.voting.rounds`. It reads the same draws as the compiled path
(``VotingDrawSource(...).initial()`` and ``.steps(T)``), so on the same draws
both give the same iterates; they can differ only where a decision sits on its
boundary (a worker estimate within rounding of 0 under the deterministic sign,
or a uniform within rounding of a stochastic sign's probability), which
:func:`simulate` reports as the round's ``margin``.

>>> import numpy as np
>>> from signtheory.distributed import split
>>> from signtheory.voting import VOTING_METHODS, resolve
>>> from signtheory.voting.draws import VotingDrawSource
>>> from signtheory.voting.runner import draw_plan
>>> wp = split("nonconvex-logistic", 3, mode="shift", zeta=0.5)
>>> method = VOTING_METHODS["mv-signsgd"]
>>> hp = resolve(method, wp, 20, {"B": 2})
>>> source = VotingDrawSource(wp, *draw_plan(method, hp, wp.d), 0, 0)
>>> xs, calls, counts = trajectory(method, wp, hp, source.initial(), source.steps(20), 20)
>>> xs.shape, calls
((21, 50), 120)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["Simulation", "structure", "simulate", "trajectory"]


class Simulation(NamedTuple):
    """What :func:`simulate` returns.

    ``iterates``: x_1 .. x_{T+1} (fewer rows if an estimator stopped being finite);
    ``calls``: oracle calls of all workers together; ``counts``: [clipped coordinates,
    zero messages, vote ties], summed over workers and rounds; ``margins``: for each
    round t = 1..T, the smallest distance of a decision of that round to its boundary
    (|v_k| for a deterministic worker sign, |u - p| for a stochastic sign, inf when the
    round takes no decision); ``stopped``: 0, or the round whose estimator was not finite.
    """

    iterates: np.ndarray
    calls: int
    counts: list
    margins: np.ndarray
    stopped: int


def structure(name: str, hp: dict) -> tuple[str, str, str]:
    """(estimator, message, server rule) of a voting method, read from its pseudocode.

    estimator: ``grad`` (batch gradient), ``momentum`` (v = (1 - beta) v + beta g),
    ``sim`` (momentum at the extrapolated point), ``storm`` (the SSVR recursion);
    message: ``sign``, ``stochastic`` (S_R, clipped at R), ``norm_scaled`` (S_{||v||_2}),
    ``projected`` (S_R of v projected on the l2 ball of radius R), ``full`` (v);
    server: ``majority`` (sign of the sum), ``stochastic`` (S_1 of the mean), ``mean``.
    """
    if name == "mv-signsgd":
        return "grad", "sign", "majority"
    if name == "signum-mv":
        return "momentum", "sign", "majority"
    if name == "ssdm":
        return "momentum", "norm_scaled", "mean" if hp["server_rule"] == "mean" else "majority"
    if name == "sto-signsgd":
        return "grad", "stochastic", "majority"
    if name == "mv-signsgd-sim":
        return (hp["variant"], "stochastic" if hp["worker_sign"] == "stochastic" else "sign", "majority")
    if name == "ssvr-mv":
        if hp["option"] == 1:
            return "storm", "stochastic", "majority"
        message = "projected" if hp["projection"] == "l2_ball" else "stochastic"
        return "storm", message, hp["server_rule"]
    if name == "dist-sgd":
        return "grad", "full", "mean"
    raise ValueError(f"no NumPy reference for the voting method {name!r}")


def _sign(value: float, rule: str, u: float) -> float:
    """sign with the explicit rule for 0: 'zero' -> 0, 'plus' -> +1, 'random' -> +1 iff u < 1/2."""
    if value > 0.0:
        return 1.0
    if value < 0.0:
        return -1.0
    if rule == "zero":
        return 0.0
    if rule == "plus":
        return 1.0
    return 1.0 if u < 0.5 else -1.0


def _bit(u: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, float]:
    """+1 where u < p, else -1; and the smallest |u - p| (the decision's margin)."""
    return np.where(u < p, 1.0, -1.0), float(np.min(np.abs(u - p))) if p.size else np.inf


def simulate(method, workers, hp: dict, draws0, draws, T: int) -> Simulation:
    """Run a voting method in plain NumPy on the given draws (see :class:`Simulation`).

    ``method``: a voting method or its name; ``workers``: the
    :class:`~signtheory.distributed.split.WorkerProblems`; ``hp``: the resolved
    hyperparameters; ``draws0``: ``(idx0, z0)`` of ``VotingDrawSource.initial()``
    (each worker's initial batch); ``draws``: ``VotingDrawSource.steps(T)``.
    """
    name = method if isinstance(method, str) else method.name
    est, msg, server = structure(name, hp)
    n, d = workers.n, workers.d
    eta = hp["eta"]
    beta = hp.get("beta", 1.0)
    R = hp.get("R", np.inf)
    zero_rule = hp.get("zero_rule", "zero")
    tie_rule = hp.get("tie_rule", "zero")
    byzantine = hp.get("n_byzantine", 0)
    clips = zeros = ties = 0
    calls = 0

    x = workers.problem.x0.astype(float).copy()
    x_prev = x.copy()  # x_0 := x_1
    # worker estimators: STORM starts from a batch of B0 samples at x_1, the others from 0
    idx0, z0 = draws0
    v = np.zeros((n, d))
    if est == "storm":
        for j in range(n):
            v[j] = workers.worker_batch_grad(j, x, idx0[j], z0[j])
            calls += idx0.shape[1]

    xs = [x.copy()]
    margins = np.full(T, np.inf)
    for t in range(1, T + 1):
        s = t - 1
        margin = np.inf
        q = np.zeros((n, d))
        for j in range(n):
            idx, z, u = draws.idx[s, j], draws.z[s, j], draws.u[s, j]
            # -- estimator v^j_t
            if est == "grad":
                v[j] = workers.worker_batch_grad(j, x, idx, z)
                calls += idx.size
            elif est == "momentum":
                v[j] = (1 - beta) * v[j] + beta * workers.worker_batch_grad(j, x, idx, z)
                calls += idx.size
            elif est == "sim":
                y = x + ((1 - beta) / beta) * (x - x_prev)
                v[j] = (1 - beta) * v[j] + beta * workers.worker_batch_grad(j, y, idx, z)
                calls += idx.size
            elif t >= 2:  # storm: the same samples at x_t and x_{t-1}
                g_new, g_old = workers.worker_batch_grad_pair(j, x, x_prev, idx, z)
                v[j] = g_new + (1 - beta) * (v[j] - g_old)
                calls += 2 * idx.size
            if not np.all(np.isfinite(v[j])):  # the run stops before x_t is recorded
                return Simulation(np.array(xs[:-1]), calls, [clips, zeros, ties], margins, t)
            # -- message q^j_t
            vj = v[j]
            if msg == "sign":
                q[j] = [_sign(vj[k], zero_rule, u[k] if zero_rule == "random" else 0.5) for k in range(d)]
                zeros += int(np.count_nonzero(vj == 0.0))
                margin = min(margin, float(np.min(np.abs(vj))))
            elif msg == "stochastic":  # S_R, coordinates beyond R clipped to +-R
                clips += int(np.count_nonzero(np.abs(vj) > R))
                w = np.clip(vj, -R, R)
                q[j], m = _bit(u, (1 + w / R) / 2)
                margin = min(margin, m)
            elif msg == "norm_scaled":  # S_{||v||_2}; the zero vector for v = 0
                norm = np.linalg.norm(vj)
                if norm == 0.0:
                    zeros += d
                else:
                    q[j], m = _bit(u, (1 + vj / norm) / 2)
                    margin = min(margin, m)
            elif msg == "projected":  # S_R of the projection onto the l2 ball of radius R
                norm = np.linalg.norm(vj)
                w = vj * min(1.0, R / norm) if norm > 0 else vj
                q[j], m = _bit(u, (1 + w / R) / 2)
                margin = min(margin, m)
            else:
                q[j] = vj
            if j < byzantine:  # a blind adversary negates its message
                q[j] = -q[j]
        # -- server rule
        total = np.zeros(d)
        for j in range(n):  # rows added in worker order
            total = total + q[j]
        us = draws.us[s]
        if server == "majority":
            ties += int(np.count_nonzero(total == 0.0))
            V = np.array([_sign(total[k], tie_rule, us[k] if tie_rule == "random" else 0.5) for k in range(d)])
        elif server == "stochastic":
            V, m = _bit(us, (1 + total / n) / 2)
            margin = min(margin, m)
        else:
            V = total / n
        margins[s] = margin
        # -- step
        x_prev = x
        x = x - eta * V
        xs.append(x.copy())
        if not np.all(np.isfinite(x)):
            return Simulation(np.array(xs[:-1]), calls, [clips, zeros, ties], margins, t)
    return Simulation(np.array(xs), calls, [clips, zeros, ties], margins, 0)


def trajectory(method, workers, hp: dict, draws0, draws, T: int):
    """``(iterates x_1..x_{T+1}, oracle calls, [clips, zero messages, ties])`` of a voting
    method in plain NumPy on the given draws (see :func:`simulate`)."""
    sim = simulate(method, workers, hp, draws0, draws, T)
    return sim.iterates, sim.calls, sim.counts
