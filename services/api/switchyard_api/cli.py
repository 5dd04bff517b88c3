"""`switchyard-api`: serve, migrate, openapi, token create."""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
from typing import Any

from pydantic import ValidationError

from . import logs
from .settings import Settings, parse_listen


def _settings(args: argparse.Namespace) -> Settings:
    try:
        return _load_settings(args)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        raise SystemExit(f"switchyard-api: invalid settings: {problems}") from None


def _logging(settings: Settings, quiet_migrations: bool = False) -> None:
    logs.setup(settings.log_format, settings.log_level, quiet_migrations)


def _load_settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    for field in (
        "database_url",
        "http_listen",
        "admin_token",
        "grpc_listen",
        "grpc_tls_cert",
        "grpc_tls_key",
        "grpc_tls_client_ca",
        "tls_cert",
        "tls_key",
        "log_format",
        "log_level",
    ):
        value = getattr(args, field, None)
        if value is not None:
            overrides[field] = value
    return Settings(**overrides)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .app import create_app
    from .store.db import create_store_engine, schema_problem

    settings = _settings(args)
    _logging(settings, quiet_migrations=True)
    engine = create_store_engine(settings.database_url)
    problem = schema_problem(engine)
    engine.dispose()
    if problem is not None:
        print(f"switchyard-api: refusing to start: {problem}", file=sys.stderr)
        return 2
    host, port = parse_listen(settings.http_listen)
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level=settings.log_level,
        log_config=None,  # our handlers (logs.setup), not uvicorn's own formats
        access_log=False,  # one access-log format: switchyard.access
        loop="asyncio",  # grpc.aio shares this loop; it is not supported on uvloop
        ssl_certfile=settings.tls_cert,
        ssl_keyfile=settings.tls_key,
    )
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from .store.db import head_revision, upgrade_to_head

    settings = _settings(args)
    _logging(settings)
    upgrade_to_head(settings.database_url)
    print(f"database at migration head {head_revision()}")
    return 0


def cmd_openapi(args: argparse.Namespace) -> int:
    from .app import create_app

    _logging(_settings(args))
    document = create_app(Settings(database_url="sqlite://")).openapi()
    print(json.dumps(document, indent=2, sort_keys=True))
    return 0


def cmd_token_create(args: argparse.Namespace) -> int:
    from .auth import TokenStore
    from .store.db import create_store_engine, schema_problem
    from .store.store import IntentStore

    settings = _settings(args)
    _logging(settings, quiet_migrations=True)
    engine = create_store_engine(settings.database_url)
    problem = schema_problem(engine)
    if problem is not None:
        print(f"switchyard-api: {problem}", file=sys.stderr)
        return 2
    if (args.role == "node") != (args.node is not None):
        print("switchyard-api: --node is required with --role node, and only then", file=sys.stderr)
        return 2
    _, token = TokenStore(IntentStore(engine)).create(args.role, args.description, args.node)
    print(token)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="switchyard-api", description="Switchyard intent API service"
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--log-format", choices=logs.FORMATS, help="text or json lines (env SWITCHYARD_LOG_FORMAT)"
    )
    common.add_argument(
        "--log-level", help="debug, info, warning, error (env SWITCHYARD_LOG_LEVEL)"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    add = functools.partial(sub.add_parser, parents=[common])

    def with_database(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--database-url",
            help="SQLAlchemy URL (env SWITCHYARD_DATABASE_URL; default sqlite:///./switchyard.db)",
        )

    serve = add("serve", help="run the REST API")
    with_database(serve)
    serve.add_argument("--http-listen", help="HOST:PORT (env SWITCHYARD_HTTP_LISTEN)")
    serve.add_argument("--admin-token", help="bootstrap admin token (env SWITCHYARD_ADMIN_TOKEN)")
    serve.add_argument("--grpc-listen", help="HOST:PORT of the agents' gRPC stream")
    serve.add_argument("--grpc-tls-cert", help="server certificate (PEM) for gRPC TLS")
    serve.add_argument("--grpc-tls-key", help="server key (PEM) for gRPC TLS")
    serve.add_argument(
        "--grpc-tls-client-ca", help="CA (PEM) that agents' client certs must chain to"
    )
    serve.add_argument(
        "--tls-cert", help="REST over TLS: certificate chain (PEM; env SWITCHYARD_TLS_CERT)"
    )
    serve.add_argument("--tls-key", help="REST over TLS: private key (PEM; env SWITCHYARD_TLS_KEY)")
    serve.set_defaults(func=cmd_serve)

    migrate = add("migrate", help="upgrade the database schema to the head")
    with_database(migrate)
    migrate.set_defaults(func=cmd_migrate)

    openapi = add("openapi", help="print the OpenAPI document")
    openapi.set_defaults(func=cmd_openapi)

    token = sub.add_parser("token", help="manage API tokens")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    create = token_sub.add_parser(
        "create", help="create a token and print it (shown once)", parents=[common]
    )
    with_database(create)
    create.add_argument("--role", choices=["reader", "writer", "admin", "node"], required=True)
    create.add_argument("--node", help="for --role node: the node whose agent uses the token")
    create.add_argument("--description", default="")
    create.set_defaults(func=cmd_token_create)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
