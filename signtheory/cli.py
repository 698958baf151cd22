"""signtheory: sign-based stochastic optimization methods and checks of their theory.

Exit codes: 0 success, 1 ``verify`` found a row whose verdict is ``violated`` (and
whose theorem is not documented as loose) or ``not falsifiable``, 2 invalid input (the
message names the parameter and what is allowed), 3 a run that diverged (its JSON is
still printed), 4 a worker of a multi-process run failed, 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from .errors import Interrupted, InvalidParameterError, WorkerFailure
from .methods import METHODS, get_method
from .problems import PROBLEMS, make_problem

EXIT_INVALID = 2
EXIT_DIVERGED = 3
EXIT_WORKER_FAILED = 4
EXIT_VIOLATED = 1
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports Ctrl-C


def parse_assignment(text: str, option: str) -> tuple[str, object]:
    """``KEY=VALUE`` with VALUE read as int, float, bool or string."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key or not raw.strip():
        raise InvalidParameterError(option, text, "must have the form KEY=VALUE, e.g. beta=0.5")
    return key, parse_value(raw.strip())


def parse_value(raw: str):
    low = raw.lower()
    if low in ("true", "false"):
        return low == "true"
    for cast in (int, float):
        try:
            return cast(raw)
        except ValueError:
            pass
    return raw


def _jsonable(obj):
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj


def cmd_methods(args) -> int:
    entries = [m.spec.describe() for m in METHODS.values()]
    if args.json:
        print(json.dumps(entries, indent=2))
        return 0
    for e in entries:
        print(f"{e['name']:<10} {e['setting']}")
        print(f"{'':<10} measure {e['measure']}, rate {e['rate']}")
        print(f"{'':<10} {e['citation']}")
        print(f"{'':<10} provenance: {e['provenance']}\n")
    return 0


def cmd_problems(args) -> int:
    entries = [_jsonable(cls().describe()) for cls in PROBLEMS.values()]
    if args.json:
        print(json.dumps(entries, indent=2))
        return 0
    for e in entries:
        params = ", ".join(f"{k}={v['value']}" for k, v in e["parameters"].items())
        c = e["constants"]
        print(f"{e['name']:<24} {e['kind']}: {e['summary']}")
        print(f"{'':<24} parameters: {params}")
        print(f"{'':<24} L={c['L']:.4g} L_ms={c['L_ms']:.4g} sigma={c['sigma']} "
              f"G_inf={c['G_inf']} Delta={c['delta']:.4g} ({c['region']})\n")
    return 0


def parse_heterogeneity(text: str) -> dict:
    """'homogeneous', 'shift:ZETA' or 'dirichlet:ALPHA' -> keyword arguments of split()."""
    mode, _, value = text.partition(":")
    allowed = "'homogeneous', 'shift:ZETA' (ZETA >= 0) or 'dirichlet:ALPHA' (ALPHA > 0)"
    if mode == "homogeneous" and not value:
        return {"mode": "homogeneous"}
    if mode in ("shift", "dirichlet") and value:
        try:
            number = float(value)
        except ValueError:
            raise InvalidParameterError("--heterogeneity", text, allowed) from None
        return {"mode": mode, ("zeta" if mode == "shift" else "alpha"): number}
    raise InvalidParameterError("--heterogeneity", text, allowed)


def distributed_options(args) -> dict:
    """The run() keywords of --n, --heterogeneity, --backend and --timeout (voting methods only)."""
    method = get_method(args.method)
    given = {k: getattr(args, k) for k in ("n", "heterogeneity", "backend", "timeout")
             if getattr(args, k) is not None}
    if not method.distributed:
        if given:
            flag = next(iter(given))
            raise InvalidParameterError(f"--{flag}", given[flag], f"only for majority-vote methods; "
                                        f"'{method.name}' runs on one node")
        return {}
    out = {"n": given.get("n", 1)}
    if "heterogeneity" in given:
        out["split"] = parse_heterogeneity(given["heterogeneity"])
    if "backend" in given:
        out["backend"] = given["backend"]
    if "timeout" in given:
        out["timeout"] = given["timeout"]
    return out


