"""``signtheory.run``: one entry point for every method.

It checks the arguments every run shares, looks the method up and hands the run
to the single-node runner (:mod:`signtheory.engine.runner`) or to the
majority-vote runner (:mod:`signtheory.voting.runner`); both return the same
:class:`~signtheory.engine.trace.Trace`. This is the seam where another executor
plugs in.
"""

from __future__ import annotations

import os
import warnings

from .engine.runner import run_single
from .engine.trace import Trace
from .errors import InvalidParameterError
from .methods import get_method
from .problems import make_problem
from .validation import check_nonnegative_int, check_positive_int
from .voting.runner import run_voting


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
    threads=None,
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
    threads : int, optional
        Threads running replicates (default: all cores). Never changes the result.
    progress : callable, optional
        Called with the number of iterations completed since the last call.
    n, split, backend, timeout
        Majority-vote methods only (see :func:`signtheory.voting.runner.run_voting`): the
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
    if "workers" in hyper:  # the earlier name of ``threads``
        if threads is not None:
            raise InvalidParameterError("workers", hyper["workers"],
                                        "give threads (the replicates' threads) only")
        warnings.warn("run(workers=...) is now run(threads=...): it sets the threads that run the replicates "
                      "(n sets the workers of a majority vote)", DeprecationWarning, stacklevel=2)
        threads = hyper.pop("workers")
    threads = check_positive_int("threads", (os.cpu_count() or 1) if threads is None else threads)
    method = get_method(method)
    common = dict(seeds=seeds, seed=seed, measure=measure, checkpoints=checkpoints, keep_iterates=keep_iterates,
                  threads=threads, progress=progress)
    if method.distributed:
        return run_voting(method, problem, T, n=1 if n is None else n, split=split, backend=backend,
                          problem_params=problem_params, timeout=timeout, **common, **hyper)
    for name, value in (("n", n), ("split", split), ("timeout", timeout)):
        if value is not None:
            raise InvalidParameterError(name, value, f"only for majority-vote methods; '{method.name}' "
                                        "runs on one node")
    if backend != "inline":
        raise InvalidParameterError("backend", backend, f"only 'inline' for '{method.name}', which runs "
                                    "on one node")
    problem = make_problem(problem, **(problem_params or {}))
    return run_single(method, problem, T, **common, **hyper)


__all__ = ["run"]
