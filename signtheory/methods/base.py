"""The protocol between a method and the engine.

A method module provides a :class:`~signtheory.methods.spec.MethodSpec`, a
``schedule(problem, T)`` giving the theoretical hyperparameters for horizon T,
and a compiled loop. Its :class:`Method` subclass says how much randomness a
step consumes (:meth:`plan`), which arrays make up its state (:meth:`init_state`)
and how to call the loop (:meth:`start`, :meth:`steps`).

Kernels return ``(t_stop, calls)``: ``t_stop`` is the iteration t whose
evaluation, estimator or step produced a NaN or an infinity (for a failed
step, the non-finite point is x_{t+1}), or ``t1`` when the chunk finished.
"""

from __future__ import annotations

import math

import numpy as np

from ..engine.draws import DrawPlan
from ..errors import IncompatibleProblemError, InvalidParameterError
from ..ops import zero_rule_code
from ..problems import PROBLEMS
from ..validation import check_choice, check_real
from .spec import Hyper, MethodSpec

ZERO_RULE = Hyper(
    "zero_rule",
    lambda n, v: check_choice(n, v, ("zero", "plus", "random")),
    "sign(0): 'zero' (0, default), 'plus' (+1) or 'random' (+-1 w.p. 1/2)",
    "zero",
)


class Method:
    spec: MethodSpec
    #: True for the majority-vote methods (n workers and a server), run by signtheory.voting
    distributed: bool = False

    @property
    def name(self) -> str:
        return self.spec.name

    # -- configuration -----------------------------------------------------------------
    def schedule(self, problem, T: int, hp: dict) -> dict:
        """Theoretical hyperparameters for horizon T; ``hp`` holds the validated
        constant hyperparameters (schedule constants such as ``c_eta``)."""
        raise NotImplementedError  # pragma: no cover

    def check_problem(self, problem) -> None:
        if bool(getattr(problem, "is_composite", False)) != self.spec.composite:
            raise IncompatibleProblemError("problem", problem.name, _composite_mismatch(self, problem))
        if problem.kind not in self.spec.accepts:
            raise IncompatibleProblemError(
                "problem",
                problem.name,
                f"method '{self.name}' needs a problem of kind "
                + " or ".join(self.spec.accepts)
                + f"; '{problem.name}' is {problem.kind}",
            )

    def resolve(self, problem, T: int, overrides: dict | None = None) -> dict:
        """Every hyperparameter used: the schedule for (T, d, m), then the overrides,
        each validated."""
        self.check_problem(problem)
        overrides = dict(overrides or {})
        known = {h.name: h for h in self.spec.hyper}
        if "momentum" in overrides and "beta" in known:
            if "beta" in overrides:
                raise InvalidParameterError(
                    "momentum", overrides["momentum"], "give either beta (fresh weight) or momentum "
                    "(= 1 - beta), not both")
            overrides["beta"] = _beta_from_momentum(overrides.pop("momentum"))
        for key in overrides:
            if key not in known:
                raise InvalidParameterError(
                    key, overrides[key],
                    f"is not a hyperparameter of '{self.name}'; its hyperparameters are: "
                    + ", ".join(known))
        # constants first (the schedule reads them), then the schedule, then overrides
        hp = {h.name: h.default for h in self.spec.hyper if h.default is not None}
        hp.update({k: v for k, v in overrides.items() if k in hp})
        hp = {k: known[k].check(k, v) for k, v in hp.items()}
        hp.update(self.schedule(problem, T, hp))
        hp.update(overrides)
        return {name: known[name].check(name, hp[name]) for name in known}

    # -- execution ---------------------------------------------------------------------
    def plan(self, hp: dict, problem) -> DrawPlan:
        raise NotImplementedError  # pragma: no cover

    def init_state(self, problem, hp: dict) -> tuple:
        """The method's state, a NamedTuple built by :func:`named_state` (``x`` first)."""
        raise NotImplementedError  # pragma: no cover

    def start(self, pd, state, hp, draws0, rec) -> int:
        """Work done before iteration 1 (e.g. an initial batch); returns oracle calls."""
        return 0

    def steps(self, pd, state, hp, draws, t0, t1, T, rec, calls):
        raise NotImplementedError  # pragma: no cover

    def reference(self, problem, hp, draws0, draws, T):
        """Plain NumPy implementation on the same draws: iterates x_1..x_{T+1}, calls."""
        raise NotImplementedError  # pragma: no cover

    # -- reporting ---------------------------------------------------------------------
    def counters(self, hp: dict, problem, T: int) -> dict:
        """Method-specific counts for horizon T (e.g. ``{"epochs": ...}`` for the
        reshuffling methods), as plain JSON numbers. The run stores them in
        ``Trace.counters`` and the run's JSON lists them next to ``oracle_calls``;
        their names must not clash with the trace summary's own keys."""
        return {}


def _subclasses(cls) -> list:
    """Every class derived from ``cls`` that declares its own spec (the defined methods)."""
    out = []
    for sub in cls.__subclasses__():
        if "spec" in vars(sub):
            out.append(sub)
        out.extend(_subclasses(sub))
    return out


def _composite_mismatch(method, problem) -> str:
    """Why ``method`` cannot run on ``problem``: one is composite (F = D + r, measured by
    the gradient mapping) and the other is not."""
    if method.spec.composite:
        names = ", ".join(n for n, cls in PROBLEMS.items() if getattr(cls, "is_composite", False))
        return (f"method '{method.name}' needs a composite problem F = D + r (a finite-sum or stochastic "
                f"smooth part D plus a regularizer r with an exact prox), e.g. {names}; "
                f"'{problem.name}' is {problem.kind} without a proximal part")
    names = ", ".join(sorted(cls.spec.name for cls in _subclasses(Method) if cls.spec.composite))
    return (f"method '{method.name}' needs a problem of kind {' or '.join(method.spec.accepts)} without a "
            f"proximal part; '{problem.name}' is composite (F = D + r, measured by its gradient "
            f"mapping): use a composite method ({names})")


def named_state(cls, problem, **given):
    """A method's state: the NamedTuple ``cls`` (first field ``x``, the iterate) with x at the
    problem's start and every other field zeros(d), unless ``given``."""
    values = {name: np.zeros(problem.d) for name in cls._fields}
    values["x"] = problem.x0.copy()
    values.update(given)
    return cls(**values)


def ratio(num: float, den: float) -> float:
    """num / den, infinite when den is 0 (a schedule dividing by a zero constant
    yields an infinite value, which the checks reject unless it is overridden)."""
    return math.inf if den == 0 else num / den


def _beta_from_momentum(momentum):
    mu = check_real("momentum", momentum, low=0.0, high=1.0, high_open=True)
    return 1.0 - mu


def uniforms_for(hp: dict, d: int) -> int:
    """Uniforms per step needed by the sign rule (one per coordinate for 'random')."""
    return d if hp.get("zero_rule") == "random" else 0


def rule(hp: dict) -> int:
    return zero_rule_code(hp["zero_rule"])
