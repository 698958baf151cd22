"""The methods: one module per algorithm, each a compiled loop plus its spec.

>>> from signtheory.methods import METHODS
>>> sorted(METHODS)[:3]
['dist-sgd', 'ef-signsgd', 'mv-signsgd']
"""

from ..errors import UnknownNameError
from ..voting.methods import VOTING_METHODS  # majority-vote methods: defined beside their rounds
from .base import Method
from .ef_signsgd import EFSignSGD
from .sgd import SGD
from .signprox import SignProx
from .signrr import SignRR, SignRVM, SignRVR
from .signsgd import SignSGD
from .signsgd_sim import SignSGDSIM
from .signsvrg import SignSVRG
from .signum import Signum
from .spec import Hyper, MethodSpec, Rate
from .spgm import SPGM
from .spider import Spider
from .ssvr import SSVR
from .ssvr_fs import SSVRFS
from .storm import STORM
from .svrg import SVRG

METHODS = {cls.spec.name: cls() for cls in (SGD, SignSGD, Signum, STORM, SSVR, SVRG, SignRR, SignRVR, SignRVM)}
METHODS.update({cls.spec.name: cls() for cls in (EFSignSGD, SignSGDSIM, SignSVRG, Spider, SSVRFS)})
METHODS.update({cls.spec.name: cls() for cls in (SPGM, SignProx)})  # composite problems F = D + r
METHODS.update(VOTING_METHODS)


def get_method(name) -> Method:
    if isinstance(name, Method):
        return name
    if name not in METHODS:
        raise UnknownNameError("method", name, METHODS)
    return METHODS[name]


__all__ = ["METHODS", "Hyper", "Method", "MethodSpec", "Rate", "get_method"]
