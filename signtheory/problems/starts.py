"""Start points of the separable families, in the scaled coordinates y = sqrt(d) x.

``uniform`` puts every coordinate at y0: the start's gradient then has the same size in
every coordinate, so ||grad f(x_1)||_1 grows exactly as sqrt(d) and a method that never
moves shows the d^1/2 of the bounds. ``one`` puts only the first coordinate at y0 and
every other coordinate at the minimizer of its own profile: ||grad f(x_1)||_1 then falls
as d^-1/2, so a d-sweep separates a method whose noise level grows as sqrt(d) from one
that stays at its start (docs/problems.md).
"""

from __future__ import annotations

import numpy as np

START_CHOICES = ("uniform", "one")
START_HELP = ("start: 'uniform' (every coordinate at y0) or 'one' (the first coordinate at y0, the others "
              "at their profile's minimizer)")


def start_point(start: str, d: int, y0: float, minimizer) -> np.ndarray:
    """The start in scaled coordinates; ``minimizer()`` gives the coordinates' minimizers
    (a scalar or an array of length d) and is called only for ``start='one'``."""
    if start == "uniform":
        return np.full(d, float(y0))
    y = np.broadcast_to(np.asarray(minimizer(), dtype=float), (d,)).copy()
    y[0] = y0
    return y
