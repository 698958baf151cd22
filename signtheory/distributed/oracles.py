"""Compiled worker oracles: worker j's gradients on the compiled view of a split.

A split is packed into one :class:`WorkerData` record (plain arrays, so it can be
handed to compiled loops, copied into shared memory or rebuilt in another process):

``pd``
    the global problem's :class:`~signtheory.problems.data.ProblemData`;
``mode``
    ``HOMOGENEOUS``, ``SHIFT`` or ``DIRICHLET``;
``shift``
    (n, d) float64: worker j's gradients are the global ones plus ``shift[j]``
    (zeros unless ``mode == SHIFT``);
``members``
    (n, m/n) int64: the components owned by worker j, sorted (``mode == DIRICHLET``;
    (n, 0) otherwise).

Entry points (j is 0-based and not range-checked here; :class:`WorkerProblems`
checks it on the NumPy side):

``worker_batch_grad(wd, j, x, idx, z, g)``
    g <- mean gradient at x of worker j's samples ``idx``/``z``, as drawn by
    ``WorkerProblems.worker_draw_samples(rng, j, shape)``. For ``DIRICHLET``,
    ``idx`` indexes worker j's member list, not the global components.
``worker_batch_grad_pair(wd, j, x1, x2, idx, z, g1, g2)``
    the same samples at two points (the SSVR-MV local recursion).
``worker_full_grad(wd, j, x, g)``
    g <- grad f_j(x), exact.
``workers_batch_grad(wd, x, idx, z, G)`` and ``workers_batch_grad_pair(...)``
    every worker at once: ``idx`` (n, B), ``z`` (n, B, width), ``G`` (n, d); row j
    equals ``worker_batch_grad(wd, j, ...)`` bit for bit.

Each call reaches the problem only through :mod:`signtheory.problems.oracles`, so it
inherits their summation order: ``worker_batch_grad`` equals the global
``batch_grad`` on the mapped samples, plus ``shift[j]``, exactly.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._jit import kernel
from ..ops import axpy
from ..problems.data import ProblemData
from ..problems.oracles import batch_grad, batch_grad_pair, full_eval

HOMOGENEOUS, SHIFT, DIRICHLET = 0, 1, 2


class WorkerData(NamedTuple):
    pd: ProblemData
    mode: int
    shift: np.ndarray  # (n, d) float64, C-contiguous
    members: np.ndarray  # (n, m/n) int64 for DIRICHLET, (n, 0) otherwise


@kernel
def member_indices(wd, j, idx):
    """Global component indices of worker j's local sample indices ``idx``."""
    row = wd.members[j]
    out = np.empty(idx.shape[0], dtype=np.int64)
    for b in range(idx.shape[0]):
        out[b] = row[idx[b]]
    return out


@kernel
def worker_batch_grad(wd, j, x, idx, z, g):
    if wd.mode == DIRICHLET:
        batch_grad(wd.pd, x, member_indices(wd, j, idx), z, g)
    else:
        batch_grad(wd.pd, x, idx, z, g)
        if wd.mode == SHIFT:
            axpy(1.0, wd.shift[j], g)


@kernel
def worker_batch_grad_pair(wd, j, x1, x2, idx, z, g1, g2):
    if wd.mode == DIRICHLET:
        batch_grad_pair(wd.pd, x1, x2, member_indices(wd, j, idx), z, g1, g2)
    else:
        batch_grad_pair(wd.pd, x1, x2, idx, z, g1, g2)
        if wd.mode == SHIFT:
            axpy(1.0, wd.shift[j], g1)
            axpy(1.0, wd.shift[j], g2)


@kernel
def worker_full_grad(wd, j, x, g):
    if wd.mode == DIRICHLET:
        own = wd.members[j]
        batch_grad(wd.pd, x, own, np.empty((own.shape[0], 0)), g)
    else:
        full_eval(wd.pd, x, g)
        if wd.mode == SHIFT:
            axpy(1.0, wd.shift[j], g)


@kernel
def workers_batch_grad(wd, x, idx, z, G):
    for j in range(G.shape[0]):
        worker_batch_grad(wd, j, x, idx[j], z[j], G[j])


@kernel
def workers_batch_grad_pair(wd, x1, x2, idx, z, G1, G2):
    for j in range(G1.shape[0]):
        worker_batch_grad_pair(wd, j, x1, x2, idx[j], z[j], G1[j], G2[j])
