"""The ``signtheory`` command: methods, problems and run, as JSON and as text."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

import signtheory as st
from signtheory.cli import main

CORE_METHODS = {"sgd", "signsgd", "signum", "storm", "ssvr"}
ALL_PROBLEMS = {"nonconvex-lsq", "nonconvex-logistic", "stochastic-lsq", "smoothed-separable",
                "sparse-noise-quadratic", "tv1d-denoise", "tv2d-denoise", "l1-lsq",
                "mv-counterexample", "noisy-separable", "separable-sum"}
RUN = ["run", "ssvr", "--problem", "nonconvex-lsq", "--d", "20", "--T", "300", "--seeds", "2"]


def cli(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------------------------------------------
# methods
# ------------------------------------------------------------------------------------------------


def test_methods_json(capsys):
    code, out, _ = cli(capsys, ["methods", "--json"])
    assert code == 0
    entries = json.loads(out)
    by_name = {e["name"]: e for e in entries}
    assert len(by_name) == len(entries)
    assert CORE_METHODS <= set(by_name)
    assert set(by_name) == set(st.METHODS)
    for name, e in by_name.items():
        for key in ("citation", "rate", "provenance", "setting", "oracle_calls", "schedule"):
            assert isinstance(e[key], str) and e[key].strip(), (name, key)
        assert e["measure"] in ("l1", "l2")
        assert "arXiv" in e["citation"] or "SIAM" in e["citation"]
        assert "eta" in e["hyperparameters"]
        assert all(isinstance(v, (int, float)) for v in e["exponents"].values())
    # the sign methods are measured in l1 and the full-precision references in l2 (spec 2.1-2.13)
    assert {n: by_name[n]["measure"] for n in CORE_METHODS} == {
        "sgd": "l2", "signsgd": "l1", "signum": "l1", "storm": "l2", "ssvr": "l1"}
    assert by_name["ssvr"]["exponents"]["T"] == pytest.approx(-1 / 3)
    assert by_name["signsgd"]["exponents"]["N"] == pytest.approx(-1 / 4)


def test_methods_text(capsys):
    code, out, _ = cli(capsys, ["methods"])
    assert code == 0
    starts = {line.split()[0] for line in out.splitlines() if line and not line.startswith(" ")}
    assert CORE_METHODS <= starts
    assert out.count("provenance:") == len(st.METHODS)
    assert "arXiv 2406.00489" in out  # SSVR's citation


# ------------------------------------------------------------------------------------------------
# problems
# ------------------------------------------------------------------------------------------------


def test_problems_json(capsys):
    code, out, _ = cli(capsys, ["problems", "--json"])
    assert code == 0
    entries = json.loads(out)
    by_name = {e["name"]: e for e in entries}
    assert set(by_name) == ALL_PROBLEMS == set(st.PROBLEMS)
    for name, e in by_name.items():
        assert e["kind"] in ("finite-sum", "stochastic")
        assert e["kind"] == st.PROBLEMS[name].kind
        params = e["parameters"]
        assert "d" in params and all({"value", "doc"} <= set(v) for v in params.values())
        assert ("m" in params) == (e["kind"] == "finite-sum")
        c = e["constants"]
        assert math.isfinite(c["L"]) and c["L"] > 0
        assert math.isfinite(c["delta"]) and c["delta"] >= 0
        # the listed constants are those of the default instance
        assert c["L"] == pytest.approx(st.make_problem(name).constants()["L"], rel=1e-12)
        assert c["G_inf"] is None or c["G_inf"] > 0


def test_problems_text(capsys):
    code, out, _ = cli(capsys, ["problems"])
    assert code == 0
    for name in ALL_PROBLEMS:
        assert any(line.startswith(name) for line in out.splitlines()), name
    assert out.count("parameters:") == len(ALL_PROBLEMS)
    assert out.count(" L=") == len(ALL_PROBLEMS)


# ------------------------------------------------------------------------------------------------
# run
# ------------------------------------------------------------------------------------------------


def test_run_json(capsys):
    code, out, _ = cli(capsys, RUN + ["--json", "--no-progress"])
    assert code == 0
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1  # one JSON object on one line
    r = json.loads(lines[0])
    for key in ("method", "problem", "config", "T", "oracle_calls", "measures", "elapsed_s"):
        assert key in r, key
    assert r["method"] == "ssvr" and r["problem"] == "nonconvex-lsq" and r["T"] == 300
    hp = r["config"]["hyperparameters"]
    assert {"eta", "beta", "B0", "B1", "zero_rule"} <= set(hp)
    assert r["config"]["problem_params"]["d"] == 20
    assert r["oracle_calls"] == hp["B0"] + 2 * hp["B1"] * (300 - 1)
    m = r["measures"]
    for key in ("avg_grad_l1", "avg_grad_l2", "final_grad_l1", "final_value"):
        assert isinstance(m[key], float) and math.isfinite(m[key]), key
    assert len(m["avg_grad_l1_per_seed"]) == 2
    assert m["avg_grad_l1"] == pytest.approx(sum(m["avg_grad_l1_per_seed"]) / 2)
    assert m["avg_grad_l2"] <= m["avg_grad_l1"] <= math.sqrt(20) * m["avg_grad_l2"] + 1e-12
    assert r["elapsed_s"] >= 0
    # the same numbers as the Python API
    trace = st.run("ssvr", "nonconvex-lsq", 300, seeds=2, problem_params={"d": 20})
    assert m["avg_grad_l1_per_seed"] == trace.measures()["avg_grad_l1_per_seed"]
    assert hp == trace.config["hyperparameters"]


def test_run_json_with_overrides_and_workers(capsys):
    args = RUN + ["--json", "--no-progress", "--set", "B1=2", "--set", "zero_rule=plus",
                  "--set", "momentum=0.9", "--pset", "noise=0.5", "--seed", "7"]
    code1, out1, _ = cli(capsys, args + ["--workers", "1"])
    code2, out2, _ = cli(capsys, args + ["--workers", "2"])
    assert code1 == code2 == 0
    r1, r2 = json.loads(out1), json.loads(out2)
    hp = r1["config"]["hyperparameters"]
    assert hp["B1"] == 2 and hp["zero_rule"] == "plus" and hp["beta"] == pytest.approx(0.1)
    assert r1["config"]["problem_params"]["noise"] == 0.5 and r1["seed"] == 7
    assert r1["measures"] == r2["measures"]  # threads never change the numbers


def test_run_with_progress_bar_keeps_stdout_clean(capsys):
    code, out, _ = cli(capsys, RUN + ["--json"])
    assert code == 0
    json.loads(out)


def test_run_text(capsys):
    code, out, _ = cli(capsys, RUN + ["--no-progress"])
    assert code == 0
    assert out.startswith("ssvr on nonconvex-lsq  T=300  seeds=2  seed=0")
    for fragment in ("hyperparameters: eta=", "oracle calls:", "avg ||grad f||_1 over iterates:",
                     "avg ||grad f||_2 over iterates:", "final ||grad f||_1:", "final f:", "elapsed:"):
        assert fragment in out, fragment
    trace = st.run("ssvr", "nonconvex-lsq", 300, seeds=2, problem_params={"d": 20})
    assert f"oracle calls:    {int(trace.oracle_calls[0])}" in out
    assert f"{trace.measures()['avg_grad_l1']:.6g}" in out


def test_run_text_single_seed(capsys):
    """BUG (signtheory/cli.py, _print_summary): with one seed the across-seed standard
    error is NaN, _jsonable turns it into None, and ``f"{None:.2g}"`` raises TypeError,
    so the default ``signtheory run METHOD --problem P`` (seeds = 1) crashes."""
    code, out, _ = cli(capsys, ["run", "ssvr", "--problem", "nonconvex-lsq", "--d", "20", "--T", "100",
                                "--no-progress"])
    assert code == 0
    assert "avg ||grad f||_1 over iterates:" in out


DIVERGING = ["run", "sgd", "--problem", "nonconvex-lsq", "--d", "20", "--m", "200", "--T", "400",
             "--set", "eta=100", "--no-progress"]


def test_run_diverged_json_exits_3(capsys):
    code, out, err = cli(capsys, DIVERGING + ["--json"])
    assert code == 3
    r = json.loads(out)  # NaN never reaches the JSON: it becomes null
    assert r["measures"]["final_value"] is None
    [entry] = r["diverged"]
    assert entry["seed_index"] == 0 and entry["iteration"] > 1
    assert f"iteration {entry['iteration']}" in err and "warning" in err


def test_run_diverged_text_exits_3(capsys):
    """BUG (signtheory/cli.py, _print_summary): the final measures of a diverged run are
    NaN, _jsonable turns them into None, and formatting them with ``:.6g`` raises TypeError
    (line 138; with one seed the crash comes earlier, at line 135)."""
    code, out, err = cli(capsys, DIVERGING + ["--seeds", "2"])  # 2 seeds: a finite standard error
    assert code == 3
    assert "DIVERGED" in out
    assert "iteration" in err


# ------------------------------------------------------------------------------------------------
# The installed console script
# ------------------------------------------------------------------------------------------------


def test_console_script():
    script = Path(sys.executable).parent / "signtheory"
    assert script.exists(), f"console script not installed next to {sys.executable}"
    proc = subprocess.run([str(script), "methods"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for name in CORE_METHODS:
        assert any(line.startswith(name + " ") for line in proc.stdout.splitlines()), name
    proc = subprocess.run([str(script), "run", "nope", "--problem", "nonconvex-lsq"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2 and "invalid method='nope'" in proc.stderr
