"""Vector kernels shared by every method and problem.

The reductions (:func:`dot`, :func:`dot2`, :func:`norm1`, :func:`norm2sq`) are
compiled with :func:`~signtheory._jit.reduction`, so the compiler vectorizes
them; see :mod:`signtheory._jit` for what this means for reproducibility.
"""

import math

from .._jit import kernel, reduction


@reduction
def dot(a, x):
    """sum_k a[k] * x[k]."""
    s = 0.0
    for k in range(a.shape[0]):
        s += a[k] * x[k]
    return s


@kernel
def dot2(a, x, y):
    """(a . x, a . y): two passes of :func:`dot`, so each value is bitwise the one
    :func:`dot` gives (the second pass reads ``a`` from the cache)."""
    return dot(a, x), dot(a, y)


@kernel
def axpy(alpha, a, out):
    """out += alpha * a."""
    for k in range(a.shape[0]):
        out[k] += alpha * a[k]


@reduction
def norm1(x):
    s = 0.0
    for k in range(x.shape[0]):
        s += abs(x[k])
    return s


@reduction
def norm2sq(x):
    return dot(x, x)


@kernel
def scale(x, c):
    """x <- c * x."""
    for k in range(x.shape[0]):
        x[k] *= c


@kernel
def gradient_step(x, g, eta):
    """x <- x - eta * g, in place; returns False if x is no longer finite."""
    ok = True
    for k in range(x.shape[0]):
        x[k] -= eta * g[k]
        if not math.isfinite(x[k]):
            ok = False
    return ok


@kernel
def mean_rows(V, out):
    """out <- the mean of the rows of V (n, d), summed in row order."""
    n = V.shape[0]
    out[:] = 0.0
    for j in range(n):
        for k in range(out.shape[0]):
            out[k] += V[j, k]
    for k in range(out.shape[0]):
        out[k] /= n
