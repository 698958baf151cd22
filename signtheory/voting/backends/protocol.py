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

import hashlib
import math
import os
import socket
import time
import warnings

import numpy as np

from ..._jit import kernel
from ...distributed import split_from_config
from ...engine.recorder import make_recorder, observe
from ...engine.replicates import chunk_steps as engine_chunk_steps
from ...engine.replicates import drive_chunks
from ...errors import InvalidParameterError, WorkerFailure
from ...ops import mean_rows
from ...ops.compressors import pack_signs_into, unpack_signs_into
from ..draws import ServerStream, WorkerStream, draw_plan
from ..methods import VOTING_METHODS, zero_rules
from ..rounds import (
    FULL,
    MAJORITY,
    MEAN,
    NORM_SCALED,
    SIGN,
    apply_vote,
    server_round,
    worker_round,
    worker_start,
)

# message formats
SIGNS, TERNARY, FLOAT = 0, 1, 2
FORMAT_NAMES = {SIGNS: "1-bit signs", TERNARY: "two bit planes", FLOAT: "float64"}
FORMAT_BITS = {SIGNS: 1, TERNARY: 2, FLOAT: 64}

# slot header (int64 words): what a worker reports with each message
H_ROUND, H_STATUS, H_CALLS, H_CLIPS, H_ZEROS, H_PID, H_TEXT = 0, 1, 2, 3, 4, 5, 6
HEADER_WORDS = 8
HEADER_BYTES = 8 * HEADER_WORDS
OK, NONFINITE, ERROR = 0, 1, 2  # worker status
ERROR_TEXT_BYTES = 4096  # room for a worker's error message in its slot

# downlink header (int64 words)
D_ROUND, D_COMMAND = 0, 1
CONTINUE, STOP = 0, 1

# a worker still starting (interpreter, imports, compiled code from the cache) gets at least this long
START_TIMEOUT = 120.0
DEFAULT_TIMEOUT = 60.0

FAULT_ENV = "SIGNTHEORY_FAULT"
FAULT_ACTIONS = ("exit", "hang", "raise")


