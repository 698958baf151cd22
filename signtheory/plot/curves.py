"""Curves over replicates: a common x-grid, the mean over seeds and a band, on log axes.

A run with R replicates gives, for each checkpoint, one x value per replicate (oracle
calls spent, rounds, bits sent) and one y value (f(x_t), ||grad f(x_t)||_1, ...):
two (R, n) arrays. When every replicate has the same x values (the usual case: the
checkpoint grid and the oracle-call counts are deterministic) they are averaged as they
are; otherwise (e.g. a loopless method, whose refreshes are random) each replicate is
interpolated, linearly in log x, onto one geometric grid, and a replicate contributes
nothing outside the x range it covers.

The band is either ``"se"``: mean +- one standard error of the mean over the replicates
(sample standard deviation / sqrt(R)), or ``"minmax"``: from the smallest to the largest
replicate. :func:`band_label` says which, for a legend or a caption.

matplotlib is imported inside the plotting functions only (with the non-interactive
``Agg`` backend), so importing :mod:`signtheory` never imports it.

>>> import numpy as np
>>> X = np.array([[1.0, 10.0, 100.0], [1.0, 10.0, 100.0]])
>>> Y = np.array([[1.0, 0.5, 0.25], [3.0, 0.5, 0.75]])
>>> x, Yc = on_common_grid(X, Y)
>>> summarize(Yc, "minmax")[0].tolist()
[2.0, 0.5, 0.5]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

BANDS = ("se", "minmax")
X_AXES = ("calls", "t", "rounds", "uplink_bits", "downlink_bits")


def band_label(band: str = "se", seeds: int | None = None) -> str:
    """What the shaded band is, e.g. 'mean over 5 seeds, band: +-1 standard error'."""
    _check_band(band)
    over = "mean over seeds" if seeds is None else f"mean over {seeds} seeds"
    what = "+-1 standard error of the mean" if band == "se" else "min..max over seeds"
    return f"{over}, band: {what}"


def _check_band(band: str) -> None:
    if band not in BANDS:
        raise ValueError(f"band must be one of {BANDS}, got {band!r}")


# ---------------------------------------------------------------------------------------------
# Arrays
# ---------------------------------------------------------------------------------------------


def trace_xy(trace, x: str = "calls", y: str = "grad_l1") -> tuple[np.ndarray, np.ndarray]:
    """(X, Y), both (R, n) floats, from a :class:`~signtheory.engine.trace.Trace` (or the
    dict of its ``curves()``).

    ``x``: ``"calls"`` (oracle calls spent at x_t), ``"t"`` (the iteration index of x_t),
    ``"rounds"`` (t - 1, the rounds completed before x_t), ``"uplink_bits"`` or
    ``"downlink_bits"`` (majority-vote methods). ``y``: a key of ``curves()`` such as
    ``"value"``, ``"grad_l1"`` or ``"grad_l2"``. Missing points (a replicate that stopped
    early) are NaN in both arrays.
    """
    if x not in X_AXES:
        raise ValueError(f"x must be one of {X_AXES}, got {x!r}")
    c = trace.curves() if hasattr(trace, "curves") else trace
    Y = np.atleast_2d(np.asarray(c[y], dtype=float))
    if x == "rounds":
        raw = np.asarray(c["t"], dtype=float) - 1.0
    elif x not in c:
        raise ValueError(f"these curves have no {x!r} axis (they have {sorted(c)})")
    else:
        raw = np.asarray(c[x], dtype=float)
    X = np.broadcast_to(raw, Y.shape).astype(float)
    if x == "calls":
        X = np.where(X >= 0, X, np.nan)  # -1 marks a checkpoint a replicate never reached
    missing = ~np.isfinite(Y)
    X = np.where(missing, np.nan, X)
    return X, np.where(np.isfinite(X), Y, np.nan)


def common_grid(X, points: int = 64, log: bool = True) -> np.ndarray:
    """A grid spanning every finite x of X (positive x only when ``log``): ``points``
    geometrically (or linearly) spaced values."""
    X = np.asarray(X, dtype=float)
    keep = np.isfinite(X) & ((X > 0) if log else True)
    if not keep.any():
        return np.empty(0)
    lo, hi = float(X[keep].min()), float(X[keep].max())
    if lo == hi:
        return np.array([lo])
    return np.geomspace(lo, hi, points) if log else np.linspace(lo, hi, points)


def interpolate(X, Y, grid, log_x: bool = True, log_y: bool = False) -> np.ndarray:
    """Each replicate's curve (row of X, Y) evaluated at ``grid``: linear interpolation
    in log x (in x when ``log_x`` is False), and in log y when ``log_y`` (then only the
    positive y count). NaN outside the range of x a replicate covers."""
    X = np.atleast_2d(np.asarray(X, dtype=float))
    Y = np.atleast_2d(np.asarray(Y, dtype=float))
    grid = np.asarray(grid, dtype=float)
    out = np.full((Y.shape[0], grid.size), np.nan)
    gx = np.log(grid) if log_x else grid
    for r in range(Y.shape[0]):
        x, y = X[r], Y[r]
        keep = np.isfinite(x) & np.isfinite(y)
        if log_x:
            keep &= x > 0
        if log_y:
            keep &= y > 0
        if not keep.any():
            continue
        xs = np.log(x[keep]) if log_x else x[keep]
        ys = np.log(y[keep]) if log_y else y[keep]
        order = np.argsort(xs, kind="stable")
        xs, ys = xs[order], ys[order]
        xs, first = np.unique(xs, return_index=True)  # a repeated x keeps its first point
        ys = ys[first]
        inside = (gx >= xs[0]) & (gx <= xs[-1])
        vals = np.interp(gx[inside], xs, ys)
        out[r, inside] = np.exp(vals) if log_y else vals
    return out


def on_common_grid(X, Y, points: int = 64, log_x: bool = True, log_y: bool = False):
    """(x, Yc): the replicates on one x axis. When every row of X holds the same values
    (NaN where a replicate stopped early), those values are the axis and Y is kept as it
    is; otherwise the rows are interpolated onto :func:`common_grid`."""
    X = np.atleast_2d(np.asarray(X, dtype=float))
    Y = np.atleast_2d(np.asarray(Y, dtype=float))
    ref = np.nanmax(np.where(np.isfinite(X), X, -np.inf), axis=0) if X.size else np.empty(0)
    same = np.all(np.isnan(X) | (X == ref[None, :]))
    if same and np.all(np.isfinite(ref)):
        x = ref
        Yc = np.where(np.isfinite(X), Y, np.nan)
        if log_x:
            keep = x > 0
            x, Yc = x[keep], Yc[:, keep]
        return x, Yc
    x = common_grid(X, points, log=log_x)
    return x, interpolate(X, Y, x, log_x=log_x, log_y=log_y)


def summarize(Y, band: str = "se") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean, lo, hi) over the rows of Y, column by column, ignoring NaN. ``band='se'``:
    mean -+ one standard error (equal to the mean where fewer than two replicates are
    finite); ``'minmax'``: the smallest and largest replicate. Columns without any finite
    value are NaN."""
    _check_band(band)
    Y = np.atleast_2d(np.asarray(Y, dtype=float))
    finite = np.isfinite(Y)
    count = finite.sum(axis=0)
    Z = np.where(finite, Y, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, Z.sum(axis=0) / np.maximum(count, 1), np.nan)
        if band == "se":
            dev = np.where(finite, Y - mean[None, :], 0.0)
            var = (dev**2).sum(axis=0) / np.maximum(count - 1, 1)
            se = np.where(count > 1, np.sqrt(var / np.maximum(count, 1)), 0.0)
            lo, hi = mean - se, mean + se
        else:
            lo = np.where(count > 0, np.where(finite, Y, np.inf).min(axis=0), np.nan)
            hi = np.where(count > 0, np.where(finite, Y, -np.inf).max(axis=0), np.nan)
    return mean, np.where(count > 0, lo, np.nan), np.where(count > 0, hi, np.nan)


