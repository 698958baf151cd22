"""The majority-vote methods: each is a worker estimator, a worker message and a
server rule (see :mod:`signtheory.voting.rounds`), with its spec and schedule.

Citations and the provenance of each update, schedule and rate are in the specs
below and on each method's docs page.
"""

from __future__ import annotations

import math

from ..errors import IncompatibleProblemError, InvalidParameterError
from ..methods.base import ZERO_RULE, Method, ratio
from ..methods.spec import ANY_PROBLEM, Hyper, MethodSpec, Rate
from ..validation import (
    check_choice,
    check_fresh_weight,
    check_nonnegative_int,
    check_positive,
    check_positive_int,
)
from . import rounds

TIE_RULE = Hyper(
    "tie_rule",
    lambda n, v: check_choice(n, v, ("zero", "plus", "random")),
    "the vote's result on a tie (a zero sum): 'zero' (0, default), 'plus' (+1) or 'random' (+-1)",
    "zero",
)
BYZANTINE = Hyper("n_byzantine", check_nonnegative_int,
                  "number of blind adversarial workers, each sending its message negated (workers 1..k)", 0)
ETA = Hyper("eta", check_positive, "step size")
C_ETA = Hyper("c_eta", check_positive, "constant of the step schedule", 1.0)
BATCH = Hyper("B", check_positive_int, "per-worker batch")


class VotingMethod(Method):
    """A method run by n workers and a server; see :mod:`signtheory.voting.rounds`."""

    est: int
    msg: int
    server: int

    distributed = True

    def codes(self, hp) -> tuple[int, int, int]:
        """(estimator, message, server rule) codes for these hyperparameters."""
        return self.est, self.msg, self.server

    def check_problem(self, problem) -> None:
        super().check_problem(problem)
        if getattr(problem, "is_composite", False):
            raise IncompatibleProblemError(
                "problem", problem.name, f"method '{self.name}' does not handle a proximal part")

    def radius(self, hp) -> float:
        return hp.get("R", math.inf)

    def bits_per_round(self, hp, n: int, d: int) -> dict:
        """Bits sent per round: uplink (all workers together) and downlink."""
        est, msg, server = self.codes(hp)
        if msg == rounds.FULL:
            up = 64
        elif msg == rounds.SIGN and hp["zero_rule"] == "zero":
            up = 2  # values in {-1, 0, +1}
        elif msg == rounds.NORM_SCALED:
            up = 2  # the zero vector is a possible message
        else:
            up = 1
        if server == rounds.MEAN:
            down = 64
        elif server == rounds.MAJORITY and hp["tie_rule"] == "zero":
            down = 2
        else:
            down = 1
        return {"uplink_bits_per_round": up * d * n, "downlink_bits_per_round": down * d}

    def worker_uniforms(self, hp, d: int) -> int:
        _, msg, _ = self.codes(hp)
        if msg in (rounds.STOCHASTIC, rounds.NORM_SCALED, rounds.PROJECTED):
            return d
        if msg == rounds.SIGN and hp["zero_rule"] == "random":
            return d
        return 0

    def server_uniforms(self, hp, d: int) -> int:
        _, _, server = self.codes(hp)
        if server == rounds.SERVER_STOCHASTIC or (server == rounds.MAJORITY and hp["tie_rule"] == "random"):
            return d
        return 0

    def init_batch(self, hp) -> int:
        est, _, _ = self.codes(hp)
        return hp["B0"] if est == rounds.STORM else 0

    def calls_per_worker(self, hp, T: int) -> int:
        est, _, _ = self.codes(hp)
        if est == rounds.STORM:
            return hp["B0"] + 2 * hp["B"] * (T - 1)
        return hp["B"] * T

    def counters(self, hp, problem, T):
        return {}

    def reference(self, problem, hp, draws0, draws, T):  # pragma: no cover - see voting.reference
        raise NotImplementedError("use signtheory.voting.reference.trajectory")


def _G_inf(problem) -> float:
    G = problem.constants().get("G_inf")
    return math.inf if G is None else float(G)


