"""Statistical assertions and Hypothesis strategies for testing estimators and methods.

>>> import numpy as np
>>> from signtheory.testing import assert_unbiased
>>> v, R = np.array([0.3, -0.5, 0.0]), 1.0
>>> def draw(rng, n):  # the stochastic sign S_R(v), n times
...     return np.where(rng.random((n, v.size)) < (1 + v / R) / 2, 1.0, -1.0)
>>> check = assert_unbiased(draw, v / R, bounds=(-1, 1))

* :func:`assert_unbiased` -- per-coordinate tests of E[sample] = expected with a
  Bonferroni correction (family-wise false-alarm rate ``alpha``);
* :func:`assert_rate` -- log-log slope with a confidence interval, checked as a
  'tight' rate or as a 'bound';
* power helpers -- samples, seeds or grid points needed to detect a bias or an
  exponent error (:mod:`signtheory.testing.power`);
* Hypothesis strategies (:mod:`signtheory.testing.strategies`; importing them
  needs ``hypothesis``, installed by the ``test`` extra; the assertions do not).

See ``docs/testing.md`` for a walk-through.
"""

from __future__ import annotations

import importlib

from .power import (
    geometric_grid,
    rate_grid_needed,
    rate_power,
    rate_seeds_needed,
    unbiased_power,
    unbiased_samples_needed,
    unbiased_samples_normal,
)
from .rates import RateFit, assert_rate, fit_rate
from .unbiased import UnbiasedCheck, assert_unbiased, unbiased_check

_STRATEGIES = (
    "MethodConfig",
    "WorkerSplit",
    "finite_floats",
    "method_configs",
    "points_near",
    "problems",
    "radii",
    "vectors",
    "vectors_and_radii",
    "worker_splits",
)


def __getattr__(name):
    """The strategies are imported on first use, so that the assertions work without hypothesis."""
    if name in _STRATEGIES or name == "strategies":
        strategies = importlib.import_module(f"{__name__}.strategies")
        return strategies if name == "strategies" else getattr(strategies, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "RateFit",
    "UnbiasedCheck",
    "assert_rate",
    "assert_unbiased",
    "fit_rate",
    "geometric_grid",
    "rate_grid_needed",
    "rate_power",
    "rate_seeds_needed",
    "unbiased_check",
    "unbiased_power",
    "unbiased_samples_needed",
    "unbiased_samples_normal",
    *_STRATEGIES,
]
