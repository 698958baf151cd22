"""The one place where compilation options are chosen.

Every compiled kernel of the package uses :func:`kernel`: Numba's on-disk cache
(so compilation happens once per machine), the GIL released (replicates run in
threads), IEEE semantics without ``fastmath`` (the compiled path must follow the
same summation order as written, so that results do not depend on the CPU's
vector width), and NumPy's error model (a division by zero gives inf, which the
divergence checks catch, rather than raising inside Numba).
"""

from numba import njit


def kernel(fn):
    return njit(cache=True, nogil=True, fastmath=False, error_model="numpy")(fn)
