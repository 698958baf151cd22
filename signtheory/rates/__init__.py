"""Rates: resumable sweeps over T, d, m or n, a result store, log-log fits with
bootstrap intervals over seeds, and verdicts against the theorems' exponents."""

from .fits import VERDICTS, FloorFit, SlopeFit, fit_floor, fit_slope, verdict
from .store import ResultStore, point_key
from .sweep import point, run_point, run_sweep

__all__ = ["VERDICTS", "FloorFit", "ResultStore", "SlopeFit", "fit_floor", "fit_slope", "point", "point_key",
           "run_point", "run_sweep", "verdict"]
