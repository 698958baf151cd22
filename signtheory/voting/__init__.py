"""Majority-vote methods: n workers with their own data and randomness, a server,
and three backends (inline, processes, MPI) that give the same trajectories.

>>> from signtheory.voting import VOTING_METHODS
>>> sorted(VOTING_METHODS)[:2]
['dist-sgd', 'mv-signsgd']
"""

from .methods import VOTING_METHODS, SplitProblem, VotingMethod, resolve
from .runner import BACKENDS, run_voting

__all__ = ["BACKENDS", "VOTING_METHODS", "SplitProblem", "VotingMethod", "resolve", "run_voting"]
