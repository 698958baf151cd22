"""The ``mpi`` backend: one MPI rank per worker plus rank 0 as the server (mpi4py).

Two ways to run it:

* **Under mpiexec** (``mpiexec -n K python -m signtheory run ... --backend mpi``
  with K = n + 1, on one host or across hosts): every rank runs the same program
  up to the first replicate. Rank 0 is the server and goes on; ranks 1..n become
  workers, serve every replicate rank 0 sends them and exit when rank 0's program
  ends, so the code after the run executes on rank 0 only.
* **From a plain Python process** (``run(..., backend='mpi')`` outside mpiexec):
  the calling process launches ``mpiexec -n (n + 1) python -m
  signtheory.voting.mpi_worker`` as a child job, whose rank 0 is the server: it
  reads the path of each replicate's job on its standard input and writes the
  result back, and the caller relays the progress and enforces a watchdog. The
  child job is kept for the next replicates with the same n (so its ranks start
  once) and ended at exit or on any failure. It runs apart from the caller, so an
  MPI abort never takes the caller down. (Spawning the ranks with
  ``MPI_Comm_spawn`` from the caller would tie the caller to the MPI runtime,
  which kills every connected process when one dies.)

Messages: each worker sends its slot (header, packed message, and its estimator
on evaluation rounds) to rank 0 with ``Send``; rank 0 posts one ``Irecv`` per
worker and sends the downlink to each worker with ``Isend``. Every wait polls its
requests with a short back-off sleep, so that a round can time out: a worker that
does not answer within ``timeout`` seconds, or whose process is gone (checked for
the ranks on rank 0's host), raises :class:`~signtheory.errors.WorkerFailure`
naming the worker and the round. Under mpiexec, the MPI runtime's own policy
applies to a rank that dies (MPICH's Hydra ends the whole job unless started with
``-disable-auto-cleanup``); after a failure, rank 0 aborts the MPI job when its
program ends.

The MPI runtime comes from PyPI with the ``mpi`` extra (``pip install
'signtheory[mpi]'``: the ``mpich`` wheel, which provides ``mpiexec``, and
``mpi4py``). ``SIGNTHEORY_MPIEXEC`` names another launcher (e.g. ``srun`` or a
system ``mpiexec`` with its options).
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import pickle
import selectors
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from ...errors import InvalidParameterError, SignTheoryError, WorkerFailure
from ..methods import VOTING_METHODS
from .jobs import START_TIMEOUT, check_timeout, fingerprint, make_job
from .server import ServerLink, serve
from .wire import DownlinkView, Layout, SlotView
from .worker import run_worker, warm

BACKEND = "mpi"
TAG_SLOT, TAG_HELLO, TAG_DOWN = 11, 12, 13
POLL = 0.05  # seconds between liveness checks while rank 0 waits
SPIN_S = 0.05  # seconds a wait polls without sleeping
HEARTBEAT = 1.0  # seconds between rank 0's signs of life to the caller (child mode)
MPIEXEC_ENV = "SIGNTHEORY_MPIEXEC"
WORKER_MODULE = "signtheory.voting.mpi_worker"
# launcher variables of an enclosing MPI job, not passed to a child mpiexec
LAUNCH_PREFIXES = ("PMI_", "PMIX_", "HYDRA_", "OMPI_", "MPI_LOCAL", "PRTE_", "I_MPI_HYDRA")
INSTALL_HINT = "install the MPI extra: pip install 'signtheory[mpi]' (mpi4py and the mpich runtime)"


# -- waiting with a deadline -----------------------------------------------------------------


_yield = getattr(os, "sched_yield", lambda: time.sleep(0))


class Backoff:
    """Pauses between polls of a request: for the first :data:`SPIN_S` seconds (a
    round's message usually arrives within them) only a yield of the processor, which
    lets a rank that has work run when ranks share cores; then sleeps of doubling
    length up to ``max_sleep``, so that long-idle ranks cost nothing."""

    def __init__(self, max_sleep: float = 1e-3):
        self.start = time.monotonic()
        self.delay = 0.0
        self.max_sleep = max_sleep

    def pause(self) -> None:
        if self.delay == 0.0 and time.monotonic() - self.start < SPIN_S:
            _yield()  # to the rank that has work, when the cores are shared
            return
        self.delay = min(max(2 * self.delay, 5e-5), self.max_sleep)
        time.sleep(self.delay)


def _wait(req, deadline=None, tick=None, max_sleep=1e-3) -> bool:
    """Poll ``req`` until it completes (True) or ``deadline`` passes (False)."""
    backoff = Backoff(max_sleep)
    while not req.Test():
        if tick is not None:
            tick()
        if deadline is not None and time.monotonic() >= deadline:
            return False
        backoff.pause()
    return True


def _pid_alive(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    if Path("/proc/self/stat").exists():
        try:
            state = stat.read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return False
        return state not in ("Z", "X")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


# -- the world: a duplicate of COMM_WORLD, the ranks' hosts and pids -------------------------


class World:
    def __init__(self, comm, peers):
        self.comm = comm
        self.peers = peers  # rank -> (host, pid), known to rank 0
        self.broken = False


_world: World | None = None


def world(timeout: float = START_TIMEOUT) -> World:
    """This process's MPI world (created once; collective on the first call)."""
    global _world
    if _world is None:
        from mpi4py import MPI

        comm = MPI.COMM_WORLD.Dup()
        peers = {}
        me = (socket.gethostname(), os.getpid())
        if comm.rank == 0:
            reqs = {r: comm.irecv(source=r, tag=TAG_HELLO) for r in range(1, comm.size)}
            deadline = time.monotonic() + timeout
            for r, req in reqs.items():
                done, value = False, None
                while not done:
                    done, value = req.test()
                    if not done:
                        if time.monotonic() >= deadline:
                            raise WorkerFailure(r - 1, 0, f"MPI rank {r} did not report within {timeout:g} s",
                                                BACKEND)
                        time.sleep(1e-3)
                peers[r] = value
        else:
            comm.send(me, dest=0, tag=TAG_HELLO)
        _world = World(comm, peers)
        if comm.rank == 0 and comm.size > 1:
            atexit.register(_shutdown)
    return _world


def _shutdown() -> None:
    """Rank 0 at exit: release the worker ranks, or abort the job after a failure."""
    w = _world
    if w is None:
        return
    if w.broken:
        sys.stderr.flush()
        w.comm.Abort(1)
    try:
        send_job(w.comm, None, time.monotonic() + 10.0)
    except SignTheoryError:
        w.comm.Abort(1)


def send_job(comm, job, deadline) -> None:
    """Rank 0: send a job (None: stop) to every worker rank."""
    from mpi4py import MPI

    data = b"" if job is None else pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
    size = np.array([-1 if job is None else len(data)], dtype=np.int64)
    if not _wait(comm.Ibcast([size, MPI.INT64_T], root=0), deadline):
        raise WorkerFailure(None, 0, "the worker ranks did not take the job", BACKEND)
    if job is not None:
        buf = np.frombuffer(data, dtype=np.uint8).copy()
        if not _wait(comm.Ibcast([buf, MPI.BYTE], root=0), deadline):
            raise WorkerFailure(None, 0, "the worker ranks did not take the job", BACKEND)


def receive_job(comm):
    """A worker rank: wait (idle) for the next job; None means stop."""
    from mpi4py import MPI

    size = np.zeros(1, dtype=np.int64)
    _wait(comm.Ibcast([size, MPI.INT64_T], root=0), max_sleep=0.01)
    if size[0] < 0:
        return None
    buf = np.zeros(int(size[0]), dtype=np.uint8)
    _wait(comm.Ibcast([buf, MPI.BYTE], root=0))
    return pickle.loads(buf.tobytes())


def serve_jobs(comm) -> None:
    """A worker rank (1..n): run the jobs rank 0 sends until it says stop."""
    while True:
        job = receive_job(comm)
        if job is None:
            return
        run_worker(job, comm.rank - 1, WorkerLink(comm, Layout(job["n"], job["d"], job["up"], job["down"])))


# -- the two sides of a round ----------------------------------------------------------------


class WorkerLink:
    def __init__(self, comm, layout):
        self.comm, self.layout = comm, layout
        self.slot = SlotView(np.zeros(layout.slot_bytes, dtype=np.uint8), layout)
        self.down = DownlinkView(np.zeros(layout.downlink_bytes, dtype=np.uint8), layout)

    def send(self, nbytes):
        from mpi4py import MPI

        self.comm.Send([self.slot.buf[:nbytes], MPI.BYTE], dest=0, tag=TAG_SLOT)

    def receive(self):
        from mpi4py import MPI

        _wait(self.comm.Irecv([self.down.buf, MPI.BYTE], source=0, tag=TAG_DOWN))
        return self.down


class ServerMPI(ServerLink):
    def __init__(self, w: World, layout, timeout, tick=None):
        self.comm, self.layout, self.timeout, self.tick = w.comm, layout, timeout, tick
        self.bufs = np.zeros((layout.n, layout.slot_bytes), dtype=np.uint8)
        self.slots = [SlotView(self.bufs[j], layout) for j in range(layout.n)]
        self.down = DownlinkView(np.zeros(layout.downlink_bytes, dtype=np.uint8), layout)
        host = socket.gethostname()
        self.local = {r - 1: pid for r, (h, pid) in w.peers.items() if h == host}  # worker -> pid

    def wait_round(self, t, deadline):
        from mpi4py import MPI

        n = self.layout.n
        reqs = [self.comm.Irecv([self.bufs[j], MPI.BYTE], source=j + 1, tag=TAG_SLOT) for j in range(n)]
        pending = list(range(n))
        backoff, checked = Backoff(), time.monotonic()
        while True:
            pending = [j for j in pending if not reqs[j].Test()]
            if not pending:
                return
            if self.tick is not None:
                self.tick()
            now = time.monotonic()
            if now - checked >= POLL:
                checked = now
                for j in pending:
                    if j in self.local and not _pid_alive(self.local[j]):
                        self._cancel(reqs, pending)
                        raise WorkerFailure(j, t, f"its process (MPI rank {j + 1}, pid {self.local[j]}) died "
                                            "before sending its message", BACKEND)
            if now >= deadline:
                self._cancel(reqs, pending)
                others = f" (nor did workers {pending[1:]})" if len(pending) > 1 else ""
                raise WorkerFailure(pending[0], t, f"did not answer within {self.timeout:g} s{others}", BACKEND)
            backoff.pause()

    @staticmethod
    def _cancel(reqs, pending):
        for j in pending:
            try:
                reqs[j].Cancel()
            except Exception:  # best effort: the job is aborted next
                pass

    def publish(self, t, command):
        from mpi4py import MPI

        # one message per worker rather than a broadcast: a tree broadcast would wait for
        # worker ranks that sleep between polls to relay it
        n = self.layout.n
        reqs = [self.comm.Isend([self.down.buf, MPI.BYTE], dest=j + 1, tag=TAG_DOWN) for j in range(n)]
        deadline = time.monotonic() + self.timeout
        for j, req in enumerate(reqs):
            if not _wait(req, deadline, self.tick):
                raise WorkerFailure(j, t, f"did not take the server's message of round {t} within "
                                    f"{self.timeout:g} s", BACKEND)


def run_server(w: World, rep, ev, job, tick=None):
    """Rank 0's side of replicate ``rep`` (a ReplicateJob; the workers must be in
    :func:`serve_jobs`)."""
    if w.broken:
        raise WorkerFailure(None, None, "an earlier failure left the MPI worker ranks unusable", BACKEND)
    layout = Layout(job["n"], job["d"], job["up"], job["down"])
    try:
        send_job(w.comm, job, time.monotonic() + job["timeout"])
        link = ServerMPI(w, layout, job["timeout"], tick)
        return serve(rep, ev, job, link, BACKEND)
    except BaseException:
        w.broken = True
        raise


# -- entry point of the backend --------------------------------------------------------------


def launched_by_mpi() -> bool:
    """True when this process is one rank of several of an MPI job."""
    if "mpi4py.MPI" not in sys.modules:
        keys = ("PMI_SIZE", "PMI_RANK", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS")
        if not any(k in os.environ for k in keys):
            return False
        for k in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE"):
            if k in os.environ and os.environ[k].strip() == "1":
                return False
        if importlib.util.find_spec("mpi4py") is None:
            return False
    from mpi4py import MPI

    return MPI.COMM_WORLD.Get_size() > 1


def replicate_mpi(rep):
    """Replicate ``rep`` (a ReplicateJob) on MPI ranks: this job's own when launched by
    mpiexec with n + 1 ranks, else a child MPI job."""
    wp = rep.problem
    timeout = check_timeout(rep.timeout)
    if not launched_by_mpi():
        return replicate_via_mpiexec(rep, timeout)
    from mpi4py import MPI

    size = MPI.COMM_WORLD.Get_size()
    if size != wp.n + 1:
        raise InvalidParameterError("n", wp.n, f"must be {size - 1} under this mpiexec: its {size} ranks are "
                                    "the server (rank 0) and one rank per worker (run mpiexec -n n+1)")
    w = world(max(timeout, START_TIMEOUT))
    if w.comm.rank != 0:
        serve_jobs(w.comm)
        raise SystemExit(0)  # rank 0's program has ended; so does this rank's
    ev = rep.plan()
    job = make_job(rep, ev.ev_t, timeout)
    return run_server(w, rep, ev, job)


# -- the child mpiexec -----------------------------------------------------------------------

_hydra: dict = {}


def mpiexec_command() -> list[str]:
    """The launcher, as a command prefix; raises if there is none."""
    given = os.environ.get(MPIEXEC_ENV)
    if given:
        return shlex.split(given)
    local = Path(sys.executable).parent / "mpiexec"
    path = str(local) if local.exists() else shutil.which("mpiexec")
    if path is None:
        raise InvalidParameterError("backend", "mpi",
                                    f"needs an MPI launcher (mpiexec), found none: {INSTALL_HINT}")
    if path not in _hydra:
        try:
            out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout
        except (OSError, subprocess.TimeoutExpired):
            out = ""
        _hydra[path] = "HYDRA" in out.upper()
    # MPICH's Hydra ends the whole job when a rank dies; rank 0 reports the worker instead
    return [path, "-disable-auto-cleanup"] if _hydra[path] else [path]


def check_available() -> None:
    if importlib.util.find_spec("mpi4py") is None:
        raise InvalidParameterError("backend", "mpi", f"needs the mpi4py package: {INSTALL_HINT}")
    mpiexec_command()


def _child_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(LAUNCH_PREFIXES)}
    root = str(Path(__file__).resolve().parents[3])  # the directory holding the package
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _process_table() -> dict:
    """pid -> (parent pid, start time) of the live processes (Linux /proc; empty elsewhere)."""
    table = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            table[int(stat.parent.name)] = (int(fields[1]), fields[19])
        except (OSError, IndexError, ValueError):
            continue
    return table


def _tree(root: int) -> dict:
    """The live descendants of ``root`` (Hydra starts each rank in a session of its own,
    so a process group does not hold them): pid -> start time."""
    table = _process_table()
    children: dict = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = {}, [root]
    while todo:
        for pid in children.get(todo.pop(), []):
            out[pid] = table[pid][1]
            todo.append(pid)
    return out


def _segments(pids) -> set:
    """The MPI runtime's shared-memory segments mapped by these processes."""
    names = set()
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/maps").read_text()
        except OSError:
            continue
        names.update(part.split("/dev/shm/", 1)[1].split()[0] for part in text.splitlines()
                     if "/dev/shm/mpich_shm_" in part)
    return names


def _end_job(proc, tree: dict, segments: set) -> None:
    """Make sure a child MPI job is over: SIGTERM to mpiexec (Hydra then stops its
    ranks), SIGKILL to whatever is left of its process tree, and removal of the
    segments its ranks mapped (a killed rank cannot remove them)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(2.0)
        except subprocess.TimeoutExpired:
            pass
    table = _process_table()
    for pid, start in tree.items():
        if pid in table and table[pid][1] == start:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
    for name in segments:
        try:
            os.unlink(f"/dev/shm/{name}")
        except OSError:
            pass


class Pool:
    """A child MPI job of n + 1 ranks kept for the replicates that follow: rank 0 reads
    ``job PATH`` lines on its standard input and answers ``progress K`` lines, then
    ``done`` or ``failed``."""

    def __init__(self, n: int, launcher: list[str]):
        self.n, self.launcher = n, launcher
        self.tmp = Path(tempfile.mkdtemp(prefix="signtheory-mpi-"))
        self.jobs = 0
        self.fresh = True
        self.cmd = launcher + ["-n", str(n + 1), sys.executable, "-m", WORKER_MODULE]
        with open(self.tmp / "stderr.txt", "wb") as errors:
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors,
                                         env=_child_env(), start_new_session=True)
        self.pending = b""

    def alive(self) -> bool:
        return self.proc.poll() is None

    def run(self, spec: dict, report, timeout: float):
        self.jobs += 1
        path = self.tmp / f"job{self.jobs}.pkl"
        for name in ("result.pkl", "error.pkl"):
            (self.tmp / name).unlink(missing_ok=True)
        path.write_bytes(pickle.dumps(spec, protocol=pickle.HIGHEST_PROTOCOL))
        self.proc.stdin.write(f"job {path}\n".encode())
        self.proc.stdin.flush()
        silence = (max(timeout, START_TIMEOUT) if self.fresh else timeout) + 30.0
        state = self._follow(report, silence)
        self.fresh = False
        path.unlink(missing_ok=True)
        if state == "done":
            return pickle.loads((self.tmp / "result.pkl").read_bytes())
        error = self.tmp / "error.pkl"
        if error.exists():
            raise _rebuild_error(pickle.loads(error.read_bytes()))
        tail = (self.tmp / "stderr.txt").read_text(errors="replace")[-2000:]
        raise WorkerFailure(None, None, f"the MPI job ({' '.join(self.cmd[:3])} ...) ended with exit code "
                            f"{self.proc.returncode} and no result:\n{tail}", BACKEND)

    def _follow(self, report, silence) -> str:
        """Relay rank 0's lines until it says done or failed ('eof' if the job ended first);
        raises WorkerFailure when it stays silent for ``silence`` seconds."""
        fd = self.proc.stdout.fileno()
        last = time.monotonic()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while True:
                while b"\n" in self.pending:
                    line, self.pending = self.pending.split(b"\n", 1)
                    word, _, value = line.decode(errors="replace").strip().partition(" ")
                    if word == "progress":
                        report(int(value))
                    elif word in ("done", "failed"):
                        return word
                events = sel.select(timeout=0.25)
                now = time.monotonic()
                if events:
                    chunk = os.read(fd, 65536)
                    if not chunk:
                        return "eof"
                    last = now
                    self.pending += chunk
                elif now - last > silence:
                    raise WorkerFailure(None, None, f"the MPI job sent nothing for {silence:g} s", BACKEND)

    def close(self, kill: bool = False) -> None:
        tree = _tree(self.proc.pid)
        segments = _segments(tree)
        if self.proc.poll() is None and not kill:
            try:
                self.proc.stdin.write(b"stop\n")
                self.proc.stdin.close()
                self.proc.wait(10.0)
            except (OSError, subprocess.TimeoutExpired):
                pass
        _end_job(self.proc, tree, segments)
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        shutil.rmtree(self.tmp, ignore_errors=True)


_pool: Pool | None = None
_pool_lock = threading.Lock()


def close_pool() -> None:
    """End the kept child MPI job, if any (also done at exit)."""
    global _pool
    if _pool is not None:
        pool, _pool = _pool, None
        pool.close()


atexit.register(close_pool)


def replicate_via_mpiexec(rep, timeout):
    """Run one replicate on a child MPI job of n + 1 ranks, started on first use and kept
    for the next replicates with the same n (see the module docstring)."""
    global _pool

    check_available()
    launcher = mpiexec_command()
    wp = rep.problem
    ev = rep.plan()
    job = make_job(rep, ev.ev_t, timeout)
    spec = {"job": job, "mode": rep.mode, "K": rep.K, "checkpoints": rep.checkpoints,
            "keep_iterates": rep.keep_iterates}
    with _pool_lock:
        if _pool is not None and (_pool.n != wp.n or _pool.launcher != launcher or not _pool.alive()):
            close_pool()
        if _pool is None:
            warm()  # the ranks then load the compiled code from the cache instead of compiling it
            _pool = Pool(wp.n, launcher)
        ok = False
        try:
            result = _pool.run(spec, rep.report, timeout)
            ok = True
            return result
        finally:
            if not ok:  # a failure, or Ctrl-C: the job's ranks are in no state to go on
                pool, _pool = _pool, None
                pool.close(kill=True)


def _rebuild_error(info: dict) -> Exception:
    if info.get("type") == "WorkerFailure":
        return WorkerFailure(info["worker"], info["round"], info["reason"], BACKEND)
    if info.get("type") == "InvalidParameterError":
        return InvalidParameterError(info["parameter"], info["value"], info["allowed"])
    return WorkerFailure(None, None, f"the MPI server rank failed:\n{info.get('traceback', '')}", BACKEND)


def child_main() -> int:
    """``python -m signtheory.voting.mpi_worker`` under mpiexec: rank 0 reads ``job PATH``
    lines, serves each job and writes its result next to it; the other ranks are its
    workers. ``stop`` or the end of the input ends the job."""
    w = world()
    if w.comm.rank != 0:
        serve_jobs(w.comm)
        return 0
    for line in sys.stdin:
        word, _, path = line.strip().partition(" ")
        if word != "job":
            break
        if not _child_job(w, Path(path)):
            return 1  # rank 0 aborts the job at exit
    return 0


def _child_job(w: World, job_path: Path) -> bool:
    import traceback

    from ...distributed import split_from_config
    from ...engine.replicates import ReplicateJob

    out = job_path.parent
    last = [time.monotonic()]

    def say(text):
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    def tick():
        now = time.monotonic()
        if now - last[0] >= HEARTBEAT:
            last[0] = now
            say("alive")

    try:
        spec = pickle.loads(job_path.read_bytes())
        job = spec["job"]
        wp = split_from_config(job["split"])
        if fingerprint(wp) != job["fingerprint"]:
            raise RuntimeError("the split rebuilt from its configuration differs from the caller's")
        rep = ReplicateJob(VOTING_METHODS[job["method"]], wp, job["hp"], job["T"], job["seed"],
                           job["replicate"], spec["mode"], spec["K"], spec["checkpoints"],
                           spec["keep_iterates"], lambda k: say(f"progress {k}"), job["timeout"])
        ev = rep.plan()
        if not np.array_equal(ev.ev_t, job["ev_t"]):
            raise RuntimeError("the evaluation plan differs from the caller's")
        if w.comm.size != wp.n + 1:
            raise RuntimeError(f"{w.comm.size} ranks for {wp.n} workers")
        result = run_server(w, rep, ev, job, tick)
        tmp = out / "result.tmp"
        tmp.write_bytes(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
        tmp.replace(out / "result.pkl")
        say("done")
        return True
    except BaseException as exc:  # reported to the caller; the job is aborted at exit
        w.broken = True
        info = {"type": type(exc).__name__, "traceback": traceback.format_exc()}
        for key in ("worker", "round", "reason", "parameter", "value", "allowed"):
            if hasattr(exc, key):
                info[key] = getattr(exc, key)
        try:
            try:
                data = pickle.dumps(info)
            except Exception:  # an unpicklable parameter value
                info["value"] = repr(info.get("value"))
                data = pickle.dumps(info)
            (out / "error.tmp").write_bytes(data)
            (out / "error.tmp").replace(out / "error.pkl")
        finally:
            say("failed")
        return False
