"""Random draws of a voting run: one stream per worker and one for the server.

Worker j (0-based) of replicate r with seed s owns
``SeedSequence(s, spawn_key=(r, purpose, 1 + j))`` for its samples and its
uniforms; the server owns ``SeedSequence(s, spawn_key=(r, UNIFORMS, 0))``. A
worker can therefore draw its own numbers in its own process, and the numbers
are the same whichever backend runs the workers.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..engine.draws import SAMPLES, UNIFORMS


class VotingDraws(NamedTuple):
    idx: np.ndarray  # (steps, n, B) int64
    z: np.ndarray  # (steps, n, B, width)
    u: np.ndarray  # (steps, n, worker uniforms)
    us: np.ndarray  # (steps, server uniforms)


def _stream(seed: int, replicate: int, purpose: int, who: int) -> np.random.Generator:
    sequence = np.random.SeedSequence(seed, spawn_key=(replicate, purpose, who))
    return np.random.Generator(np.random.PCG64(sequence))


class WorkerStream:
    """Worker j's draws, in order: the initial batch, then chunks of steps."""

    def __init__(self, workers, j: int, init_samples: int, samples: int, uniforms: int, seed: int,
                 replicate: int):
        self.workers, self.j = workers, j
        self.init_samples, self.samples, self.uniforms = init_samples, samples, uniforms
        self.sample_rng = _stream(seed, replicate, SAMPLES, 1 + j)
        self.uniform_rng = _stream(seed, replicate, UNIFORMS, 1 + j)

    def initial(self):
        idx, z = self.workers.worker_draw_samples(self.sample_rng, self.j, (self.init_samples,))
        return np.ascontiguousarray(idx, dtype=np.int64), z

    def steps(self, n: int):
        idx, z = self.workers.worker_draw_samples(self.sample_rng, self.j, (n, self.samples))
        u = self.uniform_rng.random((n, self.uniforms))
        return np.ascontiguousarray(idx, dtype=np.int64), z, u


class ServerStream:
    def __init__(self, uniforms: int, seed: int, replicate: int):
        self.uniforms = uniforms
        self.rng = _stream(seed, replicate, UNIFORMS, 0)

    def steps(self, n: int) -> np.ndarray:
        return self.rng.random((n, self.uniforms))


class VotingDrawSource:
    """Every worker's and the server's draws, stacked (the inline backend's view)."""

    def __init__(self, workers, init_samples, samples, worker_uniforms, server_uniforms, seed, replicate):
        self.workers = [WorkerStream(workers, j, init_samples, samples, worker_uniforms, seed, replicate)
                        for j in range(workers.n)]
        self.server = ServerStream(server_uniforms, seed, replicate)
        self.width = workers.sample_width
        self.floats = samples * (1 + self.width) + worker_uniforms

    def initial(self):
        parts = [w.initial() for w in self.workers]
        return np.stack([p[0] for p in parts]), np.stack([p[1] for p in parts])

    def steps(self, n: int) -> VotingDraws:
        parts = [w.steps(n) for w in self.workers]
        return VotingDraws(
            np.ascontiguousarray(np.stack([p[0] for p in parts], axis=1)),
            np.ascontiguousarray(np.stack([p[1] for p in parts], axis=1)),
            np.ascontiguousarray(np.stack([p[2] for p in parts], axis=1)),
            self.server.steps(n),
        )

    def floats_per_step(self) -> int:
        return len(self.workers) * self.floats + self.server.uniforms


def draw_plan(method, hp, d):
    """(init_samples, samples, worker uniforms, server uniforms) per worker and round."""
    return method.init_batch(hp), hp["B"], method.worker_uniforms(hp, d), method.server_uniforms(hp, d)
