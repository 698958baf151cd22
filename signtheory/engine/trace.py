"""The result of a run: per-replicate arrays plus the summary the CLI prints.

Every array has one row per replicate. Measures:
``avg_grad_l1`` = M1(T) = (1/T) sum_t ||grad f(x_t)||_1 (the l1 norm at a uniformly
drawn iterate), ``avg_grad_l2`` = M2(T), ``avg_grad_l2sq`` = M2sq(T).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np


def _mean(a):
    a = np.asarray(a, dtype=float)
    a = a[np.isfinite(a)]
    return float(a.mean()) if a.size else float("nan")


def _se(a):
    a = np.asarray(a, dtype=float)
    a = a[np.isfinite(a)]
    return float(a.std(ddof=1) / np.sqrt(a.size)) if a.size > 1 else float("nan")


@dataclass
class Trace:
    method: str
    problem: str
    T: int
    seed: int
    config: dict
    measure_mode: str
    measure_points: int
    checkpoints: np.ndarray  # (n_ck,) iteration t of each checkpoint (iterate x_t)
    ck_calls: np.ndarray  # (R, n_ck) oracle calls spent through the estimator step t uses
    ck_value: np.ndarray  # (R, n_ck)
    ck_grad_l1: np.ndarray  # (R, n_ck)
    ck_grad_l2: np.ndarray  # (R, n_ck)
    avg_grad_l1: np.ndarray  # (R,)
    avg_grad_l2: np.ndarray
    avg_grad_l2sq: np.ndarray
    avg_grad_l1_within_se: np.ndarray  # (R,) 0 when exact
    avg_estimator_error: np.ndarray  # (R,) (1/T) sum ||v_t - grad f(x_t)||_2^2 over measure points
    sign_agreement: np.ndarray  # (R,) mean fraction of coordinates with sign(v_t) = sign(grad f)
    final_value: np.ndarray  # (R,) at x_{T+1}
    final_grad_l1: np.ndarray
    final_grad_l2: np.ndarray
    oracle_calls: np.ndarray  # (R,) int
    diverged_at: np.ndarray  # (R,) int, 0 when the replicate finished
    elapsed_s: float = 0.0
    iterates: np.ndarray | None = None  # (R, n_eval, d) when keep_iterates
    iterate_t: np.ndarray | None = None
    extra: dict = field(default_factory=dict)
    counters: dict = field(default_factory=dict)  # the method's counts for T, e.g. epochs

    @property
    def seeds(self) -> int:
        return int(self.avg_grad_l1.shape[0])

    @property
    def diverged(self) -> bool:
        return bool(np.any(self.diverged_at > 0))

    def measures(self) -> dict:
        out = {
            "avg_grad_l1": _mean(self.avg_grad_l1),
            "avg_grad_l2": _mean(self.avg_grad_l2),
            "avg_grad_l2sq": _mean(self.avg_grad_l2sq),
            "final_grad_l1": _mean(self.final_grad_l1),
            "final_grad_l2": _mean(self.final_grad_l2),
            "final_value": _mean(self.final_value),
            "avg_estimator_error": _mean(self.avg_estimator_error),
            "sign_agreement": _mean(self.sign_agreement),
            "avg_grad_l1_se": _se(self.avg_grad_l1),
            "avg_grad_l2_se": _se(self.avg_grad_l2),
            "avg_grad_l1_per_seed": [float(v) for v in self.avg_grad_l1],
            "avg_grad_l2_per_seed": [float(v) for v in self.avg_grad_l2],
            "avg_grad_l1_within_se_per_seed": [float(v) for v in self.avg_grad_l1_within_se],
            "measure": self.measure_mode,
            "measure_points": self.measure_points,
        }
        return out

    def to_dict(self) -> dict:
        calls = [int(c) for c in self.oracle_calls]
        out = {
            "method": self.method,
            "problem": self.problem,
            "config": self.config,
            "T": self.T,
            "seeds": self.seeds,
            "seed": self.seed,
            "oracle_calls": int(round(float(np.mean(calls)))) if calls else 0,
            "oracle_calls_per_seed": calls,
            **self.counters,
            "measures": self.measures(),
            "elapsed_s": round(self.elapsed_s, 4),
        }
        if self.diverged:
            out["diverged"] = [
                {"seed_index": r, "iteration": int(t)} for r, t in enumerate(self.diverged_at) if t > 0
            ]
        return out

    def to_json(self, **kw) -> str:
        return json.dumps(self.to_dict(), **kw)

    def curves(self) -> dict:
        """Checkpoint curves as plain arrays (for plots and stores). For the
        majority-vote methods also the bits sent before x_t (t - 1 rounds), uplink
        and downlink, as alternative x-axes."""
        out = {
            "t": self.checkpoints,
            "calls": self.ck_calls,
            "value": self.ck_value,
            "grad_l1": self.ck_grad_l1,
            "grad_l2": self.ck_grad_l2,
        }
        for way in ("uplink", "downlink"):
            per_round = self.counters.get(f"{way}_bits_per_round")
            if per_round is not None:
                out[f"{way}_bits"] = (np.asarray(self.checkpoints) - 1) * per_round
        return out

    def save(self, path) -> None:
        """Write ``path.json`` (summary) and ``path.npz`` (every array); no pickles."""
        path = str(path)
        with open(path + ".json", "w") as fh:
            json.dump(self.to_dict(), fh, indent=2)
        arrays = {k: v for k, v in self.__dict__.items() if isinstance(v, np.ndarray)}
        np.savez_compressed(path + ".npz", **arrays)
