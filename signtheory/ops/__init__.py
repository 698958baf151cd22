"""Compiled primitives shared by every method: vector kernels, sign rules and estimator updates."""

from .compressors import (
    OVERFLOW_POLICIES,
    apply_norm_scaled_sign,
    apply_scaled_sign,
    apply_stochastic_sign,
    majority_vote,
    norm_scaled_stochastic_sign,
    overflow_code,
    pack_signs,
    pack_signs_into,
    scaled_sign,
    stochastic_sign,
    unpack_signs,
    unpack_signs_into,
    vote,
)
from .estimators import ema_update, storm_update, svrg_estimate
from .linalg import axpy, dot, dot2, gradient_step, mean_rows, norm1, norm2sq, scale
from .signs import ZERO_RULES, sign_of, sign_step, zero_rule_code

__all__ = [
    "ZERO_RULES",
    "axpy",
    "dot",
    "dot2",
    "ema_update",
    "gradient_step",
    "mean_rows",
    "norm1",
    "norm2sq",
    "scale",
    "sign_of",
    "sign_step",
    "storm_update",
    "svrg_estimate",
    "zero_rule_code",
]

__all__ += [
    "OVERFLOW_POLICIES",
    "apply_norm_scaled_sign",
    "apply_scaled_sign",
    "apply_stochastic_sign",
    "majority_vote",
    "norm_scaled_stochastic_sign",
    "overflow_code",
    "pack_signs",
    "pack_signs_into",
    "scaled_sign",
    "stochastic_sign",
    "unpack_signs",
    "unpack_signs_into",
    "vote",
]
