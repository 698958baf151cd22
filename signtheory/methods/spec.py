"""Declarative description of a method: what it is, where it comes from, its
hyperparameters, its theoretical schedule and the rate its theorem states."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ANY_PROBLEM = ("finite-sum", "stochastic")
FINITE_SUM_ONLY = ("finite-sum",)


@dataclass(frozen=True)
class Hyper:
    """A hyperparameter: its check, its meaning, and a constant default (``None``
    when the theoretical schedule sets it from T, d, m and the problem's constants)."""

    name: str
    check: Callable[[str, Any], Any]
    doc: str
    default: Any = None


@dataclass(frozen=True)
class Rate:
    """The theorem's guarantee.

    ``exponents`` maps a variable (T, N, d, m, n) to its exponent in the bound on
    ``measure`` (``"l1"`` or ``"l2"``: the average over iterates of the gradient
    norm, i.e. the norm at a uniformly drawn iterate).
    """

    measure: str
    expression: str
    exponents: dict
    floor: str | None = None


@dataclass(frozen=True)
class MethodSpec:
    name: str
    title: str
    citation: str
    setting: str
    accepts: tuple[str, ...]
    hyper: tuple[Hyper, ...]
    schedule: str
    rate: Rate
    oracle_calls: str
    provenance: str
    composite: bool = False  # True: needs a composite problem F = D + r (and refuses the others)

    def describe(self) -> dict:
        return {
            "name": self.name,
            "title": self.title,
            "citation": self.citation,
            "setting": self.setting,
            "accepts": list(self.accepts),
            "measure": self.rate.measure,
            "rate": self.rate.expression,
            "exponents": dict(self.rate.exponents),
            "floor": self.rate.floor,
            "schedule": self.schedule,
            "oracle_calls": self.oracle_calls,
            "hyperparameters": {
                h.name: {"doc": h.doc, "default": h.default if h.default is not None else "schedule"}
                for h in self.hyper
            },
            "provenance": self.provenance,
            "composite": self.composite,
        }
