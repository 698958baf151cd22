"""Compiled primitives shared by every method: vector kernels, sign rules and estimator updates."""

from .estimators import ema_update, storm_update, svrg_estimate
from .linalg import axpy, dot, dot2, gradient_step, norm1, norm2sq, scale
from .signs import ZERO_RULES, sign_of, sign_step, zero_rule_code

__all__ = [
    "ZERO_RULES",
    "axpy",
    "dot",
    "dot2",
    "ema_update",
    "gradient_step",
    "norm1",
    "norm2sq",
    "scale",
    "sign_of",
    "sign_step",
    "storm_update",
    "svrg_estimate",
    "zero_rule_code",
]
