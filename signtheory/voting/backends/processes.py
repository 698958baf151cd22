"""The ``processes`` backend: one OS process per worker, messages in shared memory.

The calling process is the server. For each replicate it creates one
``multiprocessing.shared_memory`` segment (named ``signtheory_<pid>_<random>``)
holding the downlink and one slot per worker (see :class:`.protocol.Layout`),
and two semaphores per worker: ``ready[j]`` (worker j's slot for the round is
written) and ``go[j]`` (the downlink is written). The workers are started with
the ``forkserver`` method where the platform has it (the fork server imports the
package and loads the compiled worker code once, so each worker starts in
milliseconds) and ``spawn`` otherwise; the environment variable
``SIGNTHEORY_START_METHOD`` (``forkserver`` or ``spawn``) forces one.

Failures: the server waits for each round's slots in slices of
:data:`POLL` seconds; a worker whose process has exited is reported at once, a
silent one after ``timeout`` seconds, both as :class:`~signtheory.errors.WorkerFailure`
naming the worker and the round. Whatever ends the replicate (its end, a failure,
``KeyboardInterrupt``), the workers are stopped (terminated if they do not exit
by themselves) and the segment is unlinked. A worker whose server has gone exits
by itself within a second, stuck or not (a watchdog thread checks).
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import secrets
import signal
import time
from multiprocessing import shared_memory

import numpy as np

from ..._supervise import alive, exit_when_gone
from ...errors import InvalidParameterError, WorkerFailure
from .jobs import check_timeout, make_job
from .server import ServerLink, serve
from .wire import DownlinkView, Layout, SlotView
from .worker import run_worker, warm

BACKEND = "processes"
POLL = 0.05  # seconds between liveness checks while the server waits
WORKER_POLL = 1.0  # seconds between a waiting worker's checks that its server is alive
START_METHOD_ENV = "SIGNTHEORY_START_METHOD"
PRELOAD = "signtheory.voting.backends._preload"
SHM_PREFIX = "signtheory_"


def start_method() -> str:
    forced = os.environ.get(START_METHOD_ENV)
    available = mp.get_all_start_methods()
    if forced:
        if forced not in ("forkserver", "spawn") or forced not in available:
            raise InvalidParameterError(START_METHOD_ENV, forced, "must be 'forkserver' or 'spawn' (one this "
                                        f"platform has: {', '.join(available)})")
        return forced
    return "forkserver" if "forkserver" in available else "spawn"


def context():
    method = start_method()
    ctx = mp.get_context(method)
    if method == "forkserver":
        from multiprocessing import forkserver

        server = getattr(forkserver, "_forkserver", None)
        if server is not None and getattr(server, "_forkserver_pid", 1) is None:  # not started yet
            ctx.set_forkserver_preload([PRELOAD])
            return ctx

    warm()  # compile (once per machine) and cache before the workers load the code themselves
    return ctx


def _segment(layout: Layout) -> tuple[shared_memory.SharedMemory, int]:
    size = layout.downlink_bytes + layout.n * layout.slot_bytes
    name = f"{SHM_PREFIX}{os.getpid()}_{secrets.token_hex(4)}"
    return shared_memory.SharedMemory(name=name, create=True, size=size), size


def _views(shm, size, layout: Layout):
    buf = np.ndarray((size,), dtype=np.uint8, buffer=shm.buf)
    down = DownlinkView(buf[:layout.downlink_bytes], layout)
    slots = []
    for j in range(layout.n):
        off = layout.downlink_bytes + j * layout.slot_bytes
        slots.append(SlotView(buf[off:off + layout.slot_bytes], layout))
    return down, slots


class ShmServer(ServerLink):
    def __init__(self, shm, size, layout, procs, ready, go, timeout):
        self.layout = layout
        self.down, self.slots = _views(shm, size, layout)
        self.procs, self.ready, self.go = procs, ready, go
        self.timeout = timeout

    def wait_round(self, t, deadline):
        pending = list(range(self.layout.n))
        while pending:
            j = pending[0]
            if self.ready[j].acquire(timeout=max(0.0, min(POLL, deadline - time.monotonic()))):
                pending.pop(0)
                continue
            for i in list(pending):
                code = self.procs[i].exitcode
                if code is None:
                    continue
                if self.ready[i].acquire(block=False):  # it reported (an error) before exiting
                    pending.remove(i)
                    continue
                how = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
                raise WorkerFailure(i, t, f"its process died ({how}) before sending its message", BACKEND)
            if pending and time.monotonic() >= deadline:
                others = f" (nor did workers {pending[1:]})" if len(pending) > 1 else ""
                raise WorkerFailure(pending[0], t, f"did not answer within {self.timeout:g} s{others}", BACKEND)

    def publish(self, t, command):
        for g in self.go:
            g.release()

    def release(self):
        self.down = self.slots = None


class ShmWorker:
    def __init__(self, shm, size, layout, ready, go, server_pid):
        self.layout = layout
        self.down, slots = _views(shm, size, layout)
        self.slot = None
        self.slots = slots
        self.ready, self.go = ready, go
        self.server_pid = server_pid

    def send(self, nbytes):
        self.ready.release()

    def receive(self):
        while not self.go.acquire(timeout=WORKER_POLL):
            if not alive(self.server_pid):
                os._exit(0)  # nobody left to talk to
        return self.down

    def release(self):
        self.down = self.slot = self.slots = None


def worker_main(job, j, shm_name, size, ready, go, server_pid):
    """The target of worker j's process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server stops its workers on Ctrl-C
    exit_when_gone(server_pid, WORKER_POLL)  # even if the worker itself is stuck

    layout = Layout(job["n"], job["d"], job["up"], job["down"])
    shm = shared_memory.SharedMemory(name=shm_name)
    link = None
    try:
        link = ShmWorker(shm, size, layout, ready, go, server_pid)
        link.slot = link.slots[j]
        run_worker(job, j, link)
    finally:
        if link is not None:
            link.release()
        link = None
        _close(shm)


