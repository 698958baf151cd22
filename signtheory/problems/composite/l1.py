"""``l1-lsq``: l1-regularized nonconvex least squares (finite sum).

F(x) = D(x) + r(x) with the smooth part of ``nonconvex-lsq``,

    D(x) = (1/m) sum_i 1/2 (a_i^T x - b_i)^2 + mu sum_k psi(x_k),   psi(u) = u^2/(1+u^2),

unit-norm rows a_i, labels b_i = a_i^T x_nat + noise eps_i from a sparse planted
x_nat, and r(x) = lam ||x||_1. A sample is a component index (its gradient is
that of D's component). The split r = (1/K_r) sum_k r_k uses K_r = ``blocks``
interleaved coordinate blocks, r_k = K_r lam sum_{j = k mod K_r} |x_j|, whose
prox soft-thresholds block k by gamma K_r lam; the exact prox of r soft-thresholds
every coordinate by gamma lam, and the measure uses it.
"""

import math

import numpy as np

from ..._jit import kernel
from ...ops.prox import soft_threshold, soft_threshold_every, soft_threshold_every_np, soft_threshold_np
from ...validation import (
    check_nonnegative,
    check_nonnegative_int,
    check_positive,
    check_positive_int,
    check_real,
)
from .. import regularizer as reg
from ..base import FINITE_SUM, Param
from ..data import L1_LSQ, pack
from ..features import check_cond, top_eigenvalue_of_gram, unit_rows
from .base import (
    N_PARAMS,
    P_GAMMA,
    P_LAM,
    P_MU,
    P_TERMS,
    CompositeProblem,
    check_gamma_eval,
    l1_split_minimize,
)


@kernel
def reg_value(pd, x):
    total = 0.0
    for k in range(x.shape[0]):
        total += abs(x[k])
    return pd.p[P_LAM] * total


@kernel
def prox_term(pd, k, z, gamma, out):
    """out <- prox of gamma r_k: soft-threshold the coordinates j = k mod K_r by gamma K_r lam."""
    K = int(pd.p[P_TERMS])
    soft_threshold_every(z, gamma * K * pd.p[P_LAM], k, K, out)


@kernel
def prox_exact(pd, z, gamma, out):
    soft_threshold(z, gamma * pd.p[P_LAM], out)


def check_fraction(name, value):
    return check_real(name, value, low=0.0, high=1.0, low_open=True)


