"""Sweeps: many fresh runs, each with the schedule of its own horizon, resumable.

A sweep is a list of points; a point is the keyword arguments of
:func:`signtheory.run` (plain data). :func:`run_sweep` skips the points already
in the store, runs the others on a local process pool (or on a Dask distributed
cluster given its scheduler address) and writes each result to the store as soon
as it arrives, so killing a sweep loses only the points that were running and
rerunning it finishes the rest.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import warnings
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed

import numpy as np

from .._supervise import exit_when_gone
from .store import ResultStore

SUMMARY_KEYS = ("avg_grad_l1", "avg_grad_l2", "avg_grad_l2sq", "avg_estimator_error", "sign_agreement",
                "final_grad_l1", "final_grad_l2", "final_value", "oracle_calls", "diverged_at")


def point(method: str, problem: str, T: int, *, seeds: int = 5, seed: int = 0, problem_params=None,
          measure="auto", **options) -> dict:
    """A sweep point: the plain-data keyword arguments of :func:`signtheory.run`."""
    out = {"method": method, "problem": problem, "T": int(T), "seeds": int(seeds), "seed": int(seed),
           "problem_params": dict(problem_params or {}), "measure": measure}
    out.update(options)
    return out


def late_signed_gradient(trace, problem_name: str, problem_params: dict) -> list:
    """Per seed: the mean over t in the second half of the run, and over coordinates, of
    grad f(x_t) (signed). A biased vote settles where this average is not 0."""
    from ..problems import make_problem

    problem = make_problem(problem_name, **problem_params)
    its = np.asarray(trace.iterates)  # (seeds, points, d)
    half = its.shape[1] // 2
    out = []
    for r in range(its.shape[0]):
        late = its[r, half:]
        try:  # the separable families' reference gradients work on a stack of points
            grads = np.asarray(problem.full_grad(late))
            if grads.shape != late.shape:
                raise ValueError
        except (ValueError, TypeError):
            grads = np.stack([problem.full_grad(x) for x in late])
        out.append(float(grads.mean()))
    return out


EXTRAS = {"late_signed_gradient": late_signed_gradient}


def run_point(config: dict) -> dict:
    """Run one point (in any process) and return its per-seed results as plain data.

    ``config["extras"]`` may name per-seed statistics beyond the trace's summaries
    (see ``EXTRAS``); they need the iterates, which are then kept for the run.
    """
    from ..api import run

    kwargs = dict(config)
    method, problem, T = kwargs.pop("method"), kwargs.pop("problem"), kwargs.pop("T")
    extras = kwargs.pop("extras", ())
    kwargs["threads"] = 1  # the pool provides the parallelism
    if extras:
        kwargs.update(keep_iterates=True, measure="exact")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trace = run(method, problem, T, **kwargs)
    out = {key: np.asarray(getattr(trace, key)).tolist() for key in SUMMARY_KEYS}
    for name in extras:
        out[name] = EXTRAS[name](trace, problem, config.get("problem_params") or {})
    out["counters"] = dict(trace.counters)
    out["hyperparameters"] = trace.config["hyperparameters"]
    out["elapsed_s"] = trace.elapsed_s
    out["curves"] = {"checkpoints": trace.checkpoints.tolist(), "calls": trace.ck_calls.tolist(),
                     "grad_l1": trace.ck_grad_l1.tolist(), "value": trace.ck_value.tolist()}
    return out


PR_SET_PDEATHSIG = 1  # prctl(2): the signal a Linux process gets when its parent dies
PARENT_POLL = 0.5  # seconds between a pool worker's checks that its parent is alive


def die_with_parent(parent_pid: int) -> None:
    """Initializer of the sweep's pool processes: they never outlive the process that
    started them, whatever ends it (SIGKILL included): the kernel kills them with their
    parent on Linux, and a watcher thread (:func:`signtheory._supervise.exit_when_gone`)
    exits once the parent is gone elsewhere. Ctrl-C is the parent's to handle: the
    workers ignore SIGINT."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - the watcher below still works
            pass
    if os.getppid() != parent_pid:  # the parent died before the call took effect
        os._exit(1)
    exit_when_gone(parent_pid, PARENT_POLL, code=1)


def _run_on_pool(todo, points, processes, finished) -> None:
    """The points ``todo`` on a local pool; on any interruption (Ctrl-C included) the
    workers are stopped at once instead of finishing the points in flight."""
    pool = ProcessPoolExecutor(max_workers=processes or os.cpu_count(), initializer=die_with_parent,
                               initargs=(os.getpid(),))
    try:
        futures = {pool.submit(run_point, points[i]): i for i in todo}
        for fut in as_completed(futures):
            finished(futures[fut], fut.result())
    except BaseException:
        for proc in list((pool._processes or {}).values()):  # the executor offers no public kill
            proc.kill()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def run_sweep(points: Iterable[dict], store: ResultStore, *, scheduler: str | None = None,
              processes: int | None = None, progress: Callable[[int, int], None] | None = None) -> list[dict]:
    """Results of every point, in order, computing only those not yet in ``store``.

    ``scheduler``: the address of a Dask distributed scheduler (``tcp://HOST:PORT``);
    without it, a local process pool with ``processes`` workers (default: all cores).
    ``progress(done, total)`` is called as points finish.
    """
    points = list(points)
    results: list = [store.get(p) for p in points]
    todo = [i for i, r in enumerate(results) if r is None]
    total, done = len(points), len(points) - len(todo)
    if progress is not None:
        progress(done, total)
    if not todo:
        return results

    def finished(i, result):
        nonlocal done
        store.put(points[i], result)
        results[i] = result
        done += 1
        if progress is not None:
            progress(done, total)

    if scheduler is not None:
        from dask.distributed import Client
        from dask.distributed import as_completed as dask_completed

        with Client(scheduler) as client:
            futures = {client.submit(run_point, points[i], pure=False): i for i in todo}
            for fut in dask_completed(futures):
                finished(futures[fut], fut.result())
    elif (processes or os.cpu_count() or 1) == 1 or len(todo) == 1:
        for i in todo:
            finished(i, run_point(points[i]))
    else:
        _run_on_pool(todo, points, processes, finished)
    return results
