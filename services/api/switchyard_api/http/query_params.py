"""Unknown query parameters are errors: `?labelselector=app=web` (a typo) must not silently
list every object."""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant

from ..errors import invalid


def _names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _names(sub)
    return names


async def known_query_parameters(request: Request) -> None:
    # async: a sync dependency costs every request a trip through the thread pool.
    if not request.scope.get("query_string"):
        return
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    unknown = sorted(set(request.query_params) - _names(dependant))
    if unknown:
        raise invalid(unknown[0], "unknown query parameter")
