"""Majority-vote methods: n workers with their own data and randomness, a server,
and three backends (inline, processes, MPI) that give the same trajectories.

>>> from signtheory.voting import VOTING_METHODS
>>> sorted(VOTING_METHODS)[:2]
['dist-sgd', 'mv-signsgd']
"""

from .methods import VOTING_METHODS, SplitProblem, VotingMethod, resolve

BACKENDS = ("inline", "processes", "mpi")


def __getattr__(name):
    # the runner imports the engine, which imports the method registry that lists these
    # methods: load it on first use
    if name == "run_voting":
        from .runner import run_voting

        return run_voting
    raise AttributeError(name)


__all__ = ["BACKENDS", "VOTING_METHODS", "SplitProblem", "VotingMethod", "resolve", "run_voting"]
