"""A Content-Security-Policy on the documentation pages: the browser may load nothing from
another host. Swagger UI and ReDoc come from the installed package (fastapi-offline); the
policy also stops what those bundles would fetch on their own (ReDoc's Redocly logo)."""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DOC_PAGES = ("/docs", "/redoc")
POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",  # the pages start their UI with an inline script
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "worker-src 'self' blob:",  # ReDoc's search index runs in a blob worker
        "connect-src 'self'",
    )
)


class SameOriginOnly:
    """Adds POLICY to the documentation pages' responses (plain ASGI: cheap elsewhere)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") not in DOC_PAGES:
            await self.app(scope, receive, send)
            return

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["Content-Security-Policy"] = POLICY
            await send(message)

        await self.app(scope, receive, send_with_policy)
