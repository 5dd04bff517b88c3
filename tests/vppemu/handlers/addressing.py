"""Interface IP configuration: sw_interface_add_del_address and sw_interface_set_unnumbered.

An address may be on one interface only (VPP refuses an overlapping prefix elsewhere); an
unnumbered interface borrows the addresses of another, which must exist and not be itself.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import INVALID_VALUE, NO_SUCH_ENTRY, ApiError
from .base import Fields, Registry

if TYPE_CHECKING:
    from ..state import VppState

handles = Registry()
ADDRESS_IN_USE = -82  # VNET_API_ERROR_ADDRESS_IN_USE
DUPLICATE_IF_ADDRESS = -85  # VNET_API_ERROR_DUPLICATE_IF_ADDRESS


@dataclass
class AddressState:
    addresses: dict[int, list[str]] = field(default_factory=dict)  # sw_if_index -> prefixes
    unnumbered: dict[int, int] = field(default_factory=dict)  # sw_if_index -> borrowed from

    def forget(self, sw_if_index: int) -> None:
        self.addresses.pop(sw_if_index, None)
        self.unnumbered.pop(sw_if_index, None)
        for borrower in [b for b, lender in self.unnumbered.items() if lender == sw_if_index]:
            del self.unnumbered[borrower]

    def snapshot(self) -> Fields:
        return {
            "addresses": {str(k): v for k, v in sorted(self.addresses.items()) if v},
            "unnumbered": {str(k): v for k, v in sorted(self.unnumbered.items())},
        }


@handles("sw_interface_add_del_address")
def sw_interface_add_del_address(state: VppState, mp: Any) -> Fields:
    state.interfaces.validate(mp.sw_if_index)
    table = state.addressing
    mine = table.addresses.setdefault(mp.sw_if_index, [])
    if mp.del_all:
        mine.clear()
        return {}
    prefix = str(ipaddress.ip_interface(mp.prefix))
    if not mp.is_add:
        if prefix not in mine:
            raise ApiError(NO_SUCH_ENTRY, f"{prefix} is not on {mp.sw_if_index}")
        mine.remove(prefix)
        return {}
    if prefix in mine:
        raise ApiError(DUPLICATE_IF_ADDRESS, prefix)
    network = ipaddress.ip_interface(prefix).network
    for other, prefixes in table.addresses.items():
        if other != mp.sw_if_index and any(
            ipaddress.ip_interface(p).network.overlaps(network) for p in prefixes
        ):
            raise ApiError(ADDRESS_IN_USE, f"{prefix} overlaps an address of {other}")
    mine.append(prefix)
    return {}


@handles("sw_interface_set_unnumbered")
def sw_interface_set_unnumbered(state: VppState, mp: Any) -> Fields:
    lender = state.interfaces.validate(mp.sw_if_index).sw_if_index
    borrower = state.interfaces.validate(mp.unnumbered_sw_if_index).sw_if_index
    if lender == borrower:
        raise ApiError(INVALID_VALUE, "an interface cannot be unnumbered to itself")
    if mp.is_add:
        state.addressing.unnumbered[borrower] = lender
    else:
        state.addressing.unnumbered.pop(borrower, None)
    return {}
