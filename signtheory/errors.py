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


class Interrupted(KeyboardInterrupt):
    """Ctrl-C stopped a sweep: ``stored`` of its ``total`` points are in the store, and a
    rerun computes only the others."""

    def __init__(self, stored: int, total: int):
        super().__init__(f"interrupted; {stored} of {total} points stored, rerun to resume")
        self.stored, self.total = stored, total


class DivergenceWarning(RuntimeWarning):
    """A run produced NaN or Inf and was stopped; its trace ends there."""


class WorkerFailure(SignTheoryError, RuntimeError):
    """A worker of a multi-process run (the ``processes`` or ``mpi`` backend) died,
    stopped answering within the timeout, or raised an error.

    Attributes
    ----------
    worker : int or None
        The worker (0-based) that failed first (None when it cannot be told).
    round : int or None
        The round it was in (0: start-up, before round 1).
    reason : str
        What happened, e.g. ``"died (exit code -9)"`` or ``"did not answer within 60 s"``.
    """

    def __init__(self, worker: int | None, round: int | None, reason: str, backend: str = ""):
        self.worker = worker
        self.round = round
        self.reason = reason
        prefix = f"{backend} backend: " if backend else ""
        if worker is None:  # the run failed before a worker could be named
            super().__init__(f"{prefix}{reason}")
            return
        where = "during start-up" if not round else f"in round {round}"
        super().__init__(f"{prefix}worker {worker} {where}: {reason}")
