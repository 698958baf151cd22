"""A replicate's job: everything a worker needs, as plain data, and the checks of
what it carries (timeouts, the fault-injection hook of the tests)."""

from __future__ import annotations

import hashlib
import math
import os

import numpy as np

from ...engine.replicates import chunk_steps as engine_chunk_steps
from ...errors import InvalidParameterError
from ..draws import draw_plan
from ..methods import zero_rules
from .wire import downlink_format, uplink_format

# a worker still starting (interpreter, imports, compiled code from the cache) gets at least this long
START_TIMEOUT = 120.0
DEFAULT_TIMEOUT = 60.0
FAULT_ENV = "SIGNTHEORY_FAULT"
FAULT_ACTIONS = ("exit", "hang", "raise")


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