class MVSignSGD(VotingMethod):
    est, msg, server = rounds.GRAD, rounds.SIGN, rounds.MAJORITY
    spec = MethodSpec(
        name="mv-signsgd",
        title="signSGD with majority vote",
        citation="J. Bernstein, J. Zhao, K. Azizzadenesheli, A. Anandkumar, signSGD with Majority Vote is "
        "Communication Efficient and Fault Tolerant, ICLR 2019, arXiv 1810.05291",
        setting="distributed, homogeneous (independent noise); 1 bit up and down",
        accepts=ANY_PROBLEM,
        hyper=(ETA, BATCH, C_ETA, ZERO_RULE, TIE_RULE, BYZANTINE),
        schedule="eta = c_eta (L d T)^-1/2, B = T per worker",
        rate=Rate("l1", "O(d^{1/2} (1 + sigma n^{-1/2}) T^{-1/2})", {"T": -0.5, "N": -0.25, "d": 0.5}),
        oracle_calls="N_w = B T per worker",
        provenance="the vote and its fault tolerance stated in the abstract; constants and schedule "
        "reconstructed; biased under heterogeneous data (no guarantee there)",
    )

    def schedule(self, problem, T, hp):
        L = problem.constants()["L"]
        return {"eta": hp["c_eta"] * ratio(1.0, math.sqrt(L * problem.d * T)), "B": T}


class SignumMV(VotingMethod):
    est, msg, server = rounds.MOMENTUM, rounds.SIGN, rounds.MAJORITY
    spec = MethodSpec(
        name="signum-mv",
        title="Signum with majority vote",
        citation="J. Bernstein, J. Zhao, K. Azizzadenesheli, A. Anandkumar, ICLR 2019, arXiv 1810.05291 "
        "(the authors' momentum form)",
        setting="distributed, homogeneous; momentum kept by each worker",
        accepts=ANY_PROBLEM,
        hyper=(ETA, Hyper("beta", check_fresh_weight, "weight of the fresh gradient"), BATCH, C_ETA,
               ZERO_RULE, TIE_RULE, BYZANTINE),
        schedule="beta = T^-1/2, eta = c_eta d^-1/2 T^-3/4, B = 1",
        rate=Rate("l1", "O(d^{1/2} T^{-1/4})", {"T": -0.25, "N": -0.25, "d": 0.5}),
        oracle_calls="N_w = B T per worker",
        provenance="momentum form as in the authors' code; schedule and rate derived as for Signum",
    )

    def schedule(self, problem, T, hp):
        return {"beta": min(1.0, T ** -0.5), "eta": hp["c_eta"] * problem.d ** -0.5 * T ** -0.75, "B": 1}


class SSDM(VotingMethod):
    est, msg = rounds.MOMENTUM, rounds.NORM_SCALED
    spec = MethodSpec(
        name="ssdm",
        title="SSDM (stochastic sign descent with momentum)",
        citation="M. Safaryan, P. Richtarik, Stochastic Sign Descent Methods: New Algorithms and Better "
        "Theory, ICML 2021, arXiv 1905.12938",
        setting="distributed, homogeneous (every worker unbiased for the same f)",
        accepts=ANY_PROBLEM,
        hyper=(ETA, Hyper("beta", check_fresh_weight, "weight of the fresh gradient"), BATCH,
               Hyper("server_rule", lambda n, v: check_choice(n, v, ("mean", "vote")),
                     "'mean' (average of the worker bits, default) or 'vote' (majority)", "mean"),
               C_ETA, ZERO_RULE, TIE_RULE, BYZANTINE),
        schedule="beta = T^-1/2, eta = c_eta d^-1/4 T^-3/4, B = 1",
        rate=Rate("l2", "O(d^{1/4} T^{-1/4})", {"T": -0.25, "N": -0.25, "d": 0.25}),
        oracle_calls="N_w = B T per worker",
        provenance="norm-scaled stochastic sign and the Euclidean rate stated in the abstract; the "
        "homogeneity requirement stated in the published correction; server rule and schedule "
        "reconstructed; d-scaling derived",
    )

    def codes(self, hp):
        return self.est, self.msg, rounds.MEAN if hp["server_rule"] == "mean" else rounds.MAJORITY

    def schedule(self, problem, T, hp):
        return {"beta": min(1.0, T ** -0.5), "eta": hp["c_eta"] * problem.d ** -0.25 * T ** -0.75, "B": 1}


