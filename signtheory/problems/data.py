"""The compiled view of a problem: one tuple type shared by every family.

Every family packs its data into :class:`ProblemData` with the same field types,
so each method kernel is compiled once and dispatches on ``kind`` (see
:mod:`signtheory.problems.oracles`). Unused fields hold empty arrays.
"""

from typing import NamedTuple

import numpy as np

# Family codes, one per compiled oracle branch.
LSQ = 1
LOGISTIC = 2
STREAM_LSQ = 3
SMOOTHED = 4
SPARSE_QUADRATIC = 5
TV1D = 6  # tv1d-denoise (composite)
TV2D = 7  # tv2d-denoise (composite)
L1_LSQ = 8  # l1-lsq (composite)
LOG_COSH = 9  # mv-counterexample
NOISY_SEPARABLE = 10  # noisy-separable
SEPARABLE_SUM = 11  # separable-sum


class ProblemData(NamedTuple):
    kind: int
    A: np.ndarray  # (rows, d) float64, C-contiguous
    b: np.ndarray  # (rows,) or (d,) float64
    c: np.ndarray  # (d,) float64 or empty
    p: np.ndarray  # scalar parameters, float64


def pack(kind, A=None, b=None, c=None, p=()):
    def arr1(v):
        return np.ascontiguousarray(np.zeros(0) if v is None else v, dtype=np.float64)

    A = np.zeros((0, 0)) if A is None else A
    return ProblemData(
        int(kind),
        np.ascontiguousarray(A, dtype=np.float64),
        arr1(b),
        arr1(c),
        np.asarray(p, dtype=np.float64).reshape(-1).copy(),
    )
