"""``separable-sum``: a finite-sum version of ``smoothed-separable``, isotropic in d,
with i.i.d. components whose law does not depend on m or d.

In the coordinates y = sqrt(d) x, component i = 1..m is

    f_i(x) = (1/d) sum_k h(y_k + A_ik),   h(y) = p y^2/2 + q (1 - cos(omega y)),

with perturbations A_ik ~ N(0, s^2) drawn once, at build time, from ``instance_seed``;
f = (1/m) sum_i f_i and x_1 = (y0 / sqrt(d)) 1. The gradient of component i is
grad_k f_i(x) = h'(y_k + A_ik) / sqrt(d), h'(y) = p y + q omega sin(omega y). As m grows,
f tends to the population objective of ``smoothed-separable`` (the same h, the same s).

**Nested instances.** Row i of A is drawn from its own stream, the child i of
``SeedSequence(instance_seed)``, as s times standard normals taken in order. Row i is
therefore the same for every m, and its first d entries are the same for every d: the
(m, d) instance is the top-left m x d block of one infinite i.i.d. array. Sweeping m or
d adds components or coordinates and never redraws the others, so the constants move
only by the sampling fluctuation of the added rows and columns.

**Per-coordinate profiles.** f is separable: f(x) = (1/d) sum_k hbar_k(y_k) with
hbar_k(y) = (1/m) sum_i h(y + A_ik). With abar_k, v_k the mean and (1/m)-variance of
column k and c_k = (1/m) sum_i exp(i omega A_ik) =: C_k + i S_k,

    hbar_k(y) = p ((y + abar_k)^2 + v_k)/2 + q (1 - C_k cos(omega y) + S_k sin(omega y)),

which the constants use (the oracles sum over the m rows). The dispersion of the
components in coordinate k, V_k(y) = (1/m) sum_i (h'(y + A_ik) - hbar_k'(y))^2, is the
(1/m)-variance over i of p A_ik + q omega sin(omega y + omega A_ik): a quadratic form in
(p, q omega sin(omega y), q omega cos(omega y)) with the covariance of
(A_ik, cos(omega A_ik), sin(omega A_ik)), periodic in y. Hence
(1/m) sum_i ||grad f_i(x) - grad f(x)||_2^2 = (1/d) sum_k V_k(y_k), and its supremum over
R^d is (1/d) sum_k max_y V_k(y).
"""

import math

import numpy as np

from .._jit import kernel
from ..validation import (
    check_choice,
    check_nonnegative,
    check_nonnegative_int,
    check_positive,
    check_positive_int,
    check_real,
)
from .base import FINITE_SUM, Param, Problem
from .data import SEPARABLE_SUM, pack
from .starts import START_CHOICES, START_HELP, start_point

#: points of the grids that bracket the per-coordinate minima and maxima
GRID_POINTS = 20001
#: golden-section iterations after the grid (the bracket shrinks by 0.618 per iteration)
GOLDEN_ITERATIONS = 90
#: grid values held at once (coordinates are processed in blocks of this size / GRID_POINTS)
_GRID_BLOCK = 2_000_000


@kernel
def batch_grads(pd, x1, x2, idx, z, both, g1, g2):
    """Mean gradient of components ``idx`` at x1 (and at x2 when ``both``); ``z`` is unused.
    Rows are read in memory order; the sums are formed in the same order as :func:`full_eval`."""
    A = pd.A
    p, q, omega, sd = pd.p[0], pd.p[1], pd.p[2], pd.p[3]
    d = x1.shape[0]
    B = idx.shape[0]
    qo = q * omega
    for k in range(d):
        g1[k] = 0.0
        if both:
            g2[k] = 0.0
    for j in range(B):
        a = A[idx[j]]
        for k in range(d):
            u1 = sd * x1[k] + a[k]
            g1[k] += p * u1 + qo * math.sin(omega * u1)
            if both:
                u2 = sd * x2[k] + a[k]
                g2[k] += p * u2 + qo * math.sin(omega * u2)
    w = 1.0 / (B * sd)
    for k in range(d):
        g1[k] *= w
        if both:
            g2[k] *= w


@kernel
def full_eval(pd, x, g):
    """g <- grad f(x), the mean over all m components; returns f(x). O(m d)."""
    A = pd.A
    p, q, omega, sd = pd.p[0], pd.p[1], pd.p[2], pd.p[3]
    m = A.shape[0]
    d = x.shape[0]
    qo = q * omega
    for k in range(d):
        g[k] = 0.0
    total = 0.0
    for i in range(m):
        a = A[i]
        for k in range(d):
            u = sd * x[k] + a[k]
            g[k] += p * u + qo * math.sin(omega * u)
            total += 0.5 * p * u * u + q * (1.0 - math.cos(omega * u))
    w = 1.0 / (m * sd)
    for k in range(d):
        g[k] *= w
    return total / (m * d)


