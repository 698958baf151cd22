"""Verdicts that can fail: controls, vacuous bounds, inconclusive intervals, the window
check, the joint bootstrap and the one rule for constants.

The judging tests feed :func:`signtheory.rates.verify.evaluate` synthetic per-seed
measurements with a known exponent, so every expected verdict is exact; the sweep
itself is exercised in tests/test_verify.py.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from signtheory.rates import registry
from signtheory.rates.controls import FROZEN, FROZEN_SIZE, SENSITIVITY, Control
from signtheory.rates.fits import fit_slope
from signtheory.rates.registry import Row
from signtheory.rates.verify import FLOOR_FACTOR, MAX_WIDTH, evaluate, row_points, start_measure

STEP_CONSTANTS = ("c_eta", "c_beta", "c_0", "c_B", "eta", "beta", "gamma")


def row_of(**kw) -> Row:
    base = dict(id="ssvr/T-synthetic", method="ssvr", label="SSVR", table=registry.CENTRALIZED,
                setting="stochastic", variable="T", measure="l1", statistic="avg_grad_l1",
                theory_exponent=-1 / 3, exponent_text="-1/3", problem="smoothed-separable",
                problem_params={"d": 4}, grid=(256, 512, 1024, 2048, 4096, 8192), seeds=8,
                controls=(FROZEN,))
    base.update(kw)
    return Row(**base)


def results_of(grid, exponent, seeds, *, noise=0.02, jitter=0.0, level=1.0, seed=0, R=1.0):
    """Per-seed measurements level * x^exponent * seed factor * own noise, where seed r has
    the same factor at every grid point (as replicate r shares its streams) and ``jitter``
    is independent noise of every single value."""
    rng = np.random.default_rng(seed)
    factor = np.exp(noise * rng.standard_normal(seeds))
    out = []
    for x in grid:
        values = level * x**exponent * factor * np.exp(jitter * rng.standard_normal(seeds))
        out.append({"avg_grad_l1": values.tolist(), "oracle_calls": [2.0 * x] * seeds,
                    "diverged_at": [0] * seeds, "hyperparameters": {"R": R}})
    return out


def judged(row, exponent, control_exponents=(0.0,), **kw):
    points = row_points(row)
    grid = row.grid
    controls = [(c, (points, results_of(grid, e, 4, seed=7)))
                for c, e in zip(row.controls, control_exponents, strict=True)]
    return evaluate(row, points, results_of(grid, exponent, row.seeds, **kw), controls=controls)


def test_a_converging_row_beats_its_frozen_control():
    out = judged(row_of(), -1 / 3)
    assert out["verdict"] == "tight"
    (frozen,) = out["controls"]
    assert frozen["verdict"] == "violated" and frozen["caught"]


def test_a_row_whose_control_passes_too_is_not_falsifiable():
    out = judged(row_of(), -1 / 3, control_exponents=(-1 / 3,))
    assert out["verdict"] == "not falsifiable" and out["judged"] == "tight"
    assert "frozen" in out["note"]
    # a row with no control at all cannot be evidence either
    assert judged(row_of(controls=()), -1 / 3, control_exponents=())["verdict"] == "not falsifiable"
    # a violated row stays violated: failing is informative whatever the control does
    assert judged(row_of(), 0.0, control_exponents=(0.0,))["verdict"] == "violated"


@pytest.mark.parametrize("theory", [-1 / 2, -1 / 3, -1 / 4, 0.0, 1 / 2])
def test_a_wrong_theory_exponent_is_judged_on_its_side(theory):
    """The data follow `theory`; a claim 1/6 steeper is violated, 1/6 shallower holds."""
    control = FROZEN if theory < 0 else Control("c", "c", "bound-holds" if theory == 0 else "violated")
    exponents = (0.0,) if theory < 0 else ((-0.5,) if theory == 0 else (1.0,))
    row = row_of(theory_exponent=theory, controls=(control,))
    assert judged(row, theory, exponents)["verdict"] == "tight"
    steeper = dataclasses.replace(row, theory_exponent=theory - 1 / 6)
    shallower = dataclasses.replace(row, theory_exponent=theory + 1 / 6)
    assert judged(steeper, theory, exponents)["verdict"] == "violated"
    assert judged(shallower, theory, exponents)["verdict"] == "bound-holds"


def test_an_interval_wider_than_the_maximum_is_inconclusive_not_tight():
    row = row_of()
    noisy = judged(row, -1 / 3, jitter=0.5)  # scattered seeds: a wide statistical interval
    assert noisy["ci_high"] - noisy["ci_low"] > MAX_WIDTH
    assert noisy["verdict"] == "inconclusive"
    clean = judged(row, -1 / 3)
    assert clean["ci_high"] - clean["ci_low"] < MAX_WIDTH and clean["verdict"] == "tight"


def test_a_verdict_resolves_exponents_to_the_stated_resolution_and_no_finer():
    """A narrow interval around -0.47 is still tight against -1/2 (within 0.05); around -0.44
    it is violated, and around -0.56 the bound holds."""
    from types import SimpleNamespace

    from signtheory.rates.verify import RESOLUTION, judge

    row = row_of(theory_exponent=-0.5)
    assert RESOLUTION == 0.05

    def fit(slope):
        return SimpleNamespace(window=[1.0, 2.0, 4.0], slope=slope, ci_low=slope - 0.002, ci_high=slope + 0.002)

    assert judge(row, fit(-0.47)) == "tight"
    assert judge(row, fit(-0.44)) == "violated"
    assert judge(row, fit(-0.56)) == "bound-holds"


def test_the_largest_half_window_is_checked_and_a_disagreement_flagged():
    row = row_of(grid=tuple(2**k for k in range(8, 17)))
    straight = judged(row, -1 / 3)
    assert straight["second_window"]["agrees"] and straight["second_window"]["window_rule"] == "half"
    assert straight["second_window"]["window"] == [float(2**k) for k in range(12, 17)]
    # a curve whose local slope is -1/4 up to 2^14 and -1/3 after it: the two-thirds window
    # still sees the bend (violated), the largest half only the -1/3 (tight)
    bent = results_of(row.grid, 0.0, 8)
    for r, x in zip(bent, row.grid, strict=True):
        k = math.log2(x)
        r["avg_grad_l1"] = [v * 2 ** (-0.25 * min(k, 14) - max(k - 14, 0) / 3) for v in r["avg_grad_l1"]]
    frozen = (FROZEN, (row_points(row), results_of(row.grid, 0.0, 4)))
    out = evaluate(row, row_points(row), bent, controls=[frozen])
    assert (out["verdict"], out["second_window"]["verdict"]) == ("violated", "tight")
    assert not out["second_window"]["agrees"]


def floor_row(**kw):
    base = dict(id="vote/T-synthetic", method="sto-signsgd", label="Sto-signSGD", table=registry.MAJORITY_VOTE,
                theory_exponent=-1 / 2, exponent_text="-1/2", problem_params={"d": 16, "p": 0.0},
                options={"n": 3}, non_vanishing="2 R d n^-1/2", floor_term="2 R d n^-1/2")
    base.update(kw)
    return row_of(**base)


def test_a_floor_verdict_needs_a_floor_that_could_have_been_broken():
    row = floor_row()
    start = start_measure(row, row_points(row)[0])
    # the measure decays at -1/4 and sits below the floor term 2 R d / sqrt(n)
    big_R = start * math.sqrt(3) / (2 * 16)  # floor term = the start's measure: a frozen method is below it
    out = judged(row, -0.25, level=0.5 * start, R=big_R)
    assert out["verdict"] == "vacuous"
    assert not out["floor_term"]["could_be_broken"] and "vacuous" in out["note"]
    small_R = big_R / (2 * FLOOR_FACTOR)  # floor term 8x below the start: the bound could fail
    out = judged(row, -0.25, level=0.01 * start, R=small_R)
    assert out["verdict"] == "bound-holds" and out["floor_term"]["could_be_broken"]
    # above the floor term the row is violated, as before
    assert judged(row, -0.25, level=start, R=small_R)["verdict"] == "violated"


def test_the_bootstrap_resamples_seed_indices_jointly():
    """Seed r carries the same factor at every point (shared streams): resampled jointly the
    slope never moves, resampled independently it seems uncertain."""
    grid = [256, 512, 1024, 2048]
    rng = np.random.default_rng(3)
    factor = np.exp(0.3 * rng.standard_normal(8))
    values = [x**-0.5 * factor for x in grid]
    paired = fit_slope(grid, values)
    independent = fit_slope(grid, values, paired=False)
    assert paired.paired and not independent.paired
    assert paired.ci_stat_high - paired.ci_stat_low < 1e-12
    assert independent.ci_stat_high - independent.ci_stat_low > 0.1


def test_every_registry_row_declares_a_control_and_no_step_constant():
    for row in registry.ROWS:
        assert row.controls, f"{row.id} has no control"
        assert all(c.expect in ("violated", "bound-holds") for c in row.controls), row.id
        # a falling gradient norm is set against the frozen method, except on the counterexample,
        # whose start is the minimizer (a frozen run measures exactly 0 there)
        if (row.theory_exponent < 0 and row.statistic.startswith("avg_grad")
                and row.problem != "mv-counterexample"):
            assert any(c.eta_scale <= 1e-6 for c in row.controls), row.id
        for key in STEP_CONSTANTS:
            assert key not in row.options, f"{row.id} sets its own {key}: the constant rule forbids it"


def test_the_theory_is_written_once():
    """Rows marked SPEC take their exponent from the method's spec; every row's text starts
    with the exponent it is judged against."""
    from signtheory.methods import get_method

    for row in registry.ROWS:
        text_exponent = registry.leading_fraction(row.exponent_text)
        assert text_exponent == pytest.approx(row.theory_exponent, abs=1e-12), row.id
    ssvr = registry.rows(["ssvr/T"])[0]
    assert ssvr.theory_exponent == get_method("ssvr").spec.rate.exponents["T"]
    ef = registry.rows(["ef-signsgd/T"])[0]  # the squared l2 norm: twice the spec's l2 exponent
    assert ef.theory_exponent == 2 * get_method("ef-signsgd").spec.rate.exponents["T"]
    with pytest.raises(ValueError, match="states no l1 exponent in n"):
        row_of(theory_exponent=registry.SPEC, variable="n")


def test_control_points_scale_the_step_swap_the_mechanism_and_use_fewer_seeds():
    row = registry.rows(["ssvr/d"])[0]
    main = row_points(row)
    frozen = row_points(row, variant=row.controls[0])
    no_d = row_points(row, variant=row.controls[1])
    assert [p["c_eta"] for p in frozen] == [1e-6] * len(main)
    assert [p["c_eta"] for p in no_d] == pytest.approx([math.sqrt(d) for d in row.grid])
    assert all(p["seeds"] == max(4, row.seeds // 2) for p in frozen)
    quarter = row_points(row, variant=SENSITIVITY[0])
    assert [p["c_eta"] for p in quarter] == [0.25] * len(main) and quarter[0]["seeds"] == row.seeds
    fs = registry.rows(["ssvr-fs/T"])[0]
    swapped = row_points(fs, variant=fs.controls[1])
    assert {p["method"] for p in swapped} == {"signsgd"} and all(p["B"] == 1 for p in swapped)
    assert swapped[0]["eta"] > 0 and "c_eta" not in swapped[0]
    assert FROZEN_SIZE.expect == "bound-holds"
