"""Splits of a problem into n worker problems, f = (1/n) sum_j f_j, for the
majority-vote methods.

``split(problem, n, mode, zeta, alpha, seed)`` returns a :class:`WorkerProblems`:

``"homogeneous"``
    every worker has the global distribution, f_j = f. Worker j's samples are drawn
    with the problem's own ``draw_samples``; their independence across workers comes
    from drawing each worker's samples from its own random stream, which is the
    engine's job (identical seeds for every worker would correlate the workers'
    noise and fake a 1/sqrt(n) benefit).
``"shift"``
    linear tilts that move each worker's optimum but leave f unchanged:
    f_j(x) = f(x) + zeta <c_j, x>, with sum_j c_j = 0. The c_j are Gaussian rows,
    centred, then scaled so that max_j ||c_j||_2 = 1: zeta is exactly the
    heterogeneity max_j ||grad f_j(x) - grad f(x)||_2, at every x. Sample gradients
    shift by the same zeta c_j, so the noise is that of the global problem, and the
    l-inf bound of worker j is G_j = G_inf + zeta ||c_j||_inf. Individual f_j need
    not be bounded below; only f is (the theorems need only that).
``"dirichlet"`` (finite sums only)
    the m components are partitioned into n parts of m/n components each (n must
    divide m), with label skew: each class c draws worker proportions
    p_c ~ Dirichlet(alpha 1_n), and the components, taken in a random order, go to
    worker j with probability proportional to p_c[j] among the workers that still
    have room. f_j is the mean of worker j's components, and since the parts have
    equal sizes (1/n) sum_j f_j is the global f exactly. alpha = inf gives a uniformly
    random partition (i.i.d. parts); small alpha puts each class on few workers.
    The classes (``by``): ``"label"`` (default) uses the class of b_i (b_i >= 0 or
    < 0), i.e. the label for logistic regression and the sign of the target for
    least squares; ``"gradient"`` uses two clusters of the component gradients at
    x0: the sign of their projection on the top principal direction of the centred
    gradients (also the fallback of ``"label"`` for a family without labels b).
    On the shipped regression families the data law is symmetric under
    (a, b) -> (-a, -b) and a component's gradient depends on b a only, so both label
    classes have the same gradient law: a label partition changes the class mix of
    the parts but hardly the gradient heterogeneity, whereas ``by="gradient"`` makes
    the heterogeneity grow as alpha decreases.
``"counterexample"``
    only for the ``mv-counterexample`` problem with n = 3: the fixed tilts
    (kappa, kappa, -2 kappa) per coordinate on which the deterministic majority vote
    of stochastic signs stalls (see :mod:`signtheory.distributed.counterexample`).

A split is a pure function of its arguments: another process can rebuild it from
``WorkerProblems.config`` with :func:`split_from_config`, or receive the plain
arrays of ``WorkerProblems.data``.
"""

from __future__ import annotations

import math
import numbers
import re

import numpy as np

from .._jit import kernel
from ..errors import IncompatibleProblemError, InvalidParameterError
from ..problems import make_problem
from ..problems.base import FINITE_SUM, STOCHASTIC, Problem
from ..problems.mv_counterexample import counterexample_shift
from ..validation import check_choice, check_nonnegative, check_nonnegative_int, check_positive_int
from .oracles import DIRICHLET, HOMOGENEOUS, SHIFT, WorkerData

MODES = ("homogeneous", "shift", "dirichlet", "counterexample")
CLASSES = ("label", "gradient")

# Entropy tags of the split's own random streams (never shared with a run's streams).
SHIFT_STREAM, DIRICHLET_STREAM, PROBE_STREAM = 9101, 9102, 9103

# Points (besides x0) at which the heterogeneity of a Dirichlet split is estimated.
PROBE_POINTS = 32


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------


