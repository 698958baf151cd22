"""Input validation shared by problems, methods and the engine.

Each check returns the value converted to its canonical type, or raises
:class:`~signtheory.errors.InvalidParameterError` naming the parameter and what
is allowed.
"""

from __future__ import annotations

import math
import numbers

from .errors import InvalidParameterError, UnknownNameError


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_real(name: str, value, *, low=None, high=None, low_open=False, high_open=False) -> float:
    """A finite real number in the stated interval."""
    if not _is_real(value) or not math.isfinite(float(value)):
        raise InvalidParameterError(name, value, "must be a finite real number")
    value = float(value)
    lo = "(" if low_open else "["
    hi = ")" if high_open else "]"
    interval = f"{lo}{'-inf' if low is None else low}, {'inf' if high is None else high}{hi}"
    if low is not None and (value < low or (low_open and value == low)):
        raise InvalidParameterError(name, value, f"must lie in {interval}")
    if high is not None and (value > high or (high_open and value == high)):
        raise InvalidParameterError(name, value, f"must lie in {interval}")
    return value


def check_positive(name: str, value) -> float:
    """A finite real number > 0 (step sizes, radii, scales)."""
    if not _is_real(value) or not math.isfinite(float(value)) or float(value) <= 0:
        raise InvalidParameterError(name, value, "must be a finite real number > 0")
    return float(value)


def check_nonnegative(name: str, value) -> float:
    if not _is_real(value) or not math.isfinite(float(value)) or float(value) < 0:
        raise InvalidParameterError(name, value, "must be a finite real number >= 0")
    return float(value)


def check_fresh_weight(name: str, value) -> float:
    """The weight of the fresh gradient in a recursion: beta in (0, 1]."""
    if not _is_real(value) or not (0.0 < float(value) <= 1.0):
        raise InvalidParameterError(
            name, value, "must lie in (0, 1] (beta is the weight of the fresh gradient; 1 = no memory)"
        )
    return float(value)


def check_positive_int(name: str, value) -> int:
    """An integer >= 1 (horizons, batch sizes, dimensions, seed counts)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if _is_real(value) and float(value).is_integer():
            value = int(value)
        else:
            raise InvalidParameterError(name, value, "must be an integer >= 1")
    if int(value) < 1:
        raise InvalidParameterError(name, value, "must be an integer >= 1")
    return int(value)


def check_nonnegative_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < 0:
        raise InvalidParameterError(name, value, "must be an integer >= 0")
    return int(value)


def check_choice(name: str, value, choices) -> str:
    if value not in choices:
        raise UnknownNameError(name, value, choices)
    return value
