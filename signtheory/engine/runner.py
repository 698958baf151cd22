"""``run``: a method on a problem for horizon T, R replicates in parallel.

Each replicate owns its random streams (spawned from one seed) and runs its
compiled loop in its own thread with the GIL released, so replicates use every
core and the numbers do not depend on the number of threads.
"""

from __future__ import annotations

import os
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from threading import Lock

import numpy as np

from ..errors import DivergenceWarning, InvalidParameterError
from ..methods import get_method
from ..problems import make_problem
from ..validation import check_nonnegative_int, check_positive_int
from .draws import DrawSource
from .plan import make_plan, measure_mode
from .recorder import make_recorder, observe
from .trace import Trace

FLOATS_PER_CHUNK = 1 << 20
MAX_CHUNK_STEPS = 8192


def run(
    method,
    problem,
    T,
    *,
    seeds=1,
    seed=0,
    problem_params=None,
    measure="auto",
    checkpoints=64,
    keep_iterates=False,
    workers=None,
    progress=None,
    n=None,
    split=None,
    backend="inline",
    timeout=None,
    **hyper,
) -> Trace:
    """Run ``method`` on ``problem`` for ``T`` iterations and ``seeds`` replicates.

    Parameters
    ----------
    method : str or Method
        A method name (``signtheory methods`` lists them).
    problem : str or Problem
        A problem name, built with ``problem_params``, or a built problem.
    T : int
        Horizon. The theoretical schedule of the method is computed for this T
        (every hyperparameter can be overridden through ``**hyper``).
    seeds : int
        Number of independent replicates R; their streams are spawned from ``seed``.
    measure : 'auto', 'exact' or int
        How the average gradient norm over iterates is computed (see
        :mod:`signtheory.engine.plan`).
    checkpoints : int
        Approximate number of points of the geometric checkpoint grid.
    keep_iterates : bool
        Keep the evaluated iterates (for trajectories and tests).
    workers : int, optional
        Threads running replicates (default: all cores). Never changes the result.
    progress : callable, optional
        Called with the number of iterations completed since the last call.
    n, split, backend, timeout
        Majority-vote methods only (see :func:`signtheory.voting.run_voting`): the
        number of workers, the keyword arguments of :func:`signtheory.distributed.split`,
        ``'inline'``, ``'processes'`` or ``'mpi'``, and the seconds a round may take
        before a silent worker fails the run.

    Returns
    -------
    Trace
        Stopped early for a replicate that produced NaN or Inf, with a
        :class:`~signtheory.errors.DivergenceWarning` naming the iteration.
    """
    T = check_positive_int("T", T)
    seeds = check_positive_int("seeds", seeds)
    seed = check_nonnegative_int("seed", seed)
    checkpoints = check_positive_int("checkpoints", checkpoints)
    method = get_method(method)
    if getattr(method, "distributed", False):
        from ..voting.runner import run_voting

        return run_voting(method, problem, T, n=1 if n is None else n, split=split, backend=backend,
                          seeds=seeds, seed=seed, problem_params=problem_params, measure=measure,
                          checkpoints=checkpoints, keep_iterates=keep_iterates, workers=workers,
                          progress=progress, timeout=timeout, **hyper)
    for name, value in (("n", n), ("split", split), ("timeout", timeout)):
        if value is not None:
            raise InvalidParameterError(name, value, f"only for majority-vote methods; '{method.name}' "
                                        "runs on one node")
    if backend != "inline":
        raise InvalidParameterError("backend", backend, f"only 'inline' for '{method.name}', which runs "
                                    "on one node")
    problem = make_problem(problem, **(problem_params or {}))
    hp = method.resolve(problem, T, hyper)
    mode, K = measure_mode(problem, T, measure)
    workers = check_positive_int("workers", (os.cpu_count() or 1) if workers is None else workers)

    report = locked(progress)

    def replicate(r):
        return _run_replicate(method, problem, hp, T, seed, r, mode, K, checkpoints, keep_iterates, report)

    results, elapsed = run_replicates(replicate, seeds, workers)

    config = {
        "method": method.name,
        "problem": problem.name,
        "problem_params": dict(problem.config),
        "hyperparameters": hp,
        "T": T,
        "seeds": seeds,
        "seed": seed,
        "measure": mode,
        "measure_points": K,
    }
    trace = _assemble(method, problem, T, seed, config, mode, K, results, elapsed, keep_iterates)
    trace.counters = dict(method.counters(hp, problem, T))
    warn_divergence(trace, "iteration")
    return trace


def locked(progress):
    """``progress`` made safe to call from the replicate threads (a no-op when None)."""
    lock = Lock()

    def report(n):
        if progress is not None:
            with lock:
                progress(n)

    return report


def run_replicates(replicate, seeds: int, threads: int):
    """``[replicate(r) for r in range(seeds)]`` on min(threads, seeds) threads; returns the
    results in order and the elapsed seconds."""
    start = time.perf_counter()
    if threads == 1 or seeds == 1:
        results = [replicate(r) for r in range(seeds)]
    else:
        with ThreadPoolExecutor(max_workers=min(threads, seeds)) as pool:
            results = list(pool.map(replicate, range(seeds)))
    return results, time.perf_counter() - start


