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
* every row runs the methods' default schedule constants (no row sets c_eta,
  c_beta, ...); the travel-distance condition (the iterates must reach the
  stationary region within the smallest horizon of the grid, eta T_min >=
  2 ||x_1 - x*||_inf) is met by the choice of problem and grid, and the report
  states each row's verdict with the step constant scaled by 1/4 and by 4;
* every row declares negative controls (:mod:`signtheory.rates.controls`) that
  the same machinery must judge as failing;
* noise is large enough that the rate's noise term, not only the travel term,
  sets the level (a horizon-tied step forces the travel term's slope even without
  noise, which is why the mechanism rows exist).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from .controls import FROZEN, FROZEN_SIZE, Control

# Table names
CENTRALIZED = "centralized"
MAJORITY_VOTE = "majority vote"
COMPOSITE = "composite"
MECHANISM = "mechanism"

# Row kinds
SLOPE = "slope"  # log-log slope of the statistic against the variable
FLOOR = "floor"  # a non-vanishing term: its exponent in n, fitted on the floor


class _FromSpec:
    """The theory exponent of the method's spec (``MethodSpec.rate``), for the row's
    variable, times the row's ``power``: written once, in the method module."""

    def __repr__(self):
        return "SPEC"


SPEC = _FromSpec()


def leading_fraction(text: str) -> float:
    """The exponent a text such as ``-1/2 (up to log T)`` starts with."""
    head = text.split()[0]
    num, _, den = head.partition("/")
    return float(num) / float(den or 1)


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
    theory_exponent: float  # or SPEC: the method's spec gives it
    exponent_text: str  # starts with the exponent as a fraction, e.g. "-1/3"
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
    log_factor: bool = False  # the rate carries a log T factor: T^p log T has local slope p + 1/log T
    non_vanishing: str | None = None  # a term of the bound that does not vanish in T
    floor_term: str | None = None  # a key of rates.verify.FLOOR_TERMS: the term's value per point
    step_of: str | None = None  # run with this other method's theoretical step (controls)
    reference: str | None = None  # a key of rates.verify.REFERENCES: a predicted limit of the statistic
    loose: str | None = None  # why the theorem is known not to be attained here
    design: str = ""  # why this problem and grid show the rate
    normalize: str | None = None  # a key of rates.verify.NORMALIZERS: a constant of the bound divided out
    controls: tuple = ()  # negative controls (rates.controls.Control) the row's verdict must beat

    def __post_init__(self):
        if isinstance(self.theory_exponent, _FromSpec):
            from ..methods import get_method

            rate = get_method(self.method).spec.rate
            if rate.measure != self.measure or self.variable not in rate.exponents:
                raise ValueError(f"row {self.id}: the spec of {self.method} states no {self.measure} "
                                 f"exponent in {self.variable}; give the row's own")
            object.__setattr__(self, "theory_exponent", self.power * rate.exponents[self.variable])

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
#: noisy-separable with skewed additive noise (+a w.p. 3/4, -3a w.p. 1/4), bounded gradients
SKEWED = {"d": 16, "law": "skewed", "sigma": 2.0}
#: a logistic finite sum with normalized rows, d = 16, m = 128
LOGISTIC = {"d": 16, "m": 128}
#: the separable finite sum, d = 16, m = 64: ||x_1 - x*||_inf known, reached with the default step
FINITE_SUM = {"d": 16, "m": 64}

#: SSVR with beta = 1: signSGD with batch 1 and SSVR's own step (no variance reduction)
NO_VR = Control("beta=1", "beta = 1: no variance reduction (signSGD, batch 1, the same step)", "violated",
                options={"beta": 1.0})
#: the finite-sum methods' mechanism switched off: signSGD with batch 1 and the row method's step
SIGNSGD_B1 = Control("signsgd-b1", "signSGD with batch 1 and the method's own step (no variance reduction)",
                     "violated", options={"B": 1}, method="signsgd")
