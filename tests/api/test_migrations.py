"""Schema only through Alembic: up from empty and down to empty on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import inspect, text

from switchyard_api.store.db import (
    create_store_engine,
    downgrade_to_base,
    head_revision,
    schema_problem,
    upgrade_to_head,
)

ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
TABLES = {"objects", "change_log", "claims", "api_tokens", "revision_counter", "store_meta"}


@pytest.fixture
def empty_postgres(postgres_url: str) -> Iterator[str]:
    """A database of its own (the run's shared one stays at head for other tests)."""
    name = f"switchyard_mig_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_upgrade_from_empty_and_downgrade_to_empty(empty_postgres: str) -> None:
    engine = create_store_engine(empty_postgres)
    assert "migrate" in (schema_problem(engine) or "")

    upgrade_to_head(empty_postgres)
    assert schema_problem(engine) is None
    inspector = inspect(engine)
    assert set(inspector.get_table_names()) >= TABLES
    with engine.connect() as conn:
        assert conn.execute(text("SELECT nextval('revision_seq')")).scalar_one() == 1
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        assert version == head_revision()

    downgrade_to_base(empty_postgres)
    inspector = inspect(engine)
    assert set(inspector.get_table_names()) <= {"alembic_version"}
    with engine.connect() as conn:
        sequences = conn.execute(
            text("SELECT count(*) FROM pg_class WHERE relkind = 'S' AND relname = 'revision_seq'")
        ).scalar_one()
        assert sequences == 0
    assert "migrate" in (schema_problem(engine) or "")

    upgrade_to_head(empty_postgres)  # and up again, cleanly
    assert schema_problem(engine) is None
    engine.dispose()


def test_sqlite_upgrade_and_downgrade(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/m.db"
    upgrade_to_head(url)
    engine = create_store_engine(url)
    assert set(inspect(engine).get_table_names()) >= TABLES
    downgrade_to_base(url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
