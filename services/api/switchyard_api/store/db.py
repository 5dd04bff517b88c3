"""Engine creation and the migration-head check."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import psycopg
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import make_url

# Errors that mean "the database cannot be reached or cannot serve now", not "this request is
# wrong": the connection failed or broke, the pool is exhausted, a lock or statement timed out.
# Retrying later can succeed; the API answers 503 with Retry-After.
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    exc.OperationalError,
    exc.InterfaceError,
    exc.TimeoutError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)
# A connection attempt to an unreachable server gives up after this long (libpq waits forever
# by default), so that requests during an outage answer 503 promptly.
CONNECT_TIMEOUT_SECONDS = 5
# A server that vanished without closing the connection (a cut network) is noticed within
# ~30 s instead of blocking a worker thread forever: TCP keepalives, and a bound on how long
# sent data may stay unacknowledged.
DEAD_PEER_DETECTION = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 20_000,
}


def normalize_url(url: str) -> str:
    """Accept postgresql:// and postgres:// and use psycopg 3 for them."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def create_store_engine(url: str) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            hide_parameters=True,
        )
        _serialize_sqlite_writers(engine)
        return engine
    connect_args: dict[str, Any] = dict(DEAD_PEER_DETECTION)
    if "connect_timeout" not in url:
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
    # hide_parameters: a failed statement's log line must not carry its values (passwords).
    return create_engine(
        url,
        pool_size=10,
        max_overflow=20,
        pool_pre_ping=True,
        pool_timeout=10,
        connect_args=connect_args,
        hide_parameters=True,
    )


def _serialize_sqlite_writers(engine: Engine) -> None:
    """pysqlite's lazy BEGIN lets two writers deadlock on lock upgrade; take the write lock at
    BEGIN instead, and use WAL so that readers are not blocked."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def migrations_dir() -> Path:
    override = os.environ.get("SWITCHYARD_MIGRATIONS_DIR")
    if override:
        return Path(override)
    # services/api/switchyard_api/store/db.py -> repository root
    return Path(__file__).resolve().parents[4] / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return config


def upgrade_to_head(url: str) -> None:
    command.upgrade(alembic_config(url), "head")


def downgrade_to_base(url: str) -> None:
    command.downgrade(alembic_config(url), "base")


@functools.cache
def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def schema_problem(engine: Engine) -> str | None:
    """None when the database is at the migration head, else what is wrong and how to fix it."""
    try:
        current = current_revision(engine)
    except Exception as exc:  # an unreachable database is reported, not raised
        return f"database unreachable: {exc.__class__.__name__}: {exc}"
    head = head_revision()
    if current != head:
        return (
            f"database schema is at {current or 'an empty schema'}, not at the migration head "
            f"{head}: run `switchyard-api migrate` (with the same SWITCHYARD_DATABASE_URL)"
        )
    return None
