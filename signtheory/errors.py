"""Exceptions and warnings raised by signtheory.

Every error caused by a user's input is an :class:`InvalidParameterError`, a
subclass of :class:`ValueError` whose message names the parameter, the value
received and what is allowed.
"""

from __future__ import annotations


class SignTheoryError(Exception):
    """Base class of the errors raised by signtheory."""


class InvalidParameterError(SignTheoryError, ValueError):
    """A parameter has a value that is not allowed.

    Attributes
    ----------
    parameter : str
        Name of the offending parameter, as the user spelled it.
    value : object
        The value received.
    allowed : str
        What would have been accepted.
    """

    def __init__(self, parameter: str, value: object, allowed: str, hint: str | None = None):
        self.parameter = parameter
        self.value = value
        self.allowed = allowed
        message = f"invalid {parameter}={value!r}: {allowed}"
        if hint:
            message += f" ({hint})"
        super().__init__(message)


class UnknownNameError(InvalidParameterError):
    """A method, problem or option name that does not exist."""

    def __init__(self, parameter: str, value: object, choices):
        choices = sorted(choices)
        super().__init__(parameter, value, "choose one of: " + ", ".join(choices))
        self.choices = choices


class IncompatibleProblemError(InvalidParameterError):
    """A method that cannot run on the kind of problem it was given."""


class DivergenceWarning(RuntimeWarning):
    """A run produced NaN or Inf and was stopped; its trace ends there."""
