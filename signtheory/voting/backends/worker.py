"""A worker's side of a replicate: the compiled code loaded once, the worker's
state rebuilt from the job, and its round loop over a transport."""

from __future__ import annotations

import os
import socket
import time
import warnings

import numpy as np

from ...distributed import split_from_config
from ...engine.replicates import drive_chunks
from ..draws import WorkerStream, draw_plan
from ..methods import VOTING_METHODS, zero_rules
from ..rounds import (
    apply_vote,
    worker_round,
    worker_start,
)
from .jobs import FAULT_ENV, due_mask, fingerprint
from .wire import (
    CONTINUE,
    D_COMMAND,
    FLOAT,
    FORMAT_NAMES,
    H_CALLS,
    H_CLIPS,
    H_PID,
    H_ROUND,
    H_STATUS,
    H_TEXT,
    H_ZEROS,
    HEADER_BYTES,
    NONFINITE,
    OK,
    SIGNS,
    TERNARY,
    decode,
    encode,
    payload_bytes,
)

_warm = False


def warm() -> None:
    """Load (or, once per machine, compile) the code a worker runs: one tiny worker round of
    each message format, at most once per process. Every problem family and voting method
    goes through the same compiled signatures, so this round covers them all; the backends
    call it before they start workers, which then find the code in Numba's on-disk cache."""
    global _warm
    if _warm:
        return
    _warm = True
    try:
        from ...distributed import split
        from ...problems import make_problem

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


class WorkerState:
    """Worker j of a job: its data, streams, estimator and message buffers."""

    def __init__(self, job: dict, j: int, wp=None):
        if wp is None:
            wp = split_from_config(job["split"])
            if fingerprint(wp) != job["fingerprint"]:
                raise RuntimeError("the worker split rebuilt from its configuration differs from the "
                                   "server's (a problem that its name and parameters do not determine?)")
        self.job, self.j = job, j
        method = VOTING_METHODS[job["method"]]
        hp = job["hp"]
        self.est, self.msg, _ = method.codes(hp)
        self.zero_rule, _ = zero_rules(hp)
        init, samples, wu, _ = draw_plan(method, hp, wp.problem.d)
        self.stream = WorkerStream(wp, j, init, samples, wu, job["seed"], job["replicate"])
        self.wd = wp.data
        d = wp.problem.d
        self.x = wp.problem.x0.copy()
        self.x_prev = self.x.copy()
        self.v, self.g1, self.g2, self.q = (np.zeros(d) for _ in range(4))
        self.vote = np.zeros(d)
        self.scratch = np.zeros(d)
        self.counts = np.zeros(2, dtype=np.int64)
        self.eta = float(hp["eta"])
        self.beta = float(hp.get("beta", 1.0))
        self.R = float(hp.get("R", np.inf))
        self.byzantine = j < hp["n_byzantine"]
        self.calls = 0
        self.draws = None

    def start(self) -> None:
        idx0, z0 = self.stream.initial()
        self.calls += int(worker_start(self.wd, self.j, self.est, self.x, self.v, idx0, z0))

    def draw(self, steps: int) -> None:
        self.draws = self.stream.steps(steps)

    def round(self, t: int, s: int) -> bool:
        """Round t (row s of the current draws); False if the estimator is not finite."""
        idx, z, u = self.draws
        c = worker_round(self.wd, self.j, self.est, self.msg, t, self.x, self.x_prev, self.v, self.g1,
                         self.g2, self.q, idx[s], z[s], u[s], self.beta, self.R, self.zero_rule,
                         self.byzantine, self.counts)
        if c < 0:
            return False
        self.calls += int(c)
        return True

    def apply(self, vote: np.ndarray) -> None:
        apply_vote(self.x, self.x_prev, vote, self.eta)


def _fault(job, j, t):
    fault = job.get("fault")
    if fault is None or fault[0] != j or fault[1] != t:
        return
    action = fault[2]
    if action == "exit":
        os._exit(17)
    if action == "hang":
        while True:
            time.sleep(3600)
    raise RuntimeError(f"fault injected by {FAULT_ENV} at round {t}")


def run_worker(job: dict, j: int, link) -> None:
    """Worker j's whole replicate over a transport ``link``, which gives ``link.slot``
    (a :class:`SlotView`), ``link.send(nbytes)`` (the slot's first bytes to the server)
    and ``link.receive()`` (waits for the downlink; returns a :class:`DownlinkView`)."""
    import traceback

    slot = link.slot
    layout = link.layout
    try:
        warm()  # load (or compile) the worker code now, within the start-up allowance, not in round 1
        _fault(job, j, 0)
        w = WorkerState(job, j)
        w.start()
    except Exception:  # reported to the server, which raises WorkerFailure
        link.send(slot.write_error(0, traceback.format_exc()))
        return
    h = slot.header
    h[H_ROUND], h[H_STATUS], h[H_CALLS], h[H_CLIPS], h[H_ZEROS], h[H_PID] = 0, OK, w.calls, 0, 0, os.getpid()
    host = socket.gethostname().encode("utf-8", "replace")[:255]  # with the pid: a liveness check
    slot.text[:len(host)] = np.frombuffer(host, dtype=np.uint8)
    h[H_TEXT] = len(host)
    link.send(max(layout.message_bytes, HEADER_BYTES + len(host)))
    if link.receive().header[D_COMMAND] != CONTINUE:  # the server has every worker's start (or stops)
        return
    T, chunk = job["T"], job["chunk"]
    due = due_mask(job["ev_t"], T)
    up, down = job["up"], job["down"]
    current = 0

    def run_chunk(t, t1):  # returns at the round the server stops the run
        nonlocal current
        w.draw(t1 - t)
        for tt in range(t, t1):
            current = tt
            _fault(job, j, tt)
            ok = w.round(tt, tt - t)
            nbytes = layout.message_bytes
            if ok:
                if encode(up, w.q, slot.payload, w.scratch):
                    raise RuntimeError(f"message of worker {j} at round {tt} is not in the "
                                       f"{FORMAT_NAMES[up]} format of this method")
                if due[tt]:
                    slot.est[:] = w.v
                    nbytes = layout.full_bytes
            h[H_ROUND], h[H_STATUS], h[H_CALLS] = tt, OK if ok else NONFINITE, w.calls
            h[H_CLIPS], h[H_ZEROS] = w.counts[0], w.counts[1]
            link.send(nbytes)
            dl = link.receive()
            if dl.header[D_COMMAND] != CONTINUE:
                return tt
            decode(down, dl.payload, w.vote, w.scratch)
            w.apply(w.vote)
        return t1

    try:
        drive_chunks(T, chunk, run_chunk)
    except Exception:
        link.send(slot.write_error(current, traceback.format_exc()))
