"""What every run path shares: replicates on threads, chunks of steps, the trace.

The single-node runner (:mod:`signtheory.engine.runner`) and the majority-vote
runner (:mod:`signtheory.voting.runner`, whose backends draw their rounds in the
same chunks) both drive their compiled loops through these pieces, so a step loop
is cut into chunks, replicates are spread over threads and a trace is assembled in
one way only.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from threading import Lock

import numpy as np

from ..errors import DivergenceWarning
from .plan import make_plan
from .trace import Trace

#: the random numbers drawn at once per replicate (about 8 MB), and the most steps per chunk
FLOATS_PER_CHUNK = 1 << 20
MAX_CHUNK_STEPS = 8192


def _silent(steps: int) -> None:
    pass


@dataclass(frozen=True)
class ReplicateJob:
    """Replicate ``r`` of a run, named: the method, its problem (the built problem, or the
    workers' split of a vote), the resolved hyperparameters, the horizon, the root seed,
    the evaluation plan's settings, whether to keep the iterates, the progress callback and
    (votes on a process backend) the seconds a round may take."""

    method: object
    problem: object
    hp: dict
    T: int
    seed: int
    r: int
    mode: str
    K: int
    checkpoints: int
    keep_iterates: bool
    report: Callable[[int], None] = _silent
    timeout: float | None = None

    def plan(self):
        """The replicate's evaluation plan (where the exact gradient is evaluated)."""
        return make_plan(self.T, self.mode, self.K, self.checkpoints, self.seed, self.r)


def chunk_steps(floats_per_step: int) -> int:
    """Steps drawn and run at once: as many as fit in :data:`FLOATS_PER_CHUNK` random
    numbers, at most :data:`MAX_CHUNK_STEPS`, at least one."""
    return int(max(1, min(MAX_CHUNK_STEPS, FLOATS_PER_CHUNK // max(1, floats_per_step))))


def drive_chunks(T: int, chunk: int, run_chunk, report=None) -> int:
    """Steps 1..T in chunks of ``chunk``: ``run_chunk(t, t1)`` runs steps t..t1-1 and returns
    the step at which it stopped (t1 when it did not stop); ``report(k)`` then hears how
    many steps were done. Returns the step that stopped the run, 0 when all T ran. Every
    run path (single node, inline votes, the backends' workers and server) steps this way."""
    t = 1
    while t <= T:
        t1 = min(T + 1, t + chunk)
        t_stop = int(run_chunk(t, t1))
        if report is not None:
            report(t_stop - t)
        if t_stop < t1:
            return t_stop
        t = t1
    return 0


def locked(progress):
    """``progress`` made safe to call from the replicate threads (a no-op when None)."""
    lock = Lock()

    def report(n):
        if progress is not None:
            with lock:
                progress(n)

    return report


def run_replicates(replicate, seeds: int, threads: int):
    """``[replicate(r) for r in range(seeds)]`` on min(threads, seeds) threads; returns the
    results in order and the elapsed seconds."""
    start = time.perf_counter()
    if threads == 1 or seeds == 1:
        results = [replicate(r) for r in range(seeds)]
    else:
        with ThreadPoolExecutor(max_workers=min(threads, seeds)) as pool:
            results = list(pool.map(replicate, range(seeds)))
    return results, time.perf_counter() - start


def warn_divergence(trace, unit: str) -> None:
    """One DivergenceWarning per replicate that stopped on a NaN or an infinity."""
    for r, t in enumerate(trace.diverged_at):
        if t > 0:
            warnings.warn(
                f"{trace.method} on {trace.problem}: replicate {r} produced NaN or Inf at {unit} "
                f"{int(t)}; its trace stops there",
                DivergenceWarning,
                stacklevel=3,
            )


def assemble_trace(method, problem, hp, T, seeds, seed, mode, K, results, elapsed, keep_iterates, **placement):
    """The :class:`Trace` of a run from its replicates' ``(ev, rec, calls, stopped)``: the
    run's configuration (``placement``: where it ran, e.g. the workers and the backend of a
    vote), the checkpoint curves, the per-replicate measures averaged over the evaluated
    iterates (only those before a divergence), the oracle calls and the kept iterates."""
    config = {"method": method.name, "problem": problem.name, "problem_params": dict(problem.config),
              **placement, "hyperparameters": hp, "T": T, "seeds": seeds, "seed": seed, "measure": mode,
              "measure_points": K}
    R = len(results)
    ev0 = results[0][0]
    n_ck = ev0.ck_pos.size
    out = {name: np.full((R, n_ck), np.nan) for name in ("value", "l1", "l2")}
    ck_calls = np.full((R, n_ck), -1, dtype=np.int64)
    per = {name: np.full(R, np.nan) for name in
           ("m1", "m2", "m2sq", "se", "err", "agree", "fv", "fl1", "fl2")}
    calls_total = np.zeros(R, dtype=np.int64)
    diverged = np.zeros(R, dtype=np.int64)
    iterates = [] if keep_iterates else None
    for r, (ev, rec, calls, stopped) in enumerate(results):
        done = rec.pos[0]  # evaluations that happened
        for name, arr in (("value", rec.value), ("l1", rec.l1), ("l2", rec.l2)):
            out[name][r] = np.where(ev.ck_pos < done, arr[ev.ck_pos], np.nan)
        ck_calls[r] = np.where(ev.ck_pos < done, rec.calls[ev.ck_pos], -1)
        keep = ev.ms_pos < done
        if stopped:
            keep &= ev.ev_t[ev.ms_pos] < stopped
        w = ev.ms_weight[keep]
        pos = ev.ms_pos[keep]
        if w.sum() > 0:
            l1 = rec.l1[pos]
            per["m1"][r] = np.average(l1, weights=w)
            per["m2"][r] = np.average(rec.l2[pos], weights=w)
            per["m2sq"][r] = np.average(rec.l2[pos] ** 2, weights=w)
            per["err"][r] = np.average(rec.err[pos], weights=w)
            per["agree"][r] = np.average(rec.agree[pos], weights=w)
            if mode == "sampled" and w.sum() > 1:
                var = np.average((l1 - per["m1"][r]) ** 2, weights=w) * w.sum() / (w.sum() - 1)
                per["se"][r] = np.sqrt(var / w.sum())
            else:
                per["se"][r] = 0.0
        if ev.final_pos < done and not stopped:
            per["fv"][r] = rec.value[ev.final_pos]
            per["fl1"][r] = rec.l1[ev.final_pos]
            per["fl2"][r] = rec.l2[ev.final_pos]
        calls_total[r] = calls
        diverged[r] = stopped
        if keep_iterates:
            iterates.append(rec.xs)
    return Trace(
        method=method.name,
        problem=problem.name,
        T=T,
        seed=seed,
        config=config,
        measure_mode=mode,
        measure_points=K,
        checkpoints=ev0.ev_t[ev0.ck_pos],
        ck_calls=ck_calls,
        ck_value=out["value"],
        ck_grad_l1=out["l1"],
        ck_grad_l2=out["l2"],
        avg_grad_l1=per["m1"],
        avg_grad_l2=per["m2"],
        avg_grad_l2sq=per["m2sq"],
        avg_grad_l1_within_se=per["se"],
        avg_estimator_error=per["err"],
        sign_agreement=per["agree"],
        final_value=per["fv"],
        final_grad_l1=per["fl1"],
        final_grad_l2=per["fl2"],
        oracle_calls=calls_total,
        diverged_at=diverged,
        elapsed_s=elapsed,
        iterates=np.array(iterates) if keep_iterates and len({i.shape for i in iterates}) == 1 else None,
        iterate_t=ev0.ev_t if keep_iterates else None,
    )
