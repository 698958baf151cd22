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
    ax.set_xlabel(row["variable"])
    ax.set_ylabel(row["statistic"])
    ax.set_title(f"{row['label']}: {row['verdict']}", fontsize=10)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_summary(rows: list[dict], path) -> None:
    """Measured exponent (with its interval) against the theoretical one, every row."""
    plt = _pyplot()
    rows = [r for r in rows if r.get("measured_exponent") is not None]
    fig, ax = plt.subplots(figsize=(6.4, 5.2))
    colors = {"tight": "tab:green", "bound-holds": "tab:orange", "violated": "tab:red",
              "inconclusive": "tab:gray", "vacuous": "tab:purple", "not falsifiable": "tab:brown"}
    lo = min([r["ci_low"] for r in rows] + [r["theory_exponent"] for r in rows] + [-0.1]) - 0.05
    hi = max([r["ci_high"] for r in rows] + [r["theory_exponent"] for r in rows] + [0.1]) + 0.05
    ax.plot([lo, hi], [lo, hi], ":", color="gray", lw=1)
    for i, r in enumerate(rows):
        jitter = 0.012 * ((i % 5) - 2)
        t = r["theory_exponent"] + jitter
        ax.errorbar([t], [r["measured_exponent"]],
                    yerr=[[r["measured_exponent"] - r["ci_low"]], [r["ci_high"] - r["measured_exponent"]]],
                    fmt="o", ms=4, color=colors.get(r["verdict"], "k"))
        ax.annotate(r["id"], (t, r["measured_exponent"]), fontsize=6, xytext=(4, 2), textcoords="offset points")
    for v, c in colors.items():
        ax.plot([], [], "o", color=c, label=v)
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel("theoretical exponent")
    ax.set_ylabel("measured exponent (95% interval)")
    ax.set_title("signtheory verify: measured against theoretical exponents", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
