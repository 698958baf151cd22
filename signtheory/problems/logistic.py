"""``nonconvex-logistic``: finite-sum logistic regression with the nonconvex
regularizer.

f_i(x) = log(1 + exp(-b_i a_i^T x)) + lam * sum_k psi(x_k),  b_i in {-1, +1}.
Sample gradients are bounded everywhere: ||grad f_i||_inf <= ||a_i||_inf + 0.65 lam,
so the stochastic-sign methods (S_R with R >= G_inf) can run on it.
"""

import math

import numpy as np

from .._jit import kernel
from ..ops import axpy, dot, dot2
from ..validation import check_real
from . import regularizer as reg
from .base import Param
from .data import LOGISTIC, pack
from .features import top_eigenvalue_of_gram
from .lsq import NonconvexLSQ


@kernel
def loss_slope(u, y):
    """d/du log(1 + exp(-y u)) = -y / (1 + exp(y u)), computed without overflow."""
    t = y * u
    if t > 0.0:
        e = math.exp(-t)
        return -y * e / (1.0 + e)
    return -y / (1.0 + math.exp(t))


@kernel
def loss(u, y):
    t = -y * u
    if t > 0.0:
        return t + math.log1p(math.exp(-t))
    return math.log1p(math.exp(t))


@kernel
def batch_grads(pd, x1, x2, idx, z, both, g1, g2):
    A, b, lam = pd.A, pd.b, pd.p[0]
    w = 1.0 / idx.shape[0]
    g1[:] = 0.0
    if both:
        g2[:] = 0.0
    for j in range(idx.shape[0]):
        i = idx[j]
        a = A[i]
        if both:
            u1, u2 = dot2(a, x1, x2)
            axpy(w * loss_slope(u1, b[i]), a, g1)
            axpy(w * loss_slope(u2, b[i]), a, g2)
        else:
            axpy(w * loss_slope(dot(a, x1), b[i]), a, g1)
    reg.add_grad(lam, x1, g1)
    if both:
        reg.add_grad(lam, x2, g2)


@kernel
def batch_combo(pd, x1, c1, x2, c2, idx, z, out):
    """out += c1 * (mean gradient of components ``idx`` at x1) + c2 * (the same at x2),
    with one pass over each row."""
    A, b, lam = pd.A, pd.b, pd.p[0]
    w = 1.0 / idx.shape[0]
    for j in range(idx.shape[0]):
        i = idx[j]
        a = A[i]
        u1, u2 = dot2(a, x1, x2)
        axpy(w * (c1 * loss_slope(u1, b[i]) + c2 * loss_slope(u2, b[i])), a, out)
    reg.add_grad_pair(c1 * lam, x1, c2 * lam, x2, out)


@kernel
def full_eval(pd, x, g):
    A, b, lam = pd.A, pd.b, pd.p[0]
    m = A.shape[0]
    g[:] = 0.0
    total = 0.0
    for i in range(m):
        u = dot(A[i], x)
        total += loss(u, b[i])
        axpy(loss_slope(u, b[i]) / m, A[i], g)
    reg.add_grad(lam, x, g)
    return total / m + reg.value(lam, x)


def _np_loss_slope(u, y):
    return -y * np.exp(-np.logaddexp(0.0, y * u))


class NonconvexLogistic(NonconvexLSQ):
    name = "nonconvex-logistic"
    summary = "finite-sum logistic regression with the nonconvex regularizer; bounded gradients"
    citation = "nonconvex regularized logistic regression (SSVR experiments, arXiv 2406.00489)"
    d_scaling = (
        "Unit-norm rows and a planted x_nat with coordinates of root-mean-square `radius` "
        "(margins a_i^T x_nat of order radius for every d), x0 = 0: L <= 1/4 + 2 lam and "
        "G_inf <= max_i ||a_i||_inf + 0.65 lam for every d (G_inf shrinks like d^-1/2 for "
        "dense rows); f(x0) = log 2 exactly, so Delta <= log 2 for every d and m."
    )
    params = tuple(p for p in NonconvexLSQ.params if p.name != "noise") + (
        Param("flip", 0.1, lambda n, v: check_real(n, v, low=0.0, high=0.5),
              "probability that a label is flipped, in [0, 0.5]"),
    )

    def build(self, d, m, cond, lam, radius, instance_seed, flip):
        super().build(d, m, cond, 0.0, lam, radius, instance_seed)
        self.data = pack(LOGISTIC, A=self.A, b=self.b, p=[lam])

    def labels(self, rng):
        y = np.where(self.A @ self.x_nat >= 0.0, 1.0, -1.0)
        flips = rng.random(self.m) < self.config["flip"]
        return np.where(flips, -y, y)

    def data_grads(self, x, idx):
        Ai = self.A[idx]
        return Ai * _np_loss_slope(Ai @ x, self.b[idx])[:, None]

    def full_grad(self, x):
        return self.A.T @ _np_loss_slope(self.A @ x, self.b) / self.m + self.lam * reg.psi_grad(x)

    def loss_value(self, x):
        return float(np.mean(np.logaddexp(0.0, -self.b * (self.A @ x))))

    def data_smoothness(self):
        return 0.25 * top_eigenvalue_of_gram(self.A)

    def component_smoothness(self):
        return 0.25 * np.sum(self.A**2, axis=1)

    def component_grad_bound(self, rho):
        return float(np.abs(self.A).max() + reg.PSI_GRAD_MAX * self.lam)

    def sigma_bound(self, rho):
        return float(np.sqrt(np.mean(np.sum(self.A**2, axis=1))))

    def compute_constants(self):
        out = super().compute_constants()
        out["region"] = "all of R^d"
        return out

