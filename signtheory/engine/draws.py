"""Random draws for the compiled loops, made with NumPy Generators.

A method declares a :class:`DrawPlan`; the engine draws the randomness of a
chunk of steps up front and hands the arrays to the kernel. The NumPy reference
implementations read the same arrays, so both paths see identical samples, and
a run's randomness does not depend on how many threads execute it.

Streams: each replicate ``r`` of a run with seed ``s`` owns
``SeedSequence(s, spawn_key=(r, purpose))`` for the purposes below.

Sampling (``DrawPlan.sampling``):

``"iid"`` (default)
    every step's samples are independent draws of the problem's ``draw_samples``.
``"reshuffle"`` (finite sums only)
    random reshuffling: the per-step component indices, read step after step,
    are the concatenation pi_1, pi_2, ... of independent uniform permutations
    of {0, ..., m-1}. Permutation e is the e-th call ``permutation(m)`` on the
    replicate's sample stream, made only when its first index is needed, so a
    chunked draw continues the current permutation where the previous chunk
    stopped and equals one big draw. With one sample per step, steps
    (e-1) m + 1 .. e m form epoch e and visit every component exactly once. The
    initial batch (``init_samples``) stays i.i.d. and is drawn before the first
    permutation.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import IncompatibleProblemError
from ..validation import check_choice

SAMPLES, UNIFORMS, MEASURE = 0, 1, 2
SAMPLINGS = ("iid", "reshuffle")


class DrawPlan(NamedTuple):
    """What one run consumes: ``init_samples`` before the loop, then per step
    ``samples`` sample draws and ``uniforms`` uniform numbers in [0, 1).
    ``sampling`` says how the per-step samples are drawn (see the module)."""

    init_samples: int
    samples: int
    uniforms: int
    sampling: str = "iid"


class Draws(NamedTuple):
    idx: np.ndarray  # (steps, samples) int64
    z: np.ndarray  # (steps, samples, width) float64
    u: np.ndarray  # (steps, uniforms) float64


def stream(seed: int, replicate: int, purpose: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(replicate, purpose))))


class DrawSource:
    """Draws chunks of a replicate's randomness in order."""

    def __init__(self, problem, plan: DrawPlan, seed: int, replicate: int):
        check_choice("sampling", plan.sampling, SAMPLINGS)
        if plan.sampling == "reshuffle" and not problem.is_finite_sum:
            raise IncompatibleProblemError(
                "sampling", plan.sampling,
                f"reshuffled sampling needs a finite-sum problem; '{problem.name}' is {problem.kind}")
        self.problem = problem
        self.plan = plan
        self.samples = stream(seed, replicate, SAMPLES)
        self.uniforms = stream(seed, replicate, UNIFORMS)
        self._perm = np.zeros(0, dtype=np.int64)  # current permutation (reshuffle)
        self._next = 0  # position of its next unused index

    def initial(self) -> Draws:
        idx, z = self.problem.draw_samples(self.samples, (1, self.plan.init_samples))
        return Draws(np.ascontiguousarray(idx, dtype=np.int64), z, np.zeros((1, 0)))

    def steps(self, n: int) -> Draws:
        if self.plan.sampling == "reshuffle":
            shape = (n, self.plan.samples)
            idx = self._reshuffled(n * self.plan.samples).reshape(shape)
            z = np.zeros(shape + (self.problem.sample_width,))
        else:
            idx, z = self.problem.draw_samples(self.samples, (n, self.plan.samples))
        u = self.uniforms.random((n, self.plan.uniforms))
        return Draws(np.ascontiguousarray(idx, dtype=np.int64), z, u)

    def _reshuffled(self, count: int) -> np.ndarray:
        """The next ``count`` indices of the stream pi_1, pi_2, ... of fresh permutations."""
        out = np.empty(count, dtype=np.int64)
        filled = 0
        while filled < count:
            if self._next == self._perm.size:  # the current epoch is used up: a fresh permutation
                self._perm = self.samples.permutation(self.problem.m).astype(np.int64)
                self._next = 0
            take = min(count - filled, self._perm.size - self._next)
            out[filled:filled + take] = self._perm[self._next:self._next + take]
            filled += take
            self._next += take
        return out

    def floats_per_step(self) -> int:
        return self.plan.samples * (1 + self.problem.sample_width) + self.plan.uniforms


def concat(chunks: list[Draws]) -> Draws:
    return Draws(*(np.concatenate([getattr(c, f) for c in chunks]) for f in Draws._fields))
