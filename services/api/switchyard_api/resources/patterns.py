"""The regular expressions the server checks and the OpenAPI schema publishes: one source, so
that a generated SDK validates exactly what the server accepts.

Every pattern is anchored, uses only what ECMA-262 and Python's `re` read alike (no lookaround,
no `\\s`), and is applied server-side with `fullmatch` (Python's `$` would let a trailing
newline through)."""

from __future__ import annotations

import re

DNS1123_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS1123_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
MAX_LABEL = 63
MAX_SUBDOMAIN = 253

# Kubernetes qualified name: an optional DNS-1123 subdomain prefix and "/", then at most 63
# alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric.
_NAME_PART = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
_PREFIX = DNS1123_SUBDOMAIN[1:-1]
LABEL_NAME = f"^{_NAME_PART}$"
LABEL_KEY = f"^({_PREFIX}/)?{_NAME_PART}$"
# The prefix's length, which the shape above cannot bound (its labels repeat freely).
LABEL_KEY_LENGTHS = r"^([^/]{1,253}/)?[^/]{1,63}$"
LABEL_VALUE = f"^({_NAME_PART})?$"

# Addresses, after RFC 3986's IPv6address (no zone index) and dotted-quad IPv4 without
# leading zeros: what Python's ipaddress accepts, less the forms intent has no use for.
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])"
_IPV4 = rf"{_OCTET}(\.{_OCTET}){{3}}"
_H16 = r"[0-9A-Fa-f]{1,4}"
_LS32 = rf"({_H16}:{_H16}|{_IPV4})"


def _ipv6() -> str:
    forms = [rf"({_H16}:){{6}}{_LS32}", rf"::({_H16}:){{5}}{_LS32}"]
    # [ *(n-1)( h16 ":" ) h16 ] "::" tail, for the tails of RFC 3986 (section 3.2.2).
    tails = [rf"({_H16}:){{4}}{_LS32}", rf"({_H16}:){{3}}{_LS32}", rf"({_H16}:){{2}}{_LS32}"]
    tails += [rf"{_H16}:{_LS32}", _LS32, _H16, ""]
    for before, tail in enumerate(tails):
        head = _H16 if before == 0 else rf"(({_H16}:){{0,{before}}}{_H16})"
        forms.append(rf"({head})?::{tail}")
    return "(" + "|".join(forms) + ")"


_IPV6 = _ipv6()
IPV4 = f"^{_IPV4}$"
IPV6 = f"^{_IPV6}$"
IP = f"^({_IPV4}|{_IPV6})$"
# A prefix length without leading zeros: 0-32 for IPv4, 0-128 for IPv6.
CIDR = rf"^({_IPV4}/(3[0-2]|[12]?[0-9])|{_IPV6}/(12[0-8]|1[01][0-9]|[1-9]?[0-9]))$"


def _selector() -> str:
    """Kubernetes label-selector strings: `a=b,c!=d,e in (x,y),f notin (z),g,!h`."""
    key, value, gap = LABEL_KEY[1:-1], LABEL_VALUE[1:-1], "[ \t]*"
    # The counts (256 values, 256 requirements) are checked apart: a counted repetition of
    # this size is too large for the validators' regex engines.
    values = f"{value}({gap},{gap}{value})*"
    term = (
        f"({key}[ \t]+(in|notin){gap}\\({gap}{values}{gap}\\)"
        f"|{key}{gap}(==|=|!=){gap}{value}"
        f"|(!{gap})?{key})"
    )
    return f"^{gap}({term}({gap},{gap}{term})*)?{gap}$"


LABEL_SELECTOR = _selector()


def matches(pattern: str, value: str) -> bool:
    return re.fullmatch(pattern, value) is not None


# Free text: anything but NUL (PostgreSQL cannot store it).
SAFE_TEXT = "^[^\\x00]*$"
