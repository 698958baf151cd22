"""``tv1d-denoise`` and ``tv2d-denoise``: anisotropic total-variation deblurring.

A planted piecewise-constant signal (1-D) or image (2-D) y_nat in pixel units is
blurred by a Gaussian kernel and observed with noise, b_pix = H y_nat + noise eps.
The classical per-pixel objective is

    F_pix(y) = 1/2 ||H y - b_pix||^2 + mu sum_k psi(y_k) + lam TV(y),

with psi(u) = u^2/(1+u^2) (nonconvex) and the anisotropic TV(y) = sum of
|y_p - y_q| over horizontally and vertically neighbouring pixels. The problem is
posed in the isotropically scaled variable x = y / sqrt(d) with
F(x) = F_pix(sqrt(d) x) / d, i.e.

    D(x) = 1/2 ||H x - b||^2 + (mu/d) sum_k psi(sqrt(d) x_k),   b = b_pix / sqrt(d),
    r(x) = (lam/sqrt(d)) TV(x).

H is the zero-padded convolution with a symmetric Gaussian kernel of standard
deviation ``blur`` pixels (separable in 2-D), so H is symmetric and
||H||_2 <= 1. A sample is a coordinate i ~ Unif{1..d} and xi ~ N(0, 1), and its
gradient is grad D(x) + sigma xi e_i: additive noise with mean 0 and covariance
(sigma^2/d) I, the covariance of dense Gaussian noise of total standard
deviation sigma, at the cost of one coordinate per sample (the batch of B = T
samples of SPGM and signProx stays cheap; a batch of B >> d samples is close to
Gaussian in every coordinate).

Split of r (U. S. Kamilov, IEEE Trans. Image Process. 26(2), 2017): the pairs of
one axis and one parity (first pixel at an even or odd position along that axis)
are disjoint, so r = (1/K_r) sum_k r_k with r_k = K_r (lam/sqrt(d)) TV_k has a
closed-form prox per term: K_r = 2 in 1-D (even, odd), 4 in 2-D (horizontal
even, horizontal odd, vertical even, vertical odd; term k has axis k // 2 and
parity k % 2). The exact prox of r is Condat's algorithm in 1-D; in 2-D the
measure uses the averaged prox.
"""

import math

import numpy as np
from scipy.linalg import eigvals_banded
from scipy.special import ndtr

from ..._jit import kernel
from ...ops.prox import prox_grid_pairs, prox_grid_pairs_np, prox_tv1d, prox_tv1d_np
from ...validation import (
    check_choice,
    check_nonnegative,
    check_nonnegative_int,
    check_positive,
    check_positive_int,
)
from .. import regularizer as reg
from ..base import STOCHASTIC, Param
from ..data import TV1D, TV2D, pack
from .base import (
    N_PARAMS,
    P_AVERAGED,
    P_COLS,
    P_GAMMA,
    P_LAM,
    P_MU,
    P_ROWS,
    P_SIGMA,
    P_TERMS,
    CompositeProblem,
    check_gamma_eval,
    huber_minimize,
)

# ------------------------------------------------------------------------------------------------
# Compiled kernels
# ------------------------------------------------------------------------------------------------


@kernel
def blur(w, rows, cols, x, tmp, out):
    """out <- H x for a rows x cols image (row-major): the zero-padded convolution with
    the symmetric taps w (length 2R + 1) along each row, then along each column when
    rows > 1. ``tmp`` is scratch; ``out`` must differ from ``x`` and ``tmp``."""
    R = (w.shape[0] - 1) // 2
    src = x
    if R == 0:
        for k in range(x.shape[0]):
            out[k] = w[0] * x[k]
        return
    for i in range(rows):
        base = i * cols
        for j in range(cols):
            lo = max(0, j - R)
            hi = min(cols - 1, j + R)
            s = 0.0
            for jj in range(lo, hi + 1):
                s += w[jj - j + R] * src[base + jj]
            tmp[base + j] = s
    if rows == 1:
        for k in range(cols):
            out[k] = tmp[k]
        return
    for i in range(rows):
        lo = max(0, i - R)
        hi = min(rows - 1, i + R)
        base = i * cols
        for j in range(cols):
            out[base + j] = 0.0
        for ii in range(lo, hi + 1):
            wi = w[ii - i + R]
            other = ii * cols
            for j in range(cols):
                out[base + j] += wi * tmp[other + j]


