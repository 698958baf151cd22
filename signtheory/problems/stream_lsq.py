"""``stochastic-lsq``: the streaming version of nonconvex least squares.

Each call draws fresh data a ~ N(0, C) with C = diag(c), trace(C) = 1, and
b = a^T x_nat + eps, eps ~ N(0, noise^2). The population objective is separable
and known in closed form:

f(x) = 1/2 (x - x_nat)^T C (x - x_nat) + noise^2/2 + lam * sum_k psi(x_k),
grad f(x) = C (x - x_nat) + lam * psi'(x).

A sample's payload is the row (a_1, ..., a_d, eps).
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
from .base import STOCHASTIC, Param, Problem
from .data import STREAM_LSQ, pack
from .features import check_cond, covariance_scales, planted


@kernel
def batch_grads(pd, x1, x2, idx, z, both, g1, g2):
    """Mean gradient of the samples ``z`` at x1 (and at x2 when ``both``)."""
    x_nat, lam = pd.b, pd.p[0]
    d = x1.shape[0]
    w = 1.0 / z.shape[0]
    g1[:] = 0.0
    if both:
        g2[:] = 0.0
    for j in range(z.shape[0]):
        a = z[j, :d]
        target = dot(a, x_nat) + z[j, d]
        if both:
            u1, u2 = dot2(a, x1, x2)
            axpy(w * (u1 - target), a, g1)
            axpy(w * (u2 - target), a, g2)
        else:
            axpy(w * (dot(a, x1) - target), a, g1)
    reg.add_grad(lam, x1, g1)
    if both:
        reg.add_grad(lam, x2, g2)


@kernel
def batch_combo(pd, x1, c1, x2, c2, idx, z, out):
    """out += c1 * (mean gradient of the samples ``z`` at x1) + c2 * (the same at x2)."""
    x_nat, lam = pd.b, pd.p[0]
    d = x1.shape[0]
    w = 1.0 / z.shape[0]
    for j in range(z.shape[0]):
        a = z[j, :d]
        target = dot(a, x_nat) + z[j, d]
        u1, u2 = dot2(a, x1, x2)
        axpy(w * (c1 * (u1 - target) + c2 * (u2 - target)), a, out)
    reg.add_grad_pair(c1 * lam, x1, c2 * lam, x2, out)


@kernel
def full_eval(pd, x, g):
    x_nat, c, lam, noise = pd.b, pd.c, pd.p[0], pd.p[1]
    total = 0.5 * noise * noise
    for k in range(x.shape[0]):
        u = x[k] - x_nat[k]
        g[k] = c[k] * u
        total += 0.5 * c[k] * u * u
    reg.add_grad(lam, x, g)
    return total + reg.value(lam, x)


def separable_minimum(c, x_nat, lam, grid=201, refine=60):
    """Exact per-coordinate minimisation of 1/2 c (x - x_nat)^2 + lam psi(x).

    The minimiser lies between 0 and x_nat[k] (both terms decrease towards their own
    minimiser), so a grid on that segment followed by golden-section refinement of
    the best cell finds the global minimum of each coordinate.
    """

    def h(x):
        return 0.5 * c * (x - x_nat) ** 2 + lam * reg.psi(x)

    s = np.linspace(0.0, 1.0, grid)[:, None]
    X = s * x_nat[None, :]
    best = np.argmin(h(X), axis=0)
    step = np.abs(x_nat) / (grid - 1)
    lo = X[best, np.arange(x_nat.size)] - step
    hi = lo + 2 * step
    phi = (np.sqrt(5.0) - 1.0) / 2.0
    for _ in range(refine):
        a = hi - phi * (hi - lo)
        b = lo + phi * (hi - lo)
        left = h(a) < h(b)
        hi = np.where(left, b, hi)
        lo = np.where(left, lo, a)
    xs = 0.5 * (lo + hi)
    return xs, h(xs)


class StochasticLSQ(Problem):
    name = "stochastic-lsq"
    kind = STOCHASTIC
    summary = "streaming nonconvex least squares: fresh Gaussian data each call, exact population gradient"
    citation = "stochastic version of the SSVR experiments' regression problem (arXiv 2406.00489)"
    d_scaling = (
        "trace(C) = 1 and x_nat has coordinates of root-mean-square `radius`, x0 = 0: "
        "L <= max_k c_k + 2 lam <= 1 + 2 lam, L_ms <= sqrt(c_max (1 + 2 c_max)) + 2 lam, "
        "sigma^2(x0) = u^T C u + u^T C^2 u + noise^2 (u = x0 - x_nat) and Delta <= f(x0) "
        "~ radius^2/2 + noise^2/2 are bounded uniformly in d; the data curvature per direction "
        "is about 1/d, so scale lam like 1/d to keep the landscape's shape when d is swept."
    )
    params = (
        Param("d", 50, check_positive_int, "dimension"),
        Param("cond", 10.0, check_cond, "condition number of the feature covariance C (>= 1)"),
        Param("noise", 0.5, check_nonnegative, "standard deviation of the label noise eps"),
        Param("lam", 0.01, check_nonnegative, "weight of the nonconvex regularizer"),
        Param("radius", 1.0, check_positive, "root-mean-square coordinate of the planted x_nat"),
        Param("instance_seed", 0, check_nonnegative_int, "seed of x_nat (not of the run)"),
    )

    def build(self, d, cond, noise, lam, radius, instance_seed):
        rng = np.random.default_rng([instance_seed, 3])
        self.d, self.m = d, None
        scales = covariance_scales(d, cond)
        self.std = scales / np.linalg.norm(scales)
        self.c = self.std**2
        self.x_nat = planted(rng, d, radius)
        self.lam, self.noise = lam, noise
        self.x0 = np.zeros(d)
        self.sample_width = d + 1
        self.data = pack(STREAM_LSQ, b=self.x_nat, c=self.c, p=[lam, noise])

    def draw_samples(self, rng, shape):
        shape = tuple(shape)
        z = rng.standard_normal(shape + (self.d + 1,))
        z[..., : self.d] *= self.std
        z[..., self.d] *= self.noise
        return np.zeros(shape, dtype=np.int64), z

    def sample_grads(self, x, idx, z):
        a, eps = z[:, : self.d], z[:, self.d]
        r = a @ x - (a @ self.x_nat + eps)
        return a * r[:, None] + self.lam * reg.psi_grad(x)

    def full_grad(self, x):
        return self.c * (x - self.x_nat) + self.lam * reg.psi_grad(x)

    def value(self, x):
        u = x - self.x_nat
        return float(0.5 * np.sum(self.c * u * u) + 0.5 * self.noise**2 + self.lam * reg.psi(x).sum())

    def sigma_at(self, x):
        u = x - self.x_nat
        return float(np.sqrt(np.sum(self.c * u * u) + np.sum((self.c * u) ** 2) + self.noise**2))

    def compute_constants(self):
        cmax = float(self.c.max())
        lam, radius = self.lam, self.config["radius"]
        rho = 3.0 * radius * np.sqrt(self.d)
        _, per_coord = separable_minimum(self.c, self.x_nat, lam)
        f_star = float(per_coord.sum() + 0.5 * self.noise**2)
        f_x0 = self.value(self.x0)
        return {
            "L": cmax + reg.PSI_CURVATURE_MAX * lam,
            "L_ms": float(np.sqrt(cmax * (1.0 + 2.0 * cmax)) + reg.PSI_CURVATURE_MAX * lam),
            "region": f"||x||_2 <= {rho:g}",
            "sigma": float(np.sqrt((cmax + cmax**2) * (rho + float(np.linalg.norm(self.x_nat))) ** 2
                                   + self.noise**2)),
            "sigma_at_x0": self.sigma_at(self.x0),
            "G_inf": None,
            "G_inf_note": "unbounded: the features are Gaussian",
            "f_x0": f_x0,
            "f_star": f_star,
            "f_star_lower": f_star,
            "f_star_exact": True,
            "delta": f_x0 - f_star,
        }
