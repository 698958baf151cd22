"""Hypothesis strategies for property tests of estimators, compressors and methods.

>>> from hypothesis import given
>>> from signtheory.testing import strategies as sts
>>> @given(sts.vectors_and_radii(inside=True))
... def test_inside(case):
...     v, R = case
...     assert abs(v).max() <= R

Every strategy reads the registries (``PROBLEMS``, ``METHODS``) when it draws, so
families and methods registered later are picked up without any change here.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ..errors import InvalidParameterError, UnknownNameError
from ..methods import METHODS
from ..problems import PROBLEMS, make_problem

SPLIT_MODES = ("homogeneous", "shift", "dirichlet")
_FALLBACK_DIMS = (4, 9, 16, 8, 2, 25, 32, 64)
_TINY = (0.0, -0.0, 5e-324, -5e-324, 1e-300, -1e-300, 2.2250738585072014e-308, 1e-12, -1e-12)


def _dims(d, min_dim, max_dim):
    if d is None:
        return st.integers(min_dim, max_dim)
    if isinstance(d, int):
        return st.just(d)
    return d


def finite_floats(max_abs: float = 1e3):
    """Finite floats in [-max_abs, max_abs], with exact zeros (both signs), subnormals
    and other values near zero drawn often."""
    return st.one_of(
        st.sampled_from(_TINY),
        st.floats(-1e-6, 1e-6, allow_nan=False, allow_infinity=False),
        st.floats(-max_abs, max_abs, allow_nan=False, allow_infinity=False),
    )


@st.composite
def vectors(draw, d=None, *, min_dim=1, max_dim=16, max_abs=1e3, elements=None):
    """float64 vectors of dimension ``d`` (an int, a strategy, or drawn in
    [min_dim, max_dim]) with finite entries (see :func:`finite_floats`)."""
    dim = draw(_dims(d, min_dim, max_dim))
    return draw(arrays(np.float64, dim, elements=elements if elements is not None else finite_floats(max_abs)))


def radii(low=1e-3, high=1e3):
    """Radii R > 0 spread on a log scale over [low, high], with 1.0 drawn often."""
    exponents = st.floats(math.log10(low), math.log10(high), allow_nan=False, allow_infinity=False)
    return st.one_of(st.just(1.0), exponents.map(lambda e: float(10.0**e)))


@st.composite
def vectors_and_radii(draw, d=None, *, inside=None, min_dim=1, max_dim=16):
    """Pairs (v, R): with ``inside=True`` ||v||_inf <= R (the boundary |v_k| = R and
    zeros included); with ``inside=False`` at least one |v_k| > R; with ``None``
    either."""
    R = draw(radii())
    if inside is None:
        inside = draw(st.booleans())
    dim = draw(_dims(d, min_dim, max_dim))
    edge = st.sampled_from((0.0, R, -R, math.nextafter(R, 0.0), -math.nextafter(R, 0.0), R * 1e-9))
    within = st.one_of(edge, st.floats(-R, R, allow_nan=False, allow_infinity=False))
    v = draw(arrays(np.float64, dim, elements=within))
    v = np.clip(v, -R, R)
    if not inside:
        over = st.one_of(st.just(math.nextafter(R, math.inf)),
                         st.floats(R, 100.0 * R, exclude_min=True, allow_nan=False, allow_infinity=False))
        ks = draw(st.lists(st.integers(0, dim - 1), min_size=1, max_size=dim, unique=True))
        for k in ks:
            v[k] = draw(over) * (1.0 if draw(st.booleans()) else -1.0)
    return v, R


def _param_names(cls) -> set[str]:
    return {p.name for p in cls.params}


@st.composite
def problems(draw, names=None, *, kinds=None, d=None, m=None, max_dim=8):
    """Small instances of the registered problem families.

    ``names`` restricts the families (default: every entry of ``PROBLEMS`` at draw
    time), ``kinds`` their kind ('finite-sum', 'stochastic'). ``d`` and ``m`` are
    ints or strategies (default: d in 1..max_dim, m in 3..24 for finite sums); a
    family with an ``instance_seed`` gets one in 0..3. A family that rejects the
    drawn d is tried at a few other small dimensions (4, 9, 16, ...), then built
    with its defaults.
    """
    pool = sorted(PROBLEMS if names is None else names)
    if kinds is not None:
        pool = [n for n in pool if PROBLEMS[n].kind in kinds]
    if not pool:
        raise InvalidParameterError("names", names, "must select at least one registered problem family")
    name = draw(st.sampled_from(pool))
    cls = PROBLEMS[name]
    params = _param_names(cls)
    config = {}
    if "d" in params:
        config["d"] = draw(_dims(d, 1, max_dim))
    if "m" in params:
        config["m"] = draw(_dims(m, 3, 24))
    if "instance_seed" in params:
        config["instance_seed"] = draw(st.integers(0, 3))
    try:
        return make_problem(name, **config)
    except InvalidParameterError:
        pass
    for fallback in _FALLBACK_DIMS:  # families with constraints on d (e.g. square images)
        try:
            return make_problem(name, **{**config, "d": fallback})
        except InvalidParameterError:
            continue
    return make_problem(name)


def points_near(problem, rng: np.random.Generator, scale: float = 1.0) -> np.ndarray:
    """A point at l2 distance of order ``scale`` from the problem's x0."""
    return problem.x0 + scale * rng.standard_normal(problem.d) / math.sqrt(problem.d)


