"""The REST client: httpx with the token and CA of the connection; failures become ApiError."""

from __future__ import annotations

import ssl
from collections.abc import Generator
from typing import Any

import httpx

from .config import Connection
from .errors import ApiError, from_response
from .kinds import UsageError


class Client:
    def __init__(self, connection: Connection, timeout: float = 30) -> None:
        headers = {"Authorization": f"Bearer {connection.token}"} if connection.token else {}
        verify: ssl.SSLContext | bool = True
        if connection.ca:
            try:
                verify = ssl.create_default_context(cafile=connection.ca)
            except (OSError, ssl.SSLError) as exc:
                raise UsageError(f"CA file {connection.ca}: {exc}") from None
        self.api = connection.api
        self.http = httpx.Client(
            base_url=connection.api, headers=headers, verify=verify, timeout=timeout
        )

    def close(self) -> None:
        self.http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise UsageError(f"cannot reach the API at {self.api}: {exc}") from None

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON body of a successful response; else ApiError with the problem."""
        response = self.request(method, path, **kwargs)
        if not response.is_success:
            raise from_response(response)
        return response.json()

    def get_or_none(self, path: str) -> dict[str, Any] | None:
        response = self.request("GET", path)
        if response.status_code == 404:
            return None
        if not response.is_success:
            raise from_response(response)
        body: dict[str, Any] = response.json()
        return body

    def list_all(self, path: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """Every item of a collection, following `continue` tokens."""
        items: list[dict[str, Any]] = []
        query = dict(params or {})
        while True:
            page = self.call("GET", path, params=query)
            items.extend(page.get("items", []))
            token = page.get("metadata", {}).get("continue")
            if not token:
                return items
            query["continue"] = token

    def events(self, since: int | None) -> Generator[dict[str, Any]]:
        """The change stream as parsed events (follows until the caller stops)."""
        import json

        params = {"since": str(since)} if since is not None else None
        try:
            with self.http.stream("GET", "/v1/events", params=params, timeout=None) as response:
                if not response.is_success:
                    response.read()
                    raise from_response(response)
                for line in response.iter_lines():
                    if line.startswith("data: "):
                        yield json.loads(line[6:])
        except httpx.HTTPError as exc:
            raise UsageError(f"event stream from {self.api}: {exc}") from None


__all__ = ["ApiError", "Client"]
