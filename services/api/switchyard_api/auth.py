"""Bearer tokens: only their SHA-256 is stored; roles reader < writer < admin."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Literal

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select, text
from starlette.concurrency import run_in_threadpool

from .errors import ApiError
from .store.models import ApiToken
from .store.store import IntentStore
from .store.transaction import NOTIFY_CHANNEL, REVOKED_PAYLOAD, utc_now

Role = Literal["reader", "writer", "admin", "node"]
# "node" tokens authenticate one agent's gRPC stream and grant nothing over REST.
ROLE_RANK: dict[str, int] = {"node": 0, "reader": 1, "writer": 2, "admin": 3}
TOKEN_PREFIX = "sy_"
BOOTSTRAP_ADMIN_ID = "bootstrap-admin"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# How long a token's role is answered from memory. A revocation clears the memory of this
# replica at once and of the others on its NOTIFY; this bounds the case of a lost NOTIFY.
ROLE_CACHE_SECONDS = 1.0
ROLE_CACHE_ENTRIES = 10_000


class TokenStore:
    def __init__(self, store: IntentStore) -> None:
        self.store = store
        # token hash -> (role, when read): a database query per request cost a round trip
        # and a thread hop on every write. Unknown tokens are never kept (no memory to fill).
        self._roles: dict[str, tuple[str, float]] = {}

    def cached_role(self, token: str) -> str | None:
        found = self._roles.get(hash_token(token))
        if found is None or time.monotonic() - found[1] > ROLE_CACHE_SECONDS:
            return None
        return found[0]

    def forget(self) -> None:
        """Thread-safe: drop every remembered role (a token was revoked somewhere)."""
        self._roles = {}

    def create(
        self, role: Role, description: str = "", node: str | None = None
    ) -> tuple[ApiToken, str]:
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = ApiToken(
            id=str(uuid.uuid4()),
            token_hash=hash_token(token),
            role=role,
            description=description,
            created_at=utc_now(),
            node_name=node,
        )
        with self.store.read() as session, session.begin():
            session.add(row)
        return row, token

    def ensure(self, token_id: str, token: str, role: Role, description: str) -> None:
        """Make `token` valid with `role` under a fixed id (for SWITCHYARD_ADMIN_TOKEN)."""
        with self.store.read() as session, session.begin():
            row = session.get(ApiToken, token_id)
            if row is None:
                session.add(
                    ApiToken(
                        id=token_id,
                        token_hash=hash_token(token),
                        role=role,
                        description=description,
                        created_at=utc_now(),
                    )
                )
            else:
                row.token_hash = hash_token(token)
                row.role = role
        self.forget()

    def lookup(self, token: str) -> ApiToken | None:
        with self.store.read() as session:
            return session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))

    def role_of(self, token: str) -> str | None:
        row = self.lookup(token)
        if row is None:
            return None
        if len(self._roles) >= ROLE_CACHE_ENTRIES:
            self._roles = {}
        self._roles[row.token_hash] = (row.role, time.monotonic())
        return row.role

    def node_of(self, token: str) -> str | None:
        """The node an agent token is bound to; None for any other token."""
        row = self.lookup(token)
        return row.node_name if row is not None and row.role == "node" else None

    def node_token(self, token: str) -> tuple[str, str] | None:
        """(token id, node) of an agent token; None for any other token."""
        row = self.lookup(token)
        if row is None or row.role != "node" or row.node_name is None:
            return None
        return row.id, row.node_name

    def existing(self, token_ids: set[str]) -> set[str]:
        """Which of these tokens still exist (the others were revoked)."""
        if not token_ids:
            return set()
        with self.store.read() as session:
            rows = session.scalars(select(ApiToken.id).where(ApiToken.id.in_(token_ids)))
            return set(rows)

    def list(self) -> list[ApiToken]:
        with self.store.read() as session:
            return list(session.scalars(select(ApiToken).order_by(ApiToken.created_at)))

    def delete(self, token_id: str) -> bool:
        with self.store.read() as session, session.begin():
            row = session.get(ApiToken, token_id)
            if row is None:
                return False
            session.delete(row)
            if session.get_bind().dialect.name == "postgresql":
                # Every replica closes the streams this token authenticated (at commit).
                session.execute(
                    text("SELECT pg_notify(:channel, :payload)"),
                    {"channel": NOTIFY_CHANNEL, "payload": REVOKED_PAYLOAD},
                )
        self.forget()  # after the commit: nothing can read the deleted row back in meanwhile
        return True


bearer = HTTPBearer(auto_error=False, description="A token from `switchyard-api token create`")


def require(role: Role) -> Callable[..., Awaitable[str]]:
    """A dependency that admits requests whose token has at least `role`."""

    async def dependency(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    ) -> str:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise ApiError(401, "Unauthorized", "missing bearer token")
        tokens: TokenStore = request.app.state.tokens
        token = credentials.credentials
        granted = tokens.cached_role(token) or await run_in_threadpool(tokens.role_of, token)
        if granted is None:
            raise ApiError(401, "Unauthorized", "invalid or revoked token")
        if ROLE_RANK.get(granted, 0) < ROLE_RANK[role]:
            raise ApiError(403, "Forbidden", f"this needs role {role}; the token has {granted}")
        return granted

    return dependency
