"""/docs and /redoc render in headless Chromium with every request off this host blocked: the
Swagger UI and ReDoc assets come from the installed Python environment, never from a CDN.

Chromium sends everything that is not loopback to a proxy that forwards nothing, and writes a
net log; the requests the page itself made (those with the page as initiator) must all go to
the API server. Chromium's own background requests (update checks and such) have no page as
initiator and are blocked all the same."""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from switchyard_api.store.db import upgrade_to_head
from tests.api.support import LiveServer

from .blocking_proxy import BlockingProxy

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt)")


@dataclass
class Page:
    dom: str
    requested: list[str]  # URLs the page requested (it was their initiator)


def load(url: str, proxy: BlockingProxy, workdir: Path) -> Page:
    assert CHROMIUM is not None
    netlog = workdir / "netlog.json"
    done = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",  # CI runs as root
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            f"--user-data-dir={workdir / 'profile'}",
            f"--proxy-server=http://127.0.0.1:{proxy.port}",
            f"--log-net-log={netlog}",
            "--virtual-time-budget=20000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return Page(done.stdout, page_requests(netlog, origin_of(url)))


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def page_requests(netlog: Path, origin: str) -> list[str]:
    log = json.loads(netlog.read_text())
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [
        event["params"]["url"]
        for event in log["events"]
        if event["type"] == start and event.get("params", {}).get("initiator") == origin
    ]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    url = f"sqlite:///{tmp_path}/db.sqlite"
    upgrade_to_head(url)
    with LiveServer(url) as live:
        yield live


def test_swagger_ui_lists_the_operations_with_outside_requests_blocked(
    server: LiveServer, tmp_path: Path
) -> None:
    with BlockingProxy() as proxy:
        page = load(f"{server.url}/docs", proxy, tmp_path)
    for operation in ("listNamespaces", "replaceService", "watchEvents", "deleteNode"):
        assert operation in page.dom, f"{operation} not rendered"
    assert f"{server.url}/docs/assets/swagger-ui-bundle.js" in page.requested
    assert [u for u in page.requested if not u.startswith(server.url + "/")] == []


def test_redoc_renders_the_operations_with_outside_requests_blocked(
    server: LiveServer, tmp_path: Path
) -> None:
    with BlockingProxy() as proxy:
        page = load(f"{server.url}/redoc", proxy, tmp_path)
    assert "Create or replace a Service" in page.dom
    assert f"{server.url}/docs/assets/redoc.standalone.js" in page.requested
    assert [u for u in page.requested if not u.startswith(server.url + "/")] == []


def test_a_page_that_loads_from_a_cdn_is_caught(tmp_path: Path) -> None:
    """The checks above can fail: a page with a CDN script shows that request, and the proxy
    refuses it (nothing leaves the host)."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(
        '<html><body><script src="https://cdn.example.invalid/ui.js"></script></body></html>'
    )
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        with BlockingProxy() as proxy:
            page = load(f"http://127.0.0.1:{httpd.server_port}/index.html", proxy, tmp_path)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert "https://cdn.example.invalid/ui.js" in page.requested
    assert any("cdn.example.invalid" in line for line in proxy.attempts), proxy.attempts


def test_the_doc_pages_forbid_loading_from_other_hosts(server: LiveServer) -> None:

    for page in ("/docs", "/redoc"):
        policy = httpx.get(server.url + page).headers["content-security-policy"]
        assert "default-src 'self'" in policy and "img-src 'self' data:" in policy
        assert "http" not in policy
