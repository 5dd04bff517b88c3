"""memclnt (client registration, ping, API JSON) and vpe (show_version)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import Fields, Registry

if TYPE_CHECKING:
    from ..state import VppState

VPP_VERSION = "26.10-rc0~374-gb575ec2c56d"

handles = Registry()


@handles("sockclnt_create")
def sockclnt_create(state: VppState, mp: Any) -> Fields:
    table = state.api.message_table()
    state.session.next_client_index += 1
    return {
        "response": 0,
        "index": state.session.next_client_index,
        "count": len(table),
        "message_table": table,
    }


@handles("sockclnt_delete")
def sockclnt_delete(state: VppState, mp: Any) -> Fields:
    return {"response": 0}


@handles("control_ping")
def control_ping(state: VppState, mp: Any) -> Fields:
    return {"client_index": mp.client_index, "vpe_pid": state.vpe_pid}


@handles("get_api_json")
def get_api_json(state: VppState, mp: Any) -> Fields:
    return {"json": state.api.api_json()}


@handles("show_version")
def show_version(state: VppState, mp: Any) -> Fields:
    return {
        "program": "vpe",
        "version": VPP_VERSION,
        "build_date": "emulated",
        "build_directory": "/emulator",
    }