class StoSignSGD(VotingMethod):
    est, msg, server = rounds.GRAD, rounds.STOCHASTIC, rounds.MAJORITY
    spec = MethodSpec(
        name="sto-signsgd",
        title="Sto-signSGD (stochastic sign, majority vote)",
        citation="R. Jin, Y. Huang, X. He, H. Dai, T. Wu, Stochastic-Sign SGD for Federated Learning with "
        "Theoretical Guarantees, arXiv 2002.10940, 2020",
        setting="distributed, heterogeneous; bounded gradients (R >= G_inf)",
        accepts=ANY_PROBLEM,
        hyper=(ETA, Hyper("R", check_positive, "radius of the stochastic sign S_R"), BATCH, C_ETA,
               ZERO_RULE, TIE_RULE, BYZANTINE),
        schedule="eta = c_eta (d T)^-1/2, R = G_inf (of the workers), B = 1",
        rate=Rate("l1", "O(d^{1/2} T^{-1/2} + R d n^{-1/2}) at fixed R",
                  {"T": -0.5, "N": -0.5, "d": 0.5}, floor="2 R d n^{-1/2}"),
        oracle_calls="N_w = B T per worker",
        provenance="compressor stated in the abstract and public code; the d^{3/8} T^{-1/8} rate's "
        "schedule unknown: the fixed-R bound is derived",
    )

    def schedule(self, problem, T, hp):
        return {"eta": hp["c_eta"] * (problem.d * T) ** -0.5, "R": _G_inf(problem),
                "B": 1}


class MVSignSGDSIM(VotingMethod):
    msg, server = rounds.STOCHASTIC, rounds.MAJORITY
    spec = MethodSpec(
        name="mv-signsgd-sim",
        title="MV-signSGD-SIM (momentum workers, majority vote)",
        citation="T. Sun, Q. Wang, D. Li, B. Wang, Momentum Ensures Convergence of SIGNSGD under Weaker "
        "Assumptions, ICML 2023, PMLR 202:33077-33099 (majority-vote extension); its rate as reported by "
        "W. Jiang et al., arXiv 2406.00489",
        setting="distributed, heterogeneous; bounded gradients",
        accepts=ANY_PROBLEM,
        hyper=(ETA, Hyper("beta", check_fresh_weight, "weight of the fresh gradient"),
               Hyper("R", check_positive, "radius of the stochastic sign S_R"), BATCH,
               Hyper("variant", lambda n, v: check_choice(n, v, ("sim", "momentum")),
                     "'sim' (extrapolated momentum, default) or 'momentum'", "sim"),
               Hyper("worker_sign", lambda n, v: check_choice(n, v, ("stochastic", "deterministic")),
                     "'stochastic' (S_R, default) or 'deterministic' (sign)", "stochastic"),
               C_ETA, ZERO_RULE, TIE_RULE, BYZANTINE),
        schedule="sim: beta = T^-4/7, eta = c_eta d^-1/2 T^-5/7; momentum: beta = T^-1/2, "
        "eta = c_eta d^-1/2 T^-3/4; R = G_inf, B = 1",
        rate=Rate("l1", "O(d T^{-1/4} + d n^{-1/2})", {"T": -0.25, "N": -0.25, "d": 1.0},
                  floor="2 R d n^{-1/2}"),
        oracle_calls="N_w = B T per worker",
        provenance="rate stated in the SSVR abstract as a previous result; the attribution, the worker "
        "sign and the schedule reconstructed",
    )

    def codes(self, hp):
        est = rounds.SIM if hp["variant"] == "sim" else rounds.MOMENTUM
        return est, rounds.STOCHASTIC if hp["worker_sign"] == "stochastic" else rounds.SIGN, self.server

    def schedule(self, problem, T, hp):
        d = problem.d
        if hp["variant"] == "sim":
            beta, eta = T ** (-4 / 7), d ** -0.5 * T ** (-5 / 7)
        else:
            beta, eta = T ** -0.5, d ** -0.5 * T ** -0.75
        return {"beta": min(1.0, beta), "eta": hp["c_eta"] * eta, "R": _G_inf(problem),
                "B": 1}


