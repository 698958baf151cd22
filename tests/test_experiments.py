"""The comparison scripts of experiments/ on tiny settings, their shared budget helpers,
and the curve helpers of :mod:`signtheory.plot.curves`."""

from __future__ import annotations

import importlib
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import signtheory as st
from signtheory.plot import curves

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"


@pytest.fixture(scope="module")
def scripts():
    sys.path.insert(0, str(EXPERIMENTS))
    try:
        yield {name: importlib.import_module(name) for name in
               ("_common", "compare_centralized", "compare_majority_vote", "ssvr_sensitivity")}
    finally:
        sys.path.remove(str(EXPERIMENTS))


def all_finite(rows, keys):
    return all(r[k] is not None and math.isfinite(r[k]) for r in rows for k in keys)


# ---------------------------------------------------------------------------------------------
# The scripts, end to end on tiny settings
# ---------------------------------------------------------------------------------------------


def test_compare_centralized_smoke(scripts, tmp_path, capsys):
    mod = scripts["compare_centralized"]
    out = tmp_path / "c.json"
    assert mod.main(["--budget", "3000", "--seeds", "2", "--d", "11", "--m", "40", "--out", str(tmp_path),
                     "--json", str(out)]) == 0
    assert (tmp_path / "compare_centralized.png").stat().st_size > 0
    data = json.loads(out.read_text())
    assert [r["method"] for r in data["rows"]] == list(mod.METHODS)
    assert all_finite(data["rows"], ("m1", "m2", "final_l1", "final_value", "oracle_calls"))
    # every method spends the budget, up to less than its last step
    assert all(0.9 * 3000 < r["oracle_calls"] <= 3000 for r in data["rows"])
    assert "| ssvr-fs |" in capsys.readouterr().out


def test_compare_majority_vote_smoke(scripts, tmp_path, capsys):
    mod = scripts["compare_majority_vote"]
    out = tmp_path / "mv.json"
    assert mod.main(["--T", "30", "--seeds", "2", "--d", "11", "--m", "40", "--n", "4", "--out", str(tmp_path),
                     "--json", str(out)]) == 0
    for name in ("compare_majority_vote.png", "compare_majority_vote_bits.png"):
        assert (tmp_path / name).stat().st_size > 0
    rows = json.loads(out.read_text())["rows"]
    assert len(rows) == 2 * len(mod.VARIANTS)
    assert all_finite(rows, ("m1", "final_l1", "final_value", "tied_fraction"))
    # the methods without a vote never tie; even n makes the vote of signs tie sometimes
    assert all(r["tied_fraction"] == 0 for r in rows
               if r["method"] in ("ssdm", "ssvr-mv option 2", "dist-sgd"))
    assert all(0 <= r["tied_fraction"] <= 1 for r in rows)
    assert "dist-sgd" in capsys.readouterr().out


def test_ssvr_sensitivity_smoke(scripts, tmp_path, capsys):
    mod = scripts["ssvr_sensitivity"]
    out = tmp_path / "s.json"
    assert mod.main(["--T", "300", "--seeds", "2", "--d", "11", "--momenta", "0.5", "0.9",
                     "--batches", "1", "4", "--out", str(tmp_path), "--json", str(out)]) == 0
    assert (tmp_path / "ssvr_sensitivity.png").stat().st_size > 0
    data = json.loads(out.read_text())
    rows = data["rows"]
    assert all_finite(rows, ("m1", "estimator_error", "final_l1", "final_value"))
    momentum = [r for r in rows if r["study"] == "momentum"]
    assert [r["beta"] for r in momentum[:2]] == pytest.approx([0.5, 0.1])
    assert len({r["eta"] for r in momentum}) == 1  # the step is fixed across the momentum study
    batch = [r for r in rows if r["study"] == "batch"]
    assert [r["B1"] for r in batch] == [1, 4]
    assert all(r["oracle_calls"] <= data["budget"] for r in batch)
    assert "momentum 0.9" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------
# Oracle-call budgets
# ---------------------------------------------------------------------------------------------


def test_oracle_call_formula_matches_the_runs(scripts):
    com = scripts["_common"]
    problem = st.make_problem("nonconvex-logistic", d=11, m=40)
    for name in scripts["compare_centralized"].METHODS:
        for T in (1, 39, 41, 97):
            hp = st.get_method(name).resolve(problem, T)
            trace = st.run(name, problem, T, checkpoints=2, measure=1, threads=1)
            assert com.oracle_calls(name, hp, problem, T) == int(trace.oracle_calls[0]), (name, T)


@pytest.mark.parametrize("name", ["signsgd", "ssvr", "ssvr-fs", "signrvr"])
def test_horizon_is_the_largest_within_budget(scripts, name):
    com = scripts["_common"]
    problem = st.make_problem("nonconvex-logistic", d=11, m=40)
    for budget in (500, 1234, 5000):
        T, hp, N = com.horizon_for(name, problem, budget)
        assert N == com.oracle_calls(name, hp, problem, T) <= budget
        hp_next = st.get_method(name).resolve(problem, T + 1)
        assert com.oracle_calls(name, hp_next, problem, T + 1) > budget