@kernel
def smooth_eval(pd, x, g):
    """g <- grad D(x); returns D(x)."""
    rows = int(pd.p[P_ROWS])
    cols = int(pd.p[P_COLS])
    mu = pd.p[P_MU]
    d = x.shape[0]
    tmp = np.empty(d)
    r = np.empty(d)
    blur(pd.c, rows, cols, x, tmp, r)  # r = H x - b
    val = 0.0
    for k in range(d):
        r[k] -= pd.b[k]
        val += r[k] * r[k]
    val *= 0.5
    blur(pd.c, rows, cols, r, tmp, g)  # g = H^T (H x - b), H symmetric
    if mu != 0.0:
        s = math.sqrt(d)
        acc = 0.0
        for k in range(d):
            y = s * x[k]
            q = 1.0 + y * y
            g[k] += (mu / s) * 2.0 * y / (q * q)
            acc += y * y / q
        val += (mu / d) * acc
    return val


@kernel
def batch_grads(pd, x1, x2, idx, z, both, g1, g2):
    """Mean sample gradient at x1 (and x2 when ``both``): grad D + (sigma/B) sum_b xi_b e_{i_b}."""
    smooth_eval(pd, x1, g1)
    if both:
        smooth_eval(pd, x2, g2)
    B = idx.shape[0]
    sigma = pd.p[P_SIGMA]
    if B == 0 or sigma == 0.0:
        return
    d = x1.shape[0]
    acc = np.zeros(d)
    for j in range(B):
        acc[idx[j]] += z[j, 0]
    c = sigma / B
    for k in range(d):
        if acc[k] != 0.0:
            g1[k] += c * acc[k]
            if both:
                g2[k] += c * acc[k]


@kernel
def reg_value(pd, x):
    """r(x) = lam_eff * (sum of |x_p - x_q| over all neighbouring pairs)."""
    rows = int(pd.p[P_ROWS])
    cols = int(pd.p[P_COLS])
    total = 0.0
    for i in range(rows):
        for j in range(cols - 1):
            a = i * cols + j
            total += abs(x[a + 1] - x[a])
    for i in range(rows - 1):
        for j in range(cols):
            a = i * cols + j
            total += abs(x[a + cols] - x[a])
    return pd.p[P_LAM] * total


@kernel
def prox_term(pd, k, z, gamma, out):
    """out <- prox of gamma r_k at z: term k joins the pairs of axis k // 2 and parity k % 2,
    each with weight gamma K_r lam_eff."""
    K = int(pd.p[P_TERMS])
    prox_grid_pairs(z, gamma * K * pd.p[P_LAM], int(pd.p[P_ROWS]), int(pd.p[P_COLS]), k >= 2, k % 2, out)


@kernel
def prox_exact(pd, z, gamma, out):
    """out <- prox of gamma r at z, exact for a 1-D signal (Condat's algorithm)."""
    prox_tv1d(z, gamma * pd.p[P_LAM], out)


# ------------------------------------------------------------------------------------------------
# Problem classes
# ------------------------------------------------------------------------------------------------


def gaussian_taps(blur_std: float) -> np.ndarray:
    """Symmetric taps exp(-j^2 / (2 s^2)), |j| <= ceil(3 s), normalised to sum 1 ([1] for s = 0)."""
    if blur_std == 0.0:
        return np.ones(1)
    R = max(1, math.ceil(3.0 * blur_std))
    j = np.arange(-R, R + 1, dtype=np.float64)
    w = np.exp(-(j**2) / (2.0 * blur_std**2))
    return w / w.sum()


def toeplitz_blur(taps: np.ndarray, n: int) -> np.ndarray:
    """The n x n zero-padded convolution matrix of symmetric ``taps``."""
    R = (taps.size - 1) // 2
    H = np.zeros((n, n))
    for off in range(-R, R + 1):
        if abs(off) < n:
            H += np.diag(np.full(n - abs(off), taps[off + R]), off)
    return H


