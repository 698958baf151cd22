"""Compiled entry points of the composite families, dispatching on the family code.

The generic oracles (:mod:`signtheory.problems.oracles`) route ``batch_grad``,
``batch_grad_pair`` and ``full_eval`` of a composite family here; the composite
methods (SPGM, signProx) also call the functions below directly.

``smooth_eval(pd, x, g)``
    g <- grad D(x) (exact); returns D(x).
``batch_grads(pd, x1, x2, idx, z, both, g1, g2)``
    the mean sample gradient of D (the generic batch oracle).
``full_eval(pd, x, g)``
    returns F(x) = D(x) + r(x) and writes the gradient mapping at gamma_eval into g.
``mapping(x, g, z, p, gamma, out)``
    the gradient mapping (x - p)/gamma from z = x - gamma g and p = prox(z).
``prox_terms(pd)``
    K_r.
``prox_term(pd, k, z, gamma, out)``
    out <- prox_{gamma r_k}(z).
``prox_r(pd, z, gamma, out)``
    out <- the problem's prox of gamma r: exact where available, else the averaged
    prox (1/K_r) sum_k prox_{gamma r_k}(z).
``reg_value(pd, x)``
    r(x).
"""

import numpy as np

from ..._jit import kernel
from .. import lsq
from ..data import L1_LSQ, TV1D, TV2D
from . import l1, tv
from .base import P_AVERAGED, P_GAMMA, P_TERMS


@kernel
def is_composite(kind):
    return kind == TV1D or kind == TV2D or kind == L1_LSQ


@kernel
def smooth_eval(pd, x, g):
    kind = pd.kind
    if kind == TV1D or kind == TV2D:
        return tv.smooth_eval(pd, x, g)
    elif kind == L1_LSQ:
        return lsq.full_eval(pd, x, g)
    raise ValueError("not a composite problem family code")


@kernel
def batch_grads(pd, x1, x2, idx, z, both, g1, g2):
    kind = pd.kind
    if kind == TV1D or kind == TV2D:
        tv.batch_grads(pd, x1, x2, idx, z, both, g1, g2)
    elif kind == L1_LSQ:
        lsq.batch_grads(pd, x1, x2, idx, z, both, g1, g2)
    else:
        raise ValueError("not a composite problem family code")


@kernel
def reg_value(pd, x):
    kind = pd.kind
    if kind == TV1D or kind == TV2D:
        return tv.reg_value(pd, x)
    elif kind == L1_LSQ:
        return l1.reg_value(pd, x)
    raise ValueError("not a composite problem family code")


@kernel
def prox_terms(pd):
    return int(pd.p[P_TERMS])


@kernel
def prox_term(pd, k, z, gamma, out):
    kind = pd.kind
    if kind == TV1D or kind == TV2D:
        tv.prox_term(pd, k, z, gamma, out)
    elif kind == L1_LSQ:
        l1.prox_term(pd, k, z, gamma, out)
    else:
        raise ValueError("not a composite problem family code")


@kernel
def prox_average(pd, z, gamma, out):
    """out <- (1/K_r) sum_k prox_{gamma r_k}(z), computed as z - sum_k (1/K_r)(z - prox_k(z))."""
    K = prox_terms(pd)
    d = z.shape[0]
    tmp = np.empty(d)
    acc = np.zeros(d)
    w = 1.0 / K
    for k in range(K):
        prox_term(pd, k, z, gamma, tmp)
        for i in range(d):
            acc[i] += w * (z[i] - tmp[i])
    for i in range(d):
        out[i] = z[i] - acc[i]


@kernel
def prox_r(pd, z, gamma, out):
    kind = pd.kind
    if pd.p[P_AVERAGED] != 0.0:
        prox_average(pd, z, gamma, out)
    elif kind == TV1D:
        tv.prox_exact(pd, z, gamma, out)
    elif kind == L1_LSQ:
        l1.prox_exact(pd, z, gamma, out)
    else:
        prox_average(pd, z, gamma, out)


@kernel
def mapping(x, g, z, p, gamma, out):
    """out <- (x - p)/gamma, the gradient mapping for z = x - gamma g and p = prox(z), except
    that a coordinate the prox leaves unchanged (p_i = z_i) gets g_i exactly. Both are the
    same map; the exception keeps (x_i - (x_i - gamma g_i))/gamma from rounding g_i (or to 0
    when gamma g_i is below the resolution of x_i), so that r = 0 gives exactly g, while a
    coordinate held at a kink (p_i = x_i, e.g. x_i = 0 under soft thresholding) gets exactly 0."""
    for i in range(x.shape[0]):
        if p[i] == z[i]:
            out[i] = g[i]
        else:
            out[i] = (x[i] - p[i]) / gamma


@kernel
def full_eval(pd, x, g):
    """g <- G_{gamma_eval}(x) = (x - prox_{gamma r}(z))/gamma, z = x - gamma grad D(x) (see
    :func:`mapping`); returns F(x)."""
    val = smooth_eval(pd, x, g)
    gamma = pd.p[P_GAMMA]
    d = x.shape[0]
    z = np.empty(d)
    p = np.empty(d)
    for k in range(d):
        z[k] = x[k] - gamma * g[k]
    prox_r(pd, z, gamma, p)
    mapping(x, g, z, p, gamma, g)
    return val + reg_value(pd, x)
