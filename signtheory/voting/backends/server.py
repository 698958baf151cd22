"""The server's side of a replicate: waiting for the workers' slots, voting,
recording, and the downlink, over a transport."""

from __future__ import annotations

import time

import numpy as np

from ...engine.recorder import make_recorder, observe
from ...engine.replicates import drive_chunks
from ...errors import WorkerFailure
from ...ops import mean_rows
from ..draws import ServerStream, draw_plan
from ..methods import zero_rules
from ..rounds import (
    apply_vote,
    server_round,
)
from .jobs import START_TIMEOUT, due_mask
from .wire import (
    CONTINUE,
    D_COMMAND,
    D_ROUND,
    ERROR,
    FLOAT,
    FORMAT_NAMES,
    H_CALLS,
    H_CLIPS,
    H_ROUND,
    H_STATUS,
    H_ZEROS,
    OK,
    STOP,
    Layout,
    decode,
    encode_bits,
)


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
