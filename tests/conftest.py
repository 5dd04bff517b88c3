"""Shared fixtures: a real PostgreSQL database per test run, SQLite files, live API servers.

In CI (SWITCHYARD_CI=1) a skipped test is a failure: everything CI can run must run there.
"""

from __future__ import annotations

import functools
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from switchyard_api.store.db import create_store_engine, upgrade_to_head
from tests.vppemu.apidir import missing_reason as vpp_api_missing

IN_CI = os.environ.get("SWITCHYARD_CI") == "1"
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI (SWITCHYARD_CI=1 forbids skips): {report.longrepr}"


@functools.cache
def _uses_the_emulator(module: Path) -> bool:
    """A test module that drives the VPP emulator (itself, or through its directory's
    conftest): it needs VPP's API definitions."""
    conftest = module.parent / "conftest.py"
    texts = [module.read_text()] + ([conftest.read_text()] if conftest.exists() else [])
    return any("vppemu" in text for text in texts)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(str(item.fspath))
        if path.name.startswith("test_") and _uses_the_emulator(path):
            item.add_marker(pytest.mark.vpp_api)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked `vpp_api` need VPP's API definitions; without any, they skip (one line)."""
    if item.get_closest_marker("vpp_api") is not None:
        reason = vpp_api_missing()
        if reason is not None:
            pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this run, at the migration head; dropped afterwards."""
    configured = os.environ.get("TEST_DATABASE_URL")
    admin_url = os.environ.get("TEST_POSTGRES_ADMIN_URL", DEFAULT_ADMIN_URL)
    if configured:
        yield configured
        return
    name = f"switchyard_test_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL at {admin_url}: {exc}")
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    upgrade_to_head(url)
    yield url
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def reset_store(url: str) -> None:
    """Empty every table and restart the revision, so each test starts from revision 0."""
    engine = create_store_engine(url)
    with engine.begin() as conn:
        for table in (
            "objects",
            "change_log",
            "claims",
            "api_tokens",
            "store_meta",
            "node_reports",
            "pod_attachments",
        ):
            conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(text("UPDATE revision_counter SET value = 0"))
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER SEQUENCE revision_seq RESTART WITH 1"))
    engine.dispose()


@pytest.fixture
def fresh_postgres_url(postgres_url: str) -> str:
    """The run's PostgreSQL database, emptied for this test."""
    reset_store(postgres_url)
    return postgres_url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test (migrating costs more than copying)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade_to_head(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["postgresql", "sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using this runs once on PostgreSQL and once on SQLite."""
    if request.param == "postgresql":
        url: str = request.getfixturevalue("fresh_postgres_url")
        return url
    path = tmp_path / "switchyard.db"
    shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
    return f"sqlite:///{path}"
