"""The round protocol of the ``processes`` and ``mpi`` backends, independent of how
the bytes travel.

A replicate is described by a *job* (plain data, see :func:`make_job`). Each worker
rebuilds its part from the job alone (:class:`WorkerState`): the split from its
configuration, the method from its name, its random streams from the seed; the
server (:func:`serve`) keeps the iterate, votes and records. A round t is::

    worker j:  worker_round(...)   -> a slot: header | packed message q^j_t | (v^j_t on evaluation rounds)
    server:    all n slots in      -> observe(x_t, mean_j v^j_t) on evaluation rounds
                                   -> server_round(...) = V_t, apply_vote(x_t, V_t)
               publish               a downlink: header | packed V_t (or the command to stop)
    worker j:  apply_vote(x_t, V_t)

These are the compiled functions the inline backend calls, on the same draws, so
the trajectory is the inline one bit for bit; the messages travel losslessly:

``SIGNS``    entries in {-1, +1}: one bit per coordinate, ceil(d/8) bytes;
``TERNARY``  entries in {-1, 0, +1}: two bit planes (the +1 plane, then the -1 plane);
``FLOAT``    any real: float64, 8 d bytes.

A transport moves a worker's slot to the server and the downlink to every worker;
it is the only part that differs between the two backends.
"""

from __future__ import annotations

from .jobs import DEFAULT_TIMEOUT, FAULT_ENV, START_TIMEOUT, check_timeout, fingerprint, make_job
from .server import ServerLink, check_slots, serve
from .wire import (
    FLOAT,
    FORMAT_BITS,
    FORMAT_NAMES,
    SIGNS,
    TERNARY,
    DownlinkView,
    Layout,
    SlotView,
    decode,
    downlink_format,
    encode,
    payload_bytes,
    uplink_format,
)
from .worker import WorkerState, run_worker, warm

__all__ = [
    "DEFAULT_TIMEOUT", "FAULT_ENV", "FLOAT", "FORMAT_BITS", "FORMAT_NAMES", "SIGNS", "START_TIMEOUT", "TERNARY",
    "DownlinkView", "Layout", "ServerLink", "SlotView", "WorkerState", "check_slots", "check_timeout", "decode",
    "downlink_format", "encode", "fingerprint", "make_job", "payload_bytes", "run_worker", "serve",
    "uplink_format", "warm",
]
