"""Figures of ``signtheory verify``: one log-log fit per row, and the summary of
measured against theoretical exponents."""

from __future__ import annotations

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_row(row: dict, path) -> None:
    """The means over seeds (with standard errors) against the variable on log-log axes,
    the fitted line over the window and the theory line through the window's centre."""
    plt = _pyplot()
    x = np.asarray(row["grid"], dtype=float)
    y = np.asarray(row["mean"], dtype=float)
    se = np.asarray(row["std_error"], dtype=float)
    w = np.asarray(row["window"], dtype=float)
    fig, ax = plt.subplots(figsize=(4.6, 3.4))
    ax.errorbar(x, y, yerr=se, fmt="o", ms=4, color="k", label=f"mean over {row['seeds']} seeds")
    lw = np.log(w)
    fitted = np.exp(row["intercept"] + row["measured_exponent"] * lw)
    ax.plot(w, fitted, "-", color="tab:blue",
            label=f"fit {row['measured_exponent']:+.3f} [{row['ci_low']:+.3f}, {row['ci_high']:+.3f}]")
    centre = lw.mean()
    level = row["intercept"] + row["measured_exponent"] * centre
    ax.plot(w, np.exp(level + row["theory_exponent"] * (lw - centre)), "--", color="tab:red",
            label=f"theory {row['exponent_text']}")
    markers = iter("sD^v")
    for c in row.get("controls", []):
        mark = "caught" if c["caught"] else "NOT caught"
        ax.plot(x, c["mean"], next(markers, "x"), ms=4, mfc="none", color="gray",
                label=f"control '{c['name']}': {c['verdict']} ({mark})")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.margins(x=0.06, y=0.12)  # markers at the extremes stay inside the frame
    ax.set_xlabel(row["variable"])
    ax.set_ylabel(row["statistic"])
    ax.set_title(f"{row['label']}: {row['verdict']}", fontsize=10)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


VERDICT_COLORS = {"tight": "tab:green", "bound-holds": "tab:orange", "violated": "tab:red",
                  "inconclusive": "tab:gray", "vacuous": "tab:purple", "not falsifiable": "tab:brown"}


def plot_summary(rows: list[dict], path) -> None:
    """Every row's measured exponent minus the theorem's, with its interval (the one the
    verdict reads), one line per row, coloured by verdict; the band is the resolution
    within which an exponent counts as attained."""
    plt = _pyplot()
    rows = [r for r in rows if r.get("measured_exponent") is not None]
    fig, ax = plt.subplots(figsize=(7.2, 0.32 * len(rows) + 1.6))
    resolution = 0.05
    ax.axvspan(-resolution, resolution, color="0.92", zorder=0, label=f"within ±{resolution:g}")
    ax.axvline(0.0, color="0.4", lw=1, zorder=1)
    for i, r in enumerate(rows):
        y = len(rows) - 1 - i
        theory = (r.get("theory_range") or [r["theory_exponent"]])[0]
        dev = r["measured_exponent"] - theory
        err = [[r["measured_exponent"] - r["ci_low"]], [r["ci_high"] - r["measured_exponent"]]]
        ax.errorbar([dev], [y], xerr=err, fmt="o", ms=4, color=VERDICT_COLORS.get(r["verdict"], "k"), zorder=2)
        why = []
        floor = r.get("floor_term") or {}
        if floor.get("could_be_broken"):
            why.append("below its floor term" if floor.get("measure_below") else "above its floor term")
        if r.get("loose"):
            why.append("known loose")
        if why:
            ax.annotate(", ".join(why), (r["ci_high"] - theory, y), xytext=(4, 3), textcoords="offset points",
                        fontsize=7, color="0.3")
    ax.set_yticks(range(len(rows)), [r["id"] for r in reversed(rows)], fontsize=8)
    ax.set_ylim(-0.8, len(rows) - 0.2)
    seen = [v for v in VERDICT_COLORS if any(r["verdict"] == v for r in rows)]
    for v in seen:
        ax.plot([], [], "o", color=VERDICT_COLORS[v], label=v)
    ax.set_xlabel("measured − theoretical exponent (bar: 95% interval + finite-grid term)")
    ax.set_title("signtheory verify: every row against its theorem\n"
                 "(left of 0: faster than the bound; right: slower)", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(axis="x", color="0.9", lw=0.6)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
