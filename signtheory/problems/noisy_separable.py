"""``noisy-separable``: a separable nonconvex function, scaled isotropically in d, with
additive gradient noise of a chosen law.

In the coordinates y = sqrt(d) x the population objective is

    f(x) = (1/d) sum_k h(y_k),   h(y) = p y^2/2 + q (1 - cos(omega y)),

(the profile of ``smoothed-separable`` without the smoothing) and a sample is a noise
vector xi in R^d, drawn in NumPy as the sample payload, with sample gradient

    grad_k f(x; xi) = (h'(y_k) + xi_k) / sqrt(d),   h'(y) = p y + q omega sin(omega y).

The xi_k are i.i.d., mean zero, with standard deviation ``sigma`` in y units, so the l2
noise of the x-gradient is exactly sigma in every dimension. Laws (``law``):

* ``gaussian``: xi_k ~ N(0, sigma^2);
* ``rademacher``: xi_k = +-sigma with probability 1/2 each;
* ``student_t``: sigma sqrt((nu - 2)/nu) t_nu, Student's t with ``nu`` > 2 degrees of
  freedom rescaled to variance sigma^2 (heavy tails: moments of order >= nu are infinite);
* ``skewed``: xi_k = +a with probability 3/4 and -3a with probability 1/4, a = sigma/sqrt(3):
  mean 0, variance sigma^2, median a != 0. With t = h'(y_k), the batch-1 sign of t + xi_k
  is +1 with probability 3/4 whenever -a < t < 3a, so its mean is +1/2 there: it points
  the wrong way for -a < t < 0 and is not proportional to t on (-a, 3a). signSGD with
  batch 1 therefore cannot get below |h'(y_k)| ~ a (a sign-bias floor), a clean negative
  control for the variance-reduced methods;
* ``sparse``: Gaussian noise on the first ``k_sparse`` coordinates only, with
  per-coordinate standard deviation sigma sqrt(d / k_sparse), so that the total l2 noise
  of the x-gradient is still sigma (the convention chosen here: sigma keeps its meaning
  across laws; the per-coordinate level grows like sqrt(d / k_sparse)).

The noise is additive: the STORM correction g(x; xi) - g(x'; xi) = grad f(x) - grad f(x')
is exactly noise-free, the most favourable case for variance reduction. Use
``smoothed-separable`` (noise entering nonlinearly) as the harder counterpart.
"""

import math

import numpy as np

from .._jit import kernel
from ..errors import InvalidParameterError
from ..validation import check_choice, check_nonnegative, check_positive, check_positive_int, check_real
from .base import STOCHASTIC, Param, Problem
from .data import NOISY_SEPARABLE, pack

LAWS = ("gaussian", "rademacher", "student_t", "skewed", "sparse")
#: laws whose samples are bounded, with max |xi_k| / sigma
BOUNDED_LAWS = {"rademacher": 1.0, "skewed": math.sqrt(3.0)}
#: skewed law: xi_k = +a with probability SKEW_UP, -3a otherwise
SKEW_UP = 0.75


@kernel
def batch_grads(pd, x1, x2, idx, z, both, g1, g2):
    """g = (h'(y) + mean noise) / sqrt(d); the payload's width is the number of noisy
    coordinates (the first ones). The noise mean is formed once and shared by both points."""
    p, q, omega, sd = pd.p[0], pd.p[1], pd.p[2], pd.p[3]
    d = x1.shape[0]
    B = z.shape[0]
    w = min(z.shape[1], d)
    qo = q * omega
    for k in range(d):
        g1[k] = 0.0
    for j in range(B):  # row by row: the payload is read in memory order
        for k in range(w):
            g1[k] += z[j, k]
    for k in range(d):
        noise = g1[k] / B
        y1 = sd * x1[k]
        g1[k] = (p * y1 + qo * math.sin(omega * y1) + noise) / sd
        if both:
            y2 = sd * x2[k]
            g2[k] = (p * y2 + qo * math.sin(omega * y2) + noise) / sd