def _align(n: int, to: int = 64) -> int:
    return -(-n // to) * to


def uplink_format(msg: int, zero_rule: int) -> int:
    """The format of a worker message (``rounds`` message code, zero-rule code)."""
    if msg == FULL:
        return FLOAT
    if msg == NORM_SCALED or (msg == SIGN and zero_rule == 0):
        return TERNARY  # the zero vector, or sign(0) = 0
    return SIGNS  # stochastic and projected signs never give 0; sign(0) resolved to +-1


def downlink_format(server: int, tie_rule: int) -> int:
    """The format of the server's V (``rounds`` server code, tie-rule code)."""
    if server == MEAN:
        return FLOAT
    if server == MAJORITY and tie_rule == 0:
        return TERNARY
    return SIGNS


def payload_bytes(fmt: int, d: int) -> int:
    if fmt == FLOAT:
        return 8 * d
    planes = 2 if fmt == TERNARY else 1
    return planes * ((d + 7) // 8)


class Layout:
    """Byte layout of a worker slot and of the downlink for n workers in dimension d.

    A slot is ``header (64 B) | message payload | estimator (8 d B, evaluation rounds
    only)``, at least ``header + ERROR_TEXT_BYTES`` long so that an error message fits
    after the header. The downlink is ``header (64 B) | V payload``.
    """

    def __init__(self, n: int, d: int, up: int, down: int):
        self.n, self.d, self.up, self.down = n, d, up, down
        self.up_bytes = payload_bytes(up, d)
        self.down_bytes = payload_bytes(down, d)
        self.est_offset = HEADER_BYTES + _align(self.up_bytes, 8)
        self.message_bytes = HEADER_BYTES + self.up_bytes  # what a round sends, estimator aside
        self.full_bytes = self.est_offset + 8 * d  # with the estimator
        self.slot_bytes = _align(max(self.full_bytes, HEADER_BYTES + ERROR_TEXT_BYTES))
        self.downlink_bytes = _align(HEADER_BYTES + self.down_bytes)


class SlotView:
    """Named views into one worker slot (a uint8 array of ``layout.slot_bytes``)."""

    def __init__(self, buf: np.ndarray, layout: Layout):
        self.buf = buf
        self.header = buf[:HEADER_BYTES].view(np.int64)
        self.payload = buf[HEADER_BYTES:HEADER_BYTES + layout.up_bytes]
        self.est = buf[layout.est_offset:layout.full_bytes].view(np.float64)
        self.text = buf[HEADER_BYTES:HEADER_BYTES + ERROR_TEXT_BYTES]

    def write_error(self, round_: int, text: str) -> int:
        data = text.encode("utf-8", "replace")[:ERROR_TEXT_BYTES]
        self.text[:len(data)] = np.frombuffer(data, dtype=np.uint8)
        self.header[H_ROUND] = round_
        self.header[H_STATUS] = ERROR
        self.header[H_TEXT] = len(data)
        self.header[H_PID] = os.getpid()
        return HEADER_BYTES + len(data)

    def error_text(self) -> str:
        k = int(min(max(self.header[H_TEXT], 0), ERROR_TEXT_BYTES))
        return bytes(self.text[:k]).decode("utf-8", "replace")


class DownlinkView:
    def __init__(self, buf: np.ndarray, layout: Layout):
        self.buf = buf
        self.header = buf[:HEADER_BYTES].view(np.int64)
        self.payload = buf[HEADER_BYTES:HEADER_BYTES + layout.down_bytes]


# -- lossless packing ------------------------------------------------------------------------


@kernel
def encode_bits(fmt, q, buf, scratch):
    """Pack q into ``buf`` (SIGNS or TERNARY); returns the number of entries the format
    cannot carry (0 when the transport is lossless)."""
    nb = (q.shape[0] + 7) // 8
    bad = 0
    for k in range(q.shape[0]):
        if q[k] != 1.0 and q[k] != -1.0 and (fmt == 0 or q[k] != 0.0):
            bad += 1
    pack_signs_into(q, buf[:nb])  # the +1 plane (all of a SIGNS message)
    if fmt == 1:
        for k in range(q.shape[0]):
            scratch[k] = -q[k]
        pack_signs_into(scratch, buf[nb:2 * nb])  # the -1 plane
    return bad


@kernel
def decode_bits(fmt, buf, out, scratch):
    """out <- the message packed in ``buf`` (SIGNS or TERNARY); the inverse of encode_bits."""
    nb = (out.shape[0] + 7) // 8
    unpack_signs_into(buf[:nb], out)
    if fmt == 1:
        unpack_signs_into(buf[nb:2 * nb], scratch)
        for k in range(out.shape[0]):
            out[k] = 0.5 * (out[k] - scratch[k])  # (+1, -1) -> +1, (-1, +1) -> -1, (-1, -1) -> 0


def encode(fmt: int, q: np.ndarray, payload: np.ndarray, scratch: np.ndarray) -> int:
    if fmt == FLOAT:
        payload.view(np.float64)[:] = q
        return 0
    return int(encode_bits(fmt, q, payload, scratch))


def decode(fmt: int, payload: np.ndarray, out: np.ndarray, scratch: np.ndarray) -> None:
    if fmt == FLOAT:
        out[:] = payload.view(np.float64)
    else:
        decode_bits(fmt, payload, out, scratch)


# -- the job ---------------------------------------------------------------------------------


def fingerprint(wp) -> str:
    """A digest of a split's compiled data, to check that a rebuilt split is the same."""
    h = hashlib.blake2b(digest_size=16)
    pd = wp.data.pd
    h.update(np.int64(pd.kind).tobytes())
    for a in (pd.A, pd.b, pd.c, pd.p, wp.data.shift, wp.data.members, wp.problem.x0):
        a = np.ascontiguousarray(a)
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def chunk_steps(n: int, samples: int, width: int, worker_uniforms: int, server_uniforms: int) -> int:
    """Rounds drawn at once: the inline backend's chunk (``VotingDrawSource.floats_per_step``
    and the engine's limits), so that every stream is drawn in the same pieces."""
    return engine_chunk_steps(n * (samples * (1 + width) + worker_uniforms) + server_uniforms)


def parse_fault(text: str | None):
    """``'J:T:ACTION'`` (a testing hook: worker J does ACTION at round T, 0 = start-up;
    ACTION is 'exit', 'hang' or 'raise') -> (J, T, ACTION), or None."""
    if not text:
        return None
    parts = text.split(":")
    try:
        j, t, action = int(parts[0]), int(parts[1]), parts[2]
    except (IndexError, ValueError):
        action = None
    if action not in FAULT_ACTIONS or len(parts) != 3:
        raise InvalidParameterError(FAULT_ENV, text, "must be WORKER:ROUND:ACTION with ACTION in "
                                    + ", ".join(FAULT_ACTIONS))
    return j, t, action


def check_timeout(timeout) -> float:
    if timeout is None:
        return DEFAULT_TIMEOUT
    ok = isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and math.isfinite(timeout)
    if not ok or timeout <= 0:
        raise InvalidParameterError("timeout", timeout, "must be a finite number of seconds > 0")
    return float(timeout)


def make_job(rep, ev_t, timeout) -> dict:
    """Everything a worker of replicate ``rep`` (a ReplicateJob) needs, as plain data
    (picklable, no compiled objects)."""
    method, wp, hp = rep.method, rep.problem, rep.hp
    d = wp.problem.d
    est, msg, server = method.codes(hp)
    zero_rule, tie_rule = zero_rules(hp)
    init, samples, wu, su = draw_plan(method, hp, d)
    return {
        "method": method.name,
        "split": wp.config,
        "fingerprint": fingerprint(wp),
        "hp": dict(hp),
        "T": int(rep.T),
        "seed": int(rep.seed),
        "replicate": int(rep.r),
        "n": int(wp.n),
        "d": int(d),
        "chunk": chunk_steps(wp.n, samples, wp.sample_width, wu, su),
        "ev_t": np.asarray(ev_t, dtype=np.int64),
        "up": uplink_format(msg, zero_rule),
        "down": downlink_format(server, tie_rule),
        "timeout": float(timeout),
        "fault": parse_fault(os.environ.get(FAULT_ENV)),
    }


def due_mask(ev_t, T: int) -> np.ndarray:
    mask = np.zeros(T + 2, dtype=bool)
    mask[np.asarray(ev_t, dtype=np.int64)] = True
    return mask



# -- loading the compiled code ---------------------------------------------------------------

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


# -- the worker ------------------------------------------------------------------------------


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


# -- the server ------------------------------------------------------------------------------


class ServerLink:
    """What :func:`serve` needs from a transport (server side)."""

    layout: Layout
    slots: list  # n SlotView, filled by wait_round

    def wait_round(self, t: int, deadline: float) -> None:
        """Return once every worker's slot for round t is in; raise WorkerFailure when a
        worker died, reported an error, or is still silent at ``deadline``."""
        raise NotImplementedError

    def publish(self, t: int, command: int) -> None:
        """Send the downlink (header and payload already written in ``self.down``)."""
        raise NotImplementedError


def check_slots(link, t: int, backend: str) -> np.ndarray:
    """The status of each worker's slot of round t; raises WorkerFailure on an error."""
    status = np.array([s.header[H_STATUS] for s in link.slots])
    for j in np.flatnonzero(status == ERROR):
        s = link.slots[j]
        raise WorkerFailure(int(j), int(s.header[H_ROUND]), "raised an error:\n" + s.error_text(), backend)
    for j, s in enumerate(link.slots):
        if s.header[H_ROUND] != t:
            raise WorkerFailure(j, t, f"sent its message of round {int(s.header[H_ROUND])} instead", backend)
    return status


def serve(rep, ev, job, link, backend):
    """The server's side of replicate ``rep`` (a ReplicateJob) on its evaluation plan ``ev``,
    with the workers' ``job`` and the transport ``link``; returns what
    ``runner._inline_replicate`` returns."""
    method, wp, hp, T, seed, r = rep.method, rep.problem, rep.hp, rep.T, rep.seed, rep.r
    problem = wp.problem
    n, d = wp.n, problem.d
    _, _, server = method.codes(hp)
    _, tie_rule = zero_rules(hp)
    su = draw_plan(method, hp, d)[3]
    sstream = ServerStream(su, seed, r)
    rec = make_recorder(ev.ev_t, d, rep.keep_iterates)
    due = due_mask(ev.ev_t, T)
    x = problem.x0.copy()
    x_prev = x.copy()
    Q = np.zeros((n, d))
    E = np.zeros((n, d))
    vote = np.zeros(d)
    vbar = np.zeros(d)
    scratch = np.zeros(d)
    scounts = np.zeros(1, dtype=np.int64)
    eta = hp["eta"]
    timeout = job["timeout"]
    up, down = job["up"], job["down"]
    chunk = job["chunk"]
    dl = link.down

    link.wait_round(0, time.monotonic() + max(timeout, START_TIMEOUT))
    check_slots(link, 0, backend)
    tally = np.array([[s.header[H_CALLS], s.header[H_CLIPS], s.header[H_ZEROS]] for s in link.slots],
                     dtype=np.int64)  # per worker: calls, clips, zero messages, as of the last full round
    dl.header[D_ROUND], dl.header[D_COMMAND] = 0, CONTINUE
    link.publish(0, CONTINUE)  # a slot is rewritten only after the server has read it

    def run_chunk(t, t1):
        us = sstream.steps(t1 - t)
        for tt in range(t, t1):
            link.wait_round(tt, time.monotonic() + timeout)
            status = check_slots(link, tt, backend)
            current = np.array([[s.header[H_CALLS], s.header[H_CLIPS], s.header[H_ZEROS]] for s in link.slots],
                               dtype=np.int64)
            if (status != OK).any():
                # the inline loop stops at the first worker whose estimator is not finite:
                # the workers before it have done round tt, the others have not
                jf = int(np.flatnonzero(status != OK)[0])
                tally[:jf] = current[:jf]
                return tt
            tally[:] = current
            if due[tt]:
                for j, s in enumerate(link.slots):
                    E[j] = s.est
                mean_rows(E, vbar)
                if not observe(problem.data, rec, tt, x, vbar, True, int(tally[:, 0].sum())):
                    return tt
            for j, s in enumerate(link.slots):
                decode(up, s.payload, Q[j], scratch)
            server_round(server, Q, vote, us[tt - t], tie_rule, scounts)
            if not apply_vote(x, x_prev, vote, eta):
                return tt
            if tt < T:
                if down == FLOAT:
                    dl.payload.view(np.float64)[:] = vote
                elif encode_bits(down, vote, dl.payload, scratch):
                    raise RuntimeError(f"the server's V at round {tt} is not in the {FORMAT_NAMES[down]} "
                                       "format of this method")
                dl.header[D_ROUND], dl.header[D_COMMAND] = tt, CONTINUE
                link.publish(tt, CONTINUE)
        return t1

    stopped = drive_chunks(T, chunk, run_chunk, rep.report)
    dl.header[D_ROUND], dl.header[D_COMMAND] = stopped or T, STOP
    link.publish(stopped or T, STOP)
    calls = int(tally[:, 0].sum())
    if not stopped and not observe(problem.data, rec, T + 1, x, x, False, calls):
        stopped = T + 1
    counts = [int(tally[:, 1].sum()), int(tally[:, 2].sum()), int(scounts[0])]
    return ev, rec, calls, stopped, counts