def blur_spectrum(taps: np.ndarray, n: int) -> tuple[float, float]:
    """(min |lambda|, max |lambda|) over the eigenvalues of the n x n blur matrix
    (symmetric banded, so this is cheap for any n)."""
    R = min((taps.size - 1) // 2, n - 1)
    band = np.zeros((R + 1, n))
    for off in range(R + 1):  # lower form: band[off, j] = H[j + off, j]
        band[off, : n - off] = taps[off + (taps.size - 1) // 2]
    ev = eigvals_banded(band, lower=True)
    return float(np.min(np.abs(ev))), float(np.max(np.abs(ev)))


def check_square(name, value):
    """An integer d = side^2 with side >= 2 (the image is side x side)."""
    value = check_positive_int(name, value)
    side = math.isqrt(value)
    if side < 2 or side * side != value:
        from ...errors import InvalidParameterError

        raise InvalidParameterError(name, value, "must be a perfect square side^2 with side >= 2 "
                                                 "(the image is side x side), e.g. 16, 64, 256, 1024")
    return value


class _TVDenoise(CompositeProblem):
    kind = STOCHASTIC
    ndim = 1
    code = TV1D
    citation = ("X. Xu, U. S. Kamilov, signProx: One-Bit Proximal Algorithm for Nonconvex Stochastic "
                "Optimization, ICASSP 2019, arXiv 1807.08023; TV split: U. S. Kamilov, IEEE Trans. "
                "Image Process. 26(2), 2017; exact 1-D prox: L. Condat, IEEE Signal Process. Lett. "
                "20(11), 2013")
    regularizer = "r(x) = (lam/sqrt(d)) TV(x), the anisotropic total variation"

    def shape(self, d):
        raise NotImplementedError  # pragma: no cover

    def planted(self, rng, rows, cols, pieces):
        raise NotImplementedError  # pragma: no cover

    def build(self, d, pieces, radius, noise, blur, mu, lam, sigma, gamma_eval, instance_seed, mapping="exact"):
        rows, cols = self.shape(d)
        rng = np.random.default_rng([instance_seed, self.code])
        self.d, self.m = d, None
        self.rows, self.cols = rows, cols
        self.sample_width = 1
        y_nat = self.planted(rng, rows, cols, pieces)
        rms = float(np.sqrt(np.mean(y_nat**2)))
        if rms > 0:
            y_nat = y_nat * (radius / rms)
        self.y_nat = y_nat
        self.x_nat = y_nat.ravel() / math.sqrt(d)
        self.taps = gaussian_taps(blur)
        side = cols if self.ndim == 1 else rows
        self.H1 = toeplitz_blur(self.taps, side)
        self.b = self.blur_np(self.x_nat) + (noise / math.sqrt(d)) * rng.standard_normal(d)
        self.mu, self.lam, self.sigma = mu, lam, sigma
        self.lam_eff = lam / math.sqrt(d)
        lo, hi = blur_spectrum(self.taps, side)
        self.L_data = hi ** (2 * self.ndim)  # eigenvalues of H^2 = (H1 kron H1)^2 in 2-D
        self.curvature_data_min = lo ** (2 * self.ndim)
        self.L = self.L_data + reg.PSI_CURVATURE_MAX * mu
        gamma = 1.0 / self.L if gamma_eval is None else gamma_eval
        self.x0 = np.zeros(d)
        p = np.zeros(N_PARAMS)
        p[P_MU], p[P_LAM], p[P_GAMMA] = mu, self.lam_eff, gamma
        p[P_TERMS] = 2 * self.ndim
        p[P_AVERAGED] = 1.0 if (self.ndim == 2 or mapping == "averaged") else 0.0
        p[P_SIGMA], p[P_ROWS], p[P_COLS] = sigma, rows, cols
        self.data = pack(self.code, b=self.b, c=self.taps, p=p)

    # NumPy reference oracles of D -----------------------------------------------------------
    def blur_np(self, x):
        if self.ndim == 1:
            return self.H1 @ x
        X = np.asarray(x).reshape(self.rows, self.cols)
        return (self.H1 @ X @ self.H1).ravel()

    def blur_matrix(self):
        """The dense d x d matrix H (for tests and small instances)."""
        return self.H1 if self.ndim == 1 else np.kron(self.H1, self.H1)

    def draw_samples(self, rng, shape):
        """Two normals per sample, read in sample order (so chunked draws equal one draw):
        the first gives the coordinate i = floor(Phi(n_1) d), the second is xi."""
        n = rng.standard_normal(tuple(shape) + (2,))
        idx = np.minimum(np.floor(ndtr(n[..., 0]) * self.d), self.d - 1).astype(np.int64)
        return idx, np.ascontiguousarray(n[..., 1:])

    def full_grad(self, x):
        """grad D(x) (the smooth part; see :mod:`signtheory.problems.composite.base`)."""
        x = np.asarray(x, dtype=np.float64)
        s = math.sqrt(self.d)
        return self.blur_np(self.blur_np(x) - self.b) + (self.mu / s) * reg.psi_grad(s * x)

    def sample_grads(self, x, idx, z):
        idx = np.asarray(idx, dtype=np.int64)
        G = np.repeat(self.full_grad(x)[None, :], idx.size, axis=0)
        G[np.arange(idx.size), idx] += self.sigma * np.asarray(z)[:, 0]
        return G

    def value(self, x):
        """D(x) (the smooth part)."""
        x = np.asarray(x, dtype=np.float64)
        s = math.sqrt(self.d)
        r = self.blur_np(x) - self.b
        return float(0.5 * r @ r + (self.mu / self.d) * reg.psi(s * x).sum())

    def pairs(self):
        """(first, second) index arrays of every neighbouring pair (both axes)."""
        idx = np.arange(self.d).reshape(self.rows, self.cols)
        first = [idx[:, :-1].ravel(), idx[:-1, :].ravel()]
        second = [idx[:, 1:].ravel(), idx[1:, :].ravel()]
        return np.concatenate(first), np.concatenate(second)

    def reg_value(self, x):
        first, second = self.pairs()
        x = np.asarray(x, dtype=np.float64)
        return float(self.lam_eff * np.abs(x[second] - x[first]).sum())

    def prox_term(self, k, z, gamma):
        K = self.prox_terms
        return prox_grid_pairs_np(z, gamma * K * self.lam_eff, self.rows, self.cols, k >= 2, k % 2)

    def prox_exact(self, z, gamma):
        if not self.has_exact_prox:
            raise NotImplementedError(f"{self.name} has no exact prox")
        return prox_tv1d_np(z, gamma * self.lam_eff)

    # Constants -----------------------------------------------------------------------------
    def minimize(self):
        """Candidate minimizers of F: smoothed-TV L-BFGS runs from x0, x_nat and b."""
        first, second = self.pairs()

        def fg(x):
            return self.value(x), self.full_grad(x)

        starts = [self.x0, self.x_nat, self.b.copy()]
        return huber_minimize(fg, first, second, self.lam_eff, starts)

    def compute_constants(self):
        f_x0 = self.objective(self.x0)
        candidates = [self.x0] + self.minimize()
        values = [self.objective(x) for x in candidates]
        f_ref = float(min(values))
        return {
            "L": self.L,
            "L_ms": self.L,
            "L_data": self.L_data,
            "D_curvature_min": self.curvature_data_min - 0.5 * self.mu,
            "region": "all of R^d",
            "sigma": self.sigma,
            "sigma_at_x0": self.sigma,
            "G_inf": None,
            "G_inf_note": "unbounded: the gradient noise is Gaussian",
            "f_x0": f_x0,
            "f_star": f_ref,
            "f_star_lower": 0.0,
            "f_star_exact": False,
            "f_star_note": "best F found by L-BFGS on a Huber-smoothed TV from x0, x_nat and b "
            "(an upper bound on inf F); F >= 0",
            "delta": f_x0 - f_ref,
            "delta_upper": f_x0,
            "gamma_eval": self.gamma_eval,
            "dist_x0_to_x_nat": float(np.linalg.norm(self.x0 - self.x_nat)),
        }


COMMON_PARAMS_TAIL = (
    Param("radius", 1.0, check_positive, "root-mean-square level of the planted signal, in pixel units"),
    Param("noise", 0.3, check_nonnegative, "per-pixel standard deviation of the observation noise"),
    Param("blur", 1.0, check_nonnegative, "standard deviation of the Gaussian blur, in pixels (0: none)"),
    Param("mu", 0.5, check_nonnegative, "weight of the nonconvex regularizer mu sum psi(y_k) in D"),
    Param("lam", 0.05, check_nonnegative, "per-pixel weight of the total variation"),
    Param("sigma", 1.0, check_nonnegative, "standard deviation (l2, total) of the additive gradient noise"),
    Param("gamma_eval", None, check_gamma_eval, "gamma of the measured gradient mapping (default 1/L)"),
    Param("instance_seed", 0, check_nonnegative_int, "seed of the signal and the observation (not of the run)"),
)

D_SCALING = (
    "F(x) = F_pix(sqrt(d) x)/d with F_pix the per-pixel objective, the planted signal has "
    "root-mean-square level `radius` in pixel units (||x_nat||_2 = radius) and the gradient noise "
    "has total standard deviation sigma: L <= 1 + 2 mu, sigma, ||x0 - x_nat|| and "
    "f_x0 = ||b||^2/2 ~ (radius^2 + noise^2)/2 do not grow with d. The planted signal has a "
    "fixed number of pieces, so a larger d samples the same kind of signal more finely; the "
    "TV of the per-pixel signal stays of order pieces * radius, and its share of F_pix/d "
    "shrinks like 1/d at fixed lam. ||G||_1 of a spread-out gradient mapping is about "
    "sqrt(d) ||G||_2."
)


class TVDenoise1D(_TVDenoise):
    name = "tv1d-denoise"
    ndim = 1
    code = TV1D
    summary = ("1-D TV deblurring of a piecewise-constant signal: D = blur data fit + nonconvex psi term, "
               "r = TV split into even/odd pair terms (K_r = 2); exact prox by Condat's algorithm")
    split = ("K_r = 2: r_k = 2 (lam/sqrt(d)) sum_{j = k, k+2, ...} |x_{j+1} - x_j| (pairs starting at "
             "even / odd positions), each a sum of disjoint pair terms")
    has_exact_prox = True
    d_scaling = D_SCALING
    params = (
        Param("d", 128, check_positive_int, "signal length"),
        Param("pieces", 8, check_positive_int, "number of constant pieces of the planted signal"),
    ) + COMMON_PARAMS_TAIL + (
        Param("mapping", "exact", lambda n, v: check_choice(n, v, ("exact", "averaged")),
              "prox of the measured gradient mapping: 'exact' (Condat) or 'averaged' (of the 2 terms)"),
    )

    def shape(self, d):
        return 1, d

    def planted(self, rng, rows, cols, pieces):
        pieces = min(pieces, cols)
        cuts = np.sort(rng.choice(np.arange(1, cols), size=pieces - 1, replace=False)) if pieces > 1 else []
        levels = rng.standard_normal(pieces)
        y = np.empty(cols)
        edges = np.concatenate([[0], cuts, [cols]]).astype(int)
        for p in range(pieces):
            y[edges[p]:edges[p + 1]] = levels[p]
        return y[None, :]


class TVDenoise2D(_TVDenoise):
    name = "tv2d-denoise"
    ndim = 2
    code = TV2D
    summary = ("2-D anisotropic TV deblurring of a small piecewise-constant image (d = side^2): "
               "K_r = 4 pair terms (horizontal/vertical x even/odd); measured with the averaged prox")
    split = ("K_r = 4: r_k = 4 (lam/sqrt(d)) TV_k, TV_k the |differences| along axis k // 2 "
             "(0 horizontal, 1 vertical) of the pairs whose first pixel has parity k % 2 on that axis")
    has_exact_prox = False
    d_scaling = D_SCALING
    params = (
        Param("d", 256, check_square, "number of pixels side^2 (the image is side x side)"),
        Param("pieces", 6, check_positive_int, "number of random rectangles added to form the image"),
    ) + COMMON_PARAMS_TAIL

    def shape(self, d):
        side = math.isqrt(d)
        return side, side

    def planted(self, rng, rows, cols, pieces):
        y = np.zeros((rows, cols))
        for _ in range(pieces):
            r0, r1 = np.sort(rng.choice(rows + 1, size=2, replace=False))
            c0, c1 = np.sort(rng.choice(cols + 1, size=2, replace=False))
            y[r0:r1, c0:c1] += rng.standard_normal()
        return y
