"""``mv-counterexample``: the global objective of the three-worker majority-vote
counterexample, with its closed-form fixed point.

Global objective (isotropically scaled, y = sqrt(d) x)::

    f(x) = (1/d) sum_k h(sqrt(d) x_k),   h(y) = 1/2 log cosh y,   h'(y) = 1/2 tanh y.

The oracle is exact: every sample's gradient is grad f(x) (payload width 0). The
counterexample lives in the three workers built by
:func:`signtheory.distributed.counterexample.mv_counterexample`:

    f_j(x) = f(x) + (kappa_j / sqrt(d)) sum_k x_k,   kappa = (kappa, kappa, -2 kappa),

so (1/3) sum_j f_j = f, whose minimiser is 0, and every coordinate of every worker
gradient is (h'(y_k) + kappa_j) / sqrt(d), bounded by G_inf = (1/2 + 2 kappa) / sqrt(d).

Fixed point of the deterministic majority vote of stochastic worker signs (SSVR-MV
option 1 with exact gradients). A worker sends S_R(g_j), +1 with probability
(1 + g_j / R) / 2; with y-scale radius R (the x-scale radius is R / sqrt(d)), the
majority of three independent +-1 votes q_j is (q_1 + q_2 + q_3)/2 - q_1 q_2 q_3 / 2, so
with t = h'(y) the expected vote on a coordinate is

    E V(t) = 3 t / (2 R) - (t + kappa)^2 (t - 2 kappa) / (2 R^3)
           = -(t^3 - 3 (kappa^2 + R^2) t - 2 kappa^3) / (2 R^3).

The step is x <- x - eta V, so the iterates drift to the zero t* of the depressed cubic
t^3 - 3 (kappa^2 + R^2) t - 2 kappa^3 in (-1/2, 1/2); with s = (kappa^2 + R^2)^(1/2),

    t* = 2 s cos( arccos(kappa^3 / s^3) / 3 - 2 pi / 3 )  ~  -2 kappa^3 / (3 (kappa^2 + R^2)),

a stable zero (E V > 0 above it, < 0 below it) that is not the minimiser of f:
the vote is biased although every worker's bit is unbiased for its own gradient.
Derived here from the construction stated in the follow-up paper (W. Jiang, Z. Li,
L. Zhang, Revisiting Distributed Sign-Based Variance Reduction).
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import kernel
from ..errors import InvalidParameterError
from ..validation import check_choice, check_nonnegative, check_positive, check_positive_int, check_real
from .base import STOCHASTIC, Param, Problem
from .data import LOG_COSH, pack

# Named instances: tilt kappa and the y-scale radius R of the workers' stochastic signs.
INSTANCES = {
    # R = 4 G_inf with G_inf = 1/2 + 2 kappa = 1: the theorem's radius; t* = -1/1542.
    "canonical": {"kappa": 0.25, "vote_radius": 4.0},
    # R = G_inf = 2.5 (admissible with exact gradients, |g_j| <= G_inf): t* ~ -0.092.
    "amplified": {"kappa": 1.0, "vote_radius": 2.5},
}


@kernel
def batch_grads(pd, x1, x2, idx, z, both, g1, g2):
    """Exact oracle: every sample's gradient is grad f, so the batch mean is grad f."""
    sd = pd.p[0]
    for k in range(x1.shape[0]):
        g1[k] = 0.5 * math.tanh(sd * x1[k]) / sd
        if both:
            g2[k] = 0.5 * math.tanh(sd * x2[k]) / sd


@kernel
def full_eval(pd, x, g):
    sd = pd.p[0]
    d = x.shape[0]
    total = 0.0
    for k in range(d):
        y = sd * x[k]
        g[k] = 0.5 * math.tanh(y) / sd
        a = abs(y)
        total += 0.5 * (a + math.log1p(math.exp(-2.0 * a)) - math.log(2.0))
    return total / d


# Closed forms (y-scale: per coordinate, independent of d) ---------------------------------


def worker_tilts(kappa: float) -> np.ndarray:
    """(kappa, kappa, -2 kappa): the three workers' tilts, summing to 0."""
    return np.array([kappa, kappa, -2.0 * kappa])


def counterexample_shift(problem) -> np.ndarray:
    """(3, d): worker j's gradient is grad f + shift[j], shift[j] = kappa_j / sqrt(d) per coordinate."""
    tilts = worker_tilts(problem.kappa) / math.sqrt(problem.d)
    return np.repeat(tilts[:, None], problem.d, axis=1)


def expected_vote(t, kappa: float, R: float):
    """E[majority of S_R(t + kappa_j), j = 1..3] in closed form, t = h'(y)."""
    t = np.asarray(t, dtype=float)
    return 1.5 * t / R - (t + kappa) ** 2 * (t - 2.0 * kappa) / (2.0 * R**3)


def fixed_point(kappa: float, R: float) -> float:
    """t*: the zero of the expected vote in (-1/2, 1/2) (trigonometric root of the cubic)."""
    s = math.sqrt(kappa * kappa + R * R)
    return 2.0 * s * math.cos(math.acos(kappa**3 / s**3) / 3.0 - 2.0 * math.pi / 3.0)


