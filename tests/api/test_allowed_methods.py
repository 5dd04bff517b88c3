"""Every path of the published schema: an undocumented method gets 405 whose `Allow` lists
every documented method (plus OPTIONS), and OPTIONS answers 204 with the same list."""

from __future__ import annotations

import re
from pathlib import Path

from .support import api_client

METHODS = {"get", "post", "put", "patch", "delete"}


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", path)


def test_405_and_options_name_every_supported_method(tmp_path: Path) -> None:
    from switchyard_api.store.db import upgrade_to_head

    url = f"sqlite:///{tmp_path}/db.sqlite"
    upgrade_to_head(url)
    with api_client(url) as client:
        document = client.get("/openapi.json").json()
        checked = 0
        for path, operations in document["paths"].items():
            documented = {m for m in operations if m in METHODS}
            expected = ", ".join(sorted({m.upper() for m in documented} | {"OPTIONS"}))
            target = concrete(path)
            options = client.options(target)
            assert options.status_code == 204, path
            assert options.headers["allow"] == expected, path
            for method in sorted(METHODS - documented):
                response = client.request(method.upper(), target)
                assert response.status_code == 405, (method, path)
                assert response.headers["allow"] == expected, (method, path)
                assert response.headers["content-type"] == "application/problem+json"
                checked += 1
        assert checked > 30
        namespaces = client.delete("/v1/namespaces")
        assert namespaces.headers["allow"] == "GET, OPTIONS, POST"  # the example
        assert client.options("/v1/no-such-thing").status_code == 404
