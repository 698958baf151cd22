"""Gradient-estimator recursions, written once for every method.

In every recursion ``beta`` is the weight of the fresh gradient:
``beta = 1`` means no memory; momentum is ``1 - beta``.
"""

from .._jit import kernel


@kernel
def ema_update(m, g, beta):
    """Momentum (Signum, SSDM): m <- (1 - beta) m + beta g."""
    keep = 1.0 - beta
    for k in range(m.shape[0]):
        m[k] = keep * m[k] + beta * g[k]


@kernel
def storm_update(v, g_new, g_old, beta):
    """STORM / SSVR: v <- g_new + (1 - beta)(v - g_old).

    ``g_new`` and ``g_old`` must be the gradients of the *same* samples at the
    new and the previous iterate.
    """
    keep = 1.0 - beta
    for k in range(v.shape[0]):
        v[k] = g_new[k] + keep * (v[k] - g_old[k])


@kernel
def svrg_estimate(v, g_cur, g_ref, mu_ref):
    """SVRG: v <- grad f_i(x) - grad f_i(x_ref) + grad f(x_ref) (same component i)."""
    for k in range(v.shape[0]):
        v[k] = g_cur[k] - g_ref[k] + mu_ref[k]
