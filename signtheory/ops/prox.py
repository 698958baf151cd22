"""Proximal operators with exact, closed-form or direct solutions.

prox_g(z) = argmin_x 1/2 ||x - z||_2^2 + g(x). Each compiled kernel writes its
result into ``out`` (which may be ``z`` itself) and has a plain NumPy (or plain
Python) twin, suffixed ``_np``, that performs the same floating-point operations
in the same order, so the compiled methods and their NumPy references see
identical numbers.

Pair terms
    g(x) = w sum_{(a, b)} |x_a - x_b| over *disjoint* pairs. The problem splits
    into one 2-variable problem per pair, solved in closed form by
    :func:`pair_prox`: both values move towards each other by w, or meet at their
    midpoint when they are at most 2w apart. Entries in no pair are unchanged.
    :func:`prox_pairs` takes the pairs as index arrays; :func:`prox_grid_pairs`
    takes every other neighbouring pair along one axis of a row-major image,
    which is how anisotropic total variation splits into K_r = 2 (1-D) or 4 (2-D)
    terms with disjoint pairs (U. S. Kamilov, "A Parallel Proximal Algorithm for
    Anisotropic Total Variation Minimization", IEEE Trans. Image Process. 26(2),
    2017).
Soft thresholding
    g(x) = t ||x||_1 (:func:`soft_threshold`), or on the coordinates
    start, start + step, ... only (:func:`soft_threshold_every`, a block of an
    interleaved split of the l1 norm).
1-D total variation
    g(x) = lam sum_k |x_{k+1} - x_k|, solved exactly by L. Condat's direct
    algorithm ("A Direct Algorithm for 1-D Total Variation Denoising", IEEE
    Signal Process. Lett. 20(11), 2013) in :func:`prox_tv1d`: linear time in
    practice, quadratic in the worst case.

With a zero weight every operator returns its input bit for bit, so a composite
method with r = 0 makes exactly the steps of its smooth counterpart.
"""

import numpy as np

from .._jit import kernel


@kernel
def pair_prox(za, zb, w):
    """prox of w |x_a - x_b| at (za, zb), returned as (x_a, x_b).

    The pair meets at its midpoint when |zb - za| <= 2w; otherwise each value moves
    by w towards the other, which is a move of min(w, |zb - za|/2)."""
    gap = zb - za
    if 2.0 * w >= abs(gap):
        mid = 0.5 * (za + zb)
        return mid, mid
    if gap > 0.0:
        return za + w, zb - w
    return za - w, zb + w


def pair_prox_np(za, zb, w):
    """NumPy twin of :func:`pair_prox`, elementwise over arrays of pairs."""
    za = np.asarray(za, dtype=np.float64)
    zb = np.asarray(zb, dtype=np.float64)
    gap = zb - za
    merge = 2.0 * w >= np.abs(gap)
    mid = 0.5 * (za + zb)
    up = gap > 0.0
    a = np.where(merge, mid, np.where(up, za + w, za - w))
    b = np.where(merge, mid, np.where(up, zb - w, zb + w))
    return a, b


@kernel
def prox_pairs(z, w, first, second, out):
    """out <- prox of w sum_p |x[first[p]] - x[second[p]]| at z (pairs must be disjoint)."""
    for k in range(z.shape[0]):
        out[k] = z[k]
    for p in range(first.shape[0]):
        a = first[p]
        b = second[p]
        out[a], out[b] = pair_prox(z[a], z[b], w)


def prox_pairs_np(z, w, first, second):
    out = np.array(z, dtype=np.float64)
    first = np.asarray(first, dtype=np.int64)
    second = np.asarray(second, dtype=np.int64)
    out[first], out[second] = pair_prox_np(out[first], out[second], w)
    return out


@kernel
def prox_grid_pairs(z, w, rows, cols, vertical, parity, out):
    """out <- prox of w sum |x_p - x_q| over one parity class of neighbouring pairs.

    z is a rows x cols image stored row-major (a 1-D signal is one row). Horizontal
    pairs join (i, j) and (i, j + 1) for j = parity, parity + 2, ...; vertical pairs
    join (i, j) and (i + 1, j) for i = parity, parity + 2, ... These pairs are
    disjoint, so the prox is the closed form of :func:`pair_prox` on each."""
    for k in range(z.shape[0]):
        out[k] = z[k]
    if vertical:
        for i in range(parity, rows - 1, 2):
            for j in range(cols):
                a = i * cols + j
                b = a + cols
                out[a], out[b] = pair_prox(z[a], z[b], w)
    else:
        for i in range(rows):
            for j in range(parity, cols - 1, 2):
                a = i * cols + j
                out[a], out[a + 1] = pair_prox(z[a], z[a + 1], w)


def grid_pairs(rows, cols, vertical, parity):
    """The (first, second) index arrays of the pairs :func:`prox_grid_pairs` uses."""
    idx = np.arange(rows * cols, dtype=np.int64).reshape(rows, cols)
    if vertical:
        first = idx[parity:rows - 1:2, :].ravel()
        return first, first + cols
    first = idx[:, parity:cols - 1:2].ravel()
    return first, first + 1


