"""The node agent's reconciler (in the spirit of Ligato's KV scheduler)."""

from .core import Reconciler
from .ordering import dependency_order
from .passes import ApplyObserver
from .result import ApplyResult, Failure, Waiting
from .retry import RetryPolicy
from .state import ObjectState, Status

__all__ = [
    "ApplyObserver",
    "ApplyResult",
    "Failure",
    "ObjectState",
    "Reconciler",
    "RetryPolicy",
    "Status",
    "Waiting",
    "dependency_order",
]
