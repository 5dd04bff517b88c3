"""Shared pieces of every resource schema: metadata, label selectors, address validators."""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    PlainValidator,
    WithJsonSchema,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from . import patterns
from .locations import at

API_VERSION = "switchyard.io/v1"

_DNS1123_LABEL = re.compile(patterns.DNS1123_LABEL)
_DNS1123_SUBDOMAIN = re.compile(patterns.DNS1123_SUBDOMAIN)
_LABEL_NAME = re.compile(patterns.LABEL_NAME)
_IANA_SVC_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")

# Size limits, modelled on Kubernetes' (docs/operations.md lists them all).
MAX_LABELS = 256  # labels per object, and expressions per selector
MAX_SELECTOR_VALUES = 256  # values of one In/NotIn expression
MAX_ANNOTATIONS = 1024
MAX_ANNOTATION_CHARS = 256 * 1024  # Kubernetes: 256 KiB of keys and values together
MAX_LIST_ITEMS = 1000  # endpoints per slice (as Kubernetes), fixed LB backends
MAX_PORTS = 100  # ports per EndpointSlice (as Kubernetes) or Service


def check_safe_text(value: str) -> str:
    """Text PostgreSQL can store and every response can encode: no NUL, no lone surrogate
    (Python's JSON parser accepts "\\ud800"; UTF-8 cannot encode it)."""
    if "\x00" in value:
        raise ValueError(f"must not contain NUL (U+0000), found at position {value.index(chr(0))}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"must be valid Unicode: lone surrogate U+{ord(value[exc.start]):04X} "
            f"at position {exc.start}"
        ) from None
    return value


class _SafeTextSchema:
    """Publishes "no NUL" unless a stricter pattern is given (constraints of the field stay)."""

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema.setdefault("pattern", patterns.SAFE_TEXT)
        return schema


# Every string of every request model is a SafeStr (or a type built on it).
SafeStr = Annotated[str, AfterValidator(check_safe_text), _SafeTextSchema()]


def check_dns1123_label(value: str) -> str:
    if len(value) > 63 or not _DNS1123_LABEL.fullmatch(value):
        raise ValueError(
            "must be a DNS-1123 label: at most 63 lower-case alphanumerics or '-', "
            "starting and ending with an alphanumeric"
        )
    return value


def check_dns1123_subdomain(value: str) -> str:
    if len(value) > 253 or not _DNS1123_SUBDOMAIN.fullmatch(value):
        raise ValueError(
            "must be a DNS-1123 subdomain: at most 253 lower-case alphanumerics, '-' or '.', "
            "starting and ending with an alphanumeric"
        )
    return value


def check_label_key(key: str) -> str:
    prefix, _, name = key.rpartition("/")
    if "/" in key and not prefix:
        raise ValueError(f"label key {key!r}: prefix must not be empty")
    if prefix:
        check_dns1123_subdomain(prefix)
    if len(name) > 63 or not _LABEL_NAME.fullmatch(name):
        raise ValueError(
            f"label key {key!r}: name part must be at most 63 alphanumerics, '-', '_' or '.', "
            "starting and ending with an alphanumeric"
        )
    return key


def check_label_value(value: str) -> str:
    if value and (len(value) > 63 or not _LABEL_NAME.fullmatch(value)):
        raise ValueError(
            f"label value {value!r} must be empty or at most 63 alphanumerics, '-', '_' or '.', "
            "starting and ending with an alphanumeric"
        )
    return value


def check_labels(labels: dict[str, str]) -> dict[str, str]:
    for key, value in labels.items():
        check_label_key(key)
        check_label_value(value)
    return labels


def check_annotations(annotations: dict[str, str]) -> dict[str, str]:
    for key in annotations:
        check_label_key(key)
    if sum(len(k) + len(v) for k, v in annotations.items()) > MAX_ANNOTATION_CHARS:
        raise ValueError(f"annotations may hold at most {MAX_ANNOTATION_CHARS} characters in total")
    return annotations


def check_port_name(value: str) -> str:
    """IANA service name, as Kubernetes requires for named ports."""
    if len(value) > 15 or not _IANA_SVC_NAME.fullmatch(value) or "--" in value:
        raise ValueError(
            f"{value!r} is not a valid port name: at most 15 lower-case alphanumerics or '-', "
            "no '--', starting and ending with an alphanumeric"
        )
    if not any(c.isalpha() for c in value):
        raise ValueError(f"{value!r} is not a valid port name: needs at least one letter")
    return value


def _is_canonical_ipv4(value: str) -> bool:
    """Dotted quad without leading zeros: what ipaddress accepts and prints unchanged. Bulk
    endpoint writes validate hundreds of addresses per request; this is ~10x cheaper."""
    parts = value.split(".")
    return len(parts) == 4 and all(
        0 < len(p) <= 3
        and p.isdigit()
        and p.isascii()
        and (p == "0" or p[0] != "0")
        and int(p) <= 255
        for p in parts
    )