def prox_grid_pairs_np(z, w, rows, cols, vertical, parity):
    first, second = grid_pairs(rows, cols, vertical, parity)
    return prox_pairs_np(z, w, first, second)


@kernel
def soft(u, t):
    """The scalar soft threshold sign(u) max(|u| - t, 0)."""
    if u > t:
        return u - t
    if u < -t:
        return u + t
    return 0.0 if t > 0.0 else u


@kernel
def soft_threshold(z, t, out):
    """out <- prox of t ||x||_1 at z."""
    for k in range(z.shape[0]):
        out[k] = soft(z[k], t)


@kernel
def soft_threshold_every(z, t, start, step, out):
    """out <- prox of t sum_j |x_j| over j = start, start + step, ... (others unchanged)."""
    for k in range(z.shape[0]):
        out[k] = z[k]
    for k in range(start, z.shape[0], step):
        out[k] = soft(z[k], t)


def soft_threshold_np(z, t):
    z = np.asarray(z, dtype=np.float64)
    if t > 0.0:
        return np.where(z > t, z - t, np.where(z < -t, z + t, 0.0))
    return z.copy()


def soft_threshold_every_np(z, t, start, step):
    out = np.array(z, dtype=np.float64)
    out[start::step] = soft_threshold_np(out[start::step], t)
    return out


@kernel
def prox_tv1d(y, lam, out):
    """out <- argmin_x 1/2 ||x - y||^2 + lam sum_k |x_{k+1} - x_k| (exact).

    Condat's direct algorithm: it sweeps the signal once, keeping for the current
    segment [k0, k] the range [vmin, vmax] of values it may still take and the
    running dual variables umin, umax; a segment is closed (written to ``out``)
    as soon as no single value fits, at the last position kminus (negative jump)
    or kplus (positive jump) where the corresponding bound was tight. ``out``
    must not be ``y``."""
    n = y.shape[0]
    if n == 0:
        return
    if lam <= 0.0:
        for k in range(n):
            out[k] = y[k]
        return
    k = 0
    k0 = 0
    kplus = 0
    kminus = 0
    umin = lam
    umax = -lam
    vmin = y[0] - lam
    vmax = y[0] + lam
    while True:
        while k == n - 1:  # right end: close the last segment(s)
            if umin < 0.0:  # vmin too high: a negative jump at kminus
                while True:
                    out[k0] = vmin
                    k0 += 1
                    if k0 > kminus:
                        break
                k = k0
                kminus = k0
                vmin = y[k0]
                umin = lam
                umax = vmin + umin - vmax
            elif umax > 0.0:  # vmax too low: a positive jump at kplus
                while True:
                    out[k0] = vmax
                    k0 += 1
                    if k0 > kplus:
                        break
                k = k0
                kplus = k0
                vmax = y[k0]
                umax = -lam
                umin = vmax + umax - vmin
            else:
                vmin += umin / (k - k0 + 1)
                while k0 <= k:
                    out[k0] = vmin
                    k0 += 1
                return
        umin += y[k + 1] - vmin
        if umin < -lam:  # negative jump needed: close the segment at kminus
            while True:
                out[k0] = vmin
                k0 += 1
                if k0 > kminus:
                    break
            k = k0
            kplus = k0
            kminus = k0
            vmin = y[k0]
            vmax = vmin + 2.0 * lam
            umin = lam
            umax = -lam
            continue
        umax += y[k + 1] - vmax
        if umax > lam:  # positive jump needed: close the segment at kplus
            while True:
                out[k0] = vmax
                k0 += 1
                if k0 > kplus:
                    break
            k = k0
            kplus = k0
            kminus = k0
            vmax = y[k0]
            vmin = vmax - 2.0 * lam
            umin = lam
            umax = -lam
            continue
        k += 1  # no jump: extend the segment
        if umin >= lam:
            kminus = k
            vmin += (umin - lam) / (kminus - k0 + 1)
            umin = lam
        if umax <= -lam:
            kplus = k
            vmax += (umax + lam) / (kplus - k0 + 1)
            umax = -lam


def prox_tv1d_np(y, lam):
    """NumPy-side twin of :func:`prox_tv1d`: the kernel's own Python source, run by the
    interpreter (the same operations in the same order, without compilation)."""
    y = np.asarray(y, dtype=np.float64)
    out = np.empty_like(y)
    prox_tv1d.py_func(y, float(lam), out)
    return out


def tv1d_certificate(y, x, lam):
    """The optimality certificate of x = prox of lam TV at y (1-D).

    x is optimal iff y - x = D^T u with (D x)_k = x_{k+1} - x_k, |u_k| <= lam, and
    u_k = lam sign(x_{k+1} - x_k) wherever x jumps. u is then minus the running sum
    of y - x. Returns (u, total) where ``total`` = sum(y - x) must be 0."""
    r = np.asarray(y, dtype=np.float64) - np.asarray(x, dtype=np.float64)
    s = np.cumsum(r)
    return -s[:-1], float(s[-1]) if s.size else 0.0
