"""``smoothed-separable``: a Gaussian-smoothed separable nonconvex function
scaled isotropically in d.

In the coordinates y = sqrt(d) x, the objective is f(x) = (1/d) sum_k h_s(y_k) with
h(y) = p y^2/2 + q (1 - cos(omega y)) and h_s = E h(y + xi), xi ~ N(0, s^2). A
sample is xi in R^d and its gradient is grad_k = h'(y_k + xi_k) / sqrt(d): the noise
enters nonlinearly, so the STORM correction is not noise-free. In closed form

h_s'(y) = p y + q omega exp(-omega^2 s^2 / 2) sin(omega y).

Nonconvex when q omega^2 exp(-omega^2 s^2/2) > p. With p = 0 the sample gradients are
bounded by q omega / sqrt(d) and f >= 0, which suits the stochastic-sign methods.
"""

import math

import numpy as np

from .._jit import kernel
from ..validation import check_choice, check_nonnegative, check_positive, check_positive_int, check_real
from .base import STOCHASTIC, Param, Problem
from .data import SMOOTHED, pack
from .starts import START_CHOICES, START_HELP, start_point


@kernel
def batch_grads(pd, x1, x2, idx, z, both, g1, g2):
    p, q, omega, sd = pd.p[0], pd.p[1], pd.p[2], pd.p[4]
    d = x1.shape[0]
    B = z.shape[0]
    w = 1.0 / (B * sd)
    qo = q * omega
    for k in range(d):
        y1 = sd * x1[k]
        y2 = sd * x2[k]
        s1 = 0.0
        s2 = 0.0
        for j in range(B):
            xi = z[j, k]
            s1 += p * (y1 + xi) + qo * math.sin(omega * (y1 + xi))
            if both:
                s2 += p * (y2 + xi) + qo * math.sin(omega * (y2 + xi))
        g1[k] = w * s1
        if both:
            g2[k] = w * s2


@kernel
def full_eval(pd, x, g):
    p, q, omega, s, sd = pd.p[0], pd.p[1], pd.p[2], pd.p[3], pd.p[4]
    d = x.shape[0]
    damp = math.exp(-0.5 * omega * omega * s * s)
    total = 0.0
    for k in range(d):
        y = sd * x[k]
        g[k] = (p * y + q * omega * damp * math.sin(omega * y)) / sd
        total += 0.5 * p * (y * y + s * s) + q * (1.0 - damp * math.cos(omega * y))
    return total / d


