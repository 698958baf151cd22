"""``nonconvex-lsq``: finite-sum nonconvex least squares.

f(x) = (1/m) sum_i f_i(x),  f_i(x) = 1/2 (a_i^T x - b_i)^2 + lam * sum_k psi(x_k),
psi(u) = u^2/(1+u^2), with unit-norm rows a_i and labels b_i = a_i^T x_nat + noise.
"""

import numpy as np

from .._jit import kernel
from ..ops import axpy, dot, dot2
from ..validation import (
    check_nonnegative,
    check_nonnegative_int,
    check_positive,
    check_positive_int,
)
from . import regularizer as reg
from .base import FINITE_SUM, Param, Problem
from .data import LSQ, pack
from .features import best_minimum, check_cond, planted, top_eigenvalue_of_gram, unit_rows


@kernel
def batch_grads(pd, x1, x2, idx, z, both, g1, g2):
    """Mean gradient of components ``idx`` at x1 (and at x2 when ``both``); ``z`` is unused."""
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
            axpy(w * (u1 - b[i]), a, g1)
            axpy(w * (u2 - b[i]), a, g2)
        else:
            axpy(w * (dot(a, x1) - b[i]), a, g1)
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
        axpy(w * (c1 * (u1 - b[i]) + c2 * (u2 - b[i])), a, out)
    reg.add_grad_pair(c1 * lam, x1, c2 * lam, x2, out)


@kernel
def full_eval(pd, x, g):
    """g <- grad f(x); returns f(x)."""
    A, b, lam = pd.A, pd.b, pd.p[0]
    m = A.shape[0]
    g[:] = 0.0
    loss = 0.0
    for i in range(m):
        r = dot(A[i], x) - b[i]
        loss += 0.5 * r * r
        axpy(r / m, A[i], g)
    reg.add_grad(lam, x, g)
    return loss / m + reg.value(lam, x)


class NonconvexLSQ(Problem):
    name = "nonconvex-lsq"
    kind = FINITE_SUM
    summary = "finite-sum least squares with the nonconvex regularizer lam*sum psi(x_k)"
    citation = "nonconvex regularized regression as in the SSVR experiments (arXiv 2406.00489)"
    d_scaling = (
        "Rows are unit-norm, so every component is (1 + 2 lam)-smooth for every d: the bound "
        "L_ms <= 1 + 2 lam is fixed (the realized lambda_max(A^T A/m) varies with d and m). The "
        "planted x_nat has coordinates of root-mean-square `radius`, so a_i^T x_nat, the labels "
        "and f(x0) = f(0) are of order radius^2 + noise^2 for every d; Delta is bounded by f(x0) "
        "but its realized value moves with d because the data curvature per direction is about "
        "1/d while the regularizer's is up to 2 lam (scale lam like 1/d to keep their ratio). "
        "Components are i.i.d. from a fixed law, so per-component constants hold when m is swept. "
        "For d-exponents use `smoothed-separable`, which holds L, sigma and Delta exactly fixed."
    )
    params = (
        Param("d", 50, check_positive_int, "dimension"),
        Param("m", 1000, check_positive_int, "number of components"),
        Param("cond", 10.0, check_cond, "condition number of the feature covariance (>= 1)"),
        Param("noise", 0.1, check_nonnegative, "standard deviation of the label noise"),
        Param("lam", 0.01, check_nonnegative, "weight of the nonconvex regularizer"),
        Param("radius", 1.0, check_positive, "root-mean-square coordinate of the planted x_nat"),
        Param("instance_seed", 0, check_nonnegative_int, "seed of the data (not of the run)"),
    )
    sample_width = 0

    def build(self, d, m, cond, noise, lam, radius, instance_seed):
        rng = np.random.default_rng([instance_seed, 1])
        self.d, self.m = d, m
        self.A = unit_rows(rng, m, d, cond)
        self.x_nat = planted(rng, d, radius)
        self.b = self.labels(rng)
        self.lam = lam
        self.x0 = np.zeros(d)
        self.data = pack(LSQ, A=self.A, b=self.b, p=[lam])

    def labels(self, rng):
        return self.A @ self.x_nat + self.config["noise"] * rng.standard_normal(self.m)

    def draw_samples(self, rng, shape):
        return rng.integers(0, self.m, size=shape), np.empty(tuple(shape) + (0,))

    # NumPy reference oracles -------------------------------------------------------------
    def data_grads(self, x, idx):
        Ai = self.A[idx]
        return Ai * (Ai @ x - self.b[idx])[:, None]

    def sample_grads(self, x, idx, z=None):
        return self.data_grads(x, np.asarray(idx)) + self.lam * reg.psi_grad(x)

    def full_grad(self, x):
        return self.A.T @ (self.A @ x - self.b) / self.m + self.lam * reg.psi_grad(x)

    def loss_value(self, x):
        return 0.5 * np.mean((self.A @ x - self.b) ** 2)

    def value(self, x):
        return float(self.loss_value(x) + self.lam * reg.psi(x).sum())

    # Constants ------------------------------------------------------------------------
    def data_smoothness(self):
        return top_eigenvalue_of_gram(self.A)

    def component_smoothness(self):
        return np.sum(self.A**2, axis=1)

    def region_radius(self):
        return 3.0 * self.config["radius"] * np.sqrt(self.d)

    def component_grad_bound(self, rho):
        """max_i ||grad f_i||_inf over ||x||_2 <= rho."""
        a_inf = np.abs(self.A).max(axis=1)
        a_2 = np.linalg.norm(self.A, axis=1)
        return float(np.max(a_inf * (a_2 * rho + np.abs(self.b))) + reg.PSI_GRAD_MAX * self.lam)

    def sigma_bound(self, rho):
        a_2 = np.linalg.norm(self.A, axis=1)
        return float(np.sqrt(np.mean((a_2 * (a_2 * rho + np.abs(self.b))) ** 2)))

    def compute_constants(self):
        lam = self.lam
        L_i = self.component_smoothness() + reg.PSI_CURVATURE_MAX * lam
        rho = self.region_radius()
        g0 = self.full_grad(self.x0)
        G = self.sample_grads(self.x0, np.arange(self.m))
        sigma_x0 = float(np.sqrt(np.mean(np.sum((G - g0) ** 2, axis=1))))

        def fg(x):
            return self.value(x), self.full_grad(x)

        starts = [self.x0, self.x_nat, np.random.default_rng(7).standard_normal(self.d)]
        f_ref, _ = best_minimum(fg, starts)
        f_x0 = self.value(self.x0)
        return {
            "L": self.data_smoothness() + reg.PSI_CURVATURE_MAX * lam,
            "L_ms": float(np.sqrt(np.mean(L_i**2))),
            "L_max": float(L_i.max()),
            "region": f"||x||_2 <= {rho:g}",
            "G_inf": self.component_grad_bound(rho),
            "sigma": self.sigma_bound(rho),
            "sigma_at_x0": sigma_x0,
            "f_x0": f_x0,
            "f_star": f_ref,
            "f_star_lower": 0.0,
            "f_star_exact": False,
            "f_star_note": "best L-BFGS value from 3 starts (an upper bound on f*); f >= 0",
            "delta": f_x0 - f_ref,
            "delta_upper": f_x0,
        }
