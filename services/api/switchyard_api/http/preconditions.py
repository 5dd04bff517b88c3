"""ETag, If-Match and If-None-Match."""

from __future__ import annotations

import re

from ..errors import bad_request
from ..writes import Preconditions


def etag(resource_version: int | str) -> str:
    return f'"{resource_version}"'


def _unquote(tag: str) -> str:
    tag = tag.strip()
    if tag.startswith("W/"):
        tag = tag[2:]
    return tag.strip('"')


# One entity tag of a resourceVersion (as ETag sends it, weak or bare too), or *.
IF_MATCH_PATTERN = r'^(\*|(W/)?"[0-9]+"|[0-9]+)$'


def parse_preconditions(if_match: str | None, if_none_match: str | None) -> Preconditions:
    wanted: str | None = None
    if if_match is not None:
        if re.fullmatch(IF_MATCH_PATTERN, if_match.strip()) is None:
            raise bad_request("If-Match must carry exactly one entity tag (a resourceVersion) or *")
        wanted = _unquote(if_match)
    if if_none_match is not None and if_none_match.strip() != "*":
        raise bad_request("only If-None-Match: * is supported (create-only)")
    return Preconditions(if_match=wanted, if_none_match_any=if_none_match is not None)
