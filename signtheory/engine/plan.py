"""Where the exact gradient is evaluated: checkpoints and the theorems' measure.

The theorems bound the gradient norm at an iterate x_tau, tau ~ Unif{1..T}, i.e.
M(T) = (1/T) sum_{t=1}^T ||grad f(x_t)||. The engine computes it

* ``exact``: at every iterate x_1..x_T; or
* ``sampled``: at K indices drawn uniformly with replacement from {1..T} with the
  replicate's own measurement stream -- an unbiased estimate of M(T) whose
  within-run standard error is reported.

``auto`` picks ``exact`` when T full-gradient evaluations cost at most about
2e9 flops, and otherwise samples as many points as that budget allows (at least
256). Checkpoints form a geometric grid over 1..T+1 for curves of value and
gradient norms against iterations and oracle calls.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import InvalidParameterError
from .draws import MEASURE, stream

EXACT_BUDGET_FLOPS = 2e9
MIN_SAMPLED_POINTS = 256


class EvalPlan(NamedTuple):
    ev_t: np.ndarray  # sorted unique iterations evaluated
    ck_pos: np.ndarray  # positions of the checkpoints in ev_t
    ms_pos: np.ndarray  # positions of the measure points in ev_t
    ms_weight: np.ndarray  # multiplicity of each measure point
    final_pos: int  # position of x_{T+1}


def full_eval_flops(problem) -> float:
    return 4.0 * problem.m * problem.d if problem.is_finite_sum else 20.0 * problem.d


def measure_mode(problem, T: int, measure) -> tuple[str, int]:
    """Resolve ``measure`` ('auto', 'exact' or an int K) to (mode, K)."""
    if measure == "exact":
        return "exact", T
    if measure == "auto":
        budget = int(EXACT_BUDGET_FLOPS // full_eval_flops(problem))
        if budget >= T:
            return "exact", T
        return "sampled", max(MIN_SAMPLED_POINTS, budget)
    if isinstance(measure, (int, np.integer)) and not isinstance(measure, bool) and measure >= 1:
        return "sampled", int(measure)
    raise InvalidParameterError("measure", measure, "must be 'auto', 'exact' or an integer K >= 1")


def checkpoint_grid(T: int, points: int) -> np.ndarray:
    return np.unique(np.round(np.geomspace(1, T + 1, max(2, points))).astype(np.int64))


def make_plan(T: int, mode: str, K: int, checkpoints: int, seed: int, replicate: int) -> EvalPlan:
    ck = checkpoint_grid(T, checkpoints)
    if mode == "exact":
        ms, weight = np.arange(1, T + 1, dtype=np.int64), np.ones(T)
    else:
        draws = stream(seed, replicate, MEASURE).integers(1, T + 1, size=K)
        ms, counts = np.unique(draws, return_counts=True)
        weight = counts.astype(float)
    ev_t = np.union1d(np.union1d(ck, ms), [T + 1]).astype(np.int64)
    return EvalPlan(
        ev_t,
        np.searchsorted(ev_t, ck),
        np.searchsorted(ev_t, ms),
        weight,
        int(np.searchsorted(ev_t, T + 1)),
    )
