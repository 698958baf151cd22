"""The error contract: every invalid input raises InvalidParameterError (a ValueError)
whose message names the parameter, from Python, and makes the command exit with
status 2 and a message naming the parameter on stderr.
"""

from __future__ import annotations

import pytest

import signtheory as st
from signtheory.cli import main
from signtheory.methods import METHODS
from signtheory.problems import PROBLEMS

SMALL = {"d": 5, "m": 20}
BETA_METHODS = sorted(n for n, m in METHODS.items() if "beta" in {h.name for h in m.spec.hyper})
FINITE_SUM_ONLY = sorted(n for n, m in METHODS.items() if "stochastic" not in m.spec.accepts)


def expect_invalid(parameter, fn, *args, **kwargs):
    with pytest.raises(st.InvalidParameterError) as info:
        fn(*args, **kwargs)
    exc = info.value
    assert isinstance(exc, ValueError) and isinstance(exc, st.SignTheoryError)
    assert exc.parameter == parameter
    assert f"invalid {parameter}=" in str(exc)
    assert exc.allowed and exc.allowed in str(exc)  # says what is allowed
    return exc


def problem_for(name):
    """A small problem the method accepts (composite methods need a composite problem)."""
    if METHODS[name].spec.composite:
        return "l1-lsq"
    return "nonconvex-lsq" if "finite-sum" in METHODS[name].spec.accepts else "stochastic-lsq"


def run_small(method="ssvr", problem="nonconvex-lsq", T=20, **kw):
    params = dict(SMALL) if problem in PROBLEMS and PROBLEMS[problem].kind == "finite-sum" else {"d": 5}
    params.update(kw.pop("problem_params", {}))
    return st.run(method, problem, T, problem_params=params, **kw)


# ------------------------------------------------------------------------------------------------
# Python API
# ------------------------------------------------------------------------------------------------


def test_unknown_method():
    exc = expect_invalid("method", run_small, method="adamw")
    assert isinstance(exc, st.UnknownNameError)
    assert "'adamw'" in str(exc) and all(name in str(exc) for name in METHODS)
    expect_invalid("method", st.get_method, "nope")


def test_unknown_problem():
    exc = expect_invalid("problem", st.run, "ssvr", "rosenbrock", 10)
    assert isinstance(exc, st.UnknownNameError)
    assert all(name in str(exc) for name in PROBLEMS)
    expect_invalid("problem", st.make_problem, "rosenbrock")


@pytest.mark.parametrize("name", sorted(METHODS))
def test_unknown_hyperparameter(name):
    problem = problem_for(name)
    exc = expect_invalid("learning_rate", run_small, method=name, problem=problem, learning_rate=0.1)
    assert "eta" in str(exc)  # lists the method's hyperparameters


def test_unknown_problem_parameter():
    exc = expect_invalid("sigma", st.make_problem, "nonconvex-lsq", sigma=1.0)
    assert "noise" in str(exc)  # lists the problem's parameters
    expect_invalid("sigma", run_small, problem_params={"sigma": 1.0})


@pytest.mark.parametrize("eta", [0, 0.0, -1e-3, float("inf"), float("nan"), "fast"])
@pytest.mark.parametrize("name", sorted(METHODS))
def test_eta_must_be_positive(name, eta):
    problem = problem_for(name)
    expect_invalid("eta", run_small, method=name, problem=problem, eta=eta)


@pytest.mark.parametrize("beta", [0, 0.0, 1.5, -1, 1.0000001, float("nan"), True])
@pytest.mark.parametrize("name", BETA_METHODS)
def test_beta_outside_zero_one(name, beta):
    exc = expect_invalid("beta", run_small, method=name, beta=beta)
    assert "(0, 1]" in str(exc)


@pytest.mark.parametrize("name", BETA_METHODS)
def test_beta_one_is_allowed(name):
    assert run_small(method=name, beta=1).config["hyperparameters"]["beta"] == 1.0


@pytest.mark.parametrize("name", BETA_METHODS)
def test_beta_and_momentum_together(name):
    exc = expect_invalid("momentum", run_small, method=name, beta=0.5, momentum=0.5)
    assert "beta" in str(exc)


@pytest.mark.parametrize("momentum", [1.0, 1.2, -0.1])
def test_momentum_in_zero_one(momentum):
    expect_invalid("momentum", run_small, method="signum", momentum=momentum)


@pytest.mark.parametrize("T", [0, -5, 2.5, "100", None])
def test_T_must_be_a_positive_integer(T):
    expect_invalid("T", run_small, T=T)


@pytest.mark.parametrize("seeds", [0, -1, 1.5])
def test_seeds_must_be_a_positive_integer(seeds):
    expect_invalid("seeds", run_small, seeds=seeds)


def test_seed_must_be_nonnegative():
    expect_invalid("seed", run_small, seed=-1)


@pytest.mark.parametrize("d", [0, -3, 2.5])
@pytest.mark.parametrize("problem", sorted(PROBLEMS))
def test_d_must_be_a_positive_integer(problem, d):
    expect_invalid("d", st.make_problem, problem, d=d)
    expect_invalid("d", st.run, "ssvr", problem, 10, problem_params={"d": d})


@pytest.mark.parametrize("m", [0, -1, True])
@pytest.mark.parametrize("problem", sorted(n for n in PROBLEMS if PROBLEMS[n].kind == "finite-sum"))
def test_m_must_be_a_positive_integer(problem, m):
    expect_invalid("m", st.make_problem, problem, d=5, m=m)