def cmd_run(args) -> int:
    from .api import run

    hyper = dict(parse_assignment(s, "--set") for s in args.set)
    pparams = dict(parse_assignment(s, "--pset") for s in args.pset)
    for key in ("d", "m"):
        if getattr(args, key) is not None:
            pparams[key] = getattr(args, key)
    get_method(args.method)  # unknown names fail here, method first
    if args.problem not in PROBLEMS:
        make_problem(args.problem)
    known = {p.name for p in PROBLEMS[args.problem].params}
    if "m" in pparams and "m" not in known:
        raise InvalidParameterError(
            "m", pparams["m"], f"problem '{args.problem}' is stochastic and has no components")
    measure = args.measure if args.measure in ("auto", "exact") else parse_value(args.measure)
    distributed = distributed_options(args)

    bar = None
    progress = None
    if not args.no_progress:
        from tqdm import tqdm

        bar = tqdm(total=args.T * args.seeds, desc=args.method, unit="it", delay=1.0,
                   disable=None, file=sys.stderr, leave=False)
        progress = bar.update
    import warnings

    from .errors import DivergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DivergenceWarning)
        try:
            trace = run(args.method, args.problem, args.T, seeds=args.seeds, seed=args.seed,
                        problem_params=pparams, measure=measure, threads=args.threads,
                        progress=progress, **distributed, **hyper)
        finally:
            if bar is not None:
                bar.close()
    for w in caught:
        if issubclass(w.category, DivergenceWarning):
            print(f"signtheory: warning: {w.message}", file=sys.stderr)
    result = _jsonable(trace.to_dict())
    if args.json:
        print(json.dumps(result))
    else:
        _print_summary(result)
    return EXIT_DIVERGED if trace.diverged else 0


def _fmt(value, spec=".6g") -> str:
    return "n/a" if value is None else format(value, spec)


def _print_summary(r: dict) -> None:
    m = r["measures"]
    hp = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                   for k, v in r["config"]["hyperparameters"].items())
    print(f"{r['method']} on {r['problem']}  T={r['T']}  seeds={r['seeds']}  seed={r['seed']}")
    print(f"  hyperparameters: {hp}")
    print(f"  oracle calls:    {r['oracle_calls']}")
    se = "" if m["avg_grad_l1_se"] is None else f" +- {_fmt(m['avg_grad_l1_se'], '.2g')}"
    print(f"  avg ||grad f||_1 over iterates: {_fmt(m['avg_grad_l1'])}{se} "
          f"({m['measure']}, {m['measure_points']} points)")
    print(f"  avg ||grad f||_2 over iterates: {_fmt(m['avg_grad_l2'])}")
    print(f"  final ||grad f||_1: {_fmt(m['final_grad_l1'])}   final f: {_fmt(m['final_value'])}")
    print(f"  elapsed: {r['elapsed_s']:.2f} s")
    if "diverged" in r:
        print(f"  DIVERGED: {r['diverged']}")


