"""``sparse-noise-quadratic``: the toy problem of the signSGD paper.

f(x) = ||x||^2 / 2 with stochastic gradient g = x + scale * xi * e_1, xi ~ N(0, 1):
all the noise sits on the first coordinate. At the default d = 100 and scale = 100
this is Bernstein et al.'s toy; x0 ~ N(0, (100/d) I) so that E||x0||^2 = 100 (and
Delta) stays fixed when d changes.
"""

import numpy as np

from .._jit import kernel
from ..validation import check_nonnegative, check_nonnegative_int, check_positive_int
from .base import STOCHASTIC, Param, Problem
from .data import SPARSE_QUADRATIC, pack


@kernel
def batch_grads(pd, x1, x2, idx, z, both, g1, g2):
    scale = pd.p[0]
    noise = 0.0
    for j in range(z.shape[0]):
        noise += z[j, 0]
    noise = scale * noise / z.shape[0]
    for k in range(x1.shape[0]):
        g1[k] = x1[k]
        if both:
            g2[k] = x2[k]
    g1[0] += noise
    if both:
        g2[0] += noise


@kernel
def full_eval(pd, x, g):
    total = 0.0
    for k in range(x.shape[0]):
        g[k] = x[k]
        total += 0.5 * x[k] * x[k]
    return total


class SparseNoiseQuadratic(Problem):
    name = "sparse-noise-quadratic"
    kind = STOCHASTIC
    summary = "f = ||x||^2/2 with Gaussian noise on the first coordinate only (signSGD's toy)"
    citation = ("J. Bernstein, Y.-X. Wang, K. Azizzadenesheli, A. Anandkumar, signSGD: Compressed "
                "Optimisation for Non-Convex Problems, ICML 2018, arXiv 1802.04434")
    d_scaling = ("L = 1 and sigma = scale for every d; x0 ~ N(0, (100/d) I) so that "
                 "E Delta = 50 for every d (the paper's toy at d = 100).")
    params = (
        Param("d", 100, check_positive_int, "dimension"),
        Param("scale", 100.0, check_nonnegative, "standard deviation of the noise on coordinate 1"),
        Param("instance_seed", 0, check_nonnegative_int, "seed of x0 (not of the run)"),
    )
    sample_width = 1

    def build(self, d, scale, instance_seed):
        self.d, self.m = d, None
        self.scale = scale
        rng = np.random.default_rng([instance_seed, 5])
        self.x0 = np.sqrt(100.0 / d) * rng.standard_normal(d)
        self.data = pack(SPARSE_QUADRATIC, p=[scale])

    def draw_samples(self, rng, shape):
        shape = tuple(shape)
        return np.zeros(shape, dtype=np.int64), rng.standard_normal(shape + (1,))

    def sample_grads(self, x, idx, z):
        G = np.repeat(x[None, :], z.shape[0], axis=0)
        G[:, 0] += self.scale * z[:, 0]
        return G

    def full_grad(self, x):
        return np.array(x, dtype=float)

    def value(self, x):
        return float(0.5 * np.dot(x, x))

    def compute_constants(self):
        f_x0 = self.value(self.x0)
        return {
            "L": 1.0,
            "L_ms": 1.0,
            "region": "all of R^d",
            "sigma": self.scale,
            "sigma_at_x0": self.scale,
            "G_inf": None,
            "G_inf_note": "unbounded: the noise is Gaussian",
            "f_x0": f_x0,
            "f_star": 0.0,
            "f_star_lower": 0.0,
            "f_star_exact": True,
            "delta": f_x0,
        }
