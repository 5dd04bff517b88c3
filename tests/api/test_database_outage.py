"""While PostgreSQL is unreachable every request answers 503 problem+json with Retry-After,
reads and writes alike, and the API recovers by itself (issue 10, defect 3). Before the fix
the token lookup's OperationalError reached the catch-all handler: 500 "internal error"."""

from __future__ import annotations

import httpx
from sqlalchemy.engine import make_url

from tests.drills.tcp_proxy import TcpProxy
from tests.waiting import wait_for

from .support import LiveServer


def through(proxy: TcpProxy, url: str) -> str:
    return make_url(url).set(host="127.0.0.1", port=proxy.port).render_as_string(False)


def test_requests_answer_503_while_the_database_is_down_and_recover(
    fresh_postgres_url: str,
) -> None:
    target = make_url(fresh_postgres_url)
    with TcpProxy(target.host or "127.0.0.1", target.port or 5432) as proxy:
        url = through(proxy, fresh_postgres_url)
        with LiveServer(url) as server, server.client() as client:
            client.timeout = httpx.Timeout(60)  # the suite runs on a loaded 2-core machine
            client.put("/v1/namespaces/before", json={"spec": {}}).raise_for_status()
            proxy.down()
            requests = [
                ("GET", "/v1/namespaces", None),
                ("GET", "/v1/namespaces/before", None),
                ("PUT", "/v1/namespaces/during", {"spec": {}}),
                ("DELETE", "/v1/namespaces/before", None),
                ("GET", "/v1/status", None),
                ("GET", "/v1/events?since=0", None),
                ("POST", "/v1/tokens", {"role": "reader"}),
            ]
            for method, path, body in requests:
                response = client.request(method, path, json=body)
                assert response.status_code == 503, (method, path, response.text)
                assert response.headers["content-type"] == "application/problem+json"
                assert int(response.headers["retry-after"]) >= 1
                assert response.json()["detail"] == "the database is unavailable; retry later"
            assert client.get("/readyz").status_code == 503
            assert client.get("/healthz").status_code == 200  # alive, just not ready
            proxy.up()
            wait_for(lambda: client.get("/readyz").status_code == 200, what="ready again")
            assert client.put("/v1/namespaces/after", json={"spec": {}}).status_code == 201
            names = [n["metadata"]["name"] for n in client.get("/v1/namespaces").json()["items"]]
            assert names == ["after", "before"]  # the 503 writes left nothing behind
