"""Limits of what an agent may send on the distribution stream.

The agent keeps within them; the controller treats a message beyond them as a protocol error
(Goodbye PROTOCOL_ERROR, stream closed, nothing recorded), and refuses any agent message
larger than MAX_AGENT_MESSAGE_BYTES outright (gRPC RESOURCE_EXHAUSTED).
"""

from __future__ import annotations

from typing import Final

# A Nack lists at most this many object errors; the agent says how many more failed in the
# Nack's message.
MAX_NACK_ERRORS: Final = 100
# Characters of ObjectError.key (object keys are far shorter) and of ObjectError.message,
# Nack.message and Status.last_error.
MAX_ERROR_KEY_CHARS: Final = 512
MAX_ERROR_MESSAGE_CHARS: Final = 2048
# Status.pending_keys entries, and Status.components entries (each name and state at most
# MAX_COMPONENT_CHARS characters).
MAX_STATUS_KEYS: Final = 1000
MAX_COMPONENTS: Final = 32
MAX_COMPONENT_CHARS: Final = 64
# Status.pending: the objects listed with what they wait for (the count, pending_count, stays
# exact); each lists at most MAX_PENDING_WAITING_FOR dependencies (keys of at most
# MAX_ERROR_KEY_CHARS, like its own) and a reason of at most MAX_PENDING_REASON_CHARS.
MAX_STATUS_PENDING: Final = 100
MAX_PENDING_WAITING_FOR: Final = 8
MAX_PENDING_REASON_CHARS: Final = 256
# Hello.agent_version.
MAX_AGENT_VERSION_CHARS: Final = 128
# The largest agent message the controller receives. The largest legitimate ones stay far
# below it: a full Nack is at most ~1 MiB (100 errors of 512 + 2048 characters, 4 bytes each
# in the worst UTF-8 case), a Status with every pending key ~0.5 MiB plus ~2 MiB for its
# pending objects in the worst case (100 of 9 keys and a reason, 4 bytes a character), a
# Hello with the facts of 10,000 interfaces ~1 MiB.
MAX_AGENT_MESSAGE_BYTES: Final = 4 * 1024 * 1024


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, marked with an ellipsis when it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