class SSVRMV(VotingMethod):
    est = rounds.STORM
    spec = MethodSpec(
        name="ssvr-mv",
        title="SSVR-MV (SSVR workers, 1-bit messages both ways), options 1 and 2",
        citation="W. Jiang, S. Yang, W. Yang, L. Zhang, Efficient Sign-Based Optimization: Accelerating "
        "Convergence via Variance Reduction, NeurIPS 2024, arXiv 2406.00489 (Algorithm 3, Theorems 3-4)",
        setting="distributed, heterogeneous; option 1: bounded l-inf gradients G_inf; option 2: bounded "
        "l2 gradients G_2",
        accepts=ANY_PROBLEM,
        hyper=(ETA, Hyper("beta", check_fresh_weight, "weight of the fresh gradient"),
               Hyper("R", check_positive, "radius of S_R (and of the projection, option 2)"),
               Hyper("B0", check_positive_int, "initial batch per worker"), BATCH,
               Hyper("option", lambda n, v: check_choice(n, v, (1, 2)),
                     "1: S_R worker signs and a majority vote (Theorem 3, a floor in n); 2 (default): "
                     "projected S_R worker signs and a stochastic server sign (Theorem 4)", 2),
               Hyper("projection", lambda n, v: check_choice(n, v, ("l2_ball", "linf_clip")),
                     "option 2: 'l2_ball' (project onto the l2 ball of radius R, default) or 'linf_clip'",
                     "l2_ball"),
               Hyper("server_rule", lambda n, v: check_choice(n, v, ("stochastic", "majority", "mean")),
                     "option 2: 'stochastic' (S_1 of the mean, default), 'majority' or 'mean' (not 1-bit)",
                     "stochastic"),
               C_ETA, ZERO_RULE, TIE_RULE, BYZANTINE),
        schedule="option 1: beta = 1/2, eta = c_eta (d T)^-1/2, R = 4 G_inf, B0 = B = 1; option 2: "
        "beta = T^-1/2, eta = c_eta (d T)^-1/2, R = G_2 = sqrt(d) G_inf (of the workers), B0 = B = 1",
        rate=Rate("l2", "option 2: O(d^{1/4} T^{-1/4}) in l2; option 1: O(d^{1/2} T^{-1/2} + d n^{-1/2}) "
                  "in l1", {"T": -0.25, "N": -0.25, "d": 0.25}),
        oracle_calls="N_w = B0 + 2 B (T - 1) per worker",
        provenance="rates stated in the abstract; option 1's structure (stochastic worker signs, "
        "deterministic vote, beta = 1/2, R = 4 G) and option 2's l2 measure, stochastic signs on both "
        "sides and projection stated in the follow-up paper; option 2's server rule, radius, beta and eta "
        "reconstructed; constants derived",
    )
    OPTION_RATES = {
        1: Rate("l1", "O(d^{1/2} T^{-1/2} + d n^{-1/2})", {"T": -0.5, "N": -0.5, "d": 0.5},
                floor="8 G_inf d n^{-1/2}"),
        2: Rate("l2", "O(d^{1/4} T^{-1/4})", {"T": -0.25, "N": -0.25, "d": 0.25}),
    }

    def codes(self, hp):
        if hp["option"] == 1:
            return self.est, rounds.STOCHASTIC, rounds.MAJORITY
        msg = rounds.PROJECTED if hp["projection"] == "l2_ball" else rounds.STOCHASTIC
        server = {"stochastic": rounds.SERVER_STOCHASTIC, "majority": rounds.MAJORITY,
                  "mean": rounds.MEAN}[hp["server_rule"]]
        return self.est, msg, server

    def schedule(self, problem, T, hp):
        eta = hp["c_eta"] * (problem.d * T) ** -0.5
        if hp["option"] == 1:
            return {"beta": 0.5, "eta": eta, "R": 4.0 * _G_inf(problem), "B0": 1, "B": 1}
        return {"beta": min(1.0, T ** -0.5), "eta": eta, "R": math.sqrt(problem.d) * _G_inf(problem),
                "B0": 1, "B": 1}


