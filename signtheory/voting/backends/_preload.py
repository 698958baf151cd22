"""Loads (or, once per machine, compiles) the compiled code a worker runs.

Named by the ``processes`` backend as its fork server's preload module, so that
every worker forked from it starts with the code in memory: importing it runs
:func:`~signtheory.voting.backends.worker.warm`.
"""

from __future__ import annotations

from .worker import warm

warm()
