"""Acl -> an ACL of the acl plugin (`acl_add_replace`, `acl_del`), tagged "switchyard:<name>".

The tag is how a resync recognises the agent's own ACLs; ACLs with any other tag are never
reported, changed or deleted. A replace keeps the ACL's index, so its interface bindings stay.
Indices are reused, so the index is checked against the tag right before a replace or delete.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from switchyard_contract.nodeconfig import Acl, AclAction, AclRule

from ...descriptors import Dumped, PermanentError
from .common import U32_MAX, VppDescriptor, net_text
from .connection import VppApiError

KIND = Acl.KIND
TAG_PREFIX = "switchyard:"
TAG_MAX = 63  # string[64], NUL-terminated in VPP


def tag_of(name: str) -> str:
    return TAG_PREFIX + name


def name_of(tag: str) -> str | None:
    return tag[len(TAG_PREFIX) :] if tag.startswith(TAG_PREFIX) else None


def rule_fields(rule: AclRule) -> dict[str, Any]:
    return {
        "is_permit": rule.action,
        "src_prefix": net_text(rule.src_prefix),
        "dst_prefix": net_text(rule.dst_prefix),
        "proto": rule.proto,
        "srcport_or_icmptype_first": rule.src_port_first,
        "srcport_or_icmptype_last": rule.src_port_last,
        "dstport_or_icmpcode_first": rule.dst_port_first,
        "dstport_or_icmpcode_last": rule.dst_port_last,
        "tcp_flags_mask": 0,
        "tcp_flags_value": 0,
    }


def rule_of(row: Any) -> AclRule:
    return AclRule(
        action=cast(AclAction, int(row.is_permit)),
        src_prefix=net_text(row.src_prefix),
        dst_prefix=net_text(row.dst_prefix),
        proto=int(row.proto),
        src_port_first=int(row.srcport_or_icmptype_first),
        src_port_last=int(row.srcport_or_icmptype_last),
        dst_port_first=int(row.dstport_or_icmpcode_first),
        dst_port_last=int(row.dstport_or_icmpcode_last),
    )


def _norm(value: Acl) -> tuple[object, ...]:
    return (
        value.name,
        tuple(
            (
                r.action,
                net_text(r.src_prefix),
                net_text(r.dst_prefix),
                r.proto,
                r.src_port_first,
                r.src_port_last,
                r.dst_port_first,
                r.dst_port_last,
            )
            for r in value.rules
        ),
    )


class AclDescriptor(VppDescriptor[Acl]):
    kind = KIND

    def equivalent(self, desired: Acl, actual: Acl) -> bool:
        return _norm(desired) == _norm(actual)

    def can_update(self, old: Acl, new: Acl) -> bool:
        return True

    def create(self, value: Acl) -> object:
        existing = self.find(value.name)  # an earlier try may have made it (reply lost)
        return self._replace(value, U32_MAX if existing is None else existing)

    def update(self, old: Acl, new: Acl, metadata: object) -> object:
        index = self.find(new.name, hint=metadata)
        return self._replace(new, U32_MAX if index is None else index)

    def _replace(self, value: Acl, index: int) -> int:
        tag = tag_of(value.name)
        if len(tag.encode()) > TAG_MAX:
            raise PermanentError(f"ACL name {value.name!r} too long for a VPP tag")
        rules = [rule_fields(r) for r in value.rules]
        reply = self.conn.call(
            "acl_add_replace", acl_index=index, tag=tag, count=len(rules), r=rules
        )
        self.ctx.acl_indices[value.name] = int(reply.acl_index)
        return int(reply.acl_index)

    def delete(self, value: Acl, metadata: object) -> None:
        index = self.find(value.name, hint=metadata)
        if index is not None:
            try:
                self.conn.call("acl_del", acl_index=index)
            except VppApiError as exc:
                if exc.retval != -6:
                    raise
        self.ctx.acl_indices.pop(value.name, None)

    def find(self, name: str, hint: object = None) -> int | None:
        """The index of our ACL `name` now (checked by its tag: indices are reused)."""
        tag = tag_of(name)
        if isinstance(hint, int):
            rows = self.conn.dump("acl_dump", acl_index=hint)
            if rows and str(rows[0].tag) == tag:
                return hint
        for row in self._rows():
            if str(row.tag) == tag:
                return int(row.acl_index)
        return None

    def _rows(self) -> list[Any]:
        return self.conn.dump("acl_dump", acl_index=U32_MAX)  # 0 would mean "ACL 0"

    def dump(self) -> Iterable[Dumped[Acl]]:
        out: list[Dumped[Acl]] = []
        indices: dict[str, int] = {}
        for row in self._rows():
            name = name_of(str(row.tag))
            if name is None or name in indices:
                continue  # foreign (never touched), or a duplicate of ours
            indices[name] = int(row.acl_index)
            value = Acl(name, tuple(rule_of(r) for r in row.r))
            out.append(Dumped(value, owned=True, metadata=int(row.acl_index)))
        self.ctx.acl_indices = indices
        return out
