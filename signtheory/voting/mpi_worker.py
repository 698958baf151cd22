"""Entry point of the ranks of an MPI job that the ``mpi`` backend launches itself.

``mpiexec -n (n + 1) python -m signtheory.voting.mpi_worker`` serves replicates:
rank 0 reads lines ``job PATH`` on its standard input, each naming a pickled job
file, serves the replicate as the server and writes ``result.pkl`` (or
``error.pkl``) next to it, printing ``progress K`` and then ``done`` (or
``failed``) lines; ranks 1..n are the workers. ``stop`` or the end of the input
ends the job. The backend writes the jobs and reads the results (see
:mod:`signtheory.voting.backends.mpi`); this module is not meant to be started by
hand.
"""

from __future__ import annotations

import sys


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv:
        print("usage: mpiexec -n N+1 python -m signtheory.voting.mpi_worker  (job lines on stdin)",
              file=sys.stderr)
        return 2
    from .backends.mpi import child_main

    return child_main()


if __name__ == "__main__":
    sys.exit(main())
