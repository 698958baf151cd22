"""The ``processes`` and ``mpi`` backends: the inline trajectory bit for bit, lossless
message packing, and failures that end a run quickly and leave nothing behind.

The parity tests compare whole recorders (every evaluated iterate, value, gradient
norm, estimator error and call count), the total oracle calls, the stopping round
and the counters of one replicate with those of the inline backend on the same
seed: equality is exact, no tolerance. The failure tests inject a fault into one
worker with the ``SIGNTHEORY_FAULT`` hook (``WORKER:ROUND:ACTION``).
"""

from __future__ import annotations

import _thread
import importlib.util
import multiprocessing as mp
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import signtheory as st
from signtheory.distributed import split
from signtheory.engine.replicates import ReplicateJob
from signtheory.errors import InvalidParameterError, WorkerFailure
from signtheory.methods import get_method
from signtheory.problems import make_problem
from signtheory.voting.backends import protocol as P
from signtheory.voting.backends import replicate_with_backend
from signtheory.voting.methods import resolve, zero_rules
from signtheory.voting.runner import _inline_replicate

T = 40
SEED = 7

# (method, overrides): every voting method, and every message format both ways
CASES = [
    ("mv-signsgd", {"B": 2}),  # ternary up (sign(0) = 0), ternary down (ties give 0)
    ("mv-signsgd", {"n_byzantine": 1, "zero_rule": "random", "tie_rule": "random"}),  # 1-bit both ways
    ("signum-mv", {}),
    ("ssdm", {}),  # ternary up (zero vector), float64 down (mean)
    ("ssdm", {"server_rule": "vote"}),
    ("sto-signsgd", {"R": 0.05}),  # small radius: clipping happens and is counted
    ("mv-signsgd-sim", {}),
    ("mv-signsgd-sim", {"variant": "momentum", "worker_sign": "deterministic"}),
    ("ssvr-mv", {"option": 1}),
    ("ssvr-mv", {"option": 2}),  # 1-bit up (projected S_R), 1-bit down (stochastic server sign)
    ("ssvr-mv", {"option": 2, "server_rule": "mean", "projection": "linf_clip"}),
    ("dist-sgd", {}),  # float64 both ways
    ("mv-signsgd", {"eta": 1e307}),  # x overflows: the server stops the run
]
CASE_IDS = [f"{m}-{'-'.join(f'{k}={v}' for k, v in o.items()) or 'default'}" for m, o in CASES]

HAVE_MPI = importlib.util.find_spec("mpi4py") is not None and (
    (Path(sys.executable).parent / "mpiexec").exists() or shutil.which("mpiexec") is not None)
needs_mpi = pytest.mark.skipif(not HAVE_MPI, reason="mpi4py or mpiexec missing: pip install '.[mpi]' "
                               "(mpi4py and the mpich runtime from PyPI)")


@pytest.fixture(scope="module")
def workers():
    """A heterogeneous split: 3 workers with shifted optima of a finite sum."""
    return split(make_problem("nonconvex-logistic", d=11, m=40), 3, mode="shift", zeta=0.5)


def replicate(backend, name, overrides, wp, T=T, timeout=20.0, r=0):
    method = get_method(name)
    hp = resolve(method, wp, T, dict(overrides))
    job = ReplicateJob(method, wp, hp, T, SEED, r, "exact", T, 16, True, timeout=timeout)
    if backend == "inline":
        return _inline_replicate(job)
    return replicate_with_backend(backend, job)


def assert_same(a, b):
    ev_a, rec_a, calls_a, stop_a, counts_a = a
    ev_b, rec_b, calls_b, stop_b, counts_b = b
    assert np.array_equal(ev_a.ev_t, ev_b.ev_t)
    for field in rec_a._fields:
        x, y = getattr(rec_a, field), getattr(rec_b, field)
        assert x.dtype == y.dtype and x.shape == y.shape, field
        assert np.array_equal(x, y, equal_nan=True), field  # bit for bit, NaN where nothing was recorded
    assert (calls_a, stop_a, counts_a) == (calls_b, stop_b, counts_b)


def our_segments():
    """This process's segments (named after its pid) and the MPI runtime's."""
    return {n for n in os.listdir("/dev/shm") if n.startswith((f"signtheory_{os.getpid()}_", "mpich_shm_"))}


def mpi_processes():
    """Live processes of this process's child MPI jobs (the ranks run signtheory.voting.mpi_worker)."""
    from signtheory.voting.backends.mpi import _tree

    out = []
    for pid in _tree(os.getpid()):
        try:
            text = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"signtheory.voting.mpi_worker" in text:
            out.append(text)
    return out


