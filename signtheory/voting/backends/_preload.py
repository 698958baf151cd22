"""Loads (or, once per machine, compiles) the compiled code a worker runs.

Imported by the ``processes`` backend's fork server, so that every worker forked
from it starts with the code in memory, and called by the backends before they
start fresh interpreters, so that those find it in Numba's on-disk cache. Every
problem family and every voting method goes through the same compiled signatures,
so one tiny round covers them all.
"""

from __future__ import annotations

import warnings

_warm = False


def warm() -> None:
    """Run one tiny worker round of each message format (at most once per process)."""
    global _warm
    if _warm:
        return
    _warm = True
    try:
        import numpy as np

        from ...distributed import split
        from ...problems import make_problem
        from .protocol import FLOAT, SIGNS, TERNARY, WorkerState, decode, encode, payload_bytes

        wp = split(make_problem("nonconvex-lsq", d=4, m=8), 2)
        hp = {"eta": 0.1, "B": 1, "c_eta": 1.0, "zero_rule": "zero", "tie_rule": "zero", "n_byzantine": 0}
        job = {"method": "mv-signsgd", "hp": hp, "seed": 0, "replicate": 0}
        w = WorkerState(job, 0, wp)
        w.start()
        w.draw(1)
        w.round(1, 0)
        scratch = np.zeros(4)
        for fmt in (SIGNS, TERNARY, FLOAT):
            buf = np.zeros(payload_bytes(fmt, 4), dtype=np.uint8)
            q = np.ones(4)
            encode(fmt, q, buf, scratch)
            decode(fmt, buf, q, scratch)
        w.apply(np.zeros(4))
    except Exception as exc:  # a worker would still load or compile the code itself
        warnings.warn(f"could not preload the worker code: {exc!r}", RuntimeWarning, stacklevel=2)


warm()
