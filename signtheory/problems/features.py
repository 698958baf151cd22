"""Random designs shared by the regression families.

Rows are drawn from N(0, diag(s)^2) with s_k decaying geometrically so that the
covariance has condition number ``cond``, then normalised to unit l2 norm: every
component's smoothness is then bounded by 1 (+ 2*lam) whatever the dimension.
"""

import numpy as np
from scipy.optimize import minimize

from ..validation import check_real


def covariance_scales(d: int, cond: float) -> np.ndarray:
    """Per-coordinate standard deviations with max/min variance ratio ``cond``."""
    if d == 1:
        return np.ones(1)
    return cond ** (-0.5 * np.arange(d) / (d - 1))


def unit_rows(rng: np.random.Generator, m: int, d: int, cond: float) -> np.ndarray:
    A = rng.standard_normal((m, d)) * covariance_scales(d, cond)
    A /= np.linalg.norm(A, axis=1, keepdims=True)
    return A


def planted(rng: np.random.Generator, d: int, scale: float) -> np.ndarray:
    """A planted vector drawn uniformly on the l2 sphere of radius ``scale * sqrt(d)``:
    its coordinates have root-mean-square ``scale`` whatever d, so that a_i^T x_nat
    is of order ``scale`` for unit-norm rows a_i."""
    w = rng.standard_normal(d)
    return scale * np.sqrt(d) * w / np.linalg.norm(w)


def top_eigenvalue_of_gram(A: np.ndarray) -> float:
    """lambda_max(A^T A / m), computed on the smaller of the two Gram matrices."""
    m, d = A.shape
    G = A @ A.T if m <= d else A.T @ A
    return float(np.linalg.eigvalsh(G / m)[-1])


def best_minimum(fun_and_grad, starts, maxiter: int = 500) -> tuple[float, np.ndarray]:
    """Lowest value found by L-BFGS from several starts: an upper bound on f*."""
    best, best_x = np.inf, None
    for x in starts:
        res = minimize(fun_and_grad, x, jac=True, method="L-BFGS-B", options={"maxiter": maxiter})
        if res.fun < best:
            best, best_x = float(res.fun), res.x
    return best, best_x


def check_cond(name, value):
    return check_real(name, value, low=1.0)