def perturbations(instance_seed, m, d, s):
    """The m x d perturbation matrix: row i is s times the first d standard normals of the
    stream ``SeedSequence(instance_seed).spawn(...)[i]`` (built directly from its spawn key),
    so it depends only on (instance_seed, i) and is a prefix of the rows of larger d."""
    A = np.empty((m, d))
    for i in range(m):
        child = np.random.SeedSequence(instance_seed, spawn_key=(i,))
        A[i] = np.random.default_rng(child).standard_normal(d)
    return s * A


def _golden_min(fun, lo, hi, iterations=GOLDEN_ITERATIONS):
    """Vectorized golden-section search: for each bracket [lo_j, hi_j] the minimizer of
    fun(j-th bracket, t); returns (t, fun(t))."""
    phi = (math.sqrt(5.0) - 1.0) / 2.0
    lo, hi = lo.copy(), hi.copy()
    a = hi - phi * (hi - lo)
    b = lo + phi * (hi - lo)
    fa, fb = fun(a), fun(b)
    for _ in range(iterations):
        left = fa < fb  # the minimum lies in [lo, b]
        hi = np.where(left, b, hi)
        lo = np.where(left, lo, a)
        b_new = np.where(left, a, lo + phi * (hi - lo))
        a_new = np.where(left, hi - phi * (hi - lo), b)
        fb_new = np.where(left, fa, np.nan)
        fa_new = np.where(left, np.nan, fb)
        need_a, need_b = left, ~left
        if need_a.any():
            fa_new[need_a] = fun(a_new, need_a)
        if need_b.any():
            fb_new[need_b] = fun(b_new, need_b)
        a, b, fa, fb = a_new, b_new, fa_new, fb_new
    t = 0.5 * (lo + hi)
    return t, fun(t)