def check_alpha(name, value) -> float:
    """Dirichlet concentration: a real > 0, or inf (uniform random partition)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and not math.isnan(float(value))
    if not ok or float(value) <= 0:
        raise InvalidParameterError(name, value, "must be a real number > 0, or inf for an i.i.d. partition")
    return float(value)


def check_worker(j, n) -> int:
    if isinstance(j, bool) or not isinstance(j, numbers.Integral) or not 0 <= int(j) < n:
        raise InvalidParameterError("j", j, f"must be a worker index in 0..{n - 1}")
    return int(j)


def _resolve_problem(problem) -> Problem:
    if isinstance(problem, str):
        problem = make_problem(problem)
    if not isinstance(problem, Problem):
        raise InvalidParameterError("problem", problem, "must be a Problem or a problem name")
    if problem.kind not in (FINITE_SUM, STOCHASTIC):
        raise IncompatibleProblemError(
            "problem", problem.name, f"a split needs a finite-sum or stochastic problem; it is {problem.kind}")
    if getattr(problem, "is_composite", False):
        raise IncompatibleProblemError(
            "problem", problem.name, "composite problems (smooth part + prox term) are not split into workers: "
            "their exact evaluation is a gradient mapping, which is not an average over workers")
    return problem


# ---------------------------------------------------------------------------------------------
# Construction of the shifts and of the Dirichlet partition
# ---------------------------------------------------------------------------------------------


def shift_directions(n: int, d: int, seed: int) -> np.ndarray:
    """c_1..c_n: centred Gaussian rows scaled so that max_j ||c_j||_2 = 1 (sum_j c_j = 0)."""
    rng = np.random.default_rng([seed, SHIFT_STREAM])
    W = rng.standard_normal((n, d))
    C = W - W.mean(axis=0)
    top = np.linalg.norm(C, axis=1).max()
    return C / top


def component_labels(problem, by: str = "label") -> np.ndarray:
    """Class (0, 1, ...) of each component of a finite sum (see the module docstring)."""
    b = getattr(problem, "b", None)
    if by == "label" and b is not None and np.shape(b) == (problem.m,):
        return (np.asarray(b) >= 0).astype(np.int64)
    m = problem.m
    G = problem.sample_grads(problem.x0, np.arange(m), np.empty((m, 0)))
    G = G - G.mean(axis=0)
    direction = np.linalg.svd(G, full_matrices=False)[2][0]
    return (G @ direction >= 0).astype(np.int64)


@kernel
def assign_components(labels, order, P, u, size):
    """Fill n parts of ``size`` components: component ``order[s]`` of class c goes to an
    open worker j with probability P[c, j] / sum over open workers (uniform among the
    open workers when that sum is 0), using the uniform ``u[s]``."""
    n = P.shape[1]
    members = np.empty((n, size), dtype=np.int64)
    count = np.zeros(n, dtype=np.int64)
    for s in range(order.shape[0]):
        i = order[s]
        c = labels[i]
        total = 0.0
        n_open = 0
        for j in range(n):
            if count[j] < size:
                total += P[c, j]
                n_open += 1
        pick = -1
        if total > 0.0:
            target = u[s] * total
            acc = 0.0
            for j in range(n):
                if count[j] < size and P[c, j] > 0.0:
                    acc += P[c, j]
                    pick = j
                    if target < acc:
                        break
        else:
            r = min(int(u[s] * n_open), n_open - 1)
            for j in range(n):
                if count[j] < size:
                    if r == 0:
                        pick = j
                        break
                    r -= 1
        members[pick, count[pick]] = i
        count[pick] += 1
    return members


def dirichlet_partition(labels: np.ndarray, n: int, alpha: float, seed: int) -> np.ndarray:
    """(n, m/n) sorted member lists of a Dirichlet(alpha) label-skewed equal-size partition."""
    m = labels.size
    rng = np.random.default_rng([seed, DIRICHLET_STREAM])
    K = int(labels.max()) + 1
    if math.isinf(alpha):
        P = np.full((K, n), 1.0 / n)
    else:
        P = rng.dirichlet(np.full(n, alpha), size=K)
    order = rng.permutation(m).astype(np.int64)
    u = rng.random(m)
    members = assign_components(np.ascontiguousarray(labels, dtype=np.int64), order,
                                np.ascontiguousarray(P), u, m // n)
    return np.ascontiguousarray(np.sort(members, axis=1))


def label_skew(labels: np.ndarray, members: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean over workers of the total-variation distance between the worker's class
    histogram and the global one (0: every part has the global mix; towards 1: pure parts);
    and the (n, K) class counts."""
    K = int(labels.max()) + 1
    counts = np.stack([np.bincount(labels[row], minlength=K) for row in members])
    local = counts / counts.sum(axis=1, keepdims=True)
    glob = np.bincount(labels, minlength=K) / labels.size
    return float(np.mean(0.5 * np.abs(local - glob).sum(axis=1))), counts