@functools.lru_cache(maxsize=65_536)
def _canonical_ip(value: str) -> str:
    if _is_canonical_ipv4(value):  # a subset of patterns.IP
        return value
    # The published pattern first (no zone index, no leading zeros), then normalisation.
    if not patterns.matches(patterns.IP, value):
        raise ValueError(value)
    return str(ipaddress.ip_address(value))


def check_ip(value: str) -> str:
    try:
        return _canonical_ip(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a valid IPv4 or IPv6 address") from None


def check_cidr(value: str) -> str:
    if "/" not in value:
        raise ValueError(f"{value!r} is not a CIDR: it needs a prefix length, e.g. {value}/32")
    if not patterns.matches(patterns.CIDR, value):
        raise ValueError(
            f"{value!r} is not a valid CIDR: an IPv4 or IPv6 address, '/' and a prefix length "
            "(0-32 or 0-128, no leading zeros)"
        )
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid CIDR: {exc}") from None


@functools.lru_cache(maxsize=65_536)
def ip_family(value: str) -> int:
    """4 or 6 for an address or a CIDR."""
    if _is_canonical_ipv4(value):
        return 4
    return ipaddress.ip_network(value, strict=False).version


def check_distinct_families(values: list[str], what: str) -> list[str]:
    families = [ip_family(v) for v in values]
    if len(set(families)) != len(families):
        raise ValueError(f"{what} may hold at most one address per IP family")
    return values


def check_no_duplicates(values: list[Any], what: str) -> None:
    seen: set[Any] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"duplicate {what} {value!r}")
        seen.add(value)


