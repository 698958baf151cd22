"""The two rate tables (centralized and majority vote) in full: every registry row on its
long grid with more seeds than ``signtheory verify``'s quick run.

Usage::

    python experiments/rate_tables.py                 # full grids (tens of minutes on 2 cores)
    python experiments/rate_tables.py --quick         # the quick grids (about two minutes)
    python experiments/rate_tables.py --only ssvr     # some rows; reruns resume from the store

It is ``signtheory verify --full`` with the report kept under ``results/rate_tables``
(store included, so an interrupted run resumes) and the summary figure copied to
``docs/figures/rate_tables_summary.png``. The table is printed at the end.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import signtheory
from signtheory.report import markdown_table

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the quick grids instead of the full ones")
    parser.add_argument("--out", default=str(ROOT / "results" / "rate_tables"), help="report directory")
    parser.add_argument("--only", nargs="+", default=None, help="method names or row ids")
    parser.add_argument("--processes", type=int, default=None)
    parser.add_argument("--scheduler", default=None, help="Dask scheduler address")
    parser.add_argument("--figure", default=str(ROOT / "docs" / "figures" / "rate_tables_summary.png"))
    args = parser.parse_args(argv)
    report = signtheory.verify(args.out, quick=args.quick, only=args.only, processes=args.processes,
                               scheduler=args.scheduler)
    print(markdown_table(report))
    summary = Path(args.out) / "figures" / "summary.png"
    if summary.exists() and args.figure:
        Path(args.figure).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(summary, args.figure)
    wide = [r["id"] for r in report["rows"] if r.get("ci_low") is not None and r["variable"] == "T"
            and (r["ci_high"] - r["ci_low"]) / 2 > (0.08 if args.quick else 0.04)]
    print(f"\nrows with a T-interval wider than +-{0.08 if args.quick else 0.04}: {', '.join(wide) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
