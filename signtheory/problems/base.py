"""The problem protocol: what every family provides to the engine and methods.

A problem is built from validated parameters and exposes

* ``data`` -- the compiled view (:class:`~signtheory.problems.data.ProblemData`)
  read by the compiled oracles in :mod:`signtheory.problems.oracles`;
* ``draw_samples(rng, shape)`` -- component indices (finite sums) or sample
  payloads (stochastic problems) drawn with a NumPy Generator, so the compiled
  path and the NumPy reference consume the very same draws;
* plain NumPy reference oracles: ``sample_grads``, ``batch_grad``,
  ``full_grad``, ``value``;
* ``constants()`` -- the constants the theorems use, computed once and cached.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidParameterError

FINITE_SUM = "finite-sum"
STOCHASTIC = "stochastic"


@dataclass(frozen=True)
class Param:
    """One problem parameter: its default, its check and what it means."""

    name: str
    default: Any
    check: Callable[[str, Any], Any]
    doc: str


class Problem:
    """Base class of the problem families (see the module docstring)."""

    name: str = ""
    kind: str = STOCHASTIC
    summary: str = ""
    citation: str = ""
    d_scaling: str = ""
    params: tuple[Param, ...] = ()

    def __init__(self, **values):
        known = {p.name: p for p in self.params}
        for key in values:
            if key not in known:
                raise InvalidParameterError(
                    key,
                    values[key],
                    f"is not a parameter of problem '{self.name}'; its parameters are: "
                    + ", ".join(known),
                )
        self.config = {}
        for p in self.params:
            raw = values.get(p.name, p.default)
            self.config[p.name] = p.check(p.name, raw) if raw is not None else None
        self._constants = None
        self.build(**self.config)

    # -- to be provided by each family -------------------------------------------------
    def build(self, **config) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def draw_samples(self, rng: np.random.Generator, shape: tuple[int, ...]):
        """Return ``(idx, z)``: int64 indices of ``shape`` and float64 payloads of
        ``shape + (sample_width,)``."""
        raise NotImplementedError  # pragma: no cover

    def sample_grads(self, x, idx, z):
        """NumPy reference: the gradient of each sample at ``x``, shape (len(idx), d)."""
        raise NotImplementedError  # pragma: no cover

    def full_grad(self, x):
        """NumPy reference: the exact (full or population) gradient."""
        raise NotImplementedError  # pragma: no cover

    def value(self, x) -> float:
        """NumPy reference: the exact (full or population) value."""
        raise NotImplementedError  # pragma: no cover

    def compute_constants(self) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- shared ----------------------------------------------------------------------------
    @property
    def is_finite_sum(self) -> bool:
        return self.kind == FINITE_SUM

    def batch_grad(self, x, idx, z):
        """NumPy reference: the mean gradient of a batch of samples."""
        return self.sample_grads(x, idx, z).mean(axis=0)

    def constants(self) -> dict:
        """The constants of this instance (computed on first call, then cached).

        Keys: ``L`` (l2 smoothness of f), ``L_ms`` (mean-squared smoothness),
        ``sigma`` (bound on the sample-gradient noise in l2 over ``region``, or
        None), ``sigma_at_x0``, ``G_inf`` (bound on sample gradients in l-inf over
        ``region``, or None with ``G_inf_note``), ``region``, ``f_x0``,
        ``f_star`` (exact or best known), ``f_star_lower``, ``f_star_exact``,
        ``delta`` = f(x0) - f_star.
        """
        if self._constants is None:
            self._constants = self.compute_constants()
        return self._constants

    def describe(self, with_constants: bool = True) -> dict:
        out = {
            "name": self.name,
            "kind": self.kind,
            "summary": self.summary,
            "citation": self.citation,
            "parameters": {p.name: {"value": self.config[p.name], "doc": p.doc} for p in self.params},
            "d_scaling": self.d_scaling,
        }
        if with_constants:
            out["constants"] = self.constants()
        return out

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config.items())
        return f"{type(self).__name__}({args})"
