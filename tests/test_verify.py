"""``signtheory verify``: the registry covers the rate tables, the report follows the
contract, reruns resume, a killed run loses only points in flight, Dask works."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import signtheory
from signtheory.cli import main
from signtheory.methods import get_method
from signtheory.rates import registry
from signtheory.rates import sweep as sweep_mod
from signtheory.rates.controls import FROZEN
from signtheory.rates.registry import Row
from signtheory.rates.verify import row_points, verify

CONTRACT = ("method", "setting", "variable", "measure", "theory_exponent", "measured_exponent", "ci_low",
            "ci_high", "verdict", "problem", "schedule")


def tiny_row(grid=(64, 128, 256, 512), seeds=3, **kw):
    base = dict(id="ssvr/T-tiny", method="ssvr", label="SSVR", table=registry.CENTRALIZED,
                setting="stochastic", variable="T", measure="l1", statistic="avg_grad_l1",
                theory_exponent=-1 / 3, exponent_text="-1/3", problem="smoothed-separable",
                problem_params={"d": 4}, grid=grid, seeds=seeds, controls=(FROZEN,))
    base.update(kw)
    return Row(**base)


def test_registry_covers_both_tables_and_the_required_sweeps():
    ids = {r.id for r in registry.ROWS}
    t_rows = {r.method + ("-" + str(r.options["option"]) if "option" in r.options else "")
              for r in registry.ROWS if r.variable == "T" and r.table != registry.MECHANISM}
    for method in ("signsgd", "ef-signsgd", "signsgd-sim", "signsvrg", "signrvr", "signrvm", "ssvr", "ssvr-fs",
                   "mv-signsgd", "ssdm", "sto-signsgd", "mv-signsgd-sim", "ssvr-mv-1", "ssvr-mv-2", "signprox"):
        assert method in t_rows, method
    for needed in ("ssvr/d", "ssvr-fs/d", "ssvr-fs/m", "ssvr/estimator-error"):
        assert needed in ids
    assert len(ids) == len(registry.ROWS)  # ids are unique
    for row in registry.ROWS:
        spec = get_method(row.method).spec  # every row names a real method with a schedule
        assert spec.schedule and row.measure in ("l1", "l2") and row.grid
        assert list(row.grid) == sorted(row.grid) and len(row.grid) >= 4
        if row.variable == "T":
            assert row.grid[-1] / row.grid[0] >= 8  # at least three doublings
        else:
            assert row.T is not None


def test_points_are_fresh_runs_at_their_own_horizon_or_size():
    row = registry.rows(["ssvr/T"])[0]
    pts = row_points(row)
    assert [p["T"] for p in pts] == list(row.grid)
    assert all(p["method"] == "ssvr" and p["seeds"] == row.seeds for p in pts)
    d_row = registry.rows(["ssvr/d"])[0]
    pts = row_points(d_row)
    assert [p["problem_params"]["d"] for p in pts] == list(d_row.grid)
    assert {p["T"] for p in pts} == {d_row.T}
    n_row = tiny_row(variable="n", grid=(3, 5, 9, 17), T=100, method="ssvr-mv", options={"option": 2})
    assert [p["n"] for p in row_points(n_row)] == [3, 5, 9, 17]
    z_row = tiny_row(variable="zeta", grid=(0.1, 0.2, 0.4, 0.8), T=100, method="ssvr-mv", options={"n": 3})
    assert [p["split"] for p in row_points(z_row)][1] == {"mode": "shift", "zeta": 0.2}


def test_only_names_methods_or_rows():
    assert {r.method for r in registry.rows(["ssvr-fs"])} == {"ssvr-fs"}
    assert [r.id for r in registry.rows(["ssvr/d"])] == ["ssvr/d"]
    with pytest.raises(signtheory.InvalidParameterError, match="only"):
        registry.rows(["no-such-method"])


def test_verify_writes_the_contract_and_a_rerun_computes_nothing(tmp_path, monkeypatch):
    row = tiny_row()
    report = verify(tmp_path, selected=[row], processes=1, progress=None)
    data = json.loads((tmp_path / "report.json").read_text())
    assert data == json.loads(json.dumps(report))
    (r,) = data["rows"]
    for key in CONTRACT:
        assert key in r, key
    assert r["verdict"] in ("tight", "bound-holds", "violated", "inconclusive")
    assert r["ci_low"] <= r["measured_exponent"] <= r["ci_high"]
    (frozen,) = r["controls"]  # the frozen control ran through the same sweep and was caught
    assert frozen["name"] == "frozen" and frozen["verdict"] == "violated" and frozen["caught"]
    assert frozen["seeds"] == 4 and abs(frozen["measured_exponent"]) < 0.05
    assert r["window"] == list(row.grid[1:])  # the smallest third of 4 points: 1 dropped
    assert "beta = min(1, c_beta T^-2/3)" in r["schedule"]
    md = (tmp_path / "report.md").read_text()
    assert "| ssvr/T-tiny | SSVR | T |" in md and r["verdict"] in md
    assert (tmp_path / r["figure"]).stat().st_size > 0 and (tmp_path / "figures" / "summary.png").exists()
    assert data["computed_points"] == 8  # the row's four points and its control's four

    def boom(config):
        raise AssertionError("a stored point was recomputed")

    monkeypatch.setattr(sweep_mod, "run_point", boom)
    again = verify(tmp_path, selected=[row], processes=1, progress=None, figures=False)
    assert again["computed_points"] == 0
    assert again["rows"][0]["measured_exponent"] == r["measured_exponent"]


def test_killed_verify_resumes_without_recomputing(tmp_path):
    """verify killed with SIGKILL mid-sweep leaves whole records only; the rerun computes
    exactly the missing points, leaves the earlier records untouched and writes the report."""
    grid = (2000, 4000, 8000, 16000, 32000, 64000)
    slow = dict(id="slow", method="signsgd", label="signSGD", problem_params={"d": 64}, options={"B": 64},
                theory_exponent=-0.5, exponent_text="-1/2", grid=grid, seeds=2)
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_verify import tiny_row
        from signtheory.rates.verify import verify
        verify({str(tmp_path)!r}, selected=[tiny_row(**{slow!r})], processes=1, progress=None, figures=False)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    store = tmp_path / "store"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(store.glob("[!.]*.json"))) < 2 and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = {p.name: p.stat().st_mtime_ns for p in store.glob("[!.]*.json")}
    total = 2 * len(grid)  # the row's points and its frozen control's
    assert 2 <= len(before) < total, before
    for p in store.glob("[!.]*.json"):
        json.loads(p.read_text())  # every record is whole
    assert not (tmp_path / "report.json").exists()
    report = verify(tmp_path, selected=[tiny_row(**slow)], processes=1, progress=None, figures=False)
    assert report["computed_points"] == total - len(before)
    for name, mtime in before.items():
        assert (store / name).stat().st_mtime_ns == mtime  # untouched
    assert json.loads((tmp_path / "report.json").read_text())["rows"][0]["id"] == "slow"


def test_verify_on_a_local_dask_cluster(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    row = tiny_row(grid=(64, 128, 256), seeds=2)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        remote = verify(tmp_path / "dask", selected=[row], scheduler=cluster.scheduler_address,
                        progress=None, figures=False)
    local = verify(tmp_path / "local", selected=[row], processes=1, progress=None, figures=False)
    assert remote["computed_points"] == 6  # the row's three points and its frozen control's three
    assert remote["rows"][0]["mean"] == local["rows"][0]["mean"]  # same numbers wherever they ran


def test_cli_verify_rejects_an_unknown_row(capsys):
    assert main(["verify", "--only", "nope", "--out", "unused"]) == 2
    err = capsys.readouterr().err
    assert "only" in err and "ssvr" in err


def test_log_factor_widens_the_theory_and_signed_statistics_are_absolute():
    """A rate T^p log T has local slope p + 1/log T: on a window around T = e^8 the
    verdict accepts any interval meeting [p, p + 1/8]; a signed limit is fitted in size."""
    from types import SimpleNamespace

    from signtheory.rates.verify import judge, statistic, theory_range

    window = [np.e**7, np.e**8, np.e**9]
    row = tiny_row(theory_exponent=-0.5, log_factor=True)
    assert theory_range(row, window) == pytest.approx((-0.5, -0.375))
    fit = SimpleNamespace(window=window, slope=-0.405, ci_low=-0.42, ci_high=-0.39)
    assert judge(row, fit) == "tight"
    assert judge(tiny_row(theory_exponent=-0.5), fit) == "violated"
    assert judge(row, SimpleNamespace(window=window, slope=-0.65, ci_low=-0.7, ci_high=-0.6)) == "bound-holds"
    row = tiny_row(statistic="late_signed_gradient")
    assert statistic(row, {"late_signed_gradient": [-0.5, 0.25]}).tolist() == [0.5, 0.25]
