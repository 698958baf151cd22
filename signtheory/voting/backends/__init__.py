"""The ``processes`` and ``mpi`` backends of the majority-vote runner.

Both run each worker in its own process and the server in another, exchange
packed messages each round and reproduce the inline backend's trajectory bit for
bit (see :mod:`signtheory.voting.backends.protocol` and ``docs/backends.md``).
"""

from __future__ import annotations

from ...errors import InvalidParameterError


def replicate_with_backend(backend, job):
    """Replicate ``job.r`` of a voting run (a :class:`~signtheory.engine.replicates.ReplicateJob`
    whose problem is the workers' split) on ``backend`` ('processes' or 'mpi').

    Returns what the inline backend returns: ``(ev, rec, calls, stopped, counts)``, the
    evaluation plan, the filled recorder, the oracle calls of all workers, the round at
    which a NaN or Inf stopped the run (0 if none) and ``[clips, zero messages, ties]``.
    ``job.timeout`` (seconds, default 60) bounds how long the server waits for a worker's
    message in a round; a worker that dies, hangs or fails raises
    :class:`~signtheory.errors.WorkerFailure`.
    """
    if backend == "processes":
        from .processes import replicate_processes

        return replicate_processes(job)
    if backend == "mpi":
        from .mpi import replicate_mpi

        return replicate_mpi(job)
    raise InvalidParameterError("backend", backend, "choose one of: processes, mpi (or inline)")


__all__ = ["replicate_with_backend"]
