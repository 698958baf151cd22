"""Random draws for the compiled loops, made with NumPy Generators.

A method declares a :class:`DrawPlan`; the engine draws the randomness of a
chunk of steps up front and hands the arrays to the kernel. The NumPy reference
implementations read the same arrays, so both paths see identical samples, and
a run's randomness does not depend on how many threads execute it.

Streams: each replicate ``r`` of a run with seed ``s`` owns
``SeedSequence(s, spawn_key=(r, purpose))`` for the purposes below.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

SAMPLES, UNIFORMS, MEASURE = 0, 1, 2


class DrawPlan(NamedTuple):
    """What one run consumes: ``init_samples`` before the loop, then per step
    ``samples`` sample draws and ``uniforms`` uniform numbers in [0, 1)."""

    init_samples: int
    samples: int
    uniforms: int


class Draws(NamedTuple):
    idx: np.ndarray  # (steps, samples) int64
    z: np.ndarray  # (steps, samples, width) float64
    u: np.ndarray  # (steps, uniforms) float64


def stream(seed: int, replicate: int, purpose: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(replicate, purpose))))


class DrawSource:
    """Draws chunks of a replicate's randomness in order."""

    def __init__(self, problem, plan: DrawPlan, seed: int, replicate: int):
        self.problem = problem
        self.plan = plan
        self.samples = stream(seed, replicate, SAMPLES)
        self.uniforms = stream(seed, replicate, UNIFORMS)

    def initial(self) -> Draws:
        idx, z = self.problem.draw_samples(self.samples, (1, self.plan.init_samples))
        return Draws(np.ascontiguousarray(idx, dtype=np.int64), z, np.zeros((1, 0)))

    def steps(self, n: int) -> Draws:
        idx, z = self.problem.draw_samples(self.samples, (n, self.plan.samples))
        u = self.uniforms.random((n, self.plan.uniforms))
        return Draws(np.ascontiguousarray(idx, dtype=np.int64), z, u)

    def floats_per_step(self) -> int:
        return self.plan.samples * (1 + self.problem.sample_width) + self.plan.uniforms


def concat(chunks: list[Draws]) -> Draws:
    return Draws(*(np.concatenate([getattr(c, f) for c in chunks]) for f in Draws._fields))