# ---------------------------------------------------------------------------------------------
# Plotting
# ---------------------------------------------------------------------------------------------


def pyplot():
    """matplotlib.pyplot with the non-interactive Agg backend (imported on first use)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def subplots(nrows: int = 1, ncols: int = 1, *, panel=(5.0, 4.0), **kw):
    """``plt.subplots`` with a size of ``panel`` inches per panel; axes always a 2-D array."""
    plt = pyplot()
    kw.setdefault("figsize", (panel[0] * ncols, panel[1] * nrows))
    fig, axes = plt.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes


def save(fig, path, dpi: int = 110) -> Path:
    """Lay out, write ``path`` (creating its folder) and close the figure."""
    plt = pyplot()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


def plot_band(ax, X, Y, *, band: str = "se", label=None, color=None, xscale: str = "log",
              yscale: str = "log", points: int = 64, alpha: float = 0.2, **line_kw):
    """Plot the mean over replicates of the curves (X, Y) (each (R, n), or X one shared
    (n,) axis) with a shaded band (:func:`summarize`). On log axes, non-positive x are
    dropped, and so are non-positive means and band edges (a band reaching zero is left
    open rather than drawn to an arbitrary floor). Returns the mean's ``Line2D``."""
    _check_band(band)
    Y = np.atleast_2d(np.asarray(Y, dtype=float))
    X = np.broadcast_to(np.asarray(X, dtype=float), Y.shape)
    log_x, log_y = xscale == "log", yscale == "log"
    x, Yc = on_common_grid(X, Y, points=points, log_x=log_x, log_y=log_y)
    mean, lo, hi = summarize(Yc, band)
    if log_y:
        mean = np.where(mean > 0, mean, np.nan)
        lo = np.where(lo > 0, lo, np.nan)
        hi = np.where(hi > 0, hi, np.nan)
    (line,) = ax.plot(x, mean, label=label, color=color, **line_kw)
    if Yc.shape[0] > 1:
        ax.fill_between(x, lo, hi, color=line.get_color(), alpha=alpha, lw=0)
    ax.set_xscale(xscale)
    ax.set_yscale(yscale)
    return line


def plot_trace(ax, trace, x: str = "calls", y: str = "grad_l1", *, shift: float = 0.0, **kw):
    """:func:`plot_band` of one run's curves: ``y`` (minus ``shift``, e.g. a reference
    value f_ref) against ``x`` (see :func:`trace_xy`)."""
    X, Y = trace_xy(trace, x, y)
    return plot_band(ax, X, Y - shift, **kw)
