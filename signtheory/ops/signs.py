"""Sign with an explicit rule for zero, and the sign step x <- x - eta sign(v).

Rules, passed to kernels as integer codes:

``"zero"`` (code 0, default)
    sign(0) = 0: the coordinate does not move (NumPy's behaviour).
``"plus"`` (code 1)
    sign(0) = +1.
``"random"`` (code 2)
    sign(0) = +1 or -1 with probability 1/2, decided by a uniform number drawn
    from the run's own stream (one per coordinate and step).
"""

from .._jit import kernel
from ..validation import check_choice

ZERO_RULES = {"zero": 0, "plus": 1, "random": 2}


def zero_rule_code(rule: str) -> int:
    return ZERO_RULES[check_choice("zero_rule", rule, ZERO_RULES)]


@kernel
def sign_of(u, rule, r):
    """sign(u) in {-1, 0, +1}; ``r`` is a uniform in [0, 1) used by rule 2 only."""
    if u > 0.0:
        return 1.0
    if u < 0.0:
        return -1.0
    if rule == 0:
        return 0.0
    if rule == 1:
        return 1.0
    return 1.0 if r < 0.5 else -1.0


@kernel
def all_finite(v):
    """True if no entry of ``v`` is NaN or infinite (a branch-free pass that vectorizes)."""
    bad = 0
    for k in range(v.shape[0]):
        bad |= v[k] - v[k] != 0.0  # NaN for NaN and +-inf
    return bad == 0


@kernel
def sign_step(x, v, eta, rule, u):
    """x <- x - eta * sign(v), in place.

    ``u`` holds one uniform per coordinate when ``rule`` is 2 and may be empty
    otherwise. Returns False, and leaves ``x`` untouched, if ``v`` holds a NaN
    or an infinity.
    """
    if not all_finite(v):
        return False
    n = x.shape[0]
    if rule == 0:
        for k in range(n):
            vk = v[k]
            x[k] -= eta * (1.0 if vk > 0.0 else (-1.0 if vk < 0.0 else 0.0))
    else:
        for k in range(n):
            r = u[k] if rule == 2 else 0.5
            x[k] -= eta * sign_of(v[k], rule, r)
    return True