def warn_divergence(trace, unit: str) -> None:
    """One DivergenceWarning per replicate that stopped on a NaN or an infinity."""
    for r, t in enumerate(trace.diverged_at):
        if t > 0:
            warnings.warn(
                f"{trace.method} on {trace.problem}: replicate {r} produced NaN or Inf at {unit} "
                f"{int(t)}; its trace stops there",
                DivergenceWarning,
                stacklevel=3,
            )


def _run_replicate(method, problem, hp, T, seed, r, mode, K, checkpoints, keep_iterates, report):
    plan = method.plan(hp, problem)
    source = DrawSource(problem, plan, seed, r)
    ev = make_plan(T, mode, K, checkpoints, seed, r)
    rec = make_recorder(ev.ev_t, problem.d, keep_iterates)
    pd = problem.data
    state = method.init_state(problem, hp)
    calls = method.start(pd, state, hp, source.initial(), rec)
    chunk = int(max(1, min(MAX_CHUNK_STEPS, FLOATS_PER_CHUNK // max(1, source.floats_per_step()))))
    stopped = 0
    t = 1
    while t <= T:
        t1 = min(T + 1, t + chunk)
        t_stop, calls = method.steps(pd, state, hp, source.steps(t1 - t), t, t1, T, rec, calls)
        report(int(t_stop) - t)
        if t_stop < t1:
            stopped = int(t_stop)
            break
        t = t1
    x = state[0]
    if not stopped and not observe(pd, rec, T + 1, x, x, False, calls):
        stopped = T + 1
    return ev, rec, int(calls), stopped


def _assemble(method, problem, T, seed, config, mode, K, results, elapsed, keep_iterates):
    R = len(results)
    ev0 = results[0][0]
    n_ck = ev0.ck_pos.size
    out = {name: np.full((R, n_ck), np.nan) for name in ("value", "l1", "l2")}
    ck_calls = np.full((R, n_ck), -1, dtype=np.int64)
    per = {name: np.full(R, np.nan) for name in
           ("m1", "m2", "m2sq", "se", "err", "agree", "fv", "fl1", "fl2")}
    calls_total = np.zeros(R, dtype=np.int64)
    diverged = np.zeros(R, dtype=np.int64)
    iterates = [] if keep_iterates else None
    for r, (ev, rec, calls, stopped) in enumerate(results):
        done = rec.pos[0]  # evaluations that happened
        for name, arr in (("value", rec.value), ("l1", rec.l1), ("l2", rec.l2)):
            out[name][r] = np.where(ev.ck_pos < done, arr[ev.ck_pos], np.nan)
        ck_calls[r] = np.where(ev.ck_pos < done, rec.calls[ev.ck_pos], -1)
        keep = ev.ms_pos < done
        if stopped:
            keep &= ev.ev_t[ev.ms_pos] < stopped
        w = ev.ms_weight[keep]
        pos = ev.ms_pos[keep]
        if w.sum() > 0:
            l1 = rec.l1[pos]
            per["m1"][r] = np.average(l1, weights=w)
            per["m2"][r] = np.average(rec.l2[pos], weights=w)
            per["m2sq"][r] = np.average(rec.l2[pos] ** 2, weights=w)
            per["err"][r] = np.average(rec.err[pos], weights=w)
            per["agree"][r] = np.average(rec.agree[pos], weights=w)
            if mode == "sampled" and w.sum() > 1:
                var = np.average((l1 - per["m1"][r]) ** 2, weights=w) * w.sum() / (w.sum() - 1)
                per["se"][r] = np.sqrt(var / w.sum())
            else:
                per["se"][r] = 0.0
        if ev.final_pos < done and not stopped:
            per["fv"][r] = rec.value[ev.final_pos]
            per["fl1"][r] = rec.l1[ev.final_pos]
            per["fl2"][r] = rec.l2[ev.final_pos]
        calls_total[r] = calls
        diverged[r] = stopped
        if keep_iterates:
            iterates.append(rec.xs)
    return Trace(
        method=method.name,
        problem=problem.name,
        T=T,
        seed=seed,
        config=config,
        measure_mode=mode,
        measure_points=K,
        checkpoints=ev0.ev_t[ev0.ck_pos],
        ck_calls=ck_calls,
        ck_value=out["value"],
        ck_grad_l1=out["l1"],
        ck_grad_l2=out["l2"],
        avg_grad_l1=per["m1"],
        avg_grad_l2=per["m2"],
        avg_grad_l2sq=per["m2sq"],
        avg_grad_l1_within_se=per["se"],
        avg_estimator_error=per["err"],
        sign_agreement=per["agree"],
        final_value=per["fv"],
        final_grad_l1=per["fl1"],
        final_grad_l2=per["fl2"],
        oracle_calls=calls_total,
        diverged_at=diverged,
        elapsed_s=elapsed,
        iterates=np.array(iterates) if keep_iterates and len({i.shape for i in iterates}) == 1 else None,
        iterate_t=ev0.ev_t if keep_iterates else None,
    )