def cmd_verify(args) -> int:
    from .rates.verify import verify
    from .report.markdown import markdown_table, verdict_summary

    report = verify(args.out, quick=not args.full, only=args.only or None, scheduler=args.scheduler,
                    processes=args.processes, figures=not args.no_figures,
                    progress=None if args.no_progress else sys.stderr, sensitivity=args.sensitivity)
    print(markdown_table(report))
    print(f"\n{len(report['rows'])} rows: {verdict_summary(report)}; {report['computed_points']} of "
          f"{report['points']} points computed in {report['elapsed_s']:.0f} s")
    print(f"report: {args.out}/report.md, {args.out}/report.json"
          + ("" if args.no_figures else f", figures in {args.out}/figures"))
    bad = [r["id"] for r in report["rows"] if r["verdict"] == "violated" and not r.get("loose")]
    blind = [r["id"] for r in report["rows"] if r["verdict"] == "not falsifiable"]
    if bad:
        print(f"signtheory: rows violated: {', '.join(bad)}", file=sys.stderr)
    if blind:
        print(f"signtheory: rows not falsifiable (a control was not judged as it must be): {', '.join(blind)}",
              file=sys.stderr)
    if bad or blind:
        return EXIT_VIOLATED
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="signtheory", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("methods", help="list the methods with citations and rates")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_methods)

    p = sub.add_parser("problems", help="list the problems with parameters and constants")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_problems)

    p = sub.add_parser("run", help="run one method on one problem")
    p.add_argument("method")
    p.add_argument("--problem", required=True)
    p.add_argument("--d", type=int, default=None, help="dimension")
    p.add_argument("--m", type=int, default=None, help="components (finite sums)")
    p.add_argument("--T", type=int, default=1000, help="horizon (default 1000)")
    p.add_argument("--seeds", type=int, default=1, help="replicates (default 1)")
    p.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a hyperparameter (repeatable)")
    p.add_argument("--pset", action="append", default=[], metavar="KEY=VALUE",
                   help="set a problem parameter (repeatable)")
    p.add_argument("--measure", default="auto", help="'auto', 'exact' or a number of sampled iterates")
    p.add_argument("--n", type=int, default=None, help="workers (majority-vote methods; default 1)")
    p.add_argument("--heterogeneity", default=None, metavar="SPLIT",
                   help="how data is split among workers: 'homogeneous' (default), 'shift:ZETA' or "
                   "'dirichlet:ALPHA'")
    p.add_argument("--backend", default=None, help="'inline' (default), 'processes' or 'mpi'")
    p.add_argument("--timeout", type=float, default=None,
                   help="seconds a round may wait for a worker before the run fails (processes, mpi)")
    p.add_argument("--threads", type=int, default=None, help="threads that run the replicates (default: all "
                   "cores; --n sets the workers of a majority vote)")
    p.add_argument("--workers", dest="threads", type=int, help=argparse.SUPPRESS)  # the earlier name
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("verify", help="sweep, fit and judge every rate of the theory registry; write a report")
    runs = p.add_mutually_exclusive_group()
    runs.add_argument("--quick", action="store_true", help="the quick grids (the default)")
    runs.add_argument("--full", action="store_true", help="the full grids: longer, more seeds")
    p.add_argument("--out", default="verify-report", metavar="DIR",
                   help="report and result store directory (default: verify-report); rerunning resumes")
    p.add_argument("--only", nargs="+", metavar="METHOD", default=None,
                   help="method names or row ids to run (default: every row)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="Dask distributed scheduler, e.g. tcp://HOST:8786 (default: a local process pool)")
    p.add_argument("--processes", type=int, default=None, help="local pool size (default: every core)")
    p.add_argument("--no-figures", action="store_true", help="skip the figures")
    p.add_argument("--no-progress", action="store_true", help="no progress lines")
    p.add_argument("--sensitivity", action=argparse.BooleanOptionalAction, default=None,
                   help="also run every row with the step constant x1/4 and x4 (default: every row in "
                        "--full, two rows in the quick run)")
    p.set_defaults(func=cmd_verify)
    return parser




def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except InvalidParameterError as exc:
        print(f"signtheory: error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except WorkerFailure as exc:  # a worker of the processes or mpi backend died or hung
        print(f"signtheory: error: {exc}", file=sys.stderr)
        return EXIT_WORKER_FAILED
    except KeyboardInterrupt as exc:  # Ctrl-C: one line, no traceback
        print(f"signtheory: {exc}" if isinstance(exc, Interrupted) else "signtheory: interrupted",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `signtheory methods | head`
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
