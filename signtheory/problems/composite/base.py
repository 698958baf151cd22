"""What every composite family shares: F = D + r with an exact, cheap prox.

The smooth part D (possibly nonconvex) is what the sample oracles see: a sample
gradient is an unbiased estimate of grad D, exactly as for the other families.
The regularizer r is convex and split as r = (1/K_r) sum_k r_k, each r_k with a
closed-form prox. How a composite problem presents itself:

* compiled ``batch_grad`` / ``batch_grad_pair``: sample gradients of D;
* compiled ``full_eval(pd, x, g)`` (called by the recorder): returns F(x) and
  writes the gradient mapping at gamma_eval,
  G(x) = (x - prox_{gamma r}(x - gamma grad D(x)))/gamma, into g, so that the
  engine's l1 and l2 measures are the norms of the gradient mapping. A
  coordinate that the prox leaves unchanged gets grad D(x)_i exactly (the same
  value without the rounding of x_i - (x_i - gamma grad D(x)_i)). The prox is
  the exact prox_{gamma r} where one exists (l1, 1-D TV) and otherwise the
  averaged prox Pbar(z) = (1/K_r) sum_k prox_{gamma r_k}(z) (2-D TV), which is
  the prox of the proximal average of the r_k;
* the composite methods reach D, the r_k and their proxes through
  :mod:`signtheory.problems.composite.kernels`.

The NumPy side follows the same split: ``value`` and ``full_grad`` are D and
grad D (so the generic oracle checks apply to the smooth part unchanged),
``objective`` is F, ``gradient_mapping`` the measure, ``measure_eval`` the twin
of the compiled ``full_eval``, and ``prox_term``/``prox_average``/``prox_r`` the
twins of the compiled proxes. ``constants()`` gives L, sigma, ... of D and
f_x0, f_star, delta of F.

The compiled view packs the scalars of every composite family at the same
positions of ``ProblemData.p`` (the names below).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from ...errors import InvalidParameterError
from ...validation import check_positive
from ..base import Problem

# Positions in ProblemData.p shared by the composite families.
P_MU = 0  # weight of the smooth nonconvex regularizer inside D (p[0], as for the regression families)
P_LAM = 1  # weight of r, in the units of x
P_GAMMA = 2  # gamma_eval
P_TERMS = 3  # K_r
P_AVERAGED = 4  # 1.0 if the measure uses the averaged prox
P_SIGMA = 5  # standard deviation (l2) of the additive gradient noise
P_ROWS = 6  # image rows (TV)
P_COLS = 7  # image columns (TV)
N_PARAMS = 8


def mapping_np(x, g, z, p, gamma):
    """NumPy twin of the compiled ``mapping``: (x - p)/gamma for z = x - gamma g and
    p = prox(z), with g_i itself where the prox leaves z_i unchanged."""
    x = np.asarray(x, dtype=np.float64)
    return np.where(p == z, g, (x - p) / gamma)


def check_gamma_eval(name, value):
    return check_positive(name, value)


class CompositeProblem(Problem):
    """Base class of the composite families (see the module docstring)."""

    is_composite = True
    regularizer = ""  # r in words
    split = ""  # how r = (1/K_r) sum_k r_k
    has_exact_prox = True

    # -- provided by each family ---------------------------------------------------------
    def reg_value(self, x) -> float:
        """r(x)."""
        raise NotImplementedError  # pragma: no cover

    def prox_term(self, k: int, z, gamma: float):
        """NumPy twin of the compiled prox of gamma r_k (k in 0..K_r-1)."""
        raise NotImplementedError  # pragma: no cover

    def prox_exact(self, z, gamma: float):
        """NumPy twin of the compiled exact prox of gamma r."""
        raise NotImplementedError  # pragma: no cover

    # -- shared --------------------------------------------------------------------------
    @property
    def prox_terms(self) -> int:
        """K_r, the number of terms r_k."""
        return int(self.data.p[P_TERMS])

    @property
    def gamma_eval(self) -> float:
        return float(self.data.p[P_GAMMA])

    @property
    def averaged_measure(self) -> bool:
        return bool(self.data.p[P_AVERAGED])

    @property
    def full_grad_cost(self) -> int:
        """Oracle calls charged for one exact grad D: m for a finite sum, 1 otherwise."""
        return self.m if self.is_finite_sum else 1

    def objective(self, x) -> float:
        """F(x) = D(x) + r(x)."""
        return float(self.value(x) + self.reg_value(x))

    def prox_average(self, z, gamma: float):
        """Pbar(z) = (1/K_r) sum_k prox_{gamma r_k}(z), as z - sum_k (1/K_r)(z - prox_k(z))."""
        z = np.asarray(z, dtype=np.float64)
        K = self.prox_terms
        acc = np.zeros_like(z)
        for k in range(K):
            acc = acc + (1.0 / K) * (z - self.prox_term(k, z, gamma))
        return z - acc

    def prox_r(self, z, gamma: float):
        """The prox the measure (and SPGM) uses: exact where available, else averaged."""
        return self.prox_average(z, gamma) if self.averaged_measure else self.prox_exact(z, gamma)

    def gradient_mapping(self, x, gamma: float | None = None, prox: str | None = None):
        """G_gamma(x) = (x - P(x - gamma grad D(x)))/gamma (see :func:`mapping_np`).
        ``prox``: 'exact', 'averaged' or None (the problem's measure); ``gamma``:
        default gamma_eval."""
        gamma = self.gamma_eval if gamma is None else check_positive("gamma", gamma)
        g = self.full_grad(x)
        z = np.asarray(x, dtype=np.float64) - gamma * g
        if prox is None:
            p = self.prox_r(z, gamma)
        elif prox == "exact":
            if not self.has_exact_prox:
                raise InvalidParameterError("prox", prox, f"'{self.name}' has no exact prox; use 'averaged'")
            p = self.prox_exact(z, gamma)
        elif prox == "averaged":
            p = self.prox_average(z, gamma)
        else:
            raise InvalidParameterError("prox", prox, "must be 'exact', 'averaged' or None")
        return mapping_np(x, g, z, p, gamma)

    def measure_eval(self, x):
        """NumPy twin of the compiled ``full_eval``: (F(x), G_{gamma_eval}(x))."""
        return self.objective(x), self.gradient_mapping(x)

    @property
    def composite(self) -> dict:
        """What ``signtheory problems --json`` shows under ``composite``."""
        return {
            "objective": "F = D + r",
            "regularizer": self.regularizer,
            "split": self.split,
            "prox_terms": self.prox_terms,
            "exact_prox": self.has_exact_prox,
            "measure": "gradient mapping G(x) = (x - P(x - gamma_eval grad D(x)))/gamma_eval, P = "
            + ("the averaged prox (1/K_r) sum_k prox_{gamma r_k}" if self.averaged_measure
               else "the exact prox_{gamma r}"),
            "measure_prox": "averaged" if self.averaged_measure else "exact",
            "gamma_eval": self.gamma_eval,
            "sample_gradients": "of D only (unbiased for grad D)",
            "value_reported": "F(x)",
        }

    def describe(self, with_constants: bool = True) -> dict:
        out = super().describe(with_constants)
        out["composite"] = self.composite
        return out


def huber_minimize(fun_grad_smooth, first, second, weight, starts, levels=(1e-2, 1e-4, 1e-6, 1e-8),
                   maxiter=2000):
    """Minimize D(x) + weight sum_p |x[first_p] - x[second_p]| approximately.

    |u| is replaced by its Huber smoothing with width eps (|u| - eps/2 <= h_eps(u) <= |u|),
    minimized by L-BFGS from each start with eps decreasing along ``levels`` (warm
    starts). Returns the points reached; the caller evaluates the true objective there,
    which gives an upper bound on its minimum."""
    first = np.asarray(first, dtype=np.int64)
    second = np.asarray(second, dtype=np.int64)
    out = []
    for x in starts:
        x = np.array(x, dtype=np.float64)
        for eps in levels:
            def fg(v, eps=eps):
                val, g = fun_grad_smooth(v)
                u = v[second] - v[first]
                a = np.abs(u)
                inner = a <= eps
                val += weight * float(np.sum(np.where(inner, 0.5 * u * u / eps, a - 0.5 * eps)))
                s = weight * np.where(inner, u / eps, np.sign(u))
                g = g + np.bincount(second, s, minlength=v.size) - np.bincount(first, s, minlength=v.size)
                return val, g

            res = minimize(fg, x, jac=True, method="L-BFGS-B", options={"maxiter": maxiter})
            x = res.x
        out.append(x)
    return out


def l1_split_minimize(fun_grad_smooth, weight, starts, maxiter=5000):
    """Minimize D(x) + weight ||x||_1 by L-BFGS-B on x = u - v, u, v >= 0, which is
    smooth with simple bounds. Returns the points reached."""
    out = []
    for x in starts:
        x = np.asarray(x, dtype=np.float64)
        d = x.size

        def fg(w, d=d):
            u, v = w[:d], w[d:]
            val, g = fun_grad_smooth(u - v)
            return val + weight * float(np.sum(w)), np.concatenate([g + weight, -g + weight])

        w0 = np.concatenate([np.maximum(x, 0.0), np.maximum(-x, 0.0)])
        res = minimize(fg, w0, jac=True, method="L-BFGS-B", bounds=[(0.0, None)] * (2 * d),
                       options={"maxiter": maxiter})
        out.append(res.x[:d] - res.x[d:])
    return out
