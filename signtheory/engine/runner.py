"""The single-node runner: a method on a problem for horizon T, R replicates in parallel.

Each replicate owns its random streams (spawned from one seed) and runs its
compiled loop in its own thread with the GIL released, so replicates use every
core and the numbers do not depend on the number of threads. :func:`signtheory.run`
(:mod:`signtheory.api`) checks the arguments and calls :func:`run_single` for a
single-node method, or the majority-vote runner for a voting one.
"""

from __future__ import annotations

from dataclasses import replace

from .draws import DrawSource
from .plan import measure_mode
from .recorder import make_recorder, observe
from .replicates import (
    ReplicateJob,
    assemble_trace,
    chunk_steps,
    drive_chunks,
    locked,
    run_replicates,
    warn_divergence,
)
from .trace import Trace


def run_single(method, problem, T: int, *, seeds: int, seed: int, measure, checkpoints: int,
               keep_iterates: bool, threads: int, progress, **hyper) -> Trace:
    """Run the single-node ``method`` (a :class:`~signtheory.methods.base.Method`) on the
    built ``problem``; the arguments are checked by :func:`signtheory.run`, which calls this."""
    hp = method.resolve(problem, T, hyper)
    mode, K = measure_mode(problem, T, measure)

    job = ReplicateJob(method, problem, hp, T, seed, 0, mode, K, checkpoints, keep_iterates, locked(progress))
    results, elapsed = run_replicates(lambda r: _run_replicate(replace(job, r=r)), seeds, threads)

    trace = assemble_trace(method, problem, hp, T, seeds, seed, mode, K, results, elapsed, keep_iterates)
    trace.counters = dict(method.counters(hp, problem, T))
    warn_divergence(trace, "iteration")
    return trace


def _run_replicate(job: ReplicateJob):
    method, problem, hp, T = job.method, job.problem, job.hp, job.T
    source = DrawSource(problem, method.plan(hp, problem), job.seed, job.r)
    ev = job.plan()
    rec = make_recorder(ev.ev_t, problem.d, job.keep_iterates)
    pd = problem.data
    state = method.init_state(problem, hp)
    calls = method.start(pd, state, hp, source.initial(), rec)

    def run_chunk(t, t1):
        nonlocal calls
        t_stop, calls = method.steps(pd, state, hp, source.steps(t1 - t), t, t1, T, rec, calls)
        return t_stop

    stopped = drive_chunks(T, chunk_steps(source.floats_per_step()), run_chunk, job.report)
    x = state.x
    if not stopped and not observe(pd, rec, T + 1, x, x, False, calls):
        stopped = T + 1
    return ev, rec, int(calls), stopped