@kernel
def full_eval(pd, x, g):
    p, q, omega, sd = pd.p[0], pd.p[1], pd.p[2], pd.p[3]
    d = x.shape[0]
    total = 0.0
    for k in range(d):
        y = sd * x[k]
        g[k] = (p * y + q * omega * math.sin(omega * y)) / sd
        total += 0.5 * p * y * y + q * (1.0 - math.cos(omega * y))
    return total / d


def _check_nu(name, value):
    return check_real(name, value, low=2.0, low_open=True)


class NoisySeparable(Problem):
    name = "noisy-separable"
    kind = STOCHASTIC
    summary = ("separable nonconvex function with additive gradient noise of a chosen law "
               "(gaussian, rademacher, student_t, skewed, sparse); L, sigma, Delta independent of d")
    citation = ("synthetic test family: p y^2/2 + q(1 - cos omega y) per coordinate, isotropically "
                "scaled in d, plus i.i.d. additive noise; the skewed law is the sign-bias negative "
                "control for signSGD with batch 1")
    d_scaling = (
        "Isotropic: f_d(x) = (1/d) sum_k h(sqrt(d) x_k) with every y_k = sqrt(d) x_k starting at y0 "
        "and the noise of y-scale std sigma per coordinate. Then L = L_ms = p + q omega^2, the total "
        "l2 noise sigma, Delta = h(y0) and ||x0 - x*||_2 do not depend on d, while "
        "||grad f||_1 = sqrt(d) mean_k |h'(y_k)|. For law='sparse' the noise sits on k_sparse "
        "coordinates with total l2 std sigma for every d (scale k_sparse with d to keep the fraction "
        "of noisy coordinates fixed). For law='skewed' the batch-1 sign-bias level is "
        "a/sqrt(d) per coordinate (a = sigma/sqrt(3)), i.e. a floor of order sqrt(d) a in l1 and a in l2."
    )
    params = (
        Param("d", 50, check_positive_int, "dimension"),
        Param("p", 1.0, check_nonnegative, "quadratic weight (0 gives bounded gradients of f)"),
        Param("q", 4.0, check_nonnegative, "weight of the cosine ripple"),
        Param("omega", 1.5, check_positive, "frequency of the ripple"),
        Param("sigma", 1.0, check_nonnegative,
              "total l2 std of the x-gradient noise (= per-coordinate std in y units)"),
        Param("law", "gaussian", lambda n, v: check_choice(n, v, LAWS),
              "noise law: " + ", ".join(LAWS)),
        Param("nu", 5.0, _check_nu, "degrees of freedom of the student_t law, > 2"),
        Param("k_sparse", 1, check_positive_int,
              "number of noisy coordinates of the sparse law (the first ones), <= d"),
        Param("y0", 3.0, lambda n, v: check_real(n, v), "start, in the scaled coordinates y = sqrt(d) x"),
    )

    def build(self, d, p, q, omega, sigma, law, nu, k_sparse, y0):
        if law == "sparse" and k_sparse > d:
            raise InvalidParameterError("k_sparse", k_sparse, f"must be an integer in [1, d] = [1, {d}]")
        self.d, self.m = d, None
        self.sd = math.sqrt(d)
        self.p, self.q, self.omega, self.sigma = p, q, omega, sigma
        self.law, self.nu, self.k_sparse, self.y0 = law, nu, k_sparse, y0
        self.x0 = np.full(d, y0 / self.sd)
        self.sample_width = k_sparse if law == "sparse" else d
        # y-scale std of each noisy coordinate
        self.coord_std = sigma * math.sqrt(d / k_sparse) if law == "sparse" else sigma
        self.skew_a = sigma / math.sqrt(3.0)
        self.data = pack(NOISY_SEPARABLE, p=[p, q, omega, self.sd])

    def draw_samples(self, rng, shape):
        """Indices (unused, zeros) and the noise payload xi in y units, shape + (sample_width,)."""
        shape = tuple(shape)
        full = shape + (self.sample_width,)
        idx = np.zeros(shape, dtype=np.int64)
        s = self.coord_std
        if self.law == "gaussian" or self.law == "sparse":
            z = s * rng.standard_normal(full)
        elif self.law == "rademacher":
            z = np.where(rng.random(full) < 0.5, s, -s)
        elif self.law == "student_t":
            z = (s * math.sqrt((self.nu - 2.0) / self.nu)) * rng.standard_t(self.nu, full)
        else:  # skewed
            a = self.skew_a
            z = np.where(rng.random(full) < SKEW_UP, a, -3.0 * a)
        return idx, z

    # 1-D profile -------------------------------------------------------------------------
    def h(self, y):
        return 0.5 * self.p * y**2 + self.q * (1.0 - np.cos(self.omega * y))

    def h_grad(self, y):
        return self.p * y + self.q * self.omega * np.sin(self.omega * y)

    def noise_covariance(self):
        """Covariance of a sample x-gradient (diagonal, returned as its diagonal)."""
        var = np.zeros(self.d)
        var[: self.sample_width] = self.coord_std**2 / self.d
        return var

    # NumPy reference oracles -------------------------------------------------------------
    def sample_grads(self, x, idx, z):
        G = np.repeat(self.h_grad(self.sd * np.asarray(x, dtype=float))[None, :], z.shape[0], axis=0)
        G[:, : self.sample_width] += z
        return G / self.sd

    def full_grad(self, x):
        return self.h_grad(self.sd * np.asarray(x, dtype=float)) / self.sd

    def value(self, x):
        return float(np.mean(self.h(self.sd * np.asarray(x, dtype=float))))

    # Constants ------------------------------------------------------------------------
    def argmin_profile(self):
        """The minimizer of h nearest to y0: h >= 0 = h(0); with p = 0 every 2 pi j / omega
        is a minimizer (every y when q = 0 too)."""
        if self.p > 0.0:
            return 0.0
        if self.q == 0.0:
            return self.y0
        period = 2.0 * math.pi / self.omega
        return period * round(self.y0 / period)

    def compute_constants(self):
        L = self.p + self.q * self.omega**2
        y_star = self.argmin_profile()
        f_x0 = self.value(self.x0)
        bound = 0.0 if self.sigma == 0.0 else BOUNDED_LAWS.get(self.law)
        bounded = self.p == 0.0 and bound is not None
        if bounded:
            G_inf = (self.q * self.omega + bound * self.sigma) / self.sd
            note = "q omega / sqrt(d) + max|xi_k| / sqrt(d) everywhere"
        else:
            G_inf = None
            note = ("unbounded: h' grows linearly when p > 0" if self.p > 0.0
                    else f"unbounded: the {self.law} noise is unbounded")
        out = {
            "L": L,
            "L_ms": L,
            "region": "all of R^d",
            "sigma": self.sigma,
            "sigma_at_x0": self.sigma,
            "G_inf": G_inf,
            "G_inf_note": note,
            "f_x0": f_x0,
            "f_star": 0.0,
            "f_star_lower": 0.0,
            "f_star_exact": True,
            "y_star": float(y_star),
            "delta": f_x0,
            "dist_x0_to_argmin": abs(self.y0 - y_star),
            "nonconvex": bool(self.q * self.omega**2 > self.p),
            "noise_law": self.law,
            "noisy_coordinates": self.sample_width,
        }
        if self.law == "skewed":
            out["sign_bias_level"] = self.skew_a / self.sd
            out["sign_bias_note"] = (
                "x-scale gradient magnitude below which the batch-1 sign is biased: with a = sigma/sqrt(3) "
                "the sign of h'(y_k) + xi_k is +1 with probability 3/4 for -a < h'(y_k) < 3a, so a small "
                "constant step of signSGD with batch 1 stalls near h'(y_k) = -a, where ||grad f||_1 is "
                "about sqrt(d) a = d sign_bias_level")
        return out
