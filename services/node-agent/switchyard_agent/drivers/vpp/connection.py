"""One vpp_papi connection to VPP's binary API socket.

vpp_papi's sync client is not thread-safe and never reconnects by itself, so a VppConnection
is used from the reconciler's single worker thread only. Any socket loss (or a reply that does
not come within the read timeout) marks the connection broken and raises the descriptors'
ConnectionLost; the agent then calls `reconnect()` followed by `reconciler.resync("vpp")`.

All encoding and decoding goes through vpp_papi: its message objects pack requests (whole, or,
for cnat translations, from cached parts that vpp_papi's own type objects packed), its transport
frames and reads them, `decode_incoming_msg` unpacks replies. What this module adds:

* `pipeline()`: many requests written before their replies are read (matched by context), so
  that throughput is not bound by one round trip per call. Each request still gets its own
  reply or error.
* two fixes to per-message overheads of vpp_papi 2.4.2 in the client's receive path (a
  `multiprocessing.Queue` between its reader thread and the caller, and a `has_context` that
  builds a new VPPType for every received message), installed right after connecting; see
  `_install_fast_receive`.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import queue
import struct
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from vpp_papi import VPPApiClient

from ...descriptors import ConnectionLost, PermanentError
from .messages import OPTIONAL, REQUIRED, table_key

log = logging.getLogger(__name__)

DEFAULT_SOCKET = "/run/vpp/api.sock"
DEFAULT_API_DIR = "/usr/share/vpp/api"
SOCKET_ENV = "SWITCHYARD_VPP_API_SOCKET"
HEADER = struct.Struct(">QII")  # the socket transport's frame header (vpp_papi's own format)
_MSG_HEADER = struct.Struct(">HII")  # _vl_msg_id, client_index/context prefix of a message

_ENCODE_ERRORS = (TypeError, ValueError, KeyError, AttributeError, struct.error)

# context -> message bytes; lets callers pre-pack everything but the context.
Encoded = Callable[[int], bytes]

# VPP's api_errno values the driver names in error messages.
RETVALS = {
    -1: "UNSPECIFIED",
    -2: "INVALID_SW_IF_INDEX",
    -3: "NO_SUCH_FIB",
    -6: "NO_SUCH_ENTRY",
    -7: "INVALID_VALUE",
    -8: "INVALID_VALUE_2",
    -9: "UNIMPLEMENTED",
    -52: "NO_PATHS_IN_ROUTE",
    -70: "INVALID_MEMORY_SIZE",
    -73: "INVALID_ARGUMENT",
    -79: "IF_ALREADY_EXISTS",
    -81: "VALUE_EXIST",
    -97: "INVALID_ADDRESS_FAMILY",
    -116: "ENTRY_ALREADY_EXISTS",
    -142: "ACL_IN_USE_INBOUND",
    -143: "ACL_IN_USE_OUTBOUND",
}


class IncompatibleVppError(RuntimeError):
    """The running VPP lacks messages this driver needs, or has them with other CRCs."""

    def __init__(self, version: str, missing: Sequence[str], changed: Sequence[str]) -> None:
        parts = []
        if missing:
            parts.append(f"missing messages: {', '.join(missing)}")
        if changed:
            parts.append(f"messages with a different CRC (changed API): {', '.join(changed)}")
        super().__init__(
            f"VPP {version} is not compatible with this switchyard-agent ({'; '.join(parts)}); "
            "the agent was written against VPP 26.10 API definitions"
        )
        self.version = version
        self.missing = tuple(missing)
        self.changed = tuple(changed)


class VppApiError(PermanentError):
    """VPP answered a request with a negative retval."""

    def __init__(self, message: str, retval: int, detail: str = "") -> None:
        name = RETVALS.get(retval, "")
        label = f"{retval} ({name})" if name else str(retval)
        text = f"{message} failed: retval {label}"
        super().__init__(f"{text}: {detail}" if detail else text)
        self.message_name = message
        self.retval = retval


class _ThreadQueue(queue.SimpleQueue):  # type: ignore[type-arg]
    """A drop-in for the transport's multiprocessing.Queue between its reader thread and the
    caller (same process, so no pickling through a pipe); close/join_thread are what the
    transport's next connect() calls on the queue it replaces."""

    def close(self) -> None:
        pass

    def join_thread(self) -> None:
        pass