@pytest.fixture(scope="module", autouse=True)
def end_mpi_job():
    """The mpi backend keeps its child MPI job for the next runs: end it with this module."""
    yield
    if HAVE_MPI:
        from signtheory.voting.backends.mpi import close_pool

        close_pool()
        assert not mpi_processes()


def leaked(before):
    """Segments created since ``before`` that no live process maps (a kept MPI job maps its own)."""
    new = our_segments() - before
    for maps in Path("/proc").glob("[0-9]*/maps"):
        try:
            text = maps.read_text()
        except OSError:
            continue
        new = {n for n in new if n not in text}
    return new


@pytest.fixture
def shm_clean():
    """No shared-memory segment of ours, nor of the MPI runtime, is left behind by the test."""
    before = our_segments()
    yield
    for _ in range(50):  # another MPI job on this machine may be removing its own segments
        if not leaked(before):
            break
        time.sleep(0.1)
    assert not leaked(before)


# -- formats and packing ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt", [P.SIGNS, P.TERNARY])
@pytest.mark.parametrize("d", [1, 7, 8, 9, 64, 100])
def test_packing_is_lossless(fmt, d):
    rng = np.random.default_rng(d)
    values = [-1.0, 1.0] if fmt == P.SIGNS else [-1.0, 0.0, 1.0, -0.0]
    q = rng.choice(values, size=d)
    buf = np.full(P.payload_bytes(fmt, d), 0xAB, dtype=np.uint8)
    scratch = np.zeros(d)
    assert P.encode(fmt, q, buf, scratch) == 0
    out = np.full(d, 5.0)
    P.decode(fmt, buf, out, scratch)
    assert np.array_equal(out, q)  # -0.0 arrives as 0.0: every sum starting at +0.0 treats them alike
    assert buf.size == (d + 7) // 8 * (1 if fmt == P.SIGNS else 2)


def test_packing_reports_what_a_format_cannot_carry():
    scratch = np.zeros(4)
    buf = np.zeros(2, dtype=np.uint8)
    assert P.encode(P.SIGNS, np.array([1.0, 0.0, -1.0, np.nan]), buf, scratch) == 2
    assert P.encode(P.TERNARY, np.array([1.0, 0.5, 0.0, -1.0]), buf, scratch) == 1
    q = np.array([0.1, -2.5, np.inf, 0.0])
    raw = np.zeros(32, dtype=np.uint8)
    assert P.encode(P.FLOAT, q, raw, scratch) == 0
    out = np.zeros(4)
    P.decode(P.FLOAT, raw, out, scratch)
    assert np.array_equal(out, q)


@pytest.mark.parametrize(("name", "overrides"), CASES, ids=CASE_IDS)
def test_formats_match_the_bits_the_method_counts(workers, name, overrides):
    method = get_method(name)
    hp = resolve(method, workers, T, dict(overrides))
    _, msg, server = method.codes(hp)
    zero_rule, tie_rule = zero_rules(hp)
    n, d = workers.n, workers.problem.d
    bits = method.bits_per_round(hp, n, d)
    assert bits["uplink_bits_per_round"] == P.FORMAT_BITS[P.uplink_format(msg, zero_rule)] * d * n
    assert bits["downlink_bits_per_round"] == P.FORMAT_BITS[P.downlink_format(server, tie_rule)] * d


# -- the processes backend -------------------------------------------------------------------


@pytest.mark.parametrize(("name", "overrides"), CASES, ids=CASE_IDS)
def test_processes_give_the_inline_trajectory(workers, name, overrides, shm_clean):
    assert_same(replicate("inline", name, overrides, workers), replicate("processes", name, overrides, workers))


def test_processes_on_stochastic_and_dirichlet_splits(shm_clean):
    stochastic = split(make_problem("stochastic-lsq", d=9), 3, mode="shift", zeta=1.0)
    finite = split(make_problem("nonconvex-lsq", d=9, m=36), 3, mode="dirichlet", alpha=0.3)
    for wp, name, overrides in [(stochastic, "ssvr-mv", {"R": 3.0}), (finite, "signum-mv", {})]:
        assert_same(replicate("inline", name, overrides, wp, T=30),
                    replicate("processes", name, overrides, wp, T=30))


def test_processes_draw_in_the_inline_chunks(monkeypatch, shm_clean):
    # small chunks: every party draws its streams, and indexes its draws, in many pieces
    from signtheory.engine import replicates

    monkeypatch.setattr(replicates, "FLOATS_PER_CHUNK", 20)
    wp = split(make_problem("nonconvex-lsq", d=9, m=36), 3, mode="dirichlet", alpha=0.3)
    for name in ("mv-signsgd", "ssvr-mv"):  # chunks of 6 rounds and of 1 round
        overrides = {"B": 1, "eta": 0.01}
        assert_same(replicate("inline", name, overrides, wp, T=30),
                    replicate("processes", name, overrides, wp, T=30))


