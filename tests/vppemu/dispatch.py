"""Per-message dispatch: decode a request, run its handler (or the fallback
for unimplemented messages), count it, apply injected failures and encode the
reply messages. Pure and synchronous; the server loop does the I/O."""

from __future__ import annotations

import sys
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .codec import message_decoder, message_encoder
from .definitions import ApiDefinitions, MessageDef
from .errors import UNIMPLEMENTED, UNSPECIFIED, ApiError, VppCrash
from .handlers import all_handlers
from .handlers.base import Fields, Handler
from .state import VppState

PLAIN, DUMP, STREAM, NO_REPLY = "plain", "dump", "stream", "no-reply"


@dataclass(frozen=True)
class Route:
    request: MessageDef
    kind: str
    handler: Handler | None
    reply: MessageDef | None  # the reply (plain/stream) or the details (dump)
    details: MessageDef | None  # stream_msg details of a "stream" service
    status_field: str | None  # "retval" or "response"
    decode: Callable[[bytes], Any]
    encode: Callable[[dict[str, Any]], bytes] | None


@dataclass
class Failure:
    retval: int
    remaining: int


class Dispatcher:
    def __init__(self, api: ApiDefinitions) -> None:
        self.api = api
        self.state = VppState(api)
        self.counts: Counter[str] = Counter()
        self.failures: dict[str, Failure] = {}
        self.unimplemented: dict[str, int] = {}
        self.internal_errors: list[str] = []
        self.routes: list[Route | None] = [None] * len(api.by_id)
        # client_index -> the connection it last sent a request on (the server's writer).
        self.clients: dict[int, object] = {}
        event = api.by_name.get("sw_interface_event")
        self._event_id = event.id if event is not None else 0
        self._encode_event = message_encoder(event.msg) if event is not None else None
        handlers = all_handlers()
        for mdef in api.by_id:
            if mdef is not None and mdef.name in api.services:
                self.routes[mdef.id] = self._route(mdef, handlers.get(mdef.name))

    def _route(self, mdef: MessageDef, handler: Handler | None) -> Route:
        service = self.api.services[mdef.name]
        reply = self.api.by_name.get(service["reply"])
        decode = message_decoder(mdef.msg)
        if reply is None:
            return Route(mdef, NO_REPLY, handler, None, None, None, decode, None)
        encode = message_encoder(reply.msg)
        if service.get("stream") and "stream_msg" not in service:
            return Route(mdef, DUMP, handler, reply, None, None, decode, encode)
        status = next((f for f in ("retval", "response") if f in reply.fields), None)
        if service.get("stream"):
            details = self.api.by_name.get(service["stream_msg"])
            return Route(mdef, STREAM, handler, reply, details, status, decode, encode)
        return Route(mdef, PLAIN, handler, reply, None, status, decode, encode)

    def reset_state(self) -> None:
        self.state.close()
        self.state = VppState(self.api)

    def inject_failure(self, name: str, retval: int, times: int) -> None:
        if name not in self.api.by_name:
            raise KeyError(f"no message {name!r} in the definitions")
        self.failures[name] = Failure(retval, times)

    def handle(self, data: bytes, origin: object | None = None) -> list[bytes]:
        """Process one request (from connection `origin`); return the encoded reply messages.
        Raises VppCrash when the request would abort a real VPP."""
        msg_id = (data[0] << 8) | data[1]
        route = self.routes[msg_id] if msg_id < len(self.routes) else None
        if route is None:
            print(f"vppemu: ignoring message id {msg_id} (no such request)", file=sys.stderr)
            return []
        name = route.request.name
        self.counts[name] += 1
        mp = route.decode(data)
        if origin is not None and "client_index" in route.request.fields:
            self.clients[mp.client_index] = origin
        context = mp.context if "context" in route.request.fields else 0
        if route.kind == NO_REPLY:
            if route.handler is not None:
                route.handler(self.state, mp)
            return []
        failure = self.failures.get(name)
        if failure is not None:
            failure.remaining -= 1
            if failure.remaining <= 0:
                del self.failures[name]
            return self._error(route, context, failure.retval)
        if route.handler is None:
            self.unimplemented[name] = self.unimplemented.get(name, 0) + 1
            print(
                f"vppemu: *** UNIMPLEMENTED message {name!r} -> retval {UNIMPLEMENTED} ***",
                file=sys.stderr,
                flush=True,
            )
            return self._error(route, context, UNIMPLEMENTED)
        try:
            return self._encode(route, context, route.handler(self.state, mp))
        except ApiError as e:
            return self._error(route, context, e.retval)
        except VppCrash:
            raise
        except Exception:  # an emulator bug: say so loudly, answer like VPP would
            detail = traceback.format_exc()
            self.internal_errors.append(f"{name}: {detail}")
            print(
                f"vppemu: *** INTERNAL ERROR handling {name} ***\n{detail}",
                file=sys.stderr,
                flush=True,
            )
            return self._error(route, context, UNSPECIFIED)

    def _encode(self, route: Route, context: int, result: Fields | list[Fields]) -> list[bytes]:
        assert route.reply is not None
        encode = route.encode
        assert encode is not None
        msg_id = route.reply.id
        if route.kind == DUMP:
            assert isinstance(result, list)
            out = []
            for fields in result:
                fields["_vl_msg_id"] = msg_id
                fields["context"] = context
                out.append(encode(fields))
            return out
        assert isinstance(result, dict)
        result["_vl_msg_id"] = msg_id
        result["context"] = context
        return [encode(result)]

    def _error(self, route: Route, context: int, retval: int) -> list[bytes]:
        if route.kind == DUMP or route.reply is None:
            return []  # a dump has no status: it just yields no details
        fields: Fields = {route.status_field: retval} if route.status_field else {}
        return self._encode(route, context, fields)

    def take_events(self) -> list[tuple[object, bytes]]:
        """Encoded events owed to subscribed clients, with the connection of each."""
        encode = self._encode_event
        out: list[tuple[object, bytes]] = []
        for client, fields in self.state.interfaces.take_events():
            origin = self.clients.get(client)
            if origin is None or encode is None:
                continue
            fields["_vl_msg_id"] = self._event_id
            out.append((origin, encode(fields)))
        return out

    def forget_client(self, origin: object) -> None:
        """A connection closed: its clients get no more events."""
        for client in [c for c, o in self.clients.items() if o is origin]:
            del self.clients[client]
            self.state.interfaces.subscribers.pop(client, None)

    def snapshot(self) -> dict[str, Any]:
        return self.state.snapshot()
