"""Negative controls and constant variants of a registry row.

A verdict that cannot fail is not evidence. Every row of the registry therefore
declares one or more *controls*: the same sweep, run by the same machinery and
fitted and judged by the same rules, with something switched off, whose verdict is
known in advance:

* the **frozen** control multiplies the step constant by 10^-6, so the iterates do
  not move: a T-row must then be judged ``violated`` (the measure does not fall), a
  d- or m-row ``bound-holds`` (the measure does not grow as the bound allows);
* a **mechanism** control switches off what the theorem is about (variance
  reduction, the unbiased server sign, the d^-1/2 factor of the step ...): the row's
  verdict must change, in the direction the control states.

A row whose control is not judged as expected cannot tell a working method from a
broken one at this size, and is reported as ``not falsifiable``.

The same transformation, without an expected verdict, gives the *sensitivity*
variants of a row: the step constant scaled by 1/4 and by 4.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Control:
    name: str  # short identifier, e.g. "frozen"
    label: str  # what is switched off, for the report
    expect: str | None  # the verdict the control must get ("violated", "bound-holds"); None: a variant
    eta_scale: float = 1.0  # the step constant (c_eta, or a borrowed eta) is multiplied by this ...
    eta_power: float = 0.0  # ... and by (swept value) ** eta_power (d- and m-sweeps)
    options: dict = field(default_factory=dict)  # run() keywords that replace the row's
    problem_params: dict = field(default_factory=dict)  # problem parameters that replace the row's
    method: str | None = None  # run this method instead, with the row method's theoretical step
    seeds: int | None = None  # seeds of the control's points (default: control_seeds of the row's)

    def to_dict(self) -> dict:
        return asdict(self)


#: the step constant divided by 10^6: nothing moves, so nothing may be judged to converge
FROZEN = Control("frozen", "step constant x 1e-6 (the iterates do not move)", "violated", eta_scale=1e-6)
#: the frozen control of a d- or m-row: the measure stays at its start, which does not grow
FROZEN_SIZE = Control("frozen", "step constant x 1e-6 (the iterates do not move)", "bound-holds",
                      eta_scale=1e-6)

#: the sensitivity variants: the step constant scaled by 1/4 and by 4
SENSITIVITY = (
    Control("c_eta/4", "step constant x 1/4", None, eta_scale=0.25),
    Control("c_eta*4", "step constant x 4", None, eta_scale=4.0),
)

def control_seeds(seeds: int) -> int:
    """Seeds of a control's points: half the row's, at least four."""
    return max(4, seeds // 2)