class DistSGD(VotingMethod):
    est, msg, server = rounds.GRAD, rounds.FULL, rounds.MEAN
    spec = MethodSpec(
        name="dist-sgd",
        title="distributed SGD (full-precision reference)",
        citation="S. Ghadimi, G. Lan, Stochastic First- and Zeroth-order Methods for Nonconvex Stochastic "
        "Programming, SIAM J. Optim. 23(4), 2013, arXiv 1309.5549 (minibatch SGD, the batch spread over n "
        "workers and averaged by a parameter server)",
        setting="distributed; workers send their full gradients, the server averages",
        accepts=ANY_PROBLEM,
        hyper=(ETA, BATCH, C_ETA, Hyper("n_byzantine", check_nonnegative_int,
                                         "number of workers sending their gradient negated", 0)),
        schedule="B = 1, eta = c_eta min{1/L, (2 Delta n / (L sigma^2 T))^1/2}",
        rate=Rate("l2", "O((L Delta sigma^2 / (n T))^{1/4} + (L Delta / T)^{1/2})", {"T": -0.25, "N": -0.25}),
        oracle_calls="N_w = B T per worker",
        provenance="standard",
    )

    def bits_per_round(self, hp, n, d):
        return {"uplink_bits_per_round": 64 * d * n, "downlink_bits_per_round": 64 * d}

    def schedule(self, problem, T, hp):
        c = problem.constants()
        L, sigma, delta = c["L"], c.get("sigma") or 0.0, c["delta"]
        n = getattr(problem, "n", 1)
        eta = ratio(1.0, L)
        if sigma > 0:
            eta = min(eta, math.sqrt(ratio(2 * delta * n, L * sigma**2 * T)))
        return {"eta": hp["c_eta"] * eta, "B": 1}

    def worker_uniforms(self, hp, d):
        return 0

    def server_uniforms(self, hp, d):
        return 0


VOTING_METHODS = {cls.spec.name: cls() for cls in (MVSignSGD, SignumMV, SSDM, StoSignSGD, MVSignSGDSIM,
                                                     SSVRMV, DistSGD)}


class SplitProblem:
    """The global problem seen through a worker split: every attribute is the global
    problem's, ``n`` and ``workers`` are the split's, and ``constants()`` adds the
    workers' constants (``G_inf`` becomes the largest per-worker bound)."""

    def __init__(self, workers):
        self.workers = workers
        self.problem = workers.problem
        self.n = workers.n

    def __getattr__(self, name):
        return getattr(self.problem, name)

    def constants(self) -> dict:
        c = dict(self.problem.constants())
        w = self.workers.constants()
        if w.get("G_inf") is not None:
            c["G_inf"] = w["G_inf"]
        c["workers"] = w
        return c


def resolve(method: VotingMethod, workers, T: int, overrides: dict | None = None) -> dict:
    """Every hyperparameter of a voting method: its schedule for (T, d, n) with the
    workers' constants, then the overrides, each validated."""
    try:
        hp = method.resolve(SplitProblem(workers), T, overrides)
    except InvalidParameterError as exc:
        if exc.parameter != "R" or exc.value != math.inf:
            raise
        note = workers.constants().get("G_inf_note") or "no bound known"
        raise InvalidParameterError(
            "R", exc.value, "must be a finite real number > 0; the schedule sets R from the workers' "
            f"l-inf gradient bound G_inf, which this problem does not have ({note}): give R "
            "explicitly (e.g. R=1.0, or --set R=1.0)") from None
    if hp.get("n_byzantine", 0) >= workers.n:
        raise InvalidParameterError("n_byzantine", hp["n_byzantine"],
                                    f"an integer below the number of workers n = {workers.n}")
    return hp


def zero_rules(hp) -> tuple[int, int]:
    from ..ops import zero_rule_code

    return zero_rule_code(hp.get("zero_rule", "zero")), zero_rule_code(hp.get("tie_rule", "zero"))


__all__ = ["VOTING_METHODS", "SplitProblem", "VotingMethod", "resolve", "zero_rules"]
