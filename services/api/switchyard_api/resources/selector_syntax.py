"""Kubernetes label-selector strings: `a=b,c!=d,e in (x,y),f notin (z),g,!h`."""

from __future__ import annotations

import re

from pydantic import ValidationError

from . import patterns
from .common import LabelSelector, LabelSelectorRequirement, Operator

_SET = re.compile(r"^(?P<key>[^\s!=(),]+)\s+(?P<op>in|notin)\s*\((?P<values>[^()]*)\)$")
_EQUALITY = re.compile(r"^(?P<key>[^\s!=(),]+)\s*(?P<op>==|=|!=)\s*(?P<value>[^\s!=(),]*)$")
_EXISTS = re.compile(r"^(?P<neg>!)?\s*(?P<key>[^\s!=(),]+)$")


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise ValueError("unbalanced ')'")
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if depth:
        raise ValueError("unbalanced '('")
    parts.append("".join(current))
    return [p.strip() for p in parts]


def parse_label_selector(text: str) -> LabelSelector:
    """Raises ValueError with a precise message on bad syntax."""
    requirements: list[LabelSelectorRequirement] = []
    if text.strip():
        for term in _split_top_level(text):
            if not term:
                raise ValueError("empty requirement")
            requirements.append(_parse_term(term))
    if not patterns.matches(patterns.LABEL_SELECTOR, text):
        # Parsed, yet not the published grammar: whitespace other than spaces and tabs (the
        # parser strips any).
        raise ValueError("not a label selector: only spaces and tabs may separate its parts")
    return LabelSelector(matchExpressions=requirements)


def _parse_term(term: str) -> LabelSelectorRequirement:
    try:
        if match := _SET.match(term):
            values = [v.strip() for v in match["values"].split(",")]
            operator: Operator = "In" if match["op"] == "in" else "NotIn"
            return LabelSelectorRequirement(key=match["key"], operator=operator, values=values)
        if match := _EQUALITY.match(term):
            operator = "NotIn" if match["op"] == "!=" else "In"
            return LabelSelectorRequirement(
                key=match["key"], operator=operator, values=[match["value"]]
            )
        if match := _EXISTS.match(term):
            operator = "DoesNotExist" if match["neg"] else "Exists"
            return LabelSelectorRequirement(key=match["key"], operator=operator)
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise ValueError(f"{term!r}: {reason}") from None
    raise ValueError(f"{term!r} is not a label requirement")
