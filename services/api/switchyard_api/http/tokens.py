"""Token management (admin only)."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from ..auth import TokenStore, require
from ..errors import invalid, not_found
from ..resources.common import Name, SafeStr
from ..resources.registry import NODE
from ..store.models import ApiToken
from .problems import problem_responses

router = APIRouter(tags=["Tokens"], dependencies=[Depends(require("admin"))])


# The rule create_token checks: role node needs a node, every other role takes none.
_NODE_FOR_ROLE_NODE: dict[str, Any] = {
    "if": {"properties": {"role": {"const": "node"}}},
    "then": {"required": ["node"], "properties": {"node": {"type": "string"}}},
    "else": {"properties": {"node": {"type": "null"}}},
}


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra=_NODE_FOR_ROLE_NODE)
    role: Literal["reader", "writer", "admin", "node"] = Field(
        description="node: authenticates the agent of `node` over gRPC, nothing over REST"
    )
    node: Name | None = Field(default=None, description="required for role node, else absent")
    description: SafeStr = Field(default="", max_length=500)


class TokenInfo(BaseModel):
    id: str
    role: str
    node: str | None = None
    description: str
    createdAt: str


class CreatedToken(TokenInfo):
    token: str = Field(description="the secret; shown only once")


class TokenList(BaseModel):
    items: list[TokenInfo]


def _info(row: ApiToken) -> TokenInfo:
    return TokenInfo(
        id=row.id,
        role=row.role,
        node=row.node_name,
        description=row.description,
        createdAt=row.created_at,
    )


def _tokens(request: Request) -> TokenStore:
    tokens: TokenStore = request.app.state.tokens
    return tokens


@router.post(
    "/v1/tokens",
    operation_id="createToken",
    status_code=201,
    response_model=CreatedToken,
    responses=problem_responses(400, 401, 403, 413, 422),
)
def create_token(request: Request, body: TokenRequest) -> CreatedToken:
    if body.role == "node":
        if body.node is None:
            raise invalid("node", "required for role node")
        if request.app.state.store.get(NODE.kind, "", body.node) is None:
            raise invalid("node", f"node {body.node!r} does not exist")
    elif body.node is not None:
        raise invalid("node", "only tokens of role node are bound to a node")
    row, secret = _tokens(request).create(body.role, body.description, body.node)
    return CreatedToken(**_info(row).model_dump(), token=secret)


@router.get(
    "/v1/tokens",
    operation_id="listTokens",
    response_model=TokenList,
    responses=problem_responses(401, 403),
)
def list_tokens(request: Request) -> TokenList:
    return TokenList(items=[_info(row) for row in _tokens(request).list()])


@router.delete(
    "/v1/tokens/{token_id}",
    operation_id="deleteToken",
    status_code=204,
    responses=problem_responses(401, 403, 404),
)
def delete_token(
    request: Request, token_id: Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9-]+$")]
) -> None:
    if not _tokens(request).delete(token_id):
        raise not_found(f"token {token_id}")
    # This replica's streams are closed at once (others learn of it by NOTIFY).
    request.app.state.feed.publish_revocation()
