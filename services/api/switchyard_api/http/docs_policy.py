"""A Content-Security-Policy on the documentation pages: the browser may load nothing from
another host. Swagger UI and ReDoc come from the installed package (fastapi-offline); the
policy also stops what those bundles would fetch on their own (ReDoc's Redocly logo)."""

from collections.abc import Awaitable, Callable

from fastapi import Request, Response

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


async def same_origin_only(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    if request.url.path in DOC_PAGES:
        response.headers["Content-Security-Policy"] = POLICY
    return response
