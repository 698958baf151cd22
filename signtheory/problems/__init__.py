"""Problem families with known constants.

>>> from signtheory.problems import make_problem
>>> prob = make_problem("nonconvex-lsq", d=20, m=100)
>>> prob.kind
'finite-sum'
"""

from ..errors import InvalidParameterError, UnknownNameError
from .base import FINITE_SUM, STOCHASTIC, Param, Problem
from .composite import COMPOSITE_PROBLEMS
from .logistic import NonconvexLogistic
from .lsq import NonconvexLSQ
from .mv_counterexample import MVCounterexample
from .noisy_separable import NoisySeparable
from .separable_sum import SeparableSum
from .smoothed import SmoothedSeparable
from .sparse_quadratic import SparseNoiseQuadratic
from .stream_lsq import StochasticLSQ

PROBLEMS = {
    cls.name: cls
    for cls in (NonconvexLSQ, NonconvexLogistic, StochasticLSQ, SmoothedSeparable, SparseNoiseQuadratic)
}
PROBLEMS[MVCounterexample.name] = MVCounterexample
PROBLEMS[NoisySeparable.name] = NoisySeparable  # additive noise of a chosen law
PROBLEMS[SeparableSum.name] = SeparableSum  # finite-sum counterpart of smoothed-separable
PROBLEMS.update({cls.name: cls for cls in COMPOSITE_PROBLEMS})  # F = D + r, see problems.composite


def make_problem(name, **params) -> Problem:
    """Build a problem by name; unknown names and parameters raise a clear error."""
    if isinstance(name, Problem):
        if params:
            raise InvalidParameterError(
                "problem_params", params, "must be empty when a built problem is given; "
                "pass parameters with a problem name instead")
        return name
    if name not in PROBLEMS:
        raise UnknownNameError("problem", name, PROBLEMS)
    return PROBLEMS[name](**params)


__all__ = [
    "FINITE_SUM",
    "PROBLEMS",
    "STOCHASTIC",
    "NoisySeparable",
    "NonconvexLSQ",
    "NonconvexLogistic",
    "Param",
    "Problem",
    "SeparableSum",
    "SmoothedSeparable",
    "SparseNoiseQuadratic",
    "StochasticLSQ",
    "make_problem",
]
