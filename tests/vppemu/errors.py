"""VPP API return values used by the emulator.

Values are VPP's ``foreach_vnet_error`` table (src/vnet/error.h, re-exported by
src/vnet/api_errno.h as ``VNET_API_ERROR_*``).
"""

from __future__ import annotations

UNSPECIFIED = -1
INVALID_SW_IF_INDEX = -2
NO_SUCH_FIB = -3
NO_SUCH_ENTRY = -6
INVALID_VALUE = -7
INVALID_VALUE_2 = -8
UNIMPLEMENTED = -9
FEATURE_DISABLED = -30
NO_PATHS_IN_ROUTE = -52
INVALID_MEMORY_SIZE = -70
INVALID_ARGUMENT = -73
IF_ALREADY_EXISTS = -79
VALUE_EXIST = -81
INVALID_ADDRESS_FAMILY = -97
ENTRY_ALREADY_EXISTS = -116
ACL_IN_USE_INBOUND = -142
ACL_IN_USE_OUTBOUND = -143


class ApiError(Exception):
    """Raised by a handler to reply with a negative retval and change nothing."""

    def __init__(self, retval: int, detail: str = "") -> None:
        super().__init__(f"retval {retval}: {detail}" if detail else f"retval {retval}")
        self.retval = retval
        self.detail = detail


class VppCrash(Exception):
    """Raised by a handler when real VPP would abort: every client is dropped
    and all state is lost, like a VPP restart."""
