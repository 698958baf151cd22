"""Composite problems F = D + r: a smooth (possibly nonconvex) part D seen through
the usual sample oracles, plus a convex regularizer r = (1/K_r) sum_k r_k whose
terms have exact, cheap proxes. See :mod:`signtheory.problems.composite.base`
for how they present themselves to the engine (the recorded gradient is the
gradient mapping).

>>> from signtheory.problems import make_problem
>>> prob = make_problem("tv1d-denoise", d=64)
>>> prob.is_composite, prob.prox_terms
(True, 2)
"""

from .base import CompositeProblem
from .l1 import L1LSQ
from .tv import TVDenoise1D, TVDenoise2D

COMPOSITE_PROBLEMS = (TVDenoise1D, TVDenoise2D, L1LSQ)

__all__ = ["COMPOSITE_PROBLEMS", "CompositeProblem", "L1LSQ", "TVDenoise1D", "TVDenoise2D"]