def check_port_or_name(value: object) -> int | str:
    """A port number, or a named port. One rule, so that one problem is one error: a string of
    digits is neither (Kubernetes rejects "8080" too)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("must be a port number (1-65535) or a port name")
    if isinstance(value, int):
        if not 1 <= value <= 65535:
            raise ValueError(f"{value} is not a port number: must be 1-65535")
        return value
    if value.isdigit():
        raise ValueError(
            f"{value!r} is a string of digits: neither a port number (send {int(value)} as a "
            "number) nor a port name (which needs a letter)"
        )
    return check_port_name(check_safe_text(value))


PORT_OR_NAME_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "integer", "minimum": 1, "maximum": 65535},
        {
            "type": "string",
            "maxLength": 15,
            "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$",
            "allOf": [{"pattern": "^[a-z0-9-]*[a-z][a-z0-9-]*$"}],
        },
    ],
    "description": "a port number, or a named container port (IANA service name)",
}


def string_schema(pattern: str, description: str = "", **facets: Any) -> WithJsonSchema:
    """The published schema of a checked string: the pattern the check applies."""
    schema: dict[str, Any] = {"type": "string", "pattern": pattern, **facets}
    if description:
        schema["description"] = description
    return WithJsonSchema(schema)


NAME_SCHEMA = string_schema(patterns.DNS1123_LABEL, maxLength=patterns.MAX_LABEL)
Name = Annotated[SafeStr, AfterValidator(check_dns1123_label), NAME_SCHEMA]
IPAddress = Annotated[
    SafeStr, AfterValidator(check_ip), string_schema(patterns.IP, "an IPv4 or IPv6 address")
]
IPv4Address = Annotated[
    SafeStr, AfterValidator(check_ip), string_schema(patterns.IPV4, "an IPv4 address")
]
IPv6Address = Annotated[
    SafeStr, AfterValidator(check_ip), string_schema(patterns.IPV6, "an IPv6 address")
]
CIDR = Annotated[
    SafeStr,
    AfterValidator(check_cidr),
    string_schema(patterns.CIDR, "an IPv4 or IPv6 prefix; the host bits must be zero"),
]
Port = Annotated[int, Field(ge=1, le=65535)]
# IANA service name: alphanumeric runs joined by single '-', at least one letter.
PORT_NAME_SCHEMA: dict[str, Any] = {
    "type": "string",
    "maxLength": 15,
    "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$",
    "allOf": [{"pattern": "^[a-z0-9-]*[a-z][a-z0-9-]*$"}],
}
PortName = Annotated[SafeStr, AfterValidator(check_port_name), WithJsonSchema(PORT_NAME_SCHEMA)]
PortOrName = Annotated[
    int | str, PlainValidator(check_port_or_name), WithJsonSchema(PORT_OR_NAME_SCHEMA)
]
Protocol = Literal["TCP", "UDP", "SCTP"]
Operator = Literal["In", "NotIn", "Exists", "DoesNotExist"]
LABEL_KEY_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": patterns.LABEL_KEY,
    "allOf": [{"pattern": patterns.LABEL_KEY_LENGTHS}],
    "maxLength": patterns.MAX_SUBDOMAIN + 1 + patterns.MAX_LABEL,
}
LABEL_VALUE_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": patterns.LABEL_VALUE,
    "maxLength": patterns.MAX_LABEL,
}
LabelKey = Annotated[SafeStr, AfterValidator(check_label_key), WithJsonSchema(LABEL_KEY_SCHEMA)]
LabelValue = Annotated[
    SafeStr, AfterValidator(check_label_value), WithJsonSchema(LABEL_VALUE_SCHEMA)
]
Labels = Annotated[
    dict[SafeStr, SafeStr],
    Field(max_length=MAX_LABELS),
    AfterValidator(check_labels),
    WithJsonSchema(
        {
            "type": "object",
            "maxProperties": MAX_LABELS,
            "propertyNames": LABEL_KEY_SCHEMA,
            "additionalProperties": LABEL_VALUE_SCHEMA,
        }
    ),
]
Annotations = Annotated[
    dict[SafeStr, SafeStr],
    Field(max_length=MAX_ANNOTATIONS),
    AfterValidator(check_annotations),
    WithJsonSchema(
        {
            "type": "object",
            "maxProperties": MAX_ANNOTATIONS,
            "propertyNames": LABEL_KEY_SCHEMA,
            "additionalProperties": {"type": "string", "pattern": patterns.SAFE_TEXT},
            "description": f"keys and values at most {MAX_ANNOTATION_CHARS} characters in total",
        }
    ),
]
ASN = Annotated[int, Field(ge=1, le=4294967295)]


def check_resource_version(value: str) -> str:
    if not value.isascii() or not (value.isdigit() or value == ""):
        raise ValueError(f"{value!r} is not a resourceVersion: the digits this API returned")
    return value


ResourceVersion = Annotated[
    SafeStr, AfterValidator(check_resource_version), string_schema("^[0-9]*$")
]


class StrictModel(BaseModel):
    """Unknown fields are errors: a typo in intent must never be silently dropped. No lax
    coercion either: "80" where a number belongs is an error, not 80."""

    model_config = ConfigDict(extra="forbid", strict=True)


# The schema of the rule _values_fit_operator checks.
_VALUES_FIT_OPERATOR: dict[str, Any] = {
    "if": {"properties": {"operator": {"enum": ["In", "NotIn"]}}},
    "then": {"required": ["values"], "properties": {"values": {"minItems": 1}}},
    "else": {"properties": {"values": {"maxItems": 0}}},
}


class LabelSelectorRequirement(StrictModel):
    model_config = ConfigDict(json_schema_extra=_VALUES_FIT_OPERATOR)

    key: LabelKey
    operator: Operator
    values: list[LabelValue] = Field(default_factory=list, max_length=MAX_SELECTOR_VALUES)

    @model_validator(mode="after")
    def _values_fit_operator(self) -> LabelSelectorRequirement:
        if self.operator in ("In", "NotIn") and not self.values:
            raise at("values", f"operator {self.operator} needs at least one value")
        if self.operator in ("Exists", "DoesNotExist") and self.values:
            raise at("values", f"operator {self.operator} takes no values")
        return self


class LabelSelector(StrictModel):
    """Kubernetes label selector: all of matchLabels and matchExpressions must hold."""

    matchLabels: Labels = Field(default_factory=dict)
    matchExpressions: list[LabelSelectorRequirement] = Field(
        default_factory=list, max_length=MAX_LABELS
    )

    def matches(self, labels: Mapping[str, str]) -> bool:
        for key, value in self.matchLabels.items():
            if labels.get(key) != value:
                return False
        for req in self.matchExpressions:
            present = req.key in labels
            if req.operator == "In" and (not present or labels[req.key] not in req.values):
                return False
            if req.operator == "NotIn" and present and labels[req.key] in req.values:
                return False
            if req.operator == "Exists" and not present:
                return False
            if req.operator == "DoesNotExist" and present:
                return False
        return True

    def is_empty(self) -> bool:
        return not self.matchLabels and not self.matchExpressions


class ObjectMetaIn(StrictModel):
    """Metadata a client may send; server-owned fields are accepted and ignored on input."""

    name: Name | None = None
    namespace: Name | None = None
    labels: Labels = Field(default_factory=dict)
    annotations: Annotations = Field(default_factory=dict)
    uid: SafeStr | None = None
    resourceVersion: ResourceVersion | None = Field(
        default=None, description="a precondition when given, as If-Match"
    )
    creationTimestamp: SafeStr | None = None


class ObjectMeta(StrictModel):
    name: str
    namespace: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    uid: str
    resourceVersion: str
    creationTimestamp: str


class ListMeta(StrictModel):
    resourceVersion: str
    # Opaque cursor for the next page; absent on the last page.
    continue_: str | None = Field(default=None, alias="continue")

    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)