def _component_values(problem, x, idx) -> np.ndarray:
    """f_i(x) for the components ``idx`` (the finite-sum families with labelled rows)."""
    own = getattr(problem, "component_values", None)
    if own is not None:
        return np.asarray(own(x, idx))
    from ..problems import regularizer as reg
    from ..problems.logistic import NonconvexLogistic
    from ..problems.lsq import NonconvexLSQ

    if isinstance(problem, NonconvexLogistic):
        loss = np.logaddexp(0.0, -problem.b[idx] * (problem.A[idx] @ x))
    elif isinstance(problem, NonconvexLSQ):
        loss = 0.5 * (problem.A[idx] @ x - problem.b[idx]) ** 2
    else:
        raise IncompatibleProblemError(
            "problem", problem.name, "component values are not available for this family, so worker "
            "values of a Dirichlet split are not either (gradients are)")
    return loss + problem.lam * reg.psi(x).sum()


# ---------------------------------------------------------------------------------------------
# The split
# ---------------------------------------------------------------------------------------------


class WorkerProblems:
    """n worker problems f_1..f_n with f = (1/n) sum_j f_j (build with :func:`split`).

    Attributes
    ----------
    n, mode, zeta, alpha, seed, by : the split's parameters.
    d, sample_width : those of the global problem.
    problem : Problem
        The global problem; it defines f, x0 and the measures.
    data : WorkerData
        The compiled view, for :mod:`signtheory.distributed.oracles`.
    shift : (n, d) array
        Worker j's gradients are the global ones plus ``shift[j]`` (zeros unless the
        mode tilts the workers).
    members : (n, m/n) int64 array or None
        The components of each worker, sorted (Dirichlet mode); ``m_worker`` = m/n.
    labels : (m,) int64 array or None
        The class of each component (Dirichlet mode).
    """

    def __init__(self, problem, n, mode, zeta, alpha, seed, shift=None, members=None, labels=None,
                 by="label"):
        self.problem = problem
        self.n, self.mode, self.zeta, self.alpha, self.seed = n, mode, zeta, alpha, seed
        self.by = by
        self.d = problem.d
        self.sample_width = problem.sample_width
        self.shift = np.zeros((n, self.d)) if shift is None else np.ascontiguousarray(shift, dtype=float)
        self.members = members
        self.labels = labels
        self.m_worker = None if members is None else members.shape[1]
        if mode == "dirichlet":
            code = DIRICHLET
        elif mode in ("shift", "counterexample"):
            code = SHIFT
        else:
            code = HOMOGENEOUS
        self.data = WorkerData(
            problem.data,
            code,
            self.shift,
            np.zeros((n, 0), dtype=np.int64) if members is None else members,
        )
        self._constants = None

    # -- configuration -----------------------------------------------------------------------
    @property
    def config(self) -> dict:
        """Everything :func:`split_from_config` needs to rebuild this split (plain data)."""
        return {
            "problem": self.problem.name,
            "problem_params": dict(self.problem.config),
            "n": self.n,
            "mode": self.mode,
            "zeta": self.zeta,
            "alpha": self.alpha,
            "seed": self.seed,
            "by": self.by,
        }

    def describe(self) -> dict:
        return {**self.config, "constants": self.constants()}

    def __repr__(self) -> str:
        return (f"WorkerProblems({self.problem!r}, n={self.n}, mode={self.mode!r}, zeta={self.zeta!r}, "
                f"alpha={self.alpha!r}, seed={self.seed!r}, by={self.by!r})")

    # -- NumPy twins of the compiled worker oracles ----------------------------------------
    def worker_draw_samples(self, rng: np.random.Generator, j: int, shape):
        """``(idx, z)`` for worker j. Dirichlet: ``idx`` indexes the worker's member list
        (uniform over its m/n components); otherwise the problem's own ``draw_samples``."""
        j = check_worker(j, self.n)
        shape = tuple(shape)
        if self.mode == "dirichlet":
            return rng.integers(0, self.m_worker, size=shape, dtype=np.int64), np.empty(shape + (0,))
        return self.problem.draw_samples(rng, shape)

    def global_indices(self, j: int, idx) -> np.ndarray:
        """The global component indices of worker j's sample indices (identity unless Dirichlet)."""
        j = check_worker(j, self.n)
        idx = np.asarray(idx, dtype=np.int64)
        return self.members[j][idx] if self.mode == "dirichlet" else idx

    def worker_sample_grads(self, j: int, x, idx, z) -> np.ndarray:
        """The gradient of each of worker j's samples at x, shape (len(idx), d)."""
        G = self.problem.sample_grads(x, self.global_indices(j, idx), z)
        return G + self.shift[j] if self.mode in ("shift", "counterexample") else G

    def worker_batch_grad(self, j: int, x, idx, z) -> np.ndarray:
        """Twin of the compiled ``worker_batch_grad``: the batch mean at x, plus ``shift[j]``."""
        g = self.problem.batch_grad(x, self.global_indices(j, idx), z)
        return g + self.shift[j] if self.mode in ("shift", "counterexample") else g

    def worker_batch_grad_pair(self, j: int, x1, x2, idx, z) -> tuple[np.ndarray, np.ndarray]:
        """Twin of the compiled ``worker_batch_grad_pair``: the same samples at x1 and x2."""
        return self.worker_batch_grad(j, x1, idx, z), self.worker_batch_grad(j, x2, idx, z)

    def worker_full_grad(self, j: int, x) -> np.ndarray:
        """grad f_j(x), exact."""
        j = check_worker(j, self.n)
        if self.mode == "dirichlet":
            own = self.members[j]
            return self.problem.sample_grads(x, own, np.empty((own.size, 0))).mean(axis=0)
        return self.problem.full_grad(x) + self.shift[j]

    def worker_full_grads(self, x) -> np.ndarray:
        """(n, d): every worker's exact gradient at x."""
        return np.stack([self.worker_full_grad(j, x) for j in range(self.n)])

    def worker_value(self, j: int, x) -> float:
        """f_j(x), exact."""
        j = check_worker(j, self.n)
        if self.mode == "dirichlet":
            return float(np.mean(_component_values(self.problem, np.asarray(x, float), self.members[j])))
        return float(self.problem.value(x) + self.shift[j] @ np.asarray(x, float))

    def heterogeneity(self, x) -> dict:
        """max_j ||grad f_j(x) - grad f(x)|| in l2 and l-inf, and the root mean square
        ((1/n) sum_j ||.||_2^2)^(1/2), at x."""
        D = self.worker_full_grads(x) - self.problem.full_grad(x)
        l2 = np.linalg.norm(D, axis=1)
        return {"l2_max": float(l2.max()), "linf_max": float(np.abs(D).max()),
                "l2_rms": float(np.sqrt(np.mean(l2**2)))}

    # -- constants ------------------------------------------------------------------------------
    def constants(self) -> dict:
        """The constants the distributed theorems use (computed once, then cached).

        ``G_inf_workers`` (G_j, a bound on ||sample gradient of worker j||_inf over
        ``region``) and ``G_inf`` = max_j G_j (what R = 4 G_inf should use), or None with
        ``G_inf_note``; ``sigma`` (a bound on each worker's sample-gradient standard
        deviation over ``region``); ``heterogeneity_l2_max``, ``heterogeneity_linf_max``
        and ``heterogeneity_l2_rms`` (the zeta of the theory is the root mean square)
        with ``heterogeneity_exact`` and ``heterogeneity_note`` saying how they were
        obtained, and their exact values at x0; ``global``: the global problem's constants.
        """
        if self._constants is None:
            self._constants = self._compute_constants()
        return self._constants

    def _compute_constants(self) -> dict:
        glob = self.problem.constants()
        G = glob.get("G_inf")
        sigma = glob.get("sigma")
        out = {"n": self.n, "mode": self.mode, "region": glob["region"]}
        at_x0 = self.heterogeneity(self.problem.x0)
        if self.mode == "dirichlet":
            het = self._probe_heterogeneity(at_x0)
            skew, counts = label_skew(self.labels, self.members)
            G_workers = None if G is None else [float(G)] * self.n
            own = [self.worker_sample_grads(j, self.problem.x0, np.arange(self.m_worker),
                                            np.empty((self.m_worker, 0))) for j in range(self.n)]
            out.update({
                "alpha": self.alpha,
                "by": self.by,
                "m_worker": self.m_worker,
                "label_skew": skew,
                "label_counts": counts.tolist(),
                "heterogeneity_exact": False,
                "heterogeneity_note": (
                    f"largest value seen at x0 and {PROBE_POINTS} points with ||x - x0||_2 <= "
                    f"{het['radius']:g} (an estimate from below of the supremum there); l-inf is also "
                    "bounded by 2 G_inf everywhere"),
                "sigma": None if sigma is None else math.sqrt(self.n) * sigma,
                "sigma_note": "sqrt(n) sigma: a worker's variance is at most n times the global one",
                "sigma_workers_at_x0": [float(np.sqrt(np.mean(np.sum((g - g.mean(axis=0)) ** 2, axis=1))))
                                        for g in own],
            })
            l2_max, linf_max, l2_rms = het["l2_max"], het["linf_max"], het["l2_rms"]
        else:
            norms2 = np.linalg.norm(self.shift, axis=1)
            normsinf = np.abs(self.shift).max(axis=1)
            G_workers = None if G is None else [float(G + s) for s in normsinf]
            l2_max, linf_max = float(norms2.max()), float(normsinf.max())
            l2_rms = float(np.sqrt(np.mean(norms2**2)))
            out.update({
                "zeta": self.zeta if self.mode == "shift" else l2_max,
                "heterogeneity_exact": True,
                "heterogeneity_note": "exact: grad f_j - grad f = shift[j] does not depend on x",
                "sigma": sigma,
                "sigma_note": "the split adds no noise: each worker's noise is the global problem's",
            })
            if self.mode == "counterexample":
                out.update({k: glob[k] for k in ("kappa", "vote_radius", "vote_radius_x", "t_star", "x_star",
                                                 "floor_l1", "floor_l2", "floor_note")})
        out.update({
            "G_inf": None if G_workers is None else max(G_workers),
            "G_inf_workers": G_workers,
            "G_inf_note": glob.get("G_inf_note", "") if G_workers is None else
            ("G_j = G_inf of f, each worker's samples being samples of f" if self.mode == "dirichlet"
             else "G_j = G_inf of f + ||shift[j]||_inf"),
            "heterogeneity_l2_max": l2_max,
            "heterogeneity_linf_max": linf_max,
            "heterogeneity_l2_rms": l2_rms,
            "heterogeneity_l2_max_at_x0": at_x0["l2_max"],
            "heterogeneity_linf_max_at_x0": at_x0["linf_max"],
            "heterogeneity_l2_rms_at_x0": at_x0["l2_rms"],
            "global": glob,
        })
        return out

    def _probe_heterogeneity(self, at_x0) -> dict:
        rho = _probe_radius(self.problem)
        rng = np.random.default_rng([self.seed, PROBE_STREAM])
        U = rng.standard_normal((PROBE_POINTS, self.d))
        U /= np.linalg.norm(U, axis=1, keepdims=True)
        radii = rho * np.concatenate([rng.uniform(0, 1, PROBE_POINTS // 2), np.ones(PROBE_POINTS // 2)])
        best = dict(at_x0)
        for x in self.problem.x0 + U * radii[:, None]:
            h = self.heterogeneity(x)
            best = {k: max(best[k], h[k]) for k in best}
        best["radius"] = rho
        return best


def _probe_radius(problem) -> float:
    """The radius of the ball around x0 where a Dirichlet split's heterogeneity is probed:
    the problem's region ``||x||_2 <= rho`` when it states one (x0 = 0 for those families),
    else its ``region_radius()``, else 3 max(1, ||x0||_2)."""
    match = re.fullmatch(r"\|\|x\|\|_2 <= ([0-9.eE+-]+)", str(problem.constants().get("region", "")))
    if match:
        return float(match.group(1))
    if hasattr(problem, "region_radius"):
        return float(problem.region_radius())
    return 3.0 * max(1.0, float(np.linalg.norm(problem.x0)))


def split(problem, n, mode="homogeneous", zeta=0.0, alpha=1.0, seed=0, by="label") -> WorkerProblems:
    """Split ``problem`` into ``n`` workers with f = (1/n) sum_j f_j (see the module).

    Parameters
    ----------
    problem : Problem or str
        The global problem (a name builds it with default parameters).
    n : int
        Number of workers (use odd n for majority votes: no ties).
    mode : 'homogeneous', 'shift', 'dirichlet' or 'counterexample'
    zeta : float
        ``mode='shift'`` only: max_j ||grad f_j - grad f||_2, exactly, at every x.
    alpha : float
        ``mode='dirichlet'`` only (ignored otherwise): Dirichlet concentration, > 0, or
        inf for a uniformly random partition.
    seed : int
        Seed of the split's own randomness (tilt directions, partition); not of any run.
    by : 'label' or 'gradient'
        ``mode='dirichlet'`` only: the classes the Dirichlet proportions are drawn for.
    """
    problem = _resolve_problem(problem)
    n = check_positive_int("n", n)
    mode = check_choice("mode", mode, MODES)
    zeta = check_nonnegative("zeta", zeta)
    alpha = check_alpha("alpha", alpha)
    seed = check_nonnegative_int("seed", seed)
    by = check_choice("by", by, CLASSES)
    if zeta != 0.0 and mode != "shift":
        raise InvalidParameterError("zeta", zeta,
                                    f"applies only to mode='shift'; leave it at 0 for mode={mode!r}")
    if by != "label" and mode != "dirichlet":
        raise InvalidParameterError("by", by, f"applies only to mode='dirichlet'; leave it at 'label' for "
                                    f"mode={mode!r}")
    if mode == "homogeneous":
        return WorkerProblems(problem, n, mode, zeta, alpha, seed)
    if mode == "shift":
        if n == 1 and zeta > 0.0:
            raise InvalidParameterError("n", n, "must be >= 2 for zeta > 0: one worker cannot differ from f")
        C = shift_directions(n, problem.d, seed) if n > 1 else np.zeros((1, problem.d))
        return WorkerProblems(problem, n, mode, zeta, alpha, seed, shift=zeta * C)
    if mode == "counterexample":
        if problem.name != "mv-counterexample":
            raise IncompatibleProblemError(
                "problem", problem.name, "mode='counterexample' needs the 'mv-counterexample' problem")
        if n != 3:
            raise InvalidParameterError("n", n, "must be 3 for mode='counterexample'")
        return WorkerProblems(problem, n, mode, zeta, alpha, seed, shift=counterexample_shift(problem))
    # dirichlet
    if not problem.is_finite_sum:
        raise IncompatibleProblemError(
            "problem", problem.name,
            f"mode='dirichlet' partitions components and needs a finite-sum problem; it is {problem.kind}")
    m = problem.m
    if n > m or m % n:
        raise InvalidParameterError(
            "n", n, f"must divide m = {m} for mode='dirichlet' (equal parts keep (1/n) sum_j f_j = f "
            "exactly); choose such an n, or build the problem with m a multiple of n")
    labels = component_labels(problem, by)
    members = dirichlet_partition(labels, n, alpha, seed)
    return WorkerProblems(problem, n, mode, zeta, alpha, seed, members=members, labels=labels, by=by)


def split_from_config(config: dict) -> WorkerProblems:
    """Rebuild a split from ``WorkerProblems.config`` (e.g. in another process)."""
    problem = make_problem(config["problem"], **config.get("problem_params", {}))
    alpha = config.get("alpha", 1.0)
    if alpha is None or alpha == "inf":  # JSON has no infinity
        alpha = math.inf
    return split(problem, config["n"], config.get("mode", "homogeneous"), config.get("zeta", 0.0),
                 alpha, config.get("seed", 0), config.get("by", "label"))
