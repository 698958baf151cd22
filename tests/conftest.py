"""Shared helpers for the signtheory test suite.

Every random number in the suite comes from a fixed seed, so each test is
deterministic; statistical tests state their tolerance and the false-alarm rate
that tolerance would have under fresh randomness.
"""

from __future__ import annotations

import numpy as np
import pytest

from signtheory.problems import PROBLEMS, make_problem

# Small instances: d = 11 = 8 + 3, so both the 8-way unrolled part and the tail of the
# compiled reductions run, and m = 40 components for finite sums.
SMALL_D = 11
SMALL_M = 40

PROBLEM_NAMES = sorted(PROBLEMS)
FINITE_SUM_NAMES = [n for n in PROBLEM_NAMES if PROBLEMS[n].kind == "finite-sum"]
STOCHASTIC_NAMES = [n for n in PROBLEM_NAMES if PROBLEMS[n].kind == "stochastic"]


def param_names(name: str) -> set[str]:
    return {p.name for p in PROBLEMS[name].params}


def small_problem(name: str, d: int = SMALL_D, m: int = SMALL_M, **params):
    """A small instance of problem ``name`` (``m`` only for finite sums)."""
    if "m" in param_names(name):
        params.setdefault("m", m)
    if name == "tv2d-denoise" and d == SMALL_D:
        d = 9  # a 3 x 3 image: d must be a perfect square (9 = 8 + 1 still runs both parts)
    return make_problem(name, d=d, **params)


def empty_payload(n: int) -> np.ndarray:
    return np.empty((n, 0))


def random_points(problem, rng: np.random.Generator, n: int, scale: float = 1.0) -> np.ndarray:
    """``n`` points around x0 at l2 distance of order ``scale``."""
    d = problem.d
    radii = scale * rng.uniform(0.1, 2.0, (n, 1))
    return problem.x0[None, :] + radii * rng.standard_normal((n, d)) / np.sqrt(d)


def assert_batch_kernels_match(problem, idx, z, points) -> None:
    """The compiled single and pair batch gradients equal the NumPy reference on the
    same samples (different summation order: ~1e-12 relative) at every pair of points,
    and the pair kernel repeats the single one bit for bit: the exact equivalences
    between methods (SSVR with beta = 1 = signSGD) rely on it."""
    from signtheory.problems import oracles as compiled

    d = problem.d
    for x1, x2 in zip(points, points[::-1], strict=True):
        ref1, ref2 = problem.batch_grad(x1, idx, z), problem.batch_grad(x2, idx, z)
        tol = 1e-13 * (1 + max(np.abs(ref1).max(), np.abs(ref2).max()))
        g = np.full(d, np.nan)
        compiled.batch_grad(problem.data, x1, idx, z, g)
        np.testing.assert_allclose(g, ref1, rtol=1e-12, atol=tol)
        g1, g2 = np.full(d, np.nan), np.full(d, np.nan)
        compiled.batch_grad_pair(problem.data, x1, x2, idx, z, g1, g2)
        np.testing.assert_allclose(g1, ref1, rtol=1e-12, atol=tol)
        np.testing.assert_allclose(g2, ref2, rtol=1e-12, atol=tol)
        assert np.array_equal(g1, g)


@pytest.fixture(params=PROBLEM_NAMES)
def problem_name(request):
    return request.param


@pytest.fixture
def problem(problem_name):
    return small_problem(problem_name)


def pytest_terminal_summary(terminalreporter):
    """Report the sign flips the parity tests allowed (spec pitfall 10 asks for the count)."""
    flips, runs = 0, 0
    for report in terminalreporter.stats.get("passed", []):
        for key, value in getattr(report, "user_properties", []):
            if key == "sign_flips":
                runs += 1
                flips += value
    if runs:
        terminalreporter.write_line(
            f"parity: {runs} compiled trajectories matched their NumPy references; "
            f"{flips} coordinates differed by a sign flip at |v_k| < 1e-9")
