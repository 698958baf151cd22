"""Sweeps, the result store and the log-log fits of signtheory.rates."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from signtheory.rates import ResultStore, fit_floor, fit_slope, point, run_sweep, verdict
from signtheory.rates import sweep as sweep_mod


def synthetic(exponent, sizes, seeds, noise, rng):
    return [3.0 * x**exponent * np.exp(noise * rng.standard_normal(seeds)) for x in sizes]


def test_fit_recovers_a_planted_exponent_and_the_verdicts_follow():
    """On 200 synthetic sweeps with exponent -1/2 and log-normal seed noise, the 95%
    bootstrap interval over seeds covers -1/2 in 90-99% of them (a binomial band around
    0.95 at a false-alarm rate below 1e-4), and the reported interval (widened by the
    finite-grid term) contains it; the verdicts of a wrong theory follow the sign."""
    rng = np.random.default_rng(1)
    sizes = 2.0 ** np.arange(8, 15)
    covered = 0
    for _ in range(200):
        values = synthetic(-0.5, sizes, 10, 0.2, rng)
        fit = fit_slope(sizes, values, n_boot=300, seed=int(rng.integers(1 << 30)))
        covered += fit.ci_stat_low <= -0.5 <= fit.ci_stat_high
        assert fit.ci_low <= fit.ci_stat_low and fit.ci_stat_high <= fit.ci_high
    assert 180 <= covered <= 199, covered
    fit = fit_slope(sizes, synthetic(-0.5, sizes, 10, 0.05, rng))
    assert fit.window == sizes[2:].tolist()  # the smallest third is dropped
    assert verdict(-0.5, fit) == "tight"
    assert verdict(-0.3, fit) == "bound-holds"  # decays faster than a -0.3 bound
    assert verdict(-0.7, fit) == "violated"


def test_finite_grid_term_is_zero_on_a_power_law_and_widens_a_bent_curve():
    """Without seed noise a pure power law has equal local slopes (systematic = 0, the
    interval collapses on the exponent); a power law plus a constant bends, and the
    interval widens by half the range of its local slopes inside the window."""
    sizes = 2.0 ** np.arange(8, 15)
    straight = fit_slope(sizes, [np.full(4, x**-0.5) for x in sizes])
    assert straight.systematic == pytest.approx(0.0, abs=1e-12)
    assert straight.ci_low == pytest.approx(-0.5) and straight.ci_high == pytest.approx(-0.5)
    bent = fit_slope(sizes, [np.full(4, x**-0.5 + 0.01) for x in sizes])
    local = np.asarray(bent.local_slopes)[2:]
    assert bent.systematic == pytest.approx(0.5 * (local.max() - local.min()))
    assert bent.ci_high - bent.ci_low == pytest.approx(2 * bent.systematic)


def test_fit_rejects_bad_measurements():
    with pytest.raises(ValueError, match="positive"):
        fit_slope([1, 2, 4], [[1.0], [0.0], [0.5]])
    with pytest.raises(ValueError, match="two positive"):
        fit_slope([1], [[1.0]])


def test_floor_fit_finds_the_floor():
    rng = np.random.default_rng(2)
    sizes = 2.0 ** np.arange(6, 16)
    vals = [(2.0 * x**-0.5 + 0.01) * np.exp(0.02 * rng.standard_normal(8)) for x in sizes]
    fl = fit_floor(sizes, vals, n_boot=100)
    assert fl.C_low <= 0.01 <= fl.C_high and fl.C_low > 0
    assert abs(fl.p - 0.5) < 0.1


def test_store_round_trip_version_and_foreign_files(tmp_path):
    store = ResultStore(tmp_path)
    cfg = point("signsgd", "smoothed-separable", 50, seeds=2, problem_params={"d": 4})
    assert store.get(cfg) is None
    store.put(cfg, {"avg_grad_l1": [1.0, 2.0]})
    assert store.get(cfg) == {"avg_grad_l1": [1.0, 2.0]}
    assert ResultStore(tmp_path, version="0.0.0").get(cfg) is None  # keyed by the package version
    assert store.get({**cfg, "T": 51}) is None
    store.path(cfg).write_text('{"truncated')  # a corrupt file reads as missing, never raises
    assert store.get(cfg) is None
    assert not list(tmp_path.glob(".tmp-*"))


def small_points(n=4):
    return [point("signsgd", "smoothed-separable", T, seeds=2, problem_params={"d": 4}, B=2)
            for T in (20, 40, 80, 160)[:n]]


def test_rerun_recomputes_nothing(tmp_path, monkeypatch):
    store = ResultStore(tmp_path)
    first = run_sweep(small_points(), store, processes=1)
    assert len(list(tmp_path.glob("[!.]*.json"))) == 4

    def boom(config):
        raise AssertionError("a stored point was recomputed")

    monkeypatch.setattr(sweep_mod, "run_point", boom)
    again = run_sweep(small_points(), store, processes=1)
    assert again == first


def test_killed_sweep_keeps_whole_records_and_resumes(tmp_path):
    """A sweep killed with SIGKILL while points are running leaves only complete
    records; the rerun computes just the missing points."""
    script = textwrap.dedent(f"""
        from signtheory.rates import ResultStore, point, run_sweep
        pts = [point("signsgd", "smoothed-separable", T, seeds=2, problem_params={{"d": 64}}, B=64)
               for T in (200, 400, 800, 1600, 3200, 6400, 12800, 25600)]
        run_sweep(pts, ResultStore({str(tmp_path)!r}), processes=1)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.time() + 120
    while time.time() < deadline and len(list(tmp_path.glob("[!.]*.json"))) < 2 and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("[!.]*.json")}
    assert 2 <= len(before) < 8, before
    for p in tmp_path.glob("[!.]*.json"):
        json.loads(p.read_text())  # every record is whole
    pts = [point("signsgd", "smoothed-separable", T, seeds=2, problem_params={"d": 64}, B=64)
           for T in (200, 400, 800, 1600, 3200, 6400, 12800, 25600)]
    store = ResultStore(tmp_path)
    calls = []
    original = sweep_mod.run_point

    def counting(config):
        calls.append(config["T"])
        return original(config)

    sweep_mod.run_point, saved = counting, sweep_mod.run_point
    try:
        results = run_sweep(pts, store, processes=1)
    finally:
        sweep_mod.run_point = saved
    assert len(calls) == 8 - len(before)
    assert all(r is not None for r in results)
    for name, mtime in before.items():
        assert (tmp_path / name).stat().st_mtime_ns == mtime  # untouched


def test_sweep_on_a_local_dask_cluster(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        results = run_sweep(small_points(2), ResultStore(tmp_path), scheduler=cluster.scheduler_address)
    local = run_sweep(small_points(2), ResultStore(tmp_path / "local"), processes=1)
    assert results == [{**r, "elapsed_s": results[i]["elapsed_s"]} for i, r in enumerate(local)]