#: the step without its d^-1/2 factor: the measure then grows as d, faster than the bound allows
NO_D_STEP = Control("no-d-factor", "step without its d^-1/2 factor", "violated", eta_power=0.5)

#: option 1's deterministic server sign in place of option 2's unbiased one (R = G_inf = 2.5)
MAJORITY_SERVER = Control("majority-server", "option 1's deterministic server sign", "violated",
                          options={"option": 1, "R": 2.5})
#: option 1's deterministic server sign: its measure falls with n, unlike option 2's
MAJORITY_SERVER_FALLS = Control("majority-server", "option 1's deterministic server sign", "bound-holds",
                                options={"option": 1})
#: option 2's unbiased server sign in place of option 1's: no fixed point away from 0
#: (the size of a signed mean near 0 is a noisy statistic: many seeds keep its slope's interval narrow)
UNBIASED_SERVER = Control("unbiased-server", "option 2's unbiased server sign", "bound-holds",
                          options={"option": 2}, seeds=256)
#: symmetric (Gaussian) noise in place of the skewed law: the batch-1 sign is no longer biased
SYMMETRIC_NOISE = Control("gaussian-noise", "Gaussian noise in place of the skewed law", "bound-holds",
                          problem_params={"law": "gaussian"})

_T_CHEAP = _geom(256, 16384)  # 2^8 .. 2^14, one fresh run per point
_T_CHEAP_FULL = _geom(256, 131072)  # 2^8 .. 2^17
_T_LONG = _geom(1024, 131072)  # 2^10 .. 2^17: slow transients
_T_LONG_FULL = _geom(1024, 524288)
_T_SQUARE = _geom(64, 1024)  # methods with a batch B = T: N = T^2
_T_SQUARE_FULL = _geom(64, 4096)

#: many-worker votes on a slow ripple: the floor term 2 R d n^-1/2 lies 4x below the start's measure,
#: so a method that never moves breaks the bound; omega small and the start on the ripple's steep
#: flank, so that the walk to the minimum (the T^-1/2 term) sets the measure, not the vote's noise
VOTE_STO = {"d": 4, "p": 0.0, "omega": math.pi / 48, "y0": 24.0}
VOTE_SSVR = {"d": 4, "p": 0.0, "omega": math.pi / 24, "y0": 12.0}
#: the n-sweep: a sharp ripple, little smoothing noise, tilts of size zeta = 0.3
VOTE_N = {"d": 4, "p": 0.0, "omega": 1.5, "s": 0.1, "y0": math.pi / 3}

_VOTE_NOISE_N = (
    "the bound's n-dependence is its floor term d n^-1/2; at an affordable horizon the measure's "
    "n-dependence is the vote's noise instead (about n^-0.1 here), and a T-independent floor in n is not "
    "isolated on this split (the counterexample rows show a real one). What the row checks is that the "
    "measure stays below the floor term 2 R d n^-1/2 while that term lies at least 4x below the start's "
    "measure, so that a method that never moves would break it. The check leaves out the bound's T-term "
    "(sqrt(d)(Delta + L/2) T^-1/2, about 1.06 at T = 256 with the derived constants): on the full grid, "
    "at n = 10241 the floor term alone (1.03) falls below the measure (1.14) and the row is violated there, "
    "though the measure stays below the sum of both terms")

