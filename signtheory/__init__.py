"""signtheory: sign-based stochastic optimization methods and empirical checks of
their convergence theory.

>>> import signtheory
>>> trace = signtheory.run("ssvr", "nonconvex-lsq", T=200, seeds=2)  # doctest: +SKIP
>>> trace.measures()["avg_grad_l1"]  # doctest: +SKIP
"""

from ._version import __version__
from .api import run
from .errors import (
    DivergenceWarning,
    IncompatibleProblemError,
    InvalidParameterError,
    SignTheoryError,
    UnknownNameError,
)
from .methods import METHODS, get_method
from .problems import PROBLEMS, make_problem


def verify(out="verify-report", **kwargs):
    """Sweep, fit and judge every row of the theory registry (see :func:`signtheory.rates.verify.verify`)."""
    from .rates.verify import verify as _verify

    return _verify(out, **kwargs)


__all__ = [
    "__version__",
    "METHODS",
    "PROBLEMS",
    "DivergenceWarning",
    "IncompatibleProblemError",
    "InvalidParameterError",
    "SignTheoryError",
    "UnknownNameError",
    "get_method",
    "make_problem",
    "run",
    "verify",
]
