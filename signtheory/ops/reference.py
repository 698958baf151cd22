"""Plain NumPy twins of the compiled primitives, used by the reference
implementations of the methods (and by tests and benchmarks)."""

import numpy as np


def sign(v, rule: str = "zero", u=None):
    """sign(v) with the zero rule of :mod:`signtheory.ops.signs`."""
    s = np.sign(v)
    zero = s == 0
    if rule == "plus":
        s[zero] = 1.0
    elif rule == "random":
        s[zero] = np.where(u[zero] < 0.5, 1.0, -1.0)
    return s