ROWS: tuple[Row, ...] = (
    # ---------------------------------------------------------------- Table A: centralized
    Row("signsgd/T", "signsgd", "signSGD (B = T)", CENTRALIZED, "stochastic", "T", "l1", "avg_grad_l1",
        SPEC, "-1/2", "smoothed-separable", SEPARABLE, grid=_T_SQUARE, full_grid=_T_SQUARE_FULL,
        design="the batch B = T makes the sign error vanish at the rate of the step; N = T^2",
        controls=(FROZEN,)),
    Row("ef-signsgd/T", "ef-signsgd", "EF-signSGD", CENTRALIZED, "stochastic", "T", "l2", "avg_grad_l2sq",
        SPEC, "-1/2 (squared; -1/4 in l2)", "smoothed-separable", SEPARABLE, grid=_T_CHEAP,
        full_grid=_T_CHEAP_FULL, power=2,
        design="the theorem bounds the mean squared l2 norm by O(T^-1/2); the travel term and the "
               "noise term of the squared norm then share the exponent",
        controls=(FROZEN,)),
    Row("signsgd-sim/T", "signsgd-sim", "signSGD-SIM", CENTRALIZED, "stochastic, Lipschitz Hessian", "T",
        "l1", "avg_grad_l1", SPEC, "-2/7", "smoothed-separable", SEPARABLE_BOUNDED, grid=_T_CHEAP,
        full_grid=_T_CHEAP_FULL,
        design="a non-quadratic profile (pure cosine ripple, p = 0), so the extrapolated momentum is "
               "not exact and its second-order error sets the rate",
        controls=(FROZEN,)),
    Row("signsvrg/T", "signsvrg", "SignSVRG", CENTRALIZED, "finite-sum", "T", "l1", "avg_grad_l1",
        SPEC, "-1/2", "separable-sum", FINITE_SUM, grid=_T_CHEAP,
        full_grid=_T_CHEAP_FULL,
        design="the separable finite sum, whose distance to the minimizer is known: with the default step "
               "(which carries a 1/sqrt(m) factor) the iterates arrive within the smallest horizons; on "
               "nonconvex-logistic they would still be leaving the start at T = 2^14",
        controls=(FROZEN, SIGNSGD_B1)),
    Row("signrvr/T", "signrvr", "SignRVR", CENTRALIZED, "finite-sum", "T", "l1", "avg_grad_l1", SPEC,
        "-1/2 (up to log T)", "nonconvex-logistic", LOGISTIC, grid=_T_LONG, full_grid=_T_LONG_FULL,
        log_factor=True,
        design="the anytime step gamma_0/sqrt(k) with the m-free gamma_0 (c_eta = 1); T runs to 2^17 "
               "because the bound's log T factor and the first epochs bend the small-T end",
        controls=(FROZEN,)),
    Row("signrvm/T", "signrvm", "SignRVM", CENTRALIZED, "finite-sum", "T", "l1", "avg_grad_l1", SPEC,
        "-1/2 (up to log T)", "nonconvex-logistic", LOGISTIC, grid=_T_LONG,
        full_grid=_T_LONG_FULL, log_factor=True,
        loose="the paper's momentum schedule for SignRVM is not known here; with the reconstructed fixed "
              "beta = c_beta/m the momentum keeps an error of order sqrt(beta) times the components' "
              "spread, which does not vanish: with the default constants the decay is much slower than "
              "SignRVR's (about -0.27 on this grid) and its local slopes flatten as T grows. The row checks "
              "the reconstruction, not the theorem",
        design="the same instance and step rule as SignRVR",
        controls=(FROZEN,)),
    Row("ssvr/T", "ssvr", "SSVR", CENTRALIZED, "stochastic", "T", "l1", "avg_grad_l1", SPEC, "-1/3",
        "smoothed-separable", SEPARABLE, grid=_T_CHEAP, full_grid=_T_CHEAP_FULL,
        design="noise enters nonlinearly (Gaussian smoothing), so the STORM correction is not noise-free",
        controls=(FROZEN, NO_VR)),
    Row("ssvr/d", "ssvr", "SSVR", CENTRALIZED, "stochastic", "d", "l1", "avg_grad_l1", SPEC, "1/2",
        "smoothed-separable", {"start": "one"}, grid=(4, 16, 64, 256, 1024),
        full_grid=(4, 16, 64, 256, 1024, 4096), T=4096, full_T=16384,
        design="isotropic scaling (L and sigma the same for every d) with only the first coordinate off its "
               "minimizer: ||grad f(x_1)||_1 falls as d^-1/2, so the frozen method measures -1/2 while the "
               "noise level of the d - 1 settled coordinates grows as d^1/2 (the theorem's d-factor); a step "
               "without its d^-1/2 factor grows as d",
        controls=(FROZEN_SIZE, NO_D_STEP)),
    Row("ssvr-fs/T", "ssvr-fs", "SSVR-FS", CENTRALIZED, "finite-sum", "T", "l1", "avg_grad_l1", SPEC,
        "-1/2", "separable-sum", FINITE_SUM, grid=_T_CHEAP, full_grid=_T_CHEAP_FULL,
        design="T >= m on the whole grid; the separable finite sum, on which the default step reaches the "
               "minimizer within the smallest horizon",
        controls=(FROZEN, SIGNSGD_B1)),
    Row("ssvr-fs/d", "ssvr-fs", "SSVR-FS", CENTRALIZED, "finite-sum", "d", "l1", "avg_grad_l1", SPEC,
        "1/2", "separable-sum", {"m": 64, "start": "one"}, {"measure": 512}, grid=(4, 16, 64, 256),
        full_grid=(4, 16, 64, 256, 1024), T=4096, full_T=16384, normalize="sqrt_delta",
        design="separable-sum is isotropic in d (L and the components' dispersion do not depend on d) and "
               "nested (the d-instance is the first d coordinates of a larger one); only the first "
               "coordinate starts off its minimizer, so ||grad f(x_1)||_1 falls as d^-1/2 and Delta as 1/d. "
               "The bound is 2 (Delta L d (1/2 + 4 sqrt(I)) / T)^1/2 and the schedule uses the problem's "
               "Delta, "
               "so the measure is divided by sqrt(Delta) (fitted: ||grad f||_1 / sqrt(Delta), d^1/2 by the "
               "theorem); the frozen method then measures d^0 and a step without its d^-1/2 factor d^1",
        controls=(FROZEN_SIZE, NO_D_STEP)),
    Row("ssvr-fs/m", "ssvr-fs", "SSVR-FS", CENTRALIZED, "finite-sum", "m", "l1", "avg_grad_l1", SPEC,
        "1/4", "separable-sum", {"d": 16}, grid=(16, 32, 64, 128, 256),
        full_grid=(16, 32, 64, 128, 256, 512, 1024), T=16384, full_T=65536,
        design="components drawn i.i.d. from one law and nested in m (the m-instance is the first m "
               "components of a larger one), so L, the dispersion and Delta hold still; T >> m",
        controls=(FROZEN_SIZE,)),
    # ---------------------------------------------------------------- composite
    Row("signprox/T", "signprox", "signProx (B = T)", COMPOSITE, "composite", "T", "l1", "avg_grad_l1",
        SPEC, "-1/2 (N^-1/4)", "l1-lsq", {"d": 16, "m": 256, "blocks": 2}, grid=_geom(256, 4096),
        full_grid=_geom(256, 8192),
        design="the l1 term split into two blocks, so that each step samples B = T prox terms at random "
               "(signProx's stochastic prox; with one block nothing is random and every seed gives the same "
               "run); the gradient mapping at gamma = 1/L is measured exactly (soft-thresholding prox)",
        controls=(FROZEN,)),
    # ---------------------------------------------------------------- Table B: majority vote
    Row("mv-signsgd/T", "mv-signsgd", "MV-signSGD (B = T)", MAJORITY_VOTE, "homogeneous", "T", "l1",
        "avg_grad_l1", SPEC, "-1/2", "smoothed-separable", SEPARABLE_BOUNDED, {"n": 3},
        grid=_geom(64, 512), full_grid=_geom(64, 2048),
        design="n = 3 identical workers, each with the batch B = T",
        controls=(FROZEN,)),
    Row("ssdm/T", "ssdm", "SSDM", MAJORITY_VOTE, "homogeneous", "T", "l2", "avg_grad_l2", SPEC, "-1/4",
        "smoothed-separable", SEPARABLE_BOUNDED, {"n": 3}, grid=_T_CHEAP, full_grid=_T_CHEAP_FULL,
        design="homogeneous workers, as SSDM's theorem requires",
        controls=(FROZEN,)),
    Row("sto-signsgd/T", "sto-signsgd", "Sto-signSGD", MAJORITY_VOTE, "heterogeneous", "T", "l1",
        "avg_grad_l1", SPEC, "-1/2", "smoothed-separable", VOTE_STO, {"n": 65},
        grid=_T_CHEAP, full_grid=_T_CHEAP_FULL, non_vanishing="2 R d n^-1/2", floor_term="2 R d n^-1/2",
        design="R = G_inf; n = 65 homogeneous workers, so that 2 R d n^-1/2 is 4x below the start's measure; "
               "a slow ripple (omega = pi/48, start on its steep flank) whose minimum the iterates reach only "
               "late, so the travel term d^1/2 T^-1/2 sets the measure",
        controls=(FROZEN,)),
    Row("mv-signsgd-sim/T", "mv-signsgd-sim", "MV-signSGD-SIM", MAJORITY_VOTE, "heterogeneous", "T", "l1",
        "avg_grad_l1", SPEC, "-1/4", "smoothed-separable", SEPARABLE_BOUNDED, {"n": 3, "variant": "momentum"},
        grid=_T_CHEAP, full_grid=_T_CHEAP_FULL, non_vanishing="2 R d n^-1/2",
        design="the reported rate d T^-1/4 is the sign-momentum form, so the momentum variant is run; the "
               "extrapolated (sim) variant decays faster on this problem (about -0.32)",
        controls=(FROZEN,)),
    Row("ssvr-mv-1/T", "ssvr-mv", "SSVR-MV option 1", MAJORITY_VOTE, "heterogeneous", "T", "l1",
        "avg_grad_l1", -1 / 2, "-1/2", "smoothed-separable", VOTE_SSVR, {"n": 1089, "option": 1},
        grid=_geom(64, 1024), full_grid=_geom(64, 4096), non_vanishing="d n^-1/2",
        floor_term="2 R d n^-1/2",
        design="R = 4 G_inf, beta = 1/2; n = 1089 homogeneous workers (the inline backend votes them in one "
               "vectorized step), so that 2 R d n^-1/2 is 4x below the start's measure; a slow ripple "
               "(omega = pi/24, start on its steep flank) so that the travel term sets the measure",
        controls=(FROZEN,)),
    Row("ssvr-mv-2/T", "ssvr-mv", "SSVR-MV option 2", MAJORITY_VOTE, "heterogeneous", "T", "l2",
        "avg_grad_l2", SPEC, "-1/4", "smoothed-separable", SEPARABLE_BOUNDED, {"n": 3, "option": 2},
        grid=_T_CHEAP, full_grid=_T_CHEAP_FULL,
        controls=(FROZEN,)),
    Row("ssvr-mv-1/n", "ssvr-mv", "SSVR-MV option 1", MAJORITY_VOTE, "heterogeneous (shift zeta = 0.3)", "n",
        "l1", "avg_grad_l1", -1 / 2, "-1/2 (floor d n^-1/2)", "smoothed-separable", VOTE_N,
        {"option": 1, "split": {"mode": "shift", "zeta": 0.3}}, grid=(641, 1281, 2561, 5121),
        full_grid=(641, 1281, 2561, 5121, 10241), T=256, full_T=256, seeds=4, full_seeds=8, kind=FLOOR,
        non_vanishing="d n^-1/2", floor_term="2 R d n^-1/2", loose=_VOTE_NOISE_N,
        design="odd n in the thousands, the same tilt size zeta = 0.3 for every n; from n = 1281 on the "
               "floor term 2 R d n^-1/2 is at least 4x below the start's measure",
        controls=(FROZEN,)),
    Row("ssvr-mv-2/n", "ssvr-mv", "SSVR-MV option 2", MAJORITY_VOTE, "heterogeneous (shift zeta = 1)", "n",
        "l2", "avg_grad_l2", 0.0, "0 (no n-floor)", "smoothed-separable", SEPARABLE_BOUNDED,
        {"option": 2, "split": {"mode": "shift", "zeta": 1.0}}, grid=(3, 5, 9, 17, 33),
        full_grid=(3, 5, 9, 17, 33, 65), T=4096, full_T=16384, kind=FLOOR,
        design="the same sweep as option 1: the unbiased server sign leaves no n-dependent term",
        controls=(MAJORITY_SERVER_FALLS,)),
    # ---------------------------------------------------------------- mechanism rows
    Row("ssvr/estimator-error", "ssvr", "SSVR estimator error", MECHANISM, "stochastic", "T", "l2",
        "avg_estimator_error", -2 / 3, "-2/3", "smoothed-separable", SEPARABLE, grid=_T_CHEAP,
        full_grid=_T_CHEAP_FULL, power=2, seeds=16, full_seeds=32,
        design="(1/T) sum_t ||v_t - grad f(x_t)||_2^2: beta sigma^2 + eta^2 L^2 d / beta = O(T^-2/3) "
               "with the theoretical schedule; a slope forced by the step alone would not show here",
        controls=(NO_VR,)),
    Row("ssvr/T-skewed", "ssvr", "SSVR on skewed noise", MECHANISM, "stochastic, skewed noise", "T", "l1",
        "avg_grad_l1", SPEC, "-1/3", "noisy-separable", SKEWED, grid=_T_CHEAP, full_grid=_T_CHEAP_FULL,
        design="additive noise with mean 0 and median != 0: the variance-reduced estimator is unbiased, so "
               "SSVR keeps its rate",
        controls=(FROZEN, NO_VR)),
    Row("signsgd/T-skewed-control", "signsgd", "signSGD, B = 1, SSVR's step (control)", MECHANISM,
        "stochastic, skewed noise", "T", "l1", "avg_grad_l1", 0.0, "0 (plateau)", "noisy-separable", SKEWED,
        {"B": 1}, grid=_T_CHEAP, full_grid=_T_CHEAP_FULL, step_of="ssvr",
        design="the same step as SSVR and no variance reduction: the batch-1 sign is biased wherever "
               "|grad_k f| is below the noise's skew, so the measure stops falling (the plateau)",
        controls=(SYMMETRIC_NOISE,)),
    Row("ssvr-mv-1/counterexample", "ssvr-mv", "SSVR-MV option 1, counterexample", MECHANISM,
        "heterogeneous, 3 workers", "T", "l1", "late_signed_gradient", 0.0, "0 (stays at t*)",
        "mv-counterexample", {"instance": "amplified"},
        {"n": 3, "split": {"mode": "counterexample"}, "option": 1, "R": 2.5}, grid=_geom(1024, 65536, 4),
        full_grid=_geom(1024, 262144, 4), seeds=24, full_seeds=64, reference="t_star",
        design="exact worker gradients, R = G_inf = 2.5: the deterministic vote of unbiased worker bits is "
               "biased, and the signed average of f'(x_t) over the second half settles at the fixed point "
               "t* of the expected vote instead of 0",
        controls=(UNBIASED_SERVER,)),
    Row("ssvr-mv-2/counterexample", "ssvr-mv", "SSVR-MV option 2, counterexample", MECHANISM,
        "heterogeneous, 3 workers", "T", "l2", "avg_grad_l2", SPEC, "-1/4", "mv-counterexample",
        {"instance": "amplified"}, {"n": 3, "split": {"mode": "counterexample"}, "option": 2},
        grid=_geom(1024, 65536), full_grid=_geom(1024, 262144), seeds=32, full_seeds=64,
        design="the same workers: the unbiased server sign has no fixed point away from 0, so the gradient "
               "keeps falling at the option-2 rate",
        controls=(MAJORITY_SERVER,)),
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