class L1LSQ(CompositeProblem):
    name = "l1-lsq"
    kind = FINITE_SUM
    summary = ("l1-regularized nonconvex least squares: D = nonconvex-lsq's finite sum (sparse planted "
               "x_nat), r = lam ||x||_1 split into `blocks` interleaved coordinate blocks; exact prox")
    citation = ("S. Ghadimi, G. Lan, H. Zhang, Mini-batch Stochastic Approximation Methods for Nonconvex "
                "Stochastic Composite Optimization, Math. Program. 155, 2016, arXiv 1308.6594 "
                "(l1-regularized nonconvex problems)")
    regularizer = "r(x) = lam ||x||_1"
    split = ("K_r = blocks: r_k = K_r lam sum_{j = k mod K_r} |x_j|; K_r = 1 is r itself")
    has_exact_prox = True
    d_scaling = (
        "As nonconvex-lsq: unit-norm rows make every component (1 + 2 mu)-smooth for every d, and "
        "x_nat (nonzero on a fraction `sparsity` of the coordinates) has l2 norm radius sqrt(d), so the "
        "labels and f_x0 = F(0) ~ (radius^2 + noise^2)/2 do not grow with d. The data gradient per "
        "coordinate is of order radius/(sqrt(sparsity) d) on the support (the data curvature per "
        "direction is about 1/d), so scale lam like 1/d to keep the same coordinates thresholded."
    )
    params = (
        Param("d", 50, check_positive_int, "dimension"),
        Param("m", 1000, check_positive_int, "number of components"),
        Param("cond", 10.0, check_cond, "condition number of the feature covariance (>= 1)"),
        Param("noise", 0.1, check_nonnegative, "standard deviation of the label noise"),
        Param("mu", 0.01, check_nonnegative, "weight of the nonconvex regularizer mu sum psi(x_k) in D"),
        Param("lam", 0.005, check_nonnegative, "weight of the l1 norm"),
        Param("sparsity", 0.2, check_fraction, "fraction of nonzero coordinates of x_nat, in (0, 1]"),
        Param("radius", 1.0, check_positive, "root-mean-square coordinate of x_nat (over all d)"),
        Param("blocks", 1, check_positive_int, "K_r, the number of interleaved coordinate blocks of r"),
        Param("gamma_eval", None, check_gamma_eval, "gamma of the measured gradient mapping (default 1/L)"),
        Param("instance_seed", 0, check_nonnegative_int, "seed of the data (not of the run)"),
    )
    sample_width = 0

    def build(self, d, m, cond, noise, mu, lam, sparsity, radius, blocks, gamma_eval, instance_seed):
        rng = np.random.default_rng([instance_seed, L1_LSQ])
        self.d, self.m = d, m
        self.A = unit_rows(rng, m, d, cond)
        support = rng.choice(d, size=max(1, round(sparsity * d)), replace=False)
        x_nat = np.zeros(d)
        x_nat[support] = rng.standard_normal(support.size)
        self.x_nat = x_nat * (radius * math.sqrt(d) / np.linalg.norm(x_nat))
        self.b = self.A @ self.x_nat + noise * rng.standard_normal(m)
        self.mu, self.lam = mu, lam
        self.x0 = np.zeros(d)
        self.L_data = top_eigenvalue_of_gram(self.A)
        self.L = self.L_data + reg.PSI_CURVATURE_MAX * mu
        p = np.zeros(N_PARAMS)
        p[P_MU], p[P_LAM], p[P_TERMS] = mu, lam, blocks
        p[P_GAMMA] = 1.0 / self.L if gamma_eval is None else gamma_eval
        self.data = pack(L1_LSQ, A=self.A, b=self.b, p=p)

    def draw_samples(self, rng, shape):
        return rng.integers(0, self.m, size=shape), np.empty(tuple(shape) + (0,))

    # NumPy reference oracles of D ------------------------------------------------------------
    def sample_grads(self, x, idx, z=None):
        Ai = self.A[np.asarray(idx)]
        return Ai * (Ai @ x - self.b[np.asarray(idx)])[:, None] + self.mu * reg.psi_grad(x)

    def full_grad(self, x):
        """grad D(x) (the smooth part)."""
        return self.A.T @ (self.A @ x - self.b) / self.m + self.mu * reg.psi_grad(x)

    def value(self, x):
        """D(x) (the smooth part)."""
        return float(0.5 * np.mean((self.A @ x - self.b) ** 2) + self.mu * reg.psi(x).sum())

    def reg_value(self, x):
        return float(self.lam * np.abs(np.asarray(x, dtype=np.float64)).sum())

    def prox_term(self, k, z, gamma):
        K = self.prox_terms
        return soft_threshold_every_np(z, gamma * K * self.lam, k, K)

    def prox_exact(self, z, gamma):
        return soft_threshold_np(z, gamma * self.lam)

    # Constants ---------------------------------------------------------------------------------
    def region_radius(self):
        return 3.0 * self.config["radius"] * math.sqrt(self.d)

    def compute_constants(self):
        mu = self.mu
        L_i = np.sum(self.A**2, axis=1) + reg.PSI_CURVATURE_MAX * mu
        rho = self.region_radius()
        a_inf = np.abs(self.A).max(axis=1)
        a_2 = np.linalg.norm(self.A, axis=1)
        g0 = self.full_grad(self.x0)
        G = self.sample_grads(self.x0, np.arange(self.m))
        f_x0 = self.objective(self.x0)

        def fg(x):
            return self.value(x), self.full_grad(x)

        starts = [self.x0, self.x_nat, np.random.default_rng(7).standard_normal(self.d)]
        values = [f_x0] + [self.objective(x) for x in l1_split_minimize(fg, self.lam, starts)]
        f_ref = float(min(values))
        return {
            "L": self.L,
            "L_ms": float(np.sqrt(np.mean(L_i**2))),
            "L_max": float(L_i.max()),
            "L_data": self.L_data,
            "region": f"||x||_2 <= {rho:g}",
            "G_inf": float(np.max(a_inf * (a_2 * rho + np.abs(self.b))) + reg.PSI_GRAD_MAX * mu),
            "sigma": float(np.sqrt(np.mean((a_2 * (a_2 * rho + np.abs(self.b))) ** 2))),
            "sigma_at_x0": float(np.sqrt(np.mean(np.sum((G - g0) ** 2, axis=1)))),
            "f_x0": f_x0,
            "f_star": f_ref,
            "f_star_lower": 0.0,
            "f_star_exact": False,
            "f_star_note": "best F found by L-BFGS-B on the split x = u - v (u, v >= 0) from 3 starts "
            "(an upper bound on inf F); F >= 0",
            "delta": f_x0 - f_ref,
            "delta_upper": f_x0,
            "gamma_eval": self.gamma_eval,
        }
