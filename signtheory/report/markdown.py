"""Writing ``report.json`` and ``report.md``."""

from __future__ import annotations

import json
from pathlib import Path

from ..rates.store import write_atomically

VERDICT_MARK = {"tight": "tight", "bound-holds": "bound holds", "violated": "**violated**"}


def _fmt(x, digits=3):
    return "n/a" if x is None else f"{x:+.{digits}f}"


def _params(row) -> str:
    items = dict(row["problem_params"])
    items.update({k: v for k, v in row["options"].items() if k not in ("extras",)})
    return ", ".join(f"{k}={v}" for k, v in items.items())


def _theory(r) -> str:
    rng = r.get("theory_range")
    if rng and rng[1] != rng[0]:
        return f"{r['exponent_text']}: [{rng[0]:+.3f}, {rng[1]:+.3f}]"
    return r["exponent_text"]


def markdown_table(report: dict) -> str:
    """The report's table: one line per row."""
    lines = [
        "| row | method | variable | measure | theory | measured [95% interval] | verdict | problem |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in report["rows"]:
        measured = (f"{_fmt(r['measured_exponent'])} [{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}]"
                    if r.get("measured_exponent") is not None else "n/a")
        measure = r["measure"] + ("²" if r.get("power") == 2 else "")
        if r["statistic"] == "avg_estimator_error":
            measure = "‖v − ∇f‖₂²"
        elif r["statistic"] == "late_signed_gradient":
            measure = "|signed mean of ∇f|"
        lines.append(
            f"| {r['id']} | {r['label']} | {r['variable']} | {measure} | {_theory(r)} | {measured} | "
            f"{VERDICT_MARK.get(r['verdict'], r['verdict'])} | {r['problem']} ({_params(r)}) |")
    return "\n".join(lines)


def _notes(report: dict) -> list[str]:
    out = []
    for r in report["rows"]:
        if r.get("loose"):
            out.append(f"- **{r['id']}** (known loose): {r['loose']}")
        if r.get("note"):
            out.append(f"- **{r['id']}**: {r['note']}")
        ref = r.get("reference")
        if ref:
            out.append(f"- **{r['id']}**: at {r['variable']} = {ref['at']:.0f} the signed mean is "
                       f"{ref['measured']:+.4f} [{ref['ci_low']:+.4f}, {ref['ci_high']:+.4f}] "
                       "(95%, over seeds); "
                       f"the predicted limit {ref['name']} = {ref['value']:+.4f}.")
        if r.get("diverged"):
            out.append(f"- **{r['id']}**: {r['diverged']} replicate(s) diverged; their traces stop there.")
    return out


def verdict_summary(report: dict) -> str:
    """How many rows got each verdict, e.g. ``4 bound-holds, 21 tight``."""
    counts: dict = {}
    for r in report["rows"]:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
    return ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))


def render(report: dict) -> str:
    summary = verdict_summary(report)
    text = [
        f"# signtheory verify ({report['run']} run, version {report['version']})",
        "",
        f"{len(report['rows'])} rows, {report['points']} sweep points "
        f"({report['computed_points']} computed now), {report['elapsed_s']:.0f} s. Verdicts: {summary}.",
        "",
        "Each row is a log-log slope of the mean over seeds of the measure against the variable, fitted on "
        "the largest two thirds of the grid. The interval is the 95% bootstrap interval over seeds, widened "
        "on both sides by half the range of the local slopes inside the window (a finite-grid term). "
        "`tight`: the theoretical exponent lies in the interval; `bound holds`: the measure decays faster; "
        "`violated`: it decays more slowly. See docs/verify.md.",
        "",
        markdown_table(report),
        "",
    ]
    notes = _notes(report)
    if notes:
        text += ["## Notes", "", *notes, ""]
    figs = [r["figure"] for r in report["rows"] if r.get("figure")]
    if figs:
        text += ["## Figures", "", "![measured against theoretical exponents](figures/summary.png)", ""]
        text += [f"- [{r['id']}]({r['figure']})" for r in report["rows"] if r.get("figure")]
        text.append("")
    return "\n".join(text)


def write_report(report: dict, out, figures: bool = True) -> None:
    """Write ``out/report.json``, ``out/report.md`` and (optionally) ``out/figures/``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if figures:
        from ..plot.fits import plot_row, plot_summary

        (out / "figures").mkdir(exist_ok=True)
        for r in report["rows"]:
            if r.get("measured_exponent") is not None:
                name = "figures/" + r["id"].replace("/", "_") + ".png"
                plot_row(r, out / name)
                r["figure"] = name
        plot_summary(report["rows"], out / "figures" / "summary.png")
    write_atomically(out / "report.json", json.dumps(report, indent=1))
    write_atomically(out / "report.md", render(report))
