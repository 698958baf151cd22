"""The nonconvex separable regularizer psi(u) = u^2 / (1 + u^2).

psi'' lies in [-1/2, 2] and |psi'| <= 3*sqrt(3)/8 (about 0.6495), so
lam * sum_k psi(x_k) adds at most 2*lam to the smoothness constant and
0.6495*lam to an l-infinity gradient bound, whatever the dimension.
"""

import numpy as np

from .._jit import kernel

PSI_GRAD_MAX = 3.0 * np.sqrt(3.0) / 8.0
PSI_CURVATURE_MAX = 2.0


def psi(u):
    u2 = np.square(u)
    return u2 / (1.0 + u2)


def psi_grad(u):
    return 2.0 * u / np.square(1.0 + np.square(u))


@kernel
def add_grad(lam, x, g):
    """g += lam * psi'(x)."""
    if lam != 0.0:
        for k in range(x.shape[0]):
            u = x[k]
            s = 1.0 + u * u
            g[k] += lam * 2.0 * u / (s * s)


@kernel
def add_grad_pair(lam1, x1, lam2, x2, g):
    """g += lam1 * psi'(x1) + lam2 * psi'(x2), in one pass."""
    if lam1 != 0.0 or lam2 != 0.0:
        for k in range(x1.shape[0]):
            u = x1[k]
            w = x2[k]
            s = 1.0 + u * u
            r = 1.0 + w * w
            g[k] += lam1 * 2.0 * u / (s * s) + lam2 * 2.0 * w / (r * r)  # = add_grad when lam2 = 0


@kernel
def value(lam, x):
    """lam * sum_k psi(x_k)."""
    if lam == 0.0:
        return 0.0
    total = 0.0
    for k in range(x.shape[0]):
        u2 = x[k] * x[k]
        total += u2 / (1.0 + u2)
    return lam * total
