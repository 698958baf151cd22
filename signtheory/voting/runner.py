"""``run`` for the majority-vote methods: n workers, a server, three backends.

The trace is the engine's (:class:`~signtheory.engine.trace.Trace`): the measures
are computed on the global f = (1/n) sum_j f_j, ``oracle_calls`` counts every
worker's calls (the per-worker count N_w is in the counters), and the counters
add the bits sent per round and how often clipping, zero messages and vote
ties happened.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..distributed import split as make_split
from ..engine.plan import measure_mode
from ..engine.recorder import make_recorder, observe
from ..engine.replicates import (
    ReplicateJob,
    assemble_trace,
    chunk_steps,
    drive_chunks,
    locked,
    run_replicates,
    warn_divergence,
)
from ..problems import make_problem
from ..validation import check_choice, check_positive_int
from . import inline
from .draws import VotingDrawSource, draw_plan
from .methods import resolve, zero_rules

BACKENDS = ("inline", "processes", "mpi")


def run_voting(method, problem, T, *, n, split=None, backend="inline", seeds=1, seed=0, problem_params=None,
               measure="auto", checkpoints=64, keep_iterates=False, threads=1, progress=None,
               timeout=None, **hyper):
    """Run the voting ``method`` with ``n`` workers; see :func:`signtheory.run`, which checks
    the arguments every run shares and calls this.

    ``split`` holds the keyword arguments of :func:`signtheory.distributed.split`
    (``mode``, ``zeta``, ``alpha``, ``seed``); the default is homogeneous workers.
    ``backend`` is ``'inline'``, ``'processes'`` or ``'mpi'``; all three give the same
    trajectory for the same seed.
    """
    n = check_positive_int("n", n)
    backend = check_choice("backend", backend, BACKENDS)
    problem = make_problem(problem, **(problem_params or {}))
    wp = make_split(problem, n, **(split or {}))
    hp = resolve(method, wp, T, hyper)
    mode, K = measure_mode(problem, T, measure)

    job = ReplicateJob(method, wp, hp, T, seed, 0, mode, K, checkpoints, keep_iterates, locked(progress),
                       timeout)
    if backend == "inline":
        results, elapsed = run_replicates(lambda r: _inline_replicate(replace(job, r=r)), seeds, threads)
    else:  # the processes and mpi backends run one replicate at a time (their workers use the cores)
        from .backends import replicate_with_backend

        results, elapsed = run_replicates(lambda r: replicate_with_backend(backend, replace(job, r=r)),
                                          seeds, 1)

    trace = assemble_trace(method, problem, hp, T, seeds, seed, mode, K, [res[:4] for res in results], elapsed,
                           keep_iterates, workers=wp.config, backend=backend)
    bits = method.bits_per_round(hp, n, problem.d)
    counts = np.array([res[4] for res in results])  # (R, 3): clips, zero messages, ties
    trace.counters = {
        "n_workers": n,
        "oracle_calls_per_worker": int(round(float(np.mean(trace.oracle_calls)) / n)),
        **bits,
        "rounds": T,
        "uplink_bits": bits["uplink_bits_per_round"] * T,
        "downlink_bits": bits["downlink_bits_per_round"] * T,
        "clips_per_seed": counts[:, 0].tolist(),
        "zero_messages_per_seed": counts[:, 1].tolist(),
        "vote_ties_per_seed": counts[:, 2].tolist(),
    }
    warn_divergence(trace, "round")
    return trace


class RoundBuffers:
    """The arrays of one replicate: the iterate, each worker's estimator and message."""

    def __init__(self, problem, n):
        d = problem.d
        self.x = problem.x0.copy()
        self.x_prev = self.x.copy()  # x_0 := x_1
        self.V = np.zeros((n, d))
        self.G1 = np.zeros((n, d))
        self.G2 = np.zeros((n, d))
        self.Q = np.zeros((n, d))
        self.vote = np.zeros(d)
        self.vbar = np.zeros(d)
        self.wcounts = np.zeros((n, 2), dtype=np.int64)
        self.scounts = np.zeros(1, dtype=np.int64)

    def counts(self):
        return [int(self.wcounts[:, 0].sum()), int(self.wcounts[:, 1].sum()), int(self.scounts[0])]


def _inline_replicate(job: ReplicateJob):
    method, wp, hp, T = job.method, job.problem, job.hp, job.T
    problem = wp.problem
    est, msg, server = method.codes(hp)
    zero_rule, tie_rule = zero_rules(hp)
    source = VotingDrawSource(wp, *draw_plan(method, hp, problem.d), job.seed, job.r)
    ev = job.plan()
    rec = make_recorder(ev.ev_t, problem.d, job.keep_iterates)
    b = RoundBuffers(problem, wp.n)
    idx0, z0 = source.initial()
    calls = inline.start_workers(wp.data, est, b.x, b.V, idx0, z0)
    R = hp.get("R", np.inf)

    def run_chunk(t, t1):
        nonlocal calls
        dr = source.steps(t1 - t)
        t_stop, calls = inline.loop(wp.data, est, msg, server, b.x, b.x_prev, b.V, b.G1, b.G2, b.Q, b.vote,
                                    b.vbar, dr.idx, dr.z, dr.u, dr.us, hp["eta"], hp.get("beta", 1.0), R,
                                    zero_rule, tie_rule, hp["n_byzantine"], t, t1, rec, calls, b.wcounts,
                                    b.scounts)
        return t_stop

    stopped = drive_chunks(T, chunk_steps(source.floats_per_step()), run_chunk, job.report)
    if not stopped and not observe(problem.data, rec, T + 1, b.x, b.x, False, calls):
        stopped = T + 1
    return ev, rec, int(calls), stopped, b.counts()
