"""One-bit compressors: stochastic signs, the scaled sign, the majority vote and
bit packing.

Three layers, all driven by pre-drawn uniform numbers so that every path gives
the very same output on the same draws:

* compiled kernels (used inside method loops): :func:`stochastic_sign`,
  :func:`norm_scaled_stochastic_sign`, :func:`scaled_sign`,
  :func:`majority_vote`, :func:`pack_signs_into`, :func:`unpack_signs_into`;
* Python entry points that validate their input, allocate the output and call
  the kernels: :func:`apply_stochastic_sign`, :func:`apply_norm_scaled_sign`,
  :func:`apply_scaled_sign`, :func:`vote`, :func:`pack_signs`,
  :func:`unpack_signs`;
* plain NumPy twins (the ``reference`` section at the end, suffix ``_np``), used
  by tests and by the NumPy reference implementations of the methods.

Operators
---------
Fixed-radius stochastic sign S_R (Jin et al., arXiv 2002.10940; Safaryan and
Richtarik, arXiv 1905.12938): for |u_k| <= R, independently per coordinate,
S_R(u)_k = +1 with probability (1 + u_k/R)/2 and -1 otherwise, implemented as
``+1 iff unif_k < (1 + u_k/R)/2``. Then E S_R(u) = u/R, Var S_R(u)_k =
1 - u_k^2/R^2, and S_R never outputs 0. A coordinate with |u_k| > R is outside
the operator's domain: the overflow policy either clips it to [-R, R] (counted)
or refuses the input. Porting note: code that writes p = 1/2 + u/b uses b = 2R.

Norm-scaled stochastic sign (SSDM, Safaryan and Richtarik): S_{||u||_2}(u),
unbiased for u/||u||_2, and the zero vector for u = 0.

Scaled sign (error feedback, Karimireddy et al., arXiv 1901.09847):
C(u) = (||u||_1/d) sign(u), with sign(0) = 0. It satisfies
||C(u) - u||_2^2 <= (1 - phi(u)) ||u||_2^2 with phi(u) = ||u||_1^2/(d ||u||_2^2) in
[1/d, 1], with equality when no coordinate of u is 0.

Majority vote (Bernstein et al., arXiv 1810.05291): V = sign(sum_j q^j) over
the rows q^j of an (n, d) array, with the tie rule of
:mod:`signtheory.ops.signs` (``"zero"``, ``"plus"`` or ``"random"``).

Bit packing: one bit per coordinate, +1 -> 1 and -1 -> 0, most significant bit
first within each byte (NumPy's ``packbits`` order), so d coordinates take
ceil(d/8) bytes. A 0 has no code: resolve it with a zero rule (or use a
stochastic sign, which never outputs 0) before packing.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import kernel
from ..errors import InvalidParameterError
from ..validation import check_choice, check_positive, check_positive_int
from .signs import ZERO_RULES, sign_of

OVERFLOW_POLICIES = {"clip": 0, "raise": 1}


def overflow_code(policy: str) -> int:
    return OVERFLOW_POLICIES[check_choice("overflow", policy, OVERFLOW_POLICIES)]


# -- compiled kernels ------------------------------------------------------------------------


@kernel
def stochastic_sign(u, R, unif, out, overflow):
    """out <- S_R(u): out_k = +1 iff unif_k < (1 + u_k/R)/2, else -1.

    ``overflow`` is 0 (clip |u_k| > R to [-R, R]) or 1 (raise). Returns the
    number of clipped coordinates, or -1 when a coordinate is not finite or
    exceeds R under the raise policy (``out`` is then incomplete).
    """
    clipped = 0
    for k in range(u.shape[0]):
        uk = u[k]
        if not math.isfinite(uk):
            return -1
        if uk > R or uk < -R:
            if overflow != 0:
                return -1
            uk = R if uk > 0.0 else -R
            clipped += 1
        out[k] = 1.0 if unif[k] < 0.5 * (1.0 + uk / R) else -1.0
    return clipped


@kernel
def projected_stochastic_sign(u, R, unif, out):
    """out <- S_R(w) with w = u min(1, R / ||u||_2): the stochastic sign of u projected on the
    l2 ball of radius R (SSVR-MV option 2's worker message), which never clips."""
    norm = 0.0
    for k in range(u.shape[0]):
        norm += u[k] * u[k]
    norm = math.sqrt(norm)
    factor = 1.0 if norm <= R else R / norm
    for k in range(u.shape[0]):
        w = u[k] * factor
        w = min(R, max(-R, w))  # rounding guard: |w_k| <= ||w||_2 <= R
        out[k] = 1.0 if unif[k] < 0.5 * (1.0 + w / R) else -1.0


@kernel
def unit_stochastic_sign(u, unif, out):
    """out <- S_1(u) for u in [-1, 1]^d: +1 with probability (1 + u_k)/2 (the unbiased server
    sign of SSVR-MV option 2)."""
    for k in range(u.shape[0]):
        out[k] = 1.0 if unif[k] < 0.5 * (1.0 + u[k]) else -1.0


@kernel
def scaled_norm2(u):
    """(a, r) with a = max_k |u_k| and r = ||u/a||_2, so that ||u||_2 = a r without
    overflow or underflow; (0, 0) for the zero vector. Sums of squares follow a fixed
    four-way order."""
    a = 0.0
    for k in range(u.shape[0]):
        if abs(u[k]) > a:
            a = abs(u[k])
    if a == 0.0:
        return 0.0, 0.0
    n = u.shape[0]
    s0 = s1 = s2 = s3 = 0.0
    k = 0
    while k + 4 <= n:
        w0 = u[k] / a
        w1 = u[k + 1] / a
        w2 = u[k + 2] / a
        w3 = u[k + 3] / a
        s0 += w0 * w0
        s1 += w1 * w1
        s2 += w2 * w2
        s3 += w3 * w3
        k += 4
    while k < n:
        w0 = u[k] / a
        s0 += w0 * w0
        k += 1
    return a, math.sqrt((s0 + s1) + (s2 + s3))


@kernel
def norm_scaled_stochastic_sign(u, unif, out):
    """out <- S_{||u||_2}(u) (the zero vector when u = 0); returns ||u||_2.

    With w = u/max|u_k| the probability of +1 is (1 + w_k/||w||_2)/2, which
    equals (1 + u_k/||u||_2)/2 and cannot overflow. Returns NaN, leaving ``out``
    unspecified, if ``u`` holds a NaN or an infinity.
    """
    for k in range(u.shape[0]):
        if not math.isfinite(u[k]):
            return math.nan
    a, r = scaled_norm2(u)
    if a == 0.0:
        for k in range(u.shape[0]):
            out[k] = 0.0
        return 0.0
    for k in range(u.shape[0]):
        out[k] = 1.0 if unif[k] < 0.5 * (1.0 + (u[k] / a) / r) else -1.0
    return a * r


@kernel
def l1_fixed_order(u):
    """||u||_1 with four partial sums in a fixed order (no reassociation), so that the
    NumPy twin reproduces it bit for bit."""
    n = u.shape[0]
    s0 = s1 = s2 = s3 = 0.0
    k = 0
    while k + 4 <= n:
        s0 += abs(u[k])
        s1 += abs(u[k + 1])
        s2 += abs(u[k + 2])
        s3 += abs(u[k + 3])
        k += 4
    while k < n:
        s0 += abs(u[k])
        k += 1
    return (s0 + s1) + (s2 + s3)


@kernel
def scaled_sign(u, out):
    """out <- (||u||_1/d) sign(u), sign(0) = 0; returns the scale ||u||_1/d."""
    scale = l1_fixed_order(u) / u.shape[0]
    for k in range(u.shape[0]):
        uk = u[k]
        if uk > 0.0:
            out[k] = scale
        elif uk < 0.0:
            out[k] = -scale
        else:
            out[k] = 0.0
    return scale


@kernel
def majority_vote(Q, rule, unif, out):
    """out <- sign(sum_j Q[j]) over the n rows of Q (int8 or float), ties by ``rule``.

    The sums accumulate row by row in float64 (exact for entries in {-1, 0, +1}).
    ``rule`` is a code of ``ZERO_RULES``; ``unif`` holds one uniform per coordinate
    for rule 2 and may be empty otherwise. Returns the number of ties (zero sums).
    """
    d = out.shape[0]
    for k in range(d):
        out[k] = 0.0
    for j in range(Q.shape[0]):
        for k in range(d):
            out[k] += Q[j, k]
    ties = 0
    for k in range(d):
        s = out[k]
        if s == 0.0:
            ties += 1
        out[k] = sign_of(s, rule, unif[k] if rule == 2 else 0.5)
    return ties


@kernel
def pack_signs_into(s, out):
    """Pack s (entries +-1) into ``out`` (uint8, ceil(d/8) bytes): +1 -> bit 1,
    -1 -> bit 0, most significant bit first. Returns the number of entries that are
    neither > 0 nor < 0 (zeros, NaN); they are packed as 0 bits."""
    for b in range(out.shape[0]):
        out[b] = 0
    bad = 0
    for k in range(s.shape[0]):
        sk = s[k]
        if sk > 0:
            out[k >> 3] |= np.uint8(1 << (7 - (k & 7)))
        elif not sk < 0:
            bad += 1
    return bad


@kernel
def unpack_signs_into(buf, out):
    """out_k <- +1 if bit k of ``buf`` is set, else -1 (the inverse of :func:`pack_signs_into`)."""
    for k in range(out.shape[0]):
        out[k] = 1 if (buf[k >> 3] >> (7 - (k & 7))) & 1 else -1


@kernel
def _stochastic_sign_rows(U, R, unif, out, overflow):
    total = 0
    for i in range(U.shape[0]):
        c = stochastic_sign(U[i], R, unif[i], out[i], overflow)
        if c < 0:
            return -1
        total += c
    return total


@kernel
def _norm_scaled_rows(U, unif, out):
    for i in range(U.shape[0]):
        if not math.isfinite(norm_scaled_stochastic_sign(U[i], unif[i], out[i])):
            return False
    return True


@kernel
def _scaled_sign_rows(U, out):
    for i in range(U.shape[0]):
        scaled_sign(U[i], out[i])


# -- validated Python entry points ------------------------------------------------------------


def _as_float_array(name, value, ndim=(1, 2)):
    arr = np.ascontiguousarray(value, dtype=np.float64)
    if arr.ndim not in ndim or arr.shape[-1] == 0:
        raise InvalidParameterError(
            name, value, f"must be a non-empty array with {' or '.join(map(str, ndim))} dimension(s)")
    return arr


def _check_finite(name, arr):
    if not np.all(np.isfinite(arr)):
        raise InvalidParameterError(name, "array with NaN or Inf", "must hold finite numbers only")


def _check_uniforms(unif, shape):
    arr = np.ascontiguousarray(unif, dtype=np.float64)
    if arr.shape != tuple(shape):
        raise InvalidParameterError(
            "unif", f"array of shape {arr.shape}",
            f"must have shape {tuple(shape)} (one uniform per coordinate)")
    if arr.size and not (np.all(arr >= 0.0) and np.all(arr < 1.0)):
        raise InvalidParameterError("unif", "array with entries outside [0, 1)", "must hold numbers in [0, 1)")
    return arr


def _overflow_error(R, u):
    worst = float(np.max(np.abs(u)))
    count = int(np.count_nonzero(np.abs(u) > R))
    return InvalidParameterError(
        "R", R, f"must be >= max_k |u_k| = {worst:.6g} under overflow='raise' "
        f"({count} coordinate(s) exceed it); raise R or use overflow='clip'")


def apply_stochastic_sign(u, R, unif, overflow: str = "clip"):
    """S_R(u) with the compiled kernel; ``u`` of shape (d,) or (n, d) (one row per
    vector), ``unif`` of the same shape.

    Returns ``(s, clipped)``: the signs (float64, +-1) and the number of clipped
    coordinates (always 0 under ``overflow='raise'``, which raises
    :class:`~signtheory.errors.InvalidParameterError` naming ``R`` instead).
    """
    R = check_positive("R", R)
    code = overflow_code(overflow)
    u = _as_float_array("u", u)
    _check_finite("u", u)
    unif = _check_uniforms(unif, u.shape)
    if code == 1 and np.any(np.abs(u) > R):
        raise _overflow_error(R, u)
    out = np.empty_like(u)
    U2, W2, O2 = (a.reshape(-1, u.shape[-1]) for a in (u, unif, out))
    clipped = _stochastic_sign_rows(U2, R, W2, O2, code)
    return out, int(clipped)


def apply_norm_scaled_sign(u, unif):
    """S_{||u||_2}(u) with the compiled kernel, row by row for an (n, d) array."""
    u = _as_float_array("u", u)
    _check_finite("u", u)
    unif = _check_uniforms(unif, u.shape)
    out = np.empty_like(u)
    _norm_scaled_rows(u.reshape(-1, u.shape[-1]), unif.reshape(-1, u.shape[-1]), out.reshape(-1, u.shape[-1]))
    return out


def apply_scaled_sign(u):
    """(||u||_1/d) sign(u) with the compiled kernel, row by row for an (n, d) array."""
    u = _as_float_array("u", u)
    _check_finite("u", u)
    out = np.empty_like(u)
    _scaled_sign_rows(u.reshape(-1, u.shape[-1]), out.reshape(-1, u.shape[-1]))
    return out


def vote(Q, rule: str = "zero", unif=None):
    """Majority vote over the rows of ``Q`` (n, d); returns ``(V, ties)``.

    ``unif`` (d uniforms) is required by ``rule='random'`` and ignored otherwise.
    """
    code = ZERO_RULES[check_choice("rule", rule, ZERO_RULES)]
    Q = np.asarray(Q)
    if Q.ndim != 2 or Q.shape[0] == 0 or Q.shape[1] == 0:
        raise InvalidParameterError("Q", f"array of shape {Q.shape}", "must be a non-empty (n, d) array")
    if Q.dtype != np.int8:
        Q = np.ascontiguousarray(Q, dtype=np.float64)
        _check_finite("Q", Q)
    else:
        Q = np.ascontiguousarray(Q)
    d = Q.shape[1]
    if code == 2:
        if unif is None:
            raise InvalidParameterError("unif", None, "rule='random' needs one uniform per coordinate")
        unif = _check_uniforms(unif, (d,))
    else:
        unif = np.zeros(d)
    out = np.empty(d)
    ties = majority_vote(Q, code, unif, out)
    return out, int(ties)


def pack_signs(s) -> bytes:
    """Pack a vector of +-1 into ceil(d/8) bytes (+1 -> 1, -1 -> 0).

    Raises :class:`~signtheory.errors.InvalidParameterError` for a 0 (or any entry
    other than +-1): a 0 cannot be packed, so apply the zero rule first.
    """
    s = np.asarray(s)
    if s.ndim != 1 or s.size == 0:
        raise InvalidParameterError("s", f"array of shape {s.shape}", "must be a non-empty 1-D array of +-1")
    bad = np.flatnonzero((s != 1) & (s != -1))
    if bad.size:
        raise InvalidParameterError(
            "s", f"array with {bad.size} entr{'y' if bad.size == 1 else 'ies'} not in {{-1, +1}} "
            f"(first at index {int(bad[0])}: {s[bad[0]].item()!r})",
            "must hold only +1 and -1; a 0 cannot be packed into one bit, resolve it with a zero rule first")
    out = np.empty((s.size + 7) // 8, dtype=np.uint8)
    pack_signs_into(np.ascontiguousarray(s, dtype=np.float64), out)
    return out.tobytes()


def unpack_signs(buf, d) -> np.ndarray:
    """The d signs (int8, +-1) packed in ``buf`` by :func:`pack_signs`."""
    d = check_positive_int("d", d)
    raw = np.frombuffer(bytes(buf), dtype=np.uint8)
    if raw.size != (d + 7) // 8:
        raise InvalidParameterError(
            "buf", f"{raw.size} bytes", f"must hold ceil(d/8) = {(d + 7) // 8} bytes for d = {d}")
    out = np.empty(d, dtype=np.int8)
    unpack_signs_into(raw, out)
    return out


# -- reference: plain NumPy twins (any leading shape; one vector per last axis) ---------------


def stochastic_sign_np(u, R, unif, overflow: str = "clip"):
    """NumPy twin of :func:`apply_stochastic_sign`: returns ``(s, clipped)``."""
    R = check_positive("R", R)
    code = overflow_code(overflow)
    u = np.asarray(u, dtype=np.float64)
    _check_finite("u", u)
    over = np.abs(u) > R
    if code == 1 and over.any():
        raise _overflow_error(R, u)
    w = np.clip(u, -R, R)
    return np.where(np.asarray(unif) < 0.5 * (1.0 + w / R), 1.0, -1.0), int(over.sum())


def _scaled_norm2_np(u):
    """(a, r) of :func:`scaled_norm2` along the last axis, with the same summation order."""
    a = np.max(np.abs(u), axis=-1, keepdims=True)
    w = u / np.where(a == 0.0, 1.0, a)
    d = u.shape[-1]
    full = d - d % 4
    acc = np.zeros(u.shape[:-1] + (4,))
    for k in range(0, full, 4):
        acc = acc + w[..., k:k + 4] * w[..., k:k + 4]
    for k in range(full, d):
        acc[..., 0] = acc[..., 0] + w[..., k] * w[..., k]
    r = np.sqrt((acc[..., 0] + acc[..., 1]) + (acc[..., 2] + acc[..., 3]))
    return a[..., 0], r


def norm_scaled_stochastic_sign_np(u, unif):
    """NumPy twin of :func:`apply_norm_scaled_sign`."""
    u = np.asarray(u, dtype=np.float64)
    _check_finite("u", u)
    a, r = _scaled_norm2_np(u)
    zero = (a == 0.0)[..., None]
    a_safe = np.where(a == 0.0, 1.0, a)[..., None]
    r_safe = np.where(a == 0.0, 1.0, r)[..., None]
    s = np.where(np.asarray(unif) < 0.5 * (1.0 + (u / a_safe) / r_safe), 1.0, -1.0)
    return np.where(zero, 0.0, s)


def _norm1_np(u):
    """||u||_1 along the last axis, in the four-way order of :func:`l1_fixed_order`."""
    d = u.shape[-1]
    full = d - d % 4
    acc = np.zeros(u.shape[:-1] + (4,))
    for k in range(0, full, 4):
        acc = acc + np.abs(u[..., k:k + 4])
    for k in range(full, d):
        acc[..., 0] = acc[..., 0] + np.abs(u[..., k])
    return (acc[..., 0] + acc[..., 1]) + (acc[..., 2] + acc[..., 3])


def scaled_sign_np(u):
    """NumPy twin of :func:`apply_scaled_sign`."""
    u = np.asarray(u, dtype=np.float64)
    scale = _norm1_np(u) / u.shape[-1]
    return scale[..., None] * np.sign(u)


def majority_vote_np(Q, rule: str = "zero", unif=None):
    """NumPy twin of :func:`vote`: returns ``(V, ties)``; rows summed in order."""
    check_choice("rule", rule, ZERO_RULES)
    Q = np.asarray(Q)
    total = np.zeros(Q.shape[1])
    for row in Q:
        total = total + row.astype(np.float64)
    V = np.sign(total)
    tie = V == 0
    if rule == "plus":
        V[tie] = 1.0
    elif rule == "random":
        V[tie] = np.where(np.asarray(unif)[tie] < 0.5, 1.0, -1.0)
    return V, int(tie.sum())


def pack_signs_np(s) -> bytes:
    """NumPy twin of :func:`pack_signs` (``np.packbits``, most significant bit first)."""
    s = np.asarray(s)
    if np.any((s != 1) & (s != -1)):
        raise InvalidParameterError("s", "array with entries not in {-1, +1}", "must hold only +1 and -1")
    return np.packbits(s > 0).tobytes()


def unpack_signs_np(buf, d) -> np.ndarray:
    """NumPy twin of :func:`unpack_signs`."""
    bits = np.unpackbits(np.frombuffer(bytes(buf), dtype=np.uint8), count=d)
    return (2 * bits.astype(np.int8) - 1).astype(np.int8)
