"""Writing ``report.json`` and ``report.md``."""

from __future__ import annotations

import json
from pathlib import Path

from ..rates.store import write_atomically

VERDICT_MARK = {"tight": "tight", "bound-holds": "bound holds", "violated": "**violated**",
                "inconclusive": "inconclusive", "vacuous": "vacuous", "not falsifiable": "**not falsifiable**"}


def _fmt(x, digits=3):
    return "n/a" if x is None else f"{x:+.{digits}f}"


def _cell(text) -> str:
    """A table cell: pipes escaped so that the row keeps its columns."""
    return str(text).replace("|", "\\|")


def _params(row) -> str:
    items = dict(row["problem_params"])
    items.update({k: v for k, v in row["options"].items() if k not in ("extras",)})
    return ", ".join(f"{k}={v}" for k, v in items.items())


def _theory(r) -> str:
    rng = r.get("theory_range")
    if rng and rng[1] != rng[0]:
        return f"{r['exponent_text']}: [{rng[0]:+.3f}, {rng[1]:+.3f}]"
    return r["exponent_text"]


def _measured(r) -> str:
    """The fitted exponent, its statistical interval and the systematic widening apart."""
    if r.get("measured_exponent") is None:
        return "n/a"
    return (f"{_fmt(r['measured_exponent'])} [{_fmt(r['ci_stat_low'])}, {_fmt(r['ci_stat_high'])}] "
            f"± {r['systematic']:.3f}")


def _verdict(v: str) -> str:
    return VERDICT_MARK.get(v, v)


def _controls(r) -> str:
    parts = []
    for c in r.get("controls", []):
        mark = "✓" if c["caught"] else "✗"
        parts.append(f"{c['name']}: {_verdict(c['verdict']).strip('*')} {mark}")
    return "; ".join(parts) or "none"


def _second_window(r) -> str:
    w = r.get("second_window")
    if not w:
        return "n/a"
    text = _verdict(w["verdict"]).strip("*")
    return text if w["agrees"] else f"⚠ {text}"


def _sensitivity(r) -> str:
    variants = r.get("sensitivity") or []
    if not variants:
        return "—"
    text = ", ".join(f"{v['name']}: {_verdict(v['verdict']).strip('*')}" for v in variants)
    return f"⚠ {text}" if r.get("sensitivity_changes") else text


def _measure_name(r) -> str:
    if r["statistic"] == "avg_estimator_error":
        return "‖v − ∇f‖₂²"
    if r["statistic"] == "late_signed_gradient":
        return "|signed mean of ∇f|"
    name = r["measure"] + ("²" if r.get("power") == 2 else "")
    return name + {"sqrt_delta": " / √Δ"}.get(r.get("normalize"), "")


def markdown_table(report: dict) -> str:
    """The report's table: one line per row."""
    head = ("row", "method", "variable", "measure", "theory", "measured [stat. 95%] ± systematic", "verdict",
            "controls", "largest-half window", "c_eta ×¼, ×4", "problem")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in report["rows"]:
        cells = (r["id"], r["label"], r["variable"], _measure_name(r), _theory(r), _measured(r),
                 _verdict(r["verdict"]), _controls(r), _second_window(r), _sensitivity(r),
                 f"{r['problem']} ({_params(r)})")
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
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
        "the largest two thirds of the grid. The bracket is the 95% bootstrap interval over seeds (seed "
        "indices resampled jointly across grid points); the interval the verdict uses is that bracket "
        "widened on both sides by the systematic term, half the range of the local slopes inside the window. "
        f"The verdict reads that interval, never narrower than ±{report['resolution']:g} around the estimate: "
        "`tight`: the theoretical exponent lies in it; `bound holds`: the measure decays faster; "
        "`violated`: it decays more slowly; "
        f"`inconclusive`: the interval is wider than {report['max_width']:g}; "
        "`vacuous`: the bound holds only through a term a method that never moves would satisfy too; "
        "`not falsifiable`: a control of the row (the method frozen, or its mechanism switched off) was not "
        "judged as it must be (✗), so the row's own verdict is no evidence. ⚠ marks a verdict that changes "
        "on the largest half of the grid or with the step constant scaled by 1/4 or 4. See docs/verify.md.",
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