class SmoothedSeparable(Problem):
    name = "smoothed-separable"
    kind = STOCHASTIC
    summary = "Gaussian-smoothed separable nonconvex function, closed-form population gradient"
    citation = ("synthetic test family: Gaussian smoothing of p y^2/2 + q(1 - cos omega y) per coordinate, "
                "isotropically scaled in d")
    d_scaling = (
        "Isotropic: f_d(x) = (1/d) sum_k h_s(sqrt(d) x_k) with every y_k = sqrt(d) x_k seeing the "
        "same 1-D law and starting at y0. Then L = L_ms = p + q omega^2, sigma, Delta = "
        "h_s(y0) - min h_s and ||x0 - x*||_2 do not depend on d at all, while "
        "||grad f||_1 = sqrt(d) mean_k |h_s'(y_k)|: the family to use for d-exponents."
    )
    params = (
        Param("d", 50, check_positive_int, "dimension"),
        Param("p", 1.0, check_nonnegative, "quadratic weight (0 gives bounded gradients)"),
        Param("q", 4.0, check_nonnegative, "weight of the cosine ripple"),
        Param("omega", 1.5, check_positive, "frequency of the ripple"),
        Param("s", 0.5, check_nonnegative,
              "noise level: std of the Gaussian perturbation xi; the gradient noise sigma grows with it"),
        Param("y0", 3.0, lambda n, v: check_real(n, v), "start, in the scaled coordinates y = sqrt(d) x"),
        Param("start", "uniform", lambda n, v: check_choice(n, v, START_CHOICES), START_HELP),
    )

    def build(self, d, p, q, omega, s, y0, start):
        self.d, self.m = d, None
        self.sd = math.sqrt(d)
        self.p, self.q, self.omega, self.s = p, q, omega, s
        self.damp = math.exp(-0.5 * omega**2 * s**2)
        self.y_start = start_point(start, d, y0, lambda: self.profile_minimum()[0])
        self.x0 = self.y_start / self.sd
        self.sample_width = d
        self.data = pack(SMOOTHED, p=[p, q, omega, s, self.sd])

    def draw_samples(self, rng, shape):
        shape = tuple(shape)
        return np.zeros(shape, dtype=np.int64), self.s * rng.standard_normal(shape + (self.d,))

    # 1-D profile -------------------------------------------------------------------------
    def h_s(self, y):
        return 0.5 * self.p * (y**2 + self.s**2) + self.q * (1.0 - self.damp * np.cos(self.omega * y))

    def h_s_grad(self, y):
        return self.p * y + self.q * self.omega * self.damp * np.sin(self.omega * y)

    def coordinate_variance(self, y):
        """Var of h'(y + xi), xi ~ N(0, s^2), in closed form (Stein's lemma)."""
        p, q, w, s = self.p, self.q, self.omega, self.s
        e1 = np.exp(-0.5 * w**2 * s**2)
        return (
            p**2 * s**2
            + q**2 * w**2 * ((1 - np.exp(-2 * w**2 * s**2) * np.cos(2 * w * y)) / 2
                             - np.exp(-(w**2) * s**2) * np.sin(w * y) ** 2)
            + 2 * p * q * w**2 * s**2 * e1 * np.cos(w * y)
        )

    # NumPy reference oracles -------------------------------------------------------------
    def sample_grads(self, x, idx, z):
        y = self.sd * x[None, :] + z
        return (self.p * y + self.q * self.omega * np.sin(self.omega * y)) / self.sd

    def full_grad(self, x):
        return self.h_s_grad(self.sd * x) / self.sd

    def value(self, x):
        return float(np.mean(self.h_s(self.sd * x)))

    # Constants ------------------------------------------------------------------------
    def profile_minimum(self):
        if self.p == 0.0 or self.q == 0.0:
            return 0.0, float(self.h_s(0.0))
        Y = 2.0 * math.sqrt(self.q / self.p) + 2.0 * math.pi / self.omega
        ys = np.linspace(-Y, Y, 20001)
        i = int(np.argmin(self.h_s(ys)))
        lo, hi = ys[max(i - 1, 0)], ys[min(i + 1, ys.size - 1)]
        phi = (math.sqrt(5.0) - 1.0) / 2.0
        for _ in range(80):
            a, b = hi - phi * (hi - lo), lo + phi * (hi - lo)
            if self.h_s(a) < self.h_s(b):
                hi = b
            else:
                lo = a
        y_star = 0.5 * (lo + hi)
        return y_star, float(self.h_s(y_star))

    def compute_constants(self):
        period = np.linspace(0.0, 2.0 * math.pi / self.omega, 4001)
        var_max = float(np.max(self.coordinate_variance(period)))
        y_star, h_star = self.profile_minimum()
        f_x0 = self.value(self.x0)
        bounded = self.p == 0.0
        return {
            "L": self.p + self.q * self.omega**2,
            "L_ms": self.p + self.q * self.omega**2,
            "region": "all of R^d",
            "sigma": math.sqrt(max(var_max, 0.0)),
            "sigma_at_x0": float(math.sqrt(max(np.mean(self.coordinate_variance(self.y_start)), 0.0))),
            "G_inf": self.q * self.omega / self.sd if bounded else None,
            "G_inf_note": "q omega / sqrt(d) everywhere" if bounded else "unbounded when p > 0",
            "f_x0": f_x0,
            "f_star": h_star,
            "f_star_lower": h_star,
            "f_star_exact": True,
            "y_star": float(y_star),
            "delta": f_x0 - h_star,
            "dist_x0_to_argmin": float(math.sqrt(np.mean((self.y_start - y_star) ** 2))),
            "nonconvex": bool(self.q * self.omega**2 * self.damp > self.p),
        }