@pytest.mark.parametrize("problem", sorted(n for n in PROBLEMS if PROBLEMS[n].kind == "stochastic"))
def test_m_is_not_a_parameter_of_stochastic_problems(problem):
    exc = expect_invalid("m", st.make_problem, problem, d=5, m=10)
    assert problem in str(exc)


@pytest.mark.parametrize(("parameter", "value"), [("B", 0), ("B0", -1), ("B1", 0.5), ("zero_rule", "half")])
def test_batch_sizes_and_zero_rule(parameter, value):
    expect_invalid(parameter, run_small, **{parameter: value})


@pytest.mark.parametrize("measure", ["approximate", 0, -4, 2.5, True])
def test_measure(measure):
    expect_invalid("measure", run_small, measure=measure)


def test_checkpoints():
    expect_invalid("checkpoints", run_small, checkpoints=0)


@pytest.mark.parametrize("threads", [0, -2])
def test_threads_must_be_positive(threads):
    # BUG (signtheory/engine/runner.py, run): ``workers or os.cpu_count()`` turned
    # workers=0 into "all cores" before the check, so 0 was silently accepted.
    expect_invalid("threads", run_small, seeds=2, threads=threads)


def test_workers_is_the_deprecated_name_of_threads():
    with pytest.warns(DeprecationWarning, match="threads"):
        old = run_small(seeds=2, workers=1)
    assert list(old.avg_grad_l1) == list(run_small(seeds=2, threads=1).avg_grad_l1)
    expect_invalid("workers", run_small, seeds=2, workers=1, threads=1)


@pytest.mark.parametrize("name", FINITE_SUM_ONLY)
def test_finite_sum_method_on_stochastic_problem(name):
    exc = expect_invalid("problem", run_small, method=name, problem="stochastic-lsq")
    assert isinstance(exc, st.IncompatibleProblemError)
    assert name in str(exc) and "finite-sum" in str(exc)


@pytest.mark.parametrize("name", ["sgd", "signsgd", "storm", "signum", "ssvr"])
def test_degenerate_problem_with_explicit_step(name):
    """smoothed-separable accepts p = q = 0 (a constant function, L = 0). With the step
    given explicitly the run must either work or refuse with InvalidParameterError.

    BUG: the SGD, signSGD and STORM schedules divide by L (signtheory/methods/sgd.py
    ``1.0 / L``, signsgd.py ``/ math.sqrt(problem.d * L * T)``, storm.py ``/ L``) and
    Method.resolve (methods/base.py) evaluates the schedule even when every scheduled
    hyperparameter is overridden, so these raise ZeroDivisionError.
    """
    try:
        trace = st.run(name, "smoothed-separable", 10, problem_params={"d": 3, "p": 0.0, "q": 0.0}, eta=0.1)
    except st.InvalidParameterError:
        return
    assert trace.final_value[0] == pytest.approx(0.0)  # f = 0 identically


# ------------------------------------------------------------------------------------------------
# Command line: exit status 2, message naming the parameter on stderr, nothing on stdout
# ------------------------------------------------------------------------------------------------

BASE = ["run", "ssvr", "--problem", "nonconvex-lsq", "--d", "5", "--m", "20", "--T", "20", "--no-progress"]


def replace(args, option, value):
    args = list(args)
    args[args.index(option) + 1] = value
    return args


CLI_CASES = [
    ("method", ["run", "adamw"] + BASE[2:]),
    ("problem", replace(BASE, "--problem", "rosenbrock")),
    ("learning_rate", BASE + ["--set", "learning_rate=0.1"]),
    ("eta", BASE + ["--set", "eta=0"]),
    ("eta", BASE + ["--set", "eta=-0.5"]),
    ("eta", BASE + ["--set", "eta=nan"]),
    ("beta", BASE + ["--set", "beta=0"]),
    ("beta", BASE + ["--set", "beta=1.5"]),
    ("beta", BASE + ["--set", "beta=-1"]),
    ("momentum", BASE + ["--set", "beta=0.5", "--set", "momentum=0.5"]),
    ("T", replace(BASE, "--T", "0")),
    ("T", replace(BASE, "--T", "-3")),
    ("d", replace(BASE, "--d", "0")),
    ("m", replace(BASE, "--m", "0")),
    ("seeds", BASE + ["--seeds", "0"]),
    ("--set", BASE + ["--set", "beta"]),
    ("--set", BASE + ["--set", "=0.5"]),
    ("--set", BASE + ["--set", "beta="]),
    ("--set", BASE + ["--set", " = "]),
    ("--pset", BASE + ["--pset", "noise"]),
    ("m", ["run", "ssvr", "--problem", "stochastic-lsq", "--d", "5", "--m", "10", "--T", "20",
             "--no-progress"]),
    ("measure", BASE + ["--measure", "sometimes"]),
    ("zero_rule", BASE + ["--set", "zero_rule=half"]),
    ("noise", BASE + ["--pset", "noise=-1"]),
]
if FINITE_SUM_ONLY:
    CLI_CASES.append(("problem", ["run", FINITE_SUM_ONLY[0], "--problem", "stochastic-lsq", "--d", "5",
                                  "--T", "20", "--no-progress"]))


CLI_IDS = [f"{p}-{i}" for i, (p, _) in enumerate(CLI_CASES)]


@pytest.mark.parametrize(("parameter", "argv"), CLI_CASES, ids=CLI_IDS)
def test_cli_invalid_input_exits_2(parameter, argv, capsys):
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("signtheory: error: ")
    assert f"invalid {parameter}=" in err


def test_cli_argparse_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(replace(BASE, "--T", "many"))
    assert info.value.code == 2
    assert "--T" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["run", "ssvr"])  # --problem is required
    assert info.value.code == 2
    assert "--problem" in capsys.readouterr().err