def grid_golden_min(profile, d, lo, hi, n=GRID_POINTS):
    """Minimize d 1-D functions t -> profile(k, t) on [lo, hi] (same interval for all k).

    Every strict local minimum of the grid values (and each column's grid argmin) is
    refined by golden section on its two neighbouring grid cells; the best result per
    coordinate is kept (never worse than the grid minimum). ``profile(ks, t)`` evaluates
    coordinates ``ks`` at points ``t`` elementwise (broadcasting). Returns (t_min, f_min),
    arrays of length d.
    """
    t = np.linspace(lo, hi, n)
    best_t = np.empty(d)
    best_f = np.empty(d)
    block = max(1, _GRID_BLOCK // n)
    for k0 in range(0, d, block):
        ks = np.arange(k0, min(d, k0 + block))
        V = profile(ks[None, :], t[:, None])  # (n, block)
        jmin = np.argmin(V, axis=0)
        best_t[ks] = t[jmin]
        best_f[ks] = V[jmin, np.arange(ks.size)]
        inner = (V[1:-1] < V[:-2]) & (V[1:-1] <= V[2:])
        j, c = np.nonzero(inner)
        j = np.concatenate([j + 1, jmin])
        c = np.concatenate([c, np.arange(ks.size)])
        kc = ks[c]
        lo_c, hi_c = t[np.maximum(j - 1, 0)], t[np.minimum(j + 1, n - 1)]

        def fun(u, sel=None, kc=kc):
            return profile(kc if sel is None else kc[sel], u if sel is None else u[sel])

        tc, fc = _golden_min(fun, lo_c, hi_c)
        order = np.lexsort((fc, kc))  # by coordinate, then by value: the first of each is its best
        k_sorted, first = np.unique(kc[order], return_index=True)
        pick = order[first]
        better = fc[pick] < best_f[k_sorted]
        best_f[k_sorted[better]] = fc[pick][better]
        best_t[k_sorted[better]] = tc[pick][better]
    return best_t, best_f


class SeparableSum(Problem):
    name = "separable-sum"
    kind = FINITE_SUM
    summary = ("finite sum of m perturbed copies of the separable profile of smoothed-separable; "
               "nested i.i.d. draws, so L, dispersion and Delta hold when m or d is swept")
    citation = ("synthetic test family: p y^2/2 + q(1 - cos omega y) per coordinate, isotropically "
                "scaled in d, with fixed Gaussian perturbations per component (a finite-sum "
                "counterpart of the Gaussian-smoothed separable function)")
    d_scaling = (
        "Isotropic and nested: f_d(x) = (1/d) sum_k hbar_k(sqrt(d) x_k), every y_k = sqrt(d) x_k "
        "starting at y0, and each coordinate's perturbations A_ik i.i.d. N(0, s^2) from a stream "
        "that depends only on (instance_seed, i), so the (m, d) instance is a block of every larger "
        "one. L = L_ms = L_max = p + q omega^2 exactly for every m and d; the dispersion bound sigma, "
        "Delta and ||x0 - x*||_2 are means over k of per-coordinate quantities, which are i.i.d. "
        "across k with O(1/sqrt(m)) spread around their m -> infinity limits (the smoothed-separable "
        "values), so they do not drift with d and move with m only by that fluctuation; "
        "||grad f||_1 = sqrt(d) mean_k |hbar_k'(y_k)|: the finite-sum family to use for d- and "
        "m-exponents."
    )
    params = (
        Param("d", 16, check_positive_int, "dimension"),
        Param("m", 128, check_positive_int, "number of components"),
        Param("p", 1.0, check_nonnegative, "quadratic weight (0 gives bounded gradients)"),
        Param("q", 4.0, check_nonnegative, "weight of the cosine ripple"),
        Param("omega", 1.5, check_positive, "frequency of the ripple"),
        Param("s", 0.5, check_nonnegative,
              "std of the component perturbations A_ik; the dispersion of the components grows with it"),
        Param("y0", 3.0, lambda n, v: check_real(n, v), "start, in the scaled coordinates y = sqrt(d) x"),
        Param("instance_seed", 0, check_nonnegative_int, "seed of the perturbations (not of the run)"),
        Param("start", "uniform", lambda n, v: check_choice(n, v, START_CHOICES), START_HELP),
    )
    sample_width = 0

    def build(self, d, m, p, q, omega, s, y0, instance_seed, start):
        self.d, self.m = d, m
        self.sd = math.sqrt(d)
        self.p, self.q, self.omega, self.s, self.y0 = p, q, omega, s, y0
        self.A = perturbations(instance_seed, m, d, s)
        self.data = pack(SEPARABLE_SUM, A=self.A, p=[p, q, omega, self.sd])
        self._profiles = None
        self._stats = None
        self.y_start = start_point(start, d, y0, lambda: self.coordinate_constants()["y_star"])
        self.x0 = self.y_start / self.sd

    def draw_samples(self, rng, shape):
        return rng.integers(0, self.m, size=shape), np.empty(tuple(shape) + (0,))

    # 1-D profile ----------------------------------------------------------------------------
    def h(self, u):
        return 0.5 * self.p * u**2 + self.q * (1.0 - np.cos(self.omega * u))

    def h_grad(self, u):
        return self.p * u + self.q * self.omega * np.sin(self.omega * u)

    def column_statistics(self):
        """Per coordinate k (computed once): abar_k, v_k (mean and (1/m)-variance of A[:, k]),
        C_k, S_k (the real and imaginary parts of (1/m) sum_i exp(i omega A_ik)) and the 3 x 3
        covariance of (A_ik, cos omega A_ik, sin omega A_ik) over i, as an array (d, 3, 3)."""
        if self._stats is None:
            self._stats = self._column_statistics()
        return self._stats

    def _column_statistics(self):
        A, w = self.A, self.omega
        U = np.stack([A, np.cos(w * A), np.sin(w * A)], axis=2)  # (m, d, 3)
        mean = U.mean(axis=0)
        Uc = U - mean
        cov = np.einsum("mki,mkj->kij", Uc, Uc) / self.m
        return {"abar": mean[:, 0], "v": cov[:, 0, 0], "C": mean[:, 1], "S": mean[:, 2], "cov": cov}

    def profile(self, ks, y, stats=None):
        """hbar_k(y) in closed form, for coordinates ``ks`` at ``y`` (broadcast)."""
        st = self.column_statistics() if stats is None else stats
        w = self.omega
        return (0.5 * self.p * ((y + st["abar"][ks]) ** 2 + st["v"][ks])
                + self.q * (1.0 - st["C"][ks] * np.cos(w * y) + st["S"][ks] * np.sin(w * y)))

    def dispersion(self, ks, y, stats=None):
        """V_k(y) = (1/m) sum_i (h'(y + A_ik) - hbar_k'(y))^2 in closed form, for ``ks`` at ``y``."""
        st = self.column_statistics() if stats is None else stats
        qo = self.q * self.omega
        M = st["cov"][ks]
        wa, ws, wc = self.p, qo * np.sin(self.omega * y), qo * np.cos(self.omega * y)
        return (wa * wa * M[..., 0, 0] + ws * ws * M[..., 1, 1] + wc * wc * M[..., 2, 2]
                + 2.0 * (wa * ws * M[..., 0, 1] + wa * wc * M[..., 0, 2] + ws * wc * M[..., 1, 2]))

    def coordinate_constants(self):
        """Per-coordinate quantities (arrays of length d) whose means over k are the constants:
        ``f_star`` = min_y hbar_k, ``y_star`` (the minimizer, nearest to y0 when p = 0),
        ``dispersion_max`` = max_y V_k(y) (attained at ``y_dispersion_max``),
        ``dispersion_at_star`` = V_k(y_star),
        ``curvature_max`` = p + q omega^2 |c_k| and ``curvature_min`` = p - q omega^2 |c_k| (the
        extremes of hbar_k'')."""
        if self._profiles is not None:
            return self._profiles
        st = self.column_statistics()
        d, p, q, w = self.d, self.p, self.q, self.omega
        modulus = np.hypot(st["C"], st["S"])
        if p > 0.0:
            # hbar_k(y) >= p ((y + abar_k)^2 + v_k) / 2 + q (1 - |c_k|), with equality at the well
            # bottoms (cos(omega y + phi_k) = 1), one of which lies within pi / omega of -abar_k:
            # every minimizer has |y + abar_k| <= pi / omega. Search t = y + abar_k there.
            Y = 1.05 * math.pi / w
            t_star, f_star = grid_golden_min(
                lambda ks, t: self.profile(ks, t - st["abar"][ks], st), d, -Y, Y)
            y_star = t_star - st["abar"]
        else:
            # hbar_k = q (1 - |c_k| cos(omega y + phi_k)): minimizers y = (2 pi j - phi_k) / omega
            period = 2.0 * math.pi / w
            phase = np.arctan2(st["S"], st["C"])
            y_star = -phase / w + period * np.round((self.y0 + phase / w) / period)
            if q == 0.0:
                y_star = np.full(d, self.y0)
            y_star = np.where(modulus > 0.0, y_star, self.y0)
            f_star = q * (1.0 - modulus)
        # max_y V_k = -min_theta (-V_k), theta = omega y over more than one period
        theta, neg = grid_golden_min(lambda ks, th: -self.dispersion(ks, th / w, st), d,
                                     -1.0, 2.0 * math.pi + 1.0, n=4097)
        ks = np.arange(d)
        self._profiles = {
            "f_star": f_star,
            "y_star": y_star,
            "dispersion_max": np.maximum(-neg, 0.0),
            "y_dispersion_max": theta / w,
            "dispersion_at_star": np.maximum(self.dispersion(ks, y_star, st), 0.0),
            "curvature_max": p + q * w**2 * modulus,
            "curvature_min": p - q * w**2 * modulus,
        }
        return self._profiles

    # NumPy reference oracles ----------------------------------------------------------------
    def sample_grads(self, x, idx, z=None):
        u = self.sd * np.asarray(x, dtype=float)[None, :] + self.A[np.asarray(idx)]
        return self.h_grad(u) / self.sd

    def full_grad(self, x):
        return self.sample_grads(x, np.arange(self.m)).mean(axis=0)

    def value(self, x):
        u = self.sd * np.asarray(x, dtype=float)[None, :] + self.A
        return float(np.mean(self.h(u)))

    # Constants ------------------------------------------------------------------------------
    def compute_constants(self):
        p, q, w = self.p, self.q, self.omega
        L = p + q * w**2
        per = self.coordinate_constants()
        f_star = float(np.mean(per["f_star"]))
        f_x0 = self.value(self.x0)
        G = self.sample_grads(self.x0, np.arange(self.m))
        sigma_x0 = float(np.sqrt(np.mean(np.sum((G - G.mean(axis=0)) ** 2, axis=1))))
        bounded = p == 0.0
        return {
            "L": L,
            "L_ms": L,
            "L_max": L,
            "L_f": float(np.max(per["curvature_max"])),
            "region": "all of R^d",
            "sigma": float(math.sqrt(np.mean(per["dispersion_max"]))),
            "sigma_at_x0": sigma_x0,
            "sigma_at_argmin": float(math.sqrt(np.mean(per["dispersion_at_star"]))),
            "G_inf": q * w / self.sd if bounded else None,
            "G_inf_note": ("q omega / sqrt(d) everywhere" if bounded
                           else "unbounded: h' grows linearly when p > 0"),
            "f_x0": f_x0,
            "f_star": f_star,
            "f_star_lower": f_star,
            "f_star_exact": True,
            "f_star_note": ("separable: each coordinate's profile hbar_k minimized in closed form "
                            "(p = 0) or on a grid refined by golden section in every grid basin"),
            "delta": f_x0 - f_star,
            "dist_x0_to_argmin": float(math.sqrt(np.mean((self.y_start - per["y_star"]) ** 2))),
            "nonconvex": bool(np.any(per["curvature_min"] < 0.0)),
        }
