"""Allowed methods per path: FastAPI makes one route per method, and Starlette's 405 names
only the first route that matched the path. This middleware puts every method the path
supports in `Allow` on a 405, and answers OPTIONS with them (204)."""

from __future__ import annotations

from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(routes: list[BaseRoute], path: str) -> list[str]:
    """The methods some route serves on `path` (asked of the routes themselves), plus OPTIONS;
    none for a path no route serves. Mounts (static assets) answer for themselves."""
    methods = set()
    for method in METHODS:
        probe: Scope = {"type": "http", "path": path, "method": method, "root_path": ""}
        for route in routes:
            if not isinstance(route, Mount) and route.matches(probe)[0] == Match.FULL:
                methods.add(method)
                break
    return sorted(methods | {"OPTIONS"}) if methods else []


class AllowedMethods:
    def __init__(self, app: ASGIApp, routes: list[BaseRoute]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            allowed = allowed_methods(self.routes, scope["path"])
            if allowed:
                allow = ", ".join(allowed).encode()
                await send(
                    {"type": "http.response.start", "status": 204, "headers": [(b"allow", allow)]}
                )
                await send({"type": "http.response.body", "body": b""})
                return

        async def send_with_allow(message: Message) -> None:
            # Matching every route per method is costly: only for the (rare) 405.
            if message["type"] == "http.response.start" and message["status"] == 405:
                allowed = allowed_methods(self.routes, scope["path"])
                if allowed:
                    allow = ", ".join(allowed).encode()
                    headers = [
                        (k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"
                    ]
                    message = {**message, "headers": [*headers, (b"allow", allow)]}
            await send(message)

        await self.app(scope, receive, send_with_allow)
