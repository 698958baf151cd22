"""The inline backend: all workers of a round in one compiled loop."""

from __future__ import annotations

from .._jit import kernel
from ..engine.recorder import due, observe
from ..ops import mean_rows
from .rounds import apply_vote, server_round, worker_round, worker_start


@kernel
def start_workers(wd, est, x, V, idx0, z0):
    calls = 0
    for j in range(V.shape[0]):
        calls += worker_start(wd, j, est, x, V[j], idx0[j], z0[j])
    return calls


@kernel
def loop(wd, est, msg, server, x, x_prev, V, G1, G2, Q, vote, vbar, idx, z, u, us, eta, beta, R,
         zero_rule, tie_rule, n_byzantine, t0, t1, rec, calls, wcounts, scounts):
    n = V.shape[0]
    for t in range(t0, t1):
        s = t - t0
        for j in range(n):  # every worker: estimator v^j_t and message q^j_t
            c = worker_round(wd, j, est, msg, t, x, x_prev, V[j], G1[j], G2[j], Q[j], idx[s, j], z[s, j],
                             u[s, j], beta, R, zero_rule, j < n_byzantine, wcounts[j])
            if c < 0:
                return t, calls
            calls += c
        if due(rec.ev_t, rec.pos, t):
            mean_rows(V, vbar)  # the recorder compares the workers' mean estimator with grad f
            if not observe(wd.pd, rec, t, x, vbar, True, calls):
                return t, calls
        server_round(server, Q, vote, us[s], tie_rule, scounts)  # V_t
        if not apply_vote(x, x_prev, vote, eta):  # x_{t+1} = x_t - eta V_t
            return t, calls
    return t1, calls
