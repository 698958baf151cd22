"""Compiled oracles: one entry point per oracle, dispatching on the family code.

Methods call only these functions, so a method kernel is compiled once for
every problem family.

``batch_grad(pd, x, idx, z, g)``
    g <- mean gradient of the batch (rows of ``idx``/``z``) at x.
``batch_grad_pair(pd, x1, x2, idx, z, g1, g2)``
    the same samples evaluated at two points (STORM-type corrections).
``batch_grad_combo(pd, x1, c1, x2, c2, idx, z, out)``
    out += c1 g1 + c2 g2 for those two gradients, fused where the family allows.
``full_eval(pd, x, g)``
    g <- exact full (finite sum) or population gradient; returns f(x).
"""

import numpy as np

from .._jit import kernel
from . import logistic, lsq, noisy_separable, separable_sum, smoothed, sparse_quadratic, stream_lsq
from . import mv_counterexample as log_cosh
from .composite import kernels as composite
from .data import (
    L1_LSQ,
    LOG_COSH,
    LOGISTIC,
    LSQ,
    NOISY_SEPARABLE,
    SEPARABLE_SUM,
    SMOOTHED,
    SPARSE_QUADRATIC,
    STREAM_LSQ,
    TV1D,
    TV2D,
)


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
    elif kind == LOG_COSH:
        log_cosh.batch_grads(pd, x1, x2, idx, z, both, g1, g2)
    elif kind == NOISY_SEPARABLE:
        noisy_separable.batch_grads(pd, x1, x2, idx, z, both, g1, g2)
    elif kind == SEPARABLE_SUM:
        separable_sum.batch_grads(pd, x1, x2, idx, z, both, g1, g2)
    elif kind == TV1D or kind == TV2D or kind == L1_LSQ:  # composite: sample gradients of D
        composite.batch_grads(pd, x1, x2, idx, z, both, g1, g2)
    else:
        raise ValueError("unknown problem family code")


@kernel
def batch_grad(pd, x, idx, z, g):
    _batch(pd, x, x, idx, z, False, g, g)


@kernel
def batch_grad_pair(pd, x1, x2, idx, z, g1, g2):
    _batch(pd, x1, x2, idx, z, True, g1, g2)


@kernel
def batch_grad_combo(pd, x1, c1, x2, c2, idx, z, out):
    """out += c1 * g(x1; S) + c2 * g(x2; S) for the batch S of ``idx``/``z``.

    The STORM-type estimators evaluate the same samples at two points and need
    only this combination; the linear-model families compute it in one pass over
    each sample, the others through :func:`batch_grad_pair`.
    """
    kind = pd.kind
    if kind == LSQ:
        lsq.batch_combo(pd, x1, c1, x2, c2, idx, z, out)
    elif kind == LOGISTIC:
        logistic.batch_combo(pd, x1, c1, x2, c2, idx, z, out)
    elif kind == STREAM_LSQ:
        stream_lsq.batch_combo(pd, x1, c1, x2, c2, idx, z, out)
    else:
        g1 = np.empty_like(out)
        g2 = np.empty_like(out)
        _batch(pd, x1, x2, idx, z, True, g1, g2)
        for k in range(out.shape[0]):
            out[k] += c1 * g1[k] + c2 * g2[k]


@kernel
def storm_correction(pd, v, x, x_prev, beta, idx, z):
    """The STORM estimator update v <- g(x; S) + (1 - beta)(v - g(x_prev; S)), with the
    same batch S at both points (:func:`signtheory.ops.storm_update` on the batch's
    gradients, fused into one pass over the samples)."""
    keep = 1.0 - beta
    for k in range(v.shape[0]):
        v[k] *= keep
    batch_grad_combo(pd, x, 1.0, x_prev, -keep, idx, z, v)


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
    elif kind == LOG_COSH:
        return log_cosh.full_eval(pd, x, g)
    elif kind == NOISY_SEPARABLE:
        return noisy_separable.full_eval(pd, x, g)
    elif kind == SEPARABLE_SUM:
        return separable_sum.full_eval(pd, x, g)
    elif kind == TV1D or kind == TV2D or kind == L1_LSQ:  # composite: F and the gradient mapping
        return composite.full_eval(pd, x, g)
    raise ValueError("unknown problem family code")


@kernel
def components(pd):
    """m, the number of components of a finite-sum problem."""
    return pd.A.shape[0]
