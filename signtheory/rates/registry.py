"""The theory registry: one row per theorem of the two rate tables, plus signProx and
the mechanism checks, each with the problem and schedule on which it is measured.

A :class:`Row` says what is swept (``variable``: T, d, m, n or zeta), which measure
is fitted (``statistic``, a per-seed summary of a run), the exponent the theorem
predicts for it, and everything needed to reproduce the sweep: the method, the
problem and its parameters, hyperparameter overrides, the grid and the number of
seeds of the quick and of the full run. The method's citation, schedule, rate
expression and provenance come from its :class:`~signtheory.methods.spec.MethodSpec`,
so they are written once.

Design rules shared by the rows (see ``docs/verify.md``):

* the problem keeps every constant of the bound fixed while the variable moves
  (``smoothed-separable`` is isotropic in d: L, sigma, Delta and ||x_1 - x*||_2 do
  not depend on d; logistic components are drawn i.i.d. with normalized rows);
* every grid point is a fresh run with the schedule of its own horizon;
* the step constant ``c_eta`` is chosen by the travel-distance rule: the iterates
  must be able to reach the stationary region within the smallest horizon of the
  grid (eta T_min >= 2 ||x_1 - x*||_inf), otherwise the start dominates and the
  slope is shallower than the theorem's; it never changes the exponent;
* noise is large enough that the rate's noise term, not only the travel term,
  sets the level (a horizon-tied step forces the travel term's slope even without
  noise, which is why the mechanism rows exist).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

# Table names
CENTRALIZED = "centralized"
MAJORITY_VOTE = "majority vote"
COMPOSITE = "composite"
MECHANISM = "mechanism"

# Row kinds
SLOPE = "slope"  # log-log slope of the statistic against the variable
FLOOR = "floor"  # a non-vanishing term: its exponent in n, fitted on the floor


@dataclass(frozen=True)
class Row:
    id: str
    method: str
    label: str
    table: str
    setting: str
    variable: str  # "T", "d", "m", "n" or "zeta"
    measure: str  # "l1" or "l2" (of the gradient, or the gradient mapping for composite problems)
    statistic: str  # per-seed summary fitted: a Trace attribute or an extra (see rates.verify)
    theory_exponent: float
    exponent_text: str
    problem: str
    problem_params: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)  # run() keywords: hyperparameter overrides, n, split
    grid: tuple = ()
    full_grid: tuple = ()
    seeds: int = 8
    full_seeds: int = 16
    T: int | None = None  # the horizon of non-T sweeps
    full_T: int | None = None
    kind: str = SLOPE
    power: int = 1  # 2: the statistic is the squared norm (the theorem bounds E||.||^2)
    log_factor: bool = False  # fit statistic / log(T): the rate carries a log T factor
    non_vanishing: str | None = None  # a term of the bound that does not vanish in T
    loose: str | None = None  # why the theorem is known not to be attained here
    design: str = ""  # why this problem and grid show the rate

    def to_dict(self) -> dict:
        return asdict(self)


def _geom(lo: int, hi: int, ratio: int = 2) -> tuple:
    out, v = [], lo
    while v <= hi:
        out.append(v)
        v *= ratio
    return tuple(out)


#: smoothed-separable with d = 16, y0 = 3 (||x_1 - x*||_inf = 3/sqrt(d)): noise from the smoothing
SEPARABLE = {"d": 16}
#: the bounded-gradient variant (p = 0), needed by the stochastic-sign (S_R) methods
SEPARABLE_BOUNDED = {"d": 16, "p": 0.0}
#: a logistic finite sum with normalized rows, d = 16, m = 128
LOGISTIC = {"d": 16, "m": 128}

_T_CHEAP = _geom(256, 16384)  # 2^8 .. 2^14, one fresh run per point
_T_CHEAP_FULL = _geom(256, 131072)  # 2^8 .. 2^17
_T_SQUARE = _geom(64, 1024)  # methods with a batch B = T: N = T^2
_T_SQUARE_FULL = _geom(64, 4096)

ROWS: tuple[Row, ...] = (
    # ---------------------------------------------------------------- Table A: centralized
    Row("signsgd/T", "signsgd", "signSGD (B = T)", CENTRALIZED, "stochastic", "T", "l1", "avg_grad_l1",
        -1 / 2, "-1/2", "smoothed-separable", SEPARABLE, grid=_T_SQUARE, full_grid=_T_SQUARE_FULL,
        design="the batch B = T makes the sign error vanish at the rate of the step; N = T^2"),
    Row("ef-signsgd/T", "ef-signsgd", "EF-signSGD", CENTRALIZED, "stochastic", "T", "l2", "avg_grad_l2sq",
        -1 / 2, "-1/2 (squared; -1/4 in l2)", "smoothed-separable", SEPARABLE, grid=_T_CHEAP,
        full_grid=_T_CHEAP_FULL, power=2,
        design="the theorem bounds the mean squared l2 norm by O(T^-1/2); the travel term and the "
               "noise term of the squared norm then share the exponent"),
    Row("signsgd-sim/T", "signsgd-sim", "signSGD-SIM", CENTRALIZED, "stochastic, Lipschitz Hessian", "T",
        "l1", "avg_grad_l1", -2 / 7, "-2/7", "smoothed-separable", SEPARABLE_BOUNDED, grid=_T_CHEAP,
        full_grid=_T_CHEAP_FULL,
        design="a non-quadratic profile (pure cosine ripple, p = 0), so the extrapolated momentum is "
               "not exact and its second-order error sets the rate"),
    Row("signsvrg/T", "signsvrg", "SignSVRG", CENTRALIZED, "finite-sum", "T", "l1", "avg_grad_l1",
        -1 / 2, "-1/2", "nonconvex-logistic", LOGISTIC, {"c_eta": 16.0}, grid=_T_CHEAP,
        full_grid=_T_CHEAP_FULL,
        design="c_eta = 16 by the travel-distance rule: the theoretical step carries a 1/sqrt(m) "
               "factor and would not leave the start within the smallest horizons"),
    Row("signrvr/T", "signrvr", "SignRVR", CENTRALIZED, "finite-sum", "T", "l1", "avg_grad_l1", -1 / 2,
        "-1/2 (times log T)", "nonconvex-logistic", LOGISTIC, {"c_eta": 16.0}, grid=_T_CHEAP,
        full_grid=_T_CHEAP_FULL, log_factor=True,
        design="the bound is log(m T_ep) m^1/2 T_ep^-1/2: the statistic divided by log T is fitted"),
    Row("signrvm/T", "signrvm", "SignRVM", CENTRALIZED, "finite-sum", "T", "l1", "avg_grad_l1", -1 / 2,
        "-1/2 (times log T)", "nonconvex-logistic", LOGISTIC, {"c_eta": 16.0}, grid=_T_CHEAP,
        full_grid=_T_CHEAP_FULL, log_factor=True,
        design="as SignRVR, with the momentum estimator"),
    Row("ssvr/T", "ssvr", "SSVR", CENTRALIZED, "stochastic", "T", "l1", "avg_grad_l1", -1 / 3, "-1/3",
        "smoothed-separable", SEPARABLE, grid=_T_CHEAP, full_grid=_T_CHEAP_FULL,
        design="noise enters nonlinearly (Gaussian smoothing), so the STORM correction is not noise-free"),
    Row("ssvr/d", "ssvr", "SSVR", CENTRALIZED, "stochastic", "d", "l1", "avg_grad_l1", 1 / 2, "1/2",
        "smoothed-separable", {}, grid=(4, 16, 64, 256, 1024), full_grid=(4, 16, 64, 256, 1024, 4096),
        T=4096, full_T=16384,
        design="isotropic scaling: L, sigma, Delta and ||x_1 - x*||_2 are the same for every d"),
    Row("ssvr-fs/T", "ssvr-fs", "SSVR-FS", CENTRALIZED, "finite-sum", "T", "l1", "avg_grad_l1", -1 / 2,
        "-1/2", "nonconvex-logistic", LOGISTIC, {"c_eta": 4.0}, grid=_T_CHEAP, full_grid=_T_CHEAP_FULL,
        design="T >= m on the whole grid; c_eta = 4 by the travel-distance rule"),
    Row("ssvr-fs/d", "ssvr-fs", "SSVR-FS", CENTRALIZED, "finite-sum", "d", "l1", "avg_grad_l1", 1 / 2,
        "1/2", "nonconvex-logistic", {"m": 128}, {"c_eta": 4.0}, grid=(4, 16, 64, 256),
        full_grid=(4, 16, 64, 256, 1024), T=4096, full_T=16384,
        design="rows normalized so L and the gradient bound do not grow with d"),
    Row("ssvr-fs/m", "ssvr-fs", "SSVR-FS", CENTRALIZED, "finite-sum", "m", "l1", "avg_grad_l1", 1 / 4,
        "1/4", "nonconvex-logistic", {"d": 16}, {"c_eta": 4.0}, grid=(16, 64, 256, 1024),
        full_grid=(16, 64, 256, 1024, 4096), T=8192, full_T=32768,
        design="components drawn i.i.d. from one law, so f barely changes with m; fixed T >> m"),
    # ---------------------------------------------------------------- composite
    Row("signprox/T", "signprox", "signProx (B = T)", COMPOSITE, "composite", "T", "l1", "avg_grad_l1",
        -1 / 2, "-1/2 (N^-1/4)", "l1-lsq", {"d": 16, "m": 256}, grid=_T_SQUARE, full_grid=_T_SQUARE_FULL,
        design="the gradient mapping at gamma = 1/L is measured exactly (soft-thresholding prox)"),
    # ---------------------------------------------------------------- Table B: majority vote
    Row("mv-signsgd/T", "mv-signsgd", "MV-signSGD (B = T)", MAJORITY_VOTE, "homogeneous", "T", "l1",
        "avg_grad_l1", -1 / 2, "-1/2", "smoothed-separable", SEPARABLE_BOUNDED, {"n": 3},
        grid=_geom(64, 512), full_grid=_geom(64, 2048),
        design="n = 3 identical workers, each with the batch B = T"),
    Row("ssdm/T", "ssdm", "SSDM", MAJORITY_VOTE, "homogeneous", "T", "l2", "avg_grad_l2", -1 / 4, "-1/4",
        "smoothed-separable", SEPARABLE_BOUNDED, {"n": 3}, grid=_T_CHEAP, full_grid=_T_CHEAP_FULL,
        design="homogeneous workers, as SSDM's theorem requires"),
    Row("sto-signsgd/T", "sto-signsgd", "Sto-signSGD", MAJORITY_VOTE, "heterogeneous", "T", "l1",
        "avg_grad_l1", -1 / 2, "-1/2", "smoothed-separable", SEPARABLE_BOUNDED, {"n": 3},
        grid=_T_CHEAP, full_grid=_T_CHEAP_FULL, non_vanishing="2 R d n^-1/2"),
    Row("mv-signsgd-sim/T", "mv-signsgd-sim", "MV-signSGD-SIM", MAJORITY_VOTE, "heterogeneous", "T", "l1",
        "avg_grad_l1", -1 / 4, "-1/4", "smoothed-separable", SEPARABLE_BOUNDED, {"n": 3}, grid=_T_CHEAP,
        full_grid=_T_CHEAP_FULL, non_vanishing="d n^-1/2"),
    Row("ssvr-mv-1/T", "ssvr-mv", "SSVR-MV option 1", MAJORITY_VOTE, "heterogeneous", "T", "l1",
        "avg_grad_l1", -1 / 2, "-1/2", "smoothed-separable", SEPARABLE_BOUNDED, {"n": 3, "option": 1},
        grid=_T_CHEAP, full_grid=_T_CHEAP_FULL, non_vanishing="d n^-1/2"),
    Row("ssvr-mv-2/T", "ssvr-mv", "SSVR-MV option 2", MAJORITY_VOTE, "heterogeneous", "T", "l2",
        "avg_grad_l2", -1 / 4, "-1/4", "smoothed-separable", SEPARABLE_BOUNDED, {"n": 3, "option": 2},
        grid=_T_CHEAP, full_grid=_T_CHEAP_FULL),
    # ---------------------------------------------------------------- mechanism rows
    Row("ssvr/estimator-error", "ssvr", "SSVR estimator error", MECHANISM, "stochastic", "T", "l2",
        "avg_estimator_error", -2 / 3, "-2/3", "smoothed-separable", SEPARABLE, grid=_T_CHEAP,
        full_grid=_T_CHEAP_FULL, power=2,
        design="(1/T) sum_t ||v_t - grad f(x_t)||_2^2: beta sigma^2 + eta^2 L^2 d / beta = O(T^-2/3) "
               "with the theoretical schedule; a slope forced by the step alone would not show here"),
)


def rows(only=None) -> list[Row]:
    """The registry's rows, optionally only those of the given methods or row ids."""
    if not only:
        return list(ROWS)
    wanted = set(only)
    known = {r.method for r in ROWS} | {r.id for r in ROWS}
    unknown = sorted(wanted - known)
    if unknown:
        from ..errors import InvalidParameterError

        raise InvalidParameterError("only", unknown, f"method names or row ids among {sorted(known)}")
    return [r for r in ROWS if r.method in wanted or r.id in wanted]
