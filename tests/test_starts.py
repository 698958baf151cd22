"""The start points of the separable families: ``uniform`` (every coordinate at y0)
and ``one`` (only the first coordinate off its minimizer)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import signtheory
from signtheory.problems import make_problem


@pytest.mark.parametrize("name", ["smoothed-separable", "separable-sum"])
def test_a_start_off_the_minimizer_in_one_coordinate(name):
    norms = {}
    for d in (4, 16, 64):
        problem = make_problem(name, d=d, start="one")
        g = np.asarray(problem.full_grad(problem.x0))
        assert np.abs(g[0]) > 0.1 / math.sqrt(d)
        np.testing.assert_allclose(g[1:], 0.0, atol=1e-7)  # every other coordinate at its minimizer
        norms[d] = np.abs(g).sum()
        uniform = make_problem(name, d=d)
        assert uniform.constants()["delta"] > d / 2 * problem.constants()["delta"]  # Delta falls as 1/d
    # ||grad f(x_1)||_1 falls as d^-1/2 with start="one" (it grows as d^1/2 with the uniform start)
    assert norms[16] / norms[4] == pytest.approx(0.5, rel=0.05)
    assert norms[64] / norms[16] == pytest.approx(0.5, rel=0.05)


def test_an_unknown_start_is_a_clear_error():
    with pytest.raises(signtheory.errors.UnknownNameError, match="start.*one.*uniform"):
        make_problem("smoothed-separable", d=4, start="middle")