def _close(shm) -> None:
    try:
        shm.close()
    except BufferError:  # a view still alive in a reference cycle
        gc.collect()
        shm.close()


def _stop(procs, graceful: bool) -> None:
    """Wait for the workers to exit (a moment when they were told to stop), then make sure."""
    deadline = time.monotonic() + (2.0 if graceful else 0.0)
    for p in procs:
        if p.pid is not None:
            p.join(max(0.0, deadline - time.monotonic()))
    for p in procs:
        if p.pid is not None and p.is_alive():
            p.terminate()
    for p in procs:
        if p.pid is not None:
            p.join(2.0)
            if p.is_alive():
                p.kill()
                p.join(2.0)
    for p in procs:
        if p.pid is not None:
            p.close()


def replicate_processes(rep):
    """Replicate ``rep`` (a ReplicateJob) with one process per worker."""
    wp = rep.problem
    timeout = check_timeout(rep.timeout)
    ev = rep.plan()
    job = make_job(rep, ev.ev_t, timeout)
    layout = Layout(job["n"], job["d"], job["up"], job["down"])
    ctx = context()
    shm, size = _segment(layout)
    procs, link, done = [], None, False
    try:
        ready = [ctx.Semaphore(0) for _ in range(wp.n)]
        go = [ctx.Semaphore(0) for _ in range(wp.n)]
        for j in range(wp.n):
            p = ctx.Process(target=worker_main, args=(job, j, shm.name, size, ready[j], go[j], os.getpid()),
                            name=f"signtheory-worker-{j}")
            procs.append(p)
            p.start()
        link = ShmServer(shm, size, layout, procs, ready, go, timeout)
        result = serve(rep, ev, job, link, BACKEND)
        done = True
        return result
    finally:
        try:
            _stop(procs, graceful=done)
        finally:
            if link is not None:
                link.release()
            link = None
            try:
                _close(shm)
            finally:
                shm.unlink()
