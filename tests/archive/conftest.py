"""Fixtures for the archive tests: every archive test runs on SQLite and on PostgreSQL.

PostgreSQL: the server at 127.0.0.1:5432 (trust auth, database ``test``; override with
``DICOMKIT_TEST_POSTGRES``). Each test gets its own schema, dropped afterwards. When the
server is not reachable the PostgreSQL variants skip with a loud reason.
"""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import dicomkit.archive
from dicomkit.archive import Archive

PG_URL = os.environ.get("DICOMKIT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
_pg_problem: str | None = None
_pg_checked = False


def _postgres_problem() -> str | None:
    global _pg_checked, _pg_problem
    if not _pg_checked:
        _pg_checked = True
        try:
            import psycopg

            with psycopg.connect(PG_URL, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
        except Exception as exc:
            _pg_problem = (
                f"PostgreSQL NOT REACHABLE at {PG_URL} ({exc}): the PostgreSQL archive tests DID NOT RUN"
            )
            warnings.warn(_pg_problem, stacklevel=1)
    return _pg_problem


def postgres_schema_url() -> tuple[str, Callable[[], None]]:
    """A fresh schema in the test database: (URL selecting it, drop function)."""
    import psycopg

    schema = "dk_" + uuid.uuid4().hex[:12]
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")

    def drop() -> None:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")

    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}", drop


@contextmanager
def _private_schema() -> Iterator[str]:
    """A PostgreSQL URL selecting a fresh, private schema, dropped afterwards (skip without a server)."""
    problem = _postgres_problem()
    if problem:
        pytest.skip(problem)
    url, drop = postgres_schema_url()
    try:
        yield url
    finally:
        drop()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL selecting a fresh, private schema."""
    with _private_schema() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None (SQLite in the archive folder) or a PostgreSQL URL with a private schema."""
    if request.param == "sqlite":
        yield None
        return
    with _private_schema() as url:
        yield url


@pytest.fixture
def make_archive(tmp_path: Path, database: str | None) -> Iterator[Callable[..., Archive]]:
    """Open archives (same root and database for every call of one test); all closed after."""
    opened: list[Archive] = []

    def make(**kwargs: Any) -> Archive:
        arc = dicomkit.archive.open(tmp_path / "archive", database, **kwargs)
        opened.append(arc)
        return arc

    yield make
    for arc in opened:
        arc.close()


@pytest.fixture
def archive(make_archive: Callable[..., Archive]) -> Archive:
    return make_archive()
