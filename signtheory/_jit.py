"""The one place where compilation options are chosen.

Every compiled kernel of the package uses :func:`kernel`: Numba's on-disk cache
(so compilation happens once per machine), the GIL released (replicates run in
threads), IEEE semantics without ``fastmath``, and NumPy's error model (a
division by zero gives inf, which the divergence checks catch, rather than
raising inside Numba).

The inner products and norms use :func:`reduction` instead, which allows the
compiler to reassociate the sum and fuse multiply-adds so that it vectorizes.
The flags exclude the "no NaN / no infinity" assumptions, so non-finite values
still propagate and the divergence checks still see them. A reassociated sum is
deterministic for a given machine (the same numbers at every run and for every
number of threads) but its last bits may differ between CPUs with different
vector widths, as BLAS results do.
"""

from numba import njit

REDUCTION_FLAGS = frozenset({"reassoc", "contract", "nsz"})


def kernel(fn):
    return njit(cache=True, nogil=True, fastmath=False, error_model="numpy")(fn)


def reduction(fn):
    return njit(cache=True, nogil=True, fastmath=set(REDUCTION_FLAGS), error_model="numpy")(fn)


def inline_kernel(fn):
    """A small kernel inlined into its callers at Numba's IR level, so that calling it
    in a hot loop costs no call and no reference counting of its array arguments."""
    return njit(cache=True, nogil=True, fastmath=False, error_model="numpy", inline="always")(fn)