def test_processes_stop_where_inline_stops_on_a_worker_overflow(shm_clean):
    # x_2 = x_1 -+ 1e308: worker 0's gradient is still finite, worker 1's is not, so the
    # inline loop stops in round 2 after worker 0 (3 + 1 calls of batch 1); the others must
    # not count their round 2
    wp = split(make_problem("stochastic-lsq", d=9), 3)
    a = replicate("inline", "signum-mv", {"eta": 1e308}, wp, T=30)
    assert (a[3], a[2]) == (2, 4)
    assert_same(a, replicate("processes", "signum-mv", {"eta": 1e308}, wp, T=30))


def test_run_with_processes_equals_inline_through_the_public_api(shm_clean):
    kw = dict(problem_params={"d": 6}, n=3, split={"mode": "shift", "zeta": 0.3}, seeds=2, R=2.0,
              measure="exact", keep_iterates=True)
    a = st.run("sto-signsgd", "stochastic-lsq", 25, **kw)
    b = st.run("sto-signsgd", "stochastic-lsq", 25, backend="processes", **kw)
    assert np.array_equal(a.iterates, b.iterates)
    assert np.array_equal(a.oracle_calls, b.oracle_calls)
    assert a.counters == b.counters
    assert b.config["backend"] == "processes"


def test_timeout_is_validated(workers):
    with pytest.raises(InvalidParameterError) as info:
        replicate("processes", "mv-signsgd", {}, workers, timeout=-1.0)
    assert info.value.parameter == "timeout"


@pytest.mark.parametrize(("fault", "worker", "round_", "reason"), [
    ("1:5:exit", 1, 5, "died (exit code 17)"),
    ("2:0:exit", 2, 0, "died (exit code 17)"),
    ("0:3:raise", 0, 3, "fault injected"),
])
def test_processes_worker_death_or_error_is_reported(workers, monkeypatch, shm_clean, fault, worker, round_,
                                                     reason):
    monkeypatch.setenv(P.FAULT_ENV, fault)
    start = time.monotonic()
    with pytest.raises(WorkerFailure) as info:
        replicate("processes", "mv-signsgd", {}, workers, timeout=20.0)
    assert time.monotonic() - start < 15.0  # found by the liveness check, long before the timeout
    exc = info.value
    assert (exc.worker, exc.round) == (worker, round_)
    assert reason in str(exc) and f"worker {worker}" in str(exc)
    assert not mp.active_children()


def test_processes_worker_killed_from_outside_is_reported(workers, monkeypatch, shm_clean):
    monkeypatch.setenv(P.FAULT_ENV, "1:3:hang")  # worker 1 stalls in round 3, then gets SIGKILL

    def kill_worker_1():
        for p in mp.active_children():
            if p.name == "signtheory-worker-1":
                os.kill(p.pid, signal.SIGKILL)

    timer = threading.Timer(1.0, kill_worker_1)
    timer.start()
    start = time.monotonic()
    try:
        with pytest.raises(WorkerFailure, match=r"worker 1 in round 3: its process died \(killed by signal 9"):
            replicate("processes", "mv-signsgd", {}, workers, timeout=30.0)
    finally:
        timer.cancel()
    assert time.monotonic() - start < 10.0
    assert not mp.active_children()


def test_processes_hung_worker_fails_within_the_timeout(workers, monkeypatch, shm_clean):
    monkeypatch.setenv(P.FAULT_ENV, "2:4:hang")
    start = time.monotonic()
    with pytest.raises(WorkerFailure, match=r"worker 2 in round 4: did not answer within 1\.5 s"):
        replicate("processes", "mv-signsgd", {}, workers, timeout=1.5)
    elapsed = time.monotonic() - start
    assert 1.5 <= elapsed < 10.0
    assert not mp.active_children()


def interrupt_after(seconds):
    timer = threading.Timer(seconds, _thread.interrupt_main)
    timer.start()
    return timer


def test_processes_ctrl_c_stops_the_workers(workers, monkeypatch, shm_clean):
    monkeypatch.setenv(P.FAULT_ENV, "1:3:hang")
    timer = interrupt_after(1.0)
    try:
        with pytest.raises(KeyboardInterrupt):
            replicate("processes", "mv-signsgd", {}, workers, timeout=60.0)
    finally:
        timer.cancel()
    assert not mp.active_children()


# -- the mpi backend -------------------------------------------------------------------------


@needs_mpi
@pytest.mark.parametrize(("name", "overrides"), CASES, ids=CASE_IDS)
def test_mpi_gives_the_inline_trajectory(workers, name, overrides, shm_clean):
    assert_same(replicate("inline", name, overrides, workers), replicate("mpi", name, overrides, workers))


