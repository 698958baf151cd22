"""The methods: one module per algorithm, each a compiled loop plus its spec.

>>> from signtheory.methods import METHODS
>>> sorted(METHODS)[:3]
['sgd', 'signsgd', 'signum']
"""

from ..errors import UnknownNameError
from .base import Method
from .sgd import SGD
from .signsgd import SignSGD
from .signum import Signum
from .spec import Hyper, MethodSpec, Rate
from .ssvr import SSVR
from .storm import STORM
from .svrg import SVRG

METHODS = {cls.spec.name: cls() for cls in (SGD, SignSGD, Signum, STORM, SSVR, SVRG)}


def get_method(name) -> Method:
    if isinstance(name, Method):
        return name
    if name not in METHODS:
        raise UnknownNameError("method", name, METHODS)
    return METHODS[name]


__all__ = ["METHODS", "Hyper", "Method", "MethodSpec", "Rate", "get_method"]