class VppConnection:
    def __init__(
        self,
        socket_path: str = DEFAULT_SOCKET,
        *,
        apidir: str | Sequence[str] | None = None,
        bootstrap: bool = True,
        read_timeout: float = 5.0,
        name: str = "switchyard-agent",
        window: int = 256,
    ) -> None:
        self.socket_path = socket_path
        self.apidir = apidir
        self.bootstrap = bootstrap
        self.read_timeout = read_timeout
        self.name = name
        self.window = max(1, window)
        self.version = "unknown"
        self.vpe_pid = 0  # changes when VPP restarts: the epoch of non-dumpable state
        self.optional: frozenset[str] = frozenset()
        self._client: Any = None
        self._broken = False
        self._contexts = itertools.count(1)
        self._msgs: dict[str, tuple[Any, int]] = {}
        self.calls: dict[str, int] = {}  # requests sent, by message name (for metrics/tests)
        # Run after every successful connect (worker thread), e.g. to subscribe to events.
        self.on_connect: list[Callable[[], None]] = []
        # Event message name -> handler, called on vpp_papi's reader thread: keep it short.
        self.event_handlers: dict[str, Callable[[Any], None]] = {}

    # ------------------------------------------------------------------ lifecycle

    @property
    def connected(self) -> bool:
        return self._client is not None and not self._broken

    def connect(self) -> None:
        """Connect, load definitions, check the message table; IncompatibleVppError if the
        running VPP lacks (or changed) a message the driver uses, OSError if unreachable."""
        if self._client is not None:
            raise RuntimeError("already connected: use reconnect()")
        client = self._open()
        try:
            self._check(client)
        except BaseException:
            self._close(client, graceful=True)
            raise
        self._client = client
        self._broken = False
        self._msgs = {}
        self._install_fast_receive(client)
        client.register_event_callback(self._on_event)
        ping = self.call("control_ping")
        self.vpe_pid = int(ping.vpe_pid)
        log.info("connected to VPP %s (pid %d) on %s", self.version, self.vpe_pid, self.socket_path)
        for hook in self.on_connect:
            hook()

    def _on_event(self, name: str, message: Any) -> None:
        handler = self.event_handlers.get(name)
        if handler is not None:
            try:
                handler(message)
            except Exception:  # never let a handler kill vpp_papi's reader thread
                log.exception("handling the VPP event %s failed", name)

    def disconnect(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            self._close(client, graceful=not self._broken)
        self._broken = False

    def reconnect(self) -> None:
        """Disconnect (whatever the state of the socket) and connect again; the caller then
        resyncs, because a VPP restart may have wiped everything."""
        self.disconnect()
        self.connect()

    def _open(self) -> Any:
        if self.bootstrap:
            client = VPPApiClient(
                bootstrapapi=True,
                server_address=self.socket_path,
                read_timeout=self.read_timeout,
                async_thread=False,
            )
            try:
                client.connect(self.name)
                return client
            except OSError:
                raise
            except Exception as exc:  # VPP older than 24.02: no get_api_json
                log.warning("VPP API bootstrap failed (%s); using API files", exc)
                self._close(client, graceful=True)
        apidir = self.apidir if self.apidir is not None else DEFAULT_API_DIR
        client = VPPApiClient(
            apidir=list(apidir) if not isinstance(apidir, str) else apidir,
            server_address=self.socket_path,
            read_timeout=self.read_timeout,
            async_thread=False,
        )
        client.connect(self.name)
        return client

    @staticmethod
    def _close(client: Any, graceful: bool) -> None:
        transport = client.transport
        if not graceful and transport.socket is not None:
            # The peer is gone: make sockclnt_delete fail at once instead of waiting for a
            # reply that never comes.
            with contextlib.suppress(OSError):
                transport.socket.close()
        try:
            client.disconnect()
        except Exception as exc:  # a dead socket: nothing left to release
            log.debug("disconnect: %s", exc)

    def _check(self, client: Any) -> None:
        table: Mapping[str, int] = client.transport.message_table
        advertised: dict[str, str] = {}
        for key in table:
            base, _, crc = key.rpartition("_")
            advertised.setdefault(base, crc)
        missing: list[str] = []
        changed: list[str] = []
        for name, crc in REQUIRED.items():
            msg = client.messages.get(name)
            if table_key(name, crc) in table and msg is not None and msg.crc == crc:
                continue
            (changed if name in advertised else missing).append(name)
        self.version = _version(client)
        if missing or changed:
            raise IncompatibleVppError(self.version, missing, changed)
        self.optional = frozenset(
            name
            for name, crc in OPTIONAL.items()
            if table_key(name, crc) in table
            and getattr(client.messages.get(name), "crc", None) == crc
        )

    def _install_fast_receive(self, client: Any) -> None:
        """Per received message, vpp_papi 2.4.2's reader thread calls `has_context`, which
        builds a VPPType (a namedtuple class) each time (~100 us), and hands the message over
        through a multiprocessing.Queue (pickled through a pipe by a feeder thread). Same
        logic, without the waste: a prebuilt struct, and an in-process queue. Nothing is in
        flight here (connect() has returned), so swapping the queue loses nothing."""
        transport = client.transport
        if hasattr(transport, "q") and not isinstance(transport.q, _ThreadQueue):
            transport.q = _ThreadQueue()
        id_names = client.id_names
        id_msgdef = client.id_msgdef

        def has_context(msg: bytes) -> bool | None:
            if len(msg) < 10:
                return False
            i, _, context = _MSG_HEADER.unpack_from(msg, 0)
            if id_names[i] == "rx_thread_exit":
                return None
            return "context" in id_msgdef[i].field_by_name and context >= 0

        client.has_context = has_context

    # ------------------------------------------------------------------ messages

    def epoch(self) -> int:
        """The running VPP's pid: it changes when VPP restarts (and its state is gone)."""
        self._live()
        return self.vpe_pid

    def has(self, name: str) -> bool:
        """Whether an optional message is available (required ones always are)."""
        return name in REQUIRED or name in self.optional

    def message(self, name: str) -> tuple[Any, int]:
        """vpp_papi's message object and its id on this connection."""
        found = self._msgs.get(name)
        if found is None:
            client = self._live()
            msg = client.messages[name]
            found = (msg, client.transport.get_msg_index(table_key(name, msg.crc)))
            if found[1] <= 0:
                raise PermanentError(f"VPP has no message {name}")
            self._msgs[name] = found
        return found

    def encoder(self, name: str, fields: Mapping[str, Any]) -> Encoded:
        """The request `name` with `fields`, packed by vpp_papi once the context is known."""
        msg, msg_id = self.message(name)
        index = self.client_index

        def encode(context: int) -> bytes:
            data = dict(fields)
            data["_vl_msg_id"] = msg_id
            data["client_index"] = index
            data["context"] = context
            packed: bytes = msg.pack(data)
            return packed

        return encode

    @property
    def client_index(self) -> int:
        return int(getattr(self._live().transport, "socket_index", 0) or 0)

    # ------------------------------------------------------------------ calls

    def call(self, name: str, **fields: Any) -> Any:
        """One request, one reply; VppApiError on a negative retval."""
        return self.call_encoded(name, self.encoder(name, fields))

    def call_encoded(self, name: str, encoded: Encoded) -> Any:
        (reply,) = self.pipeline([(name, encoded)])
        if isinstance(reply, VppApiError):
            raise reply
        return reply

    def pipeline(self, requests: Sequence[tuple[str, Encoded]]) -> list[Any]:
        """Send every request (up to 2 x window in flight) and return, in order, each one's
        reply or its VppApiError. ConnectionLost if the socket drops meanwhile: which of the
        requests VPP executed is then unknown (the caller resyncs)."""
        client = self._live()
        results: list[Any] = [None] * len(requests)
        waiting: dict[int, int] = {}  # context -> position
        order: deque[int] = deque()
        sent = 0
        transport = client.transport
        try:
            while sent < len(requests) or waiting:
                if sent < len(requests) and len(waiting) < 2 * self.window:
                    chunk = requests[sent : sent + self.window]
                    frames = []
                    for offset, (name, encode) in enumerate(chunk):
                        context = self._next_context()
                        try:
                            payload = encode(context)
                        except _ENCODE_ERRORS as exc:
                            # vpp_papi could not pack it: this request fails alone.
                            results[sent + offset] = PermanentError(
                                f"{name}: cannot encode request: {exc}"
                            )
                            continue
                        frames.append(HEADER.pack(0, len(payload), 0))
                        frames.append(payload)
                        waiting[context] = sent + offset
                        order.append(context)
                        self.calls[name] = self.calls.get(name, 0) + 1
                    if frames:
                        transport.socket.sendall(b"".join(frames))
                    sent += len(chunk)
                    continue
                reply = self._read(client)
                position = waiting.pop(getattr(reply, "context", -1), None)
                if position is None:
                    log.warning("dropping unexpected VPP message %s", type(reply).__name__)
                    continue
                name = requests[position][0]
                retval = getattr(reply, "retval", 0)
                results[position] = VppApiError(name, retval) if retval < 0 else reply
        except ConnectionLost:
            raise
        except OSError as exc:
            self._broken = True
            raise ConnectionLost(f"VPP API socket {self.socket_path}: {exc}") from exc
        return results

    def dump(self, name: str, **fields: Any) -> list[Any]:
        """A legacy dump: the request, then control_ping with the same context; the details
        until the ping's reply."""
        client = self._live()
        details = client.services[name]["reply"]
        context = self._next_context()
        ping = self.encoder("control_ping", {})
        payloads = [self.encoder(name, fields)(context), ping(context)]
        self.calls[name] = self.calls.get(name, 0) + 1
        out: list[Any] = []
        try:
            client.transport.socket.sendall(
                b"".join(HEADER.pack(0, len(p), 0) + p for p in payloads)
            )
            while True:
                reply = self._read(client)
                if getattr(reply, "context", -1) != context:
                    log.warning("dropping unexpected VPP message %s", type(reply).__name__)
                    continue
                kind = type(reply).__name__
                if kind == "control_ping_reply":
                    return out
                if kind == details:
                    out.append(reply)
        except ConnectionLost:
            raise
        except OSError as exc:
            self._broken = True
            raise ConnectionLost(f"VPP API socket {self.socket_path}: {exc}") from exc

    def _read(self, client: Any) -> Any:
        raw = client.transport.read(timeout=self.read_timeout)
        if not raw:
            self._broken = True
            raise ConnectionLost(
                f"VPP API socket {self.socket_path}: connection closed or no reply within "
                f"{self.read_timeout}s"
            )
        return client.decode_incoming_msg(raw)

    def _next_context(self) -> int:
        context = next(self._contexts)
        if context >= 0xFFFFFFF0:
            self._contexts = itertools.count(1)
            context = next(self._contexts)
        return context

    def _live(self) -> Any:
        if self._client is None or self._broken:
            raise ConnectionLost(f"VPP API socket {self.socket_path}: not connected")
        return self._client


def _version(client: Any) -> str:
    try:
        msg = client.messages.get("show_version")
        if msg is None or table_key("show_version", msg.crc) not in client.transport.message_table:
            return "unknown (show_version unavailable)"
        reply = client.api.show_version()
        return str(reply.version)
    except Exception as exc:
        return f"unknown ({exc})"