def h(y):
    a = np.abs(y)
    return 0.5 * (a + np.log1p(np.exp(-2.0 * a)) - math.log(2.0))


def h_grad(y):
    return 0.5 * np.tanh(y)


class MVCounterexample(Problem):
    name = "mv-counterexample"
    kind = STOCHASTIC
    summary = ("global f = (1/d) sum 1/2 log cosh(sqrt(d) x_k) of the 3-worker majority-vote "
               "counterexample; exact oracle; closed-form vote fixed point")
    citation = ("three-worker counterexample to the deterministic majority vote of stochastic signs "
                "(SSVR-MV option 1), stated in W. Jiang, Z. Li, L. Zhang, Revisiting Distributed "
                "Sign-Based Variance Reduction; fixed point derived")
    d_scaling = (
        "Isotropic: every coordinate y_k = sqrt(d) x_k is an independent copy of the 1-D "
        "counterexample (d = 1 is the paper's instance). L = 1/2, sigma = 0 and Delta = h(y0) do not "
        "depend on d; G_inf = 1/(2 sqrt(d)) for f and (1/2 + 2 kappa)/sqrt(d) for the workers, and the "
        "stochastic-sign radius in x units is vote_radius/sqrt(d). At the vote's fixed point "
        "||grad f||_2 = |t*| and ||grad f||_1 = sqrt(d) |t*|."
    )
    params = (
        Param("d", 1, check_positive_int, "dimension (d copies of the 1-D counterexample)"),
        Param("instance", "canonical", lambda n, v: check_choice(n, v, tuple(INSTANCES)),
              "named (kappa, vote_radius): 'canonical' (0.25, 4) or 'amplified' (1, 2.5)"),
        Param("kappa", None, check_nonnegative, "worker tilt (default: the instance's)"),
        Param("vote_radius", None, check_positive,
              "radius R of the workers' stochastic signs in y units, >= 1/2 + 2 kappa (default: the "
              "instance's); it sets the closed-form fixed point"),
        Param("y0", 0.0, lambda n, v: check_real(n, v), "start, in the scaled coordinates y = sqrt(d) x"),
    )
    sample_width = 0

    def build(self, d, instance, kappa, vote_radius, y0):
        named = INSTANCES[instance]
        self.kappa = named["kappa"] if kappa is None else kappa
        self.vote_radius = named["vote_radius"] if vote_radius is None else vote_radius
        g_worker = 0.5 + 2.0 * self.kappa
        if self.vote_radius < g_worker:
            raise InvalidParameterError(
                "vote_radius", self.vote_radius,
                f"must be >= 1/2 + 2 kappa = {g_worker:g}, the bound on the workers' gradients "
                "(y units), so that the stochastic sign S_R is defined")
        self.d, self.m = d, None
        self.sd = math.sqrt(d)
        self.x0 = np.full(d, y0 / self.sd)
        self.data = pack(LOG_COSH, p=[self.sd])

    def draw_samples(self, rng, shape):
        shape = tuple(shape)
        return np.zeros(shape, dtype=np.int64), np.empty(shape + (0,))

    def sample_grads(self, x, idx, z=None):
        n = np.asarray(idx).shape[0]
        return np.repeat(self.full_grad(x)[None, :], n, axis=0)

    def full_grad(self, x):
        return h_grad(self.sd * np.asarray(x, dtype=float)) / self.sd

    def value(self, x):
        return float(np.mean(h(self.sd * np.asarray(x, dtype=float))))

    def compute_constants(self):
        kappa, R = self.kappa, self.vote_radius
        t_star = fixed_point(kappa, R)
        f_x0 = self.value(self.x0)
        return {
            "L": 0.5,
            "L_ms": 0.5,
            "region": "all of R^d",
            "sigma": 0.0,
            "sigma_at_x0": 0.0,
            "G_inf": 0.5 / self.sd,
            "G_inf_note": "exact oracle: sup |h'| / sqrt(d) = 1/(2 sqrt(d)), approached as |y| grows",
            "f_x0": f_x0,
            "f_star": 0.0,
            "f_star_lower": 0.0,
            "f_star_exact": True,
            "delta": f_x0,
            "kappa": kappa,
            "vote_radius": R,
            "vote_radius_x": R / self.sd,
            "worker_tilts": worker_tilts(kappa).tolist(),
            "worker_G_inf": (0.5 + 2.0 * kappa) / self.sd,
            "t_star": t_star,
            "x_star": math.atanh(2.0 * t_star) / self.sd,
            "floor_l1": self.sd * abs(t_star),
            "floor_l2": abs(t_star),
            "floor_note": (
                "option-1 majority vote with exact worker gradients drifts to h'(y_k) = t_star on every "
                "coordinate (x_k = x_star), where ||grad f||_1 = floor_l1 and ||grad f||_2 = floor_l2"),
        }
