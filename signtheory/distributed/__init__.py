"""Worker problems for the distributed (majority-vote) methods.

>>> from signtheory.distributed import split
>>> wp = split("nonconvex-logistic", 5, mode="shift", zeta=0.5)
>>> wp.constants()["heterogeneity_l2_max"]  # doctest: +SKIP
0.5

:func:`split` builds n worker problems f_1..f_n with f = (1/n) sum_j f_j from a
problem (homogeneous, shifted optima, or a Dirichlet label partition);
:func:`mv_counterexample` builds the three-worker counterexample on which the
deterministic majority vote of stochastic signs stalls. The compiled worker
oracles are in :mod:`signtheory.distributed.oracles`.
"""

from .counterexample import exact_vote_expectation, fixed_point, floor, mv_counterexample
from .oracles import (
    WorkerData,
    worker_batch_grad,
    worker_batch_grad_pair,
    worker_full_grad,
    workers_batch_grad,
    workers_batch_grad_pair,
)
from .split import MODES, WorkerProblems, split, split_from_config

__all__ = [
    "MODES",
    "WorkerData",
    "WorkerProblems",
    "exact_vote_expectation",
    "fixed_point",
    "floor",
    "mv_counterexample",
    "split",
    "split_from_config",
    "worker_batch_grad",
    "worker_batch_grad_pair",
    "worker_full_grad",
    "workers_batch_grad",
    "workers_batch_grad_pair",
]