def test_plain_json_has_no_nan(scripts, tmp_path):
    com = scripts["_common"]
    com.write_json(tmp_path / "x.json", {"a": np.float64("nan"), "b": np.arange(2), "c": (np.int64(3), 1.5)})
    assert json.loads((tmp_path / "x.json").read_text()) == {"a": None, "b": [0, 1], "c": [3, 1.5]}


# ---------------------------------------------------------------------------------------------
# Curve helpers
# ---------------------------------------------------------------------------------------------


def test_import_does_not_load_matplotlib():
    code = ("import sys, signtheory, signtheory.plot.curves; "
            "sys.exit(1 if 'matplotlib' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0


def test_interpolation_is_exact_on_curves_linear_in_log_x():
    rng = np.random.default_rng(0)
    X = np.sort(rng.uniform(1, 1e4, (3, 20)), axis=1)
    X[:, 0], X[:, -1] = 1.0, 1e4
    Y = 2.0 + 0.5 * np.log(X)
    grid = curves.common_grid(X, points=30)
    assert grid[0] == 1.0 and grid[-1] == pytest.approx(1e4)
    Yg = curves.interpolate(X, Y, grid)
    np.testing.assert_allclose(Yg, np.broadcast_to(2.0 + 0.5 * np.log(grid), Yg.shape), rtol=1e-12)
    # power laws are straight in log-log: exact with log_y as well
    Yg = curves.interpolate(X, 3.0 * X**-0.5, grid, log_y=True)
    np.testing.assert_allclose(Yg, np.broadcast_to(3.0 * grid**-0.5, Yg.shape), rtol=1e-12)


def test_interpolation_leaves_uncovered_points_missing():
    X = np.array([[1.0, 10.0, 100.0], [1.0, 10.0, np.nan]])
    Y = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, np.nan]])
    grid = np.array([1.0, 10.0, 100.0])
    x, Yc = curves.on_common_grid(X, Y)  # same checkpoints: kept as they are
    np.testing.assert_array_equal(x, grid)
    assert np.isnan(Yc[1, 2]) and Yc[0, 2] == 3.0
    X2 = np.array([[1.0, 10.0, 100.0], [2.0, 20.0, 50.0]])
    Yg = curves.interpolate(X2, Y, grid)
    assert np.isnan(Yg[1, 0]) and np.isnan(Yg[1, 2]) and Yg[1, 1] == pytest.approx(1 + np.log10(5))  # log x


def test_summarize_matches_numpy():
    rng = np.random.default_rng(1)
    Y = rng.normal(size=(5, 7))
    mean, lo, hi = curves.summarize(Y, "se")
    se = Y.std(axis=0, ddof=1) / np.sqrt(5)
    np.testing.assert_allclose(mean, Y.mean(axis=0))
    np.testing.assert_allclose(hi - mean, se)
    np.testing.assert_allclose(mean - lo, se)
    mean, lo, hi = curves.summarize(Y, "minmax")
    np.testing.assert_array_equal(lo, Y.min(axis=0))
    np.testing.assert_array_equal(hi, Y.max(axis=0))
    Y[0, 0], Y[1:, 1] = np.nan, np.nan  # missing replicates are left out; one replicate: no band
    mean, lo, hi = curves.summarize(Y, "se")
    assert mean[0] == pytest.approx(Y[1:, 0].mean()) and lo[1] == hi[1] == mean[1] == Y[0, 1]
    with pytest.raises(ValueError, match="band"):
        curves.summarize(Y, "iqr")


def test_trace_axes_and_plot(tmp_path):
    trace = st.run("ssvr-mv", "nonconvex-logistic", 40, n=3, seeds=2, threads=1,
                   problem_params={"d": 11, "m": 40}, checkpoints=8)
    X, Y = curves.trace_xy(trace, "rounds", "grad_l1")
    assert X.shape == Y.shape == (2, trace.checkpoints.size) and X[0, 0] == 0.0
    Xb, _ = curves.trace_xy(trace, "uplink_bits")
    np.testing.assert_array_equal(Xb, X * trace.counters["uplink_bits_per_round"])
    Xc, _ = curves.trace_xy(trace, "calls")
    assert np.all(np.diff(Xc, axis=1) >= 0)
    with pytest.raises(ValueError):
        curves.trace_xy(st.run("sgd", "nonconvex-lsq", 5, problem_params={"d": 11, "m": 40}), "uplink_bits")
    fig, axes = curves.subplots(1, 1)
    line = curves.plot_trace(axes[0, 0], trace, "rounds", label="x")
    assert line.get_label() == "x" and axes[0, 0].get_xscale() == "log"
    path = curves.save(fig, tmp_path / "sub" / "f.png")
    assert path.stat().st_size > 0
    assert "5 seeds" in curves.band_label("se", 5) and "min..max" in curves.band_label("minmax")
