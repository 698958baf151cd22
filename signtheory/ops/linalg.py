"""Vector kernels with an explicit, machine-independent summation order.

Reductions use eight interleaved partial sums combined in a fixed tree, so the
result is the same on every CPU and thread count (no ``fastmath``), while the
independent accumulators keep the floating-point pipeline busy.
"""

import math

from .._jit import kernel


@kernel
def dot(a, x):
    """sum_k a[k] * x[k], eight partial sums in a fixed order."""
    n = a.shape[0]
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    k = 0
    while k + 8 <= n:
        s0 += a[k] * x[k]
        s1 += a[k + 1] * x[k + 1]
        s2 += a[k + 2] * x[k + 2]
        s3 += a[k + 3] * x[k + 3]
        s4 += a[k + 4] * x[k + 4]
        s5 += a[k + 5] * x[k + 5]
        s6 += a[k + 6] * x[k + 6]
        s7 += a[k + 7] * x[k + 7]
        k += 8
    while k < n:
        s0 += a[k] * x[k]
        k += 1
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))


@kernel
def dot2(a, x, y):
    """(a . x, a . y) in one pass over a, each with the summation order of :func:`dot`."""
    n = a.shape[0]
    s0 = s1 = s2 = s3 = 0.0
    t0 = t1 = t2 = t3 = 0.0
    p0 = p1 = p2 = p3 = 0.0
    q0 = q1 = q2 = q3 = 0.0
    k = 0
    while k + 8 <= n:
        s0 += a[k] * x[k]
        s1 += a[k + 1] * x[k + 1]
        s2 += a[k + 2] * x[k + 2]
        s3 += a[k + 3] * x[k + 3]
        p0 += a[k + 4] * x[k + 4]
        p1 += a[k + 5] * x[k + 5]
        p2 += a[k + 6] * x[k + 6]
        p3 += a[k + 7] * x[k + 7]
        t0 += a[k] * y[k]
        t1 += a[k + 1] * y[k + 1]
        t2 += a[k + 2] * y[k + 2]
        t3 += a[k + 3] * y[k + 3]
        q0 += a[k + 4] * y[k + 4]
        q1 += a[k + 5] * y[k + 5]
        q2 += a[k + 6] * y[k + 6]
        q3 += a[k + 7] * y[k + 7]
        k += 8
    while k < n:
        s0 += a[k] * x[k]
        t0 += a[k] * y[k]
        k += 1
    return (((s0 + s1) + (s2 + s3)) + ((p0 + p1) + (p2 + p3)),
            ((t0 + t1) + (t2 + t3)) + ((q0 + q1) + (q2 + q3)))


@kernel
def axpy(alpha, a, out):
    """out += alpha * a."""
    for k in range(a.shape[0]):
        out[k] += alpha * a[k]


@kernel
def norm1(x):
    n = x.shape[0]
    s0 = s1 = s2 = s3 = 0.0
    k = 0
    while k + 4 <= n:
        s0 += abs(x[k])
        s1 += abs(x[k + 1])
        s2 += abs(x[k + 2])
        s3 += abs(x[k + 3])
        k += 4
    while k < n:
        s0 += abs(x[k])
        k += 1
    return (s0 + s1) + (s2 + s3)


@kernel
def norm2sq(x):
    return dot(x, x)


@kernel
def gradient_step(x, g, eta):
    """x <- x - eta * g, in place; returns False if x is no longer finite."""
    ok = True
    for k in range(x.shape[0]):
        x[k] -= eta * g[k]
        if not math.isfinite(x[k]):
            ok = False
    return ok
