"""Exact evaluation of the iterates inside the compiled loops.

A :class:`Recorder` holds the sorted list of iterations ``t`` (1-based, iterates
x_1 ... x_{T+1}) at which the exact gradient is evaluated, and the arrays that
receive the results. Methods call :func:`observe` with the current iterate and
estimator at every iteration for which :func:`due` is true.
Measurement gradients are never counted as oracle calls. The calls recorded
with x_t are those spent up to and including the estimator that step t uses
(at t = T + 1: every call of the run).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .._jit import inline_kernel, kernel
from ..ops import norm1, norm2sq
from ..problems.oracles import full_eval


class Recorder(NamedTuple):
    ev_t: np.ndarray  # (n,) int64, sorted, unique
    pos: np.ndarray  # (1,) int64 cursor
    value: np.ndarray  # (n,) f(x_t)
    l1: np.ndarray  # (n,) ||grad f(x_t)||_1
    l2: np.ndarray  # (n,) ||grad f(x_t)||_2
    err: np.ndarray  # (n,) ||v_t - grad f(x_t)||_2^2 (NaN where no estimator)
    agree: np.ndarray  # (n,) fraction of coordinates where sign(v_t) = sign(grad f(x_t))
    calls: np.ndarray  # (n,) oracle calls spent through the estimator used at step t
    xs: np.ndarray  # (n or 0, d) iterates, kept on request
    g: np.ndarray  # (d,) work buffer


def make_recorder(ev_t: np.ndarray, d: int, keep_iterates: bool = False) -> Recorder:
    n = ev_t.size
    nan = np.full(n, np.nan)
    return Recorder(
        np.ascontiguousarray(ev_t, dtype=np.int64),
        np.zeros(1, dtype=np.int64),
        nan.copy(), nan.copy(), nan.copy(), nan.copy(), nan.copy(),
        np.full(n, -1, dtype=np.int64),
        np.full((n if keep_iterates else 0, d), np.nan),
        np.zeros(d),
    )


@inline_kernel
def due(ev_t, pos, t):
    """True if iterate x_t is listed for evaluation. Method loops guard
    :func:`observe` with it, called as ``due(rec.ev_t, rec.pos, t)``: inlined and
    given two arrays, it costs one comparison per iteration, whereas passing the
    whole recorder to a function costs a reference count per array."""
    p = pos[0]
    return p < ev_t.shape[0] and ev_t[p] == t


@kernel
def observe(pd, rec, t, x, v, has_v, calls):
    """Evaluate x_t if t is listed. Returns False if the evaluation is not finite."""
    p = rec.pos[0]
    if p >= rec.ev_t.shape[0] or rec.ev_t[p] != t:
        return True
    return _evaluate(pd, rec, p, x, v, has_v, calls)


@kernel
def _evaluate(pd, rec, p, x, v, has_v, calls):
    g = rec.g
    val = full_eval(pd, x, g)
    rec.value[p] = val
    rec.l1[p] = norm1(g)
    rec.l2[p] = math.sqrt(norm2sq(g))
    rec.calls[p] = calls
    if has_v:
        err = 0.0
        same = 0
        for k in range(g.shape[0]):
            diff = v[k] - g[k]
            err += diff * diff
            if (v[k] > 0.0) == (g[k] > 0.0) and (v[k] < 0.0) == (g[k] < 0.0):
                same += 1
        rec.err[p] = err
        rec.agree[p] = same / g.shape[0]
    if rec.xs.shape[0] > 0:
        rec.xs[p, :] = x
    rec.pos[0] = p + 1
    return math.isfinite(val) and math.isfinite(rec.l1[p])