class WorkerSplit(NamedTuple):
    """A worker-split configuration: ``heterogeneity`` is zeta (>= 0) for 'shift',
    the Dirichlet concentration alpha (> 0) for 'dirichlet' and 0 for 'homogeneous'."""

    n: int
    mode: str
    heterogeneity: float

    @property
    def kwargs(self) -> dict:
        """Keyword arguments of the split for this configuration."""
        if self.mode == "shift":
            return {"zeta": self.heterogeneity}
        if self.mode == "dirichlet":
            return {"alpha": self.heterogeneity}
        return {}


@st.composite
def worker_splits(draw, *, max_workers=9, modes=SPLIT_MODES, problem=None):
    """(n, mode, heterogeneity) tuples: n in 1..max_workers, a mode among ``modes``,
    zeta in [0, 10] for 'shift' (0 included) and alpha in [0.01, 100] for
    'dirichlet'. Given a stochastic ``problem``, 'dirichlet' (finite sums only) is left out."""
    modes = tuple(modes)
    if problem is not None and getattr(problem, "kind", None) != "finite-sum":
        modes = tuple(mo for mo in modes if mo != "dirichlet")
    n = draw(st.integers(1, max_workers))
    mode = draw(st.sampled_from(modes))
    if mode == "shift":
        h = draw(st.one_of(st.just(0.0), st.floats(0.0, 10.0, allow_nan=False)))
    elif mode == "dirichlet":
        h = 10.0 ** draw(st.floats(-2.0, 2.0, allow_nan=False))
    else:
        h = 0.0
    return WorkerSplit(n, mode, float(h))


class MethodConfig(NamedTuple):
    """A valid configuration: run with ``signtheory.run(name, problem, T, **overrides)``."""

    name: str
    problem: Any
    T: int
    overrides: dict


def _choices(hyper) -> tuple | None:
    """The allowed values of a string-valued hyperparameter, read from its check."""
    try:
        hyper.check(hyper.name, "\x00 not a valid choice \x00")
    except UnknownNameError as err:
        return tuple(err.choices)
    except (InvalidParameterError, TypeError):
        return None
    return None


def _override(draw, hyper):
    default = hyper.default
    if isinstance(default, bool):
        return None
    if isinstance(default, int):
        return draw(st.integers(1, 4))
    if isinstance(default, float):
        return draw(st.sampled_from((0.25, 0.5, 2.0, 4.0)))
    if isinstance(default, str):
        choices = _choices(hyper)
        return draw(st.sampled_from(choices)) if choices else None
    return None


@st.composite
def method_configs(draw, problem=None, *, names=None, T=None, overrides=True):
    """Valid method configurations on ``problem`` (a Problem, a strategy of problems,
    or None for :func:`problems`): a registered method whose ``check_problem``
    accepts the problem, a small horizon T (default 3..40) and, when ``overrides``,
    a random subset of its constant-valued hyperparameters (c_eta, B, zero_rule,
    named variants, ...) set to other valid values."""
    if problem is None:
        problem = draw(problems())
    elif isinstance(problem, st.SearchStrategy):
        problem = draw(problem)
    pool = []
    for name in sorted(METHODS if names is None else names):
        try:
            METHODS[name].check_problem(problem)
        except InvalidParameterError:
            continue
        pool.append(name)
    assume(pool)
    name = draw(st.sampled_from(pool))
    method = METHODS[name]
    horizon = draw(_dims(T, 3, 40))
    chosen = {}
    if overrides:
        for h in method.spec.hyper:
            if h.default is not None and draw(st.booleans()):
                value = _override(draw, h)
                if value is not None:
                    chosen[h.name] = value
    try:
        method.resolve(problem, horizon, chosen)
    except InvalidParameterError:
        chosen = {}
        try:
            method.resolve(problem, horizon, chosen)
        except InvalidParameterError:
            assume(False)
    return MethodConfig(name, problem, horizon, chosen)