@needs_mpi
def test_mpi_worker_death_is_reported_and_cleaned_up(workers, monkeypatch, shm_clean):
    monkeypatch.setenv(P.FAULT_ENV, "2:6:exit")
    start = time.monotonic()
    with pytest.raises(WorkerFailure, match="worker 2 in round 6: its process .* died") as info:
        replicate("mpi", "mv-signsgd", {}, workers, timeout=20.0)
    assert time.monotonic() - start < 18.0  # found by the liveness check, before the timeout
    assert (info.value.worker, info.value.round) == (2, 6)
    assert not mpi_processes()  # the MPI job is gone, and with it its shared memory (shm_clean)


@needs_mpi
@pytest.mark.slow
def test_mpi_runs_again_after_a_failure(workers, monkeypatch, shm_clean):
    monkeypatch.setenv(P.FAULT_ENV, "1:0:raise")
    with pytest.raises(WorkerFailure, match="worker 1 during start-up: raised an error"):
        replicate("mpi", "mv-signsgd", {}, workers)
    monkeypatch.delenv(P.FAULT_ENV)
    assert_same(replicate("inline", "signum-mv", {}, workers), replicate("mpi", "signum-mv", {}, workers))


@needs_mpi
@pytest.mark.slow
def test_mpi_hung_worker_fails_within_the_timeout(workers, monkeypatch, shm_clean):
    replicate("mpi", "mv-signsgd", {}, workers)  # the MPI job is up: the clock then measures the round alone
    monkeypatch.setenv(P.FAULT_ENV, "0:9:hang")
    start = time.monotonic()
    with pytest.raises(WorkerFailure, match=r"worker 0 in round 9: did not answer within 2 s"):
        replicate("mpi", "mv-signsgd", {}, workers, timeout=2.0)
    assert 2.0 <= time.monotonic() - start < 10.0
    assert not mpi_processes()


@needs_mpi
@pytest.mark.slow
def test_mpi_ctrl_c_ends_the_job(workers, monkeypatch, shm_clean):
    replicate("mpi", "mv-signsgd", {}, workers)
    monkeypatch.setenv(P.FAULT_ENV, "2:2:hang")
    timer = interrupt_after(1.0)
    try:
        with pytest.raises(KeyboardInterrupt):
            replicate("mpi", "mv-signsgd", {}, workers, timeout=60.0)
    finally:
        timer.cancel()
    assert not mpi_processes()


@needs_mpi
@pytest.mark.slow
def test_cli_under_mpiexec_matches_inline(tmp_path):
    from signtheory.voting.backends.mpi import mpiexec_command

    args = ["run", "ssvr-mv", "--problem", "nonconvex-logistic", "--d", "9", "--m", "30", "--T", "60",
            "--n", "3", "--heterogeneity", "shift:0.4", "--seeds", "2", "--json", "--no-progress"]
    cmd = mpiexec_command()[:1] + ["-n", "4", sys.executable, "-m", "signtheory", *args, "--backend", "mpi"]
    mpi = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert mpi.returncode == 0, mpi.stderr
    inline = subprocess.run([sys.executable, "-m", "signtheory", *args], capture_output=True, text=True,
                            timeout=300, cwd=tmp_path)
    import json

    a, b = json.loads(inline.stdout), json.loads(mpi.stdout)  # one JSON document: rank 0 alone prints
    for key in ("config", "elapsed_s"):
        a.pop(key), b.pop(key)
    assert a == b


@pytest.mark.slow
def test_processes_with_the_spawn_start_method(workers, monkeypatch, shm_clean):
    monkeypatch.setenv("SIGNTHEORY_START_METHOD", "spawn")
    for name, overrides in [("ssdm", {}), ("ssvr-mv", {"option": 1})]:
        assert_same(replicate("inline", name, overrides, workers),
                    replicate("processes", name, overrides, workers))


def test_python_dash_m_runs_the_cli():
    out = subprocess.run([sys.executable, "-m", "signtheory", "methods"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0
    assert "mv-signsgd" in out.stdout


def test_cli_reports_a_failed_worker_in_one_line(monkeypatch, capsys):
    """A worker that dies makes `signtheory run` print one error line and exit 4."""
    from signtheory.cli import main

    monkeypatch.setenv("SIGNTHEORY_FAULT", "1:3:exit")
    code = main(["run", "sto-signsgd", "--problem", "nonconvex-logistic", "--d", "4", "--m", "30", "--n", "3",
                 "--T", "20", "--backend", "processes", "--timeout", "20", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 4
    assert err.startswith("signtheory: error:") and "worker" in err and "Traceback" not in err
