"""Compiled oracles: one entry point per oracle, dispatching on the family code.

Methods call only these three functions, so a method kernel is compiled once for
every problem family.

``batch_grad(pd, x, idx, z, g)``
    g <- mean gradient of the batch (rows of ``idx``/``z``) at x.
``batch_grad_pair(pd, x1, x2, idx, z, g1, g2)``
    the same samples evaluated at two points (STORM-type corrections).
``full_eval(pd, x, g)``
    g <- exact full (finite sum) or population gradient; returns f(x).
"""

from .._jit import kernel
from . import logistic, lsq, smoothed, sparse_quadratic, stream_lsq
from .data import LOGISTIC, LSQ, SMOOTHED, SPARSE_QUADRATIC, STREAM_LSQ


@kernel
def _batch(pd, x1, x2, idx, z, both, g1, g2):
    kind = pd.kind
    if kind == LSQ:
        lsq.batch_grads(pd, x1, x2, idx, z, both, g1, g2)
    elif kind == LOGISTIC:
        logistic.batch_grads(pd, x1, x2, idx, z, both, g1, g2)
    elif kind == STREAM_LSQ:
        stream_lsq.batch_grads(pd, x1, x2, idx, z, both, g1, g2)
    elif kind == SMOOTHED:
        smoothed.batch_grads(pd, x1, x2, idx, z, both, g1, g2)
    elif kind == SPARSE_QUADRATIC:
        sparse_quadratic.batch_grads(pd, x1, x2, idx, z, both, g1, g2)
    else:
        raise ValueError("unknown problem family code")


@kernel
def batch_grad(pd, x, idx, z, g):
    _batch(pd, x, x, idx, z, False, g, g)


@kernel
def batch_grad_pair(pd, x1, x2, idx, z, g1, g2):
    _batch(pd, x1, x2, idx, z, True, g1, g2)


@kernel
def full_eval(pd, x, g):
    kind = pd.kind
    if kind == LSQ:
        return lsq.full_eval(pd, x, g)
    elif kind == LOGISTIC:
        return logistic.full_eval(pd, x, g)
    elif kind == STREAM_LSQ:
        return stream_lsq.full_eval(pd, x, g)
    elif kind == SMOOTHED:
        return smoothed.full_eval(pd, x, g)
    elif kind == SPARSE_QUADRATIC:
        return sparse_quadratic.full_eval(pd, x, g)
    raise ValueError("unknown problem family code")


@kernel
def components(pd):
    """m, the number of components of a finite-sum problem."""
    return pd.A.shape[0]
