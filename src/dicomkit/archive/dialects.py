"""The two index databases: SQLite (stdlib ``sqlite3``, WAL) and PostgreSQL (psycopg 3).

A :class:`Dialect` owns one connection and hides what differs between the two: placeholders
(the index writes ``?``; PostgreSQL gets ``%s``), DDL types (``INTEGER PRIMARY KEY`` vs an
identity column, ``COLLATE "C"`` text so ordering and ``LIKE`` are bytewise on both),
wildcard matching (``GLOB`` vs ``LIKE``), and how a write transaction excludes other writers
(SQLite: ``BEGIN IMMEDIATE`` with a busy timeout; PostgreSQL: a transaction-scoped advisory
lock, so the duplicate decisions made inside it hold until commit). PostgreSQL connections run
with ``jit = off`` (short statements; JIT costs more than it saves on them).

psycopg is imported only when a ``postgresql://`` URL is opened.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from dicomkit.errors import ArchiveError

__all__ = ["Dialect", "PostgresDialect", "SqliteDialect", "connect"]

#: Key of the PostgreSQL advisory lock every archive write transaction holds.
_PG_LOCK_KEY = 0x44434D4B  # "DCMK" (with the schema's hash: a two-key advisory lock)
_BUSY_TIMEOUT_MS = 120_000


class Dialect:
    """One connection to the index database."""

    kind = ""
    text_type = "TEXT"
    pk_type = ""

    def __init__(self, location: str) -> None:
        self.location = location

    # -- statements
    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        raise NotImplementedError

    def stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        """Rows one at a time (a read outside any write transaction)."""
        raise NotImplementedError

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        """A write transaction that excludes other writers; committed on success."""
        raise NotImplementedError
        yield  # pragma: no cover

    def close(self) -> None:
        raise NotImplementedError

    # -- SQL differences
    def wildcard(self, column: str, pattern: str) -> tuple[str, str]:
        """SQL and parameter for a case-sensitive ``*``/``?`` wildcard match of ``column``."""
        raise NotImplementedError

    def contains(self, expr: str, needle: str) -> tuple[str, str]:
        """SQL and parameter: ``needle`` occurs in ``expr`` (plain substring, case-sensitive)."""
        raise NotImplementedError


class SqliteDialect(Dialect):
    """SQLite in WAL mode, ``synchronous=FULL``: a committed transaction survives a power loss."""

    kind = "sqlite"
    pk_type = "INTEGER PRIMARY KEY"

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        try:
            self.conn = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, timeout=_BUSY_TIMEOUT_MS / 1000
            )
            for pragma in (
                f"busy_timeout={_BUSY_TIMEOUT_MS}",
                "journal_mode=WAL",
                "synchronous=FULL",
                "cache_size=-65536",
                "temp_store=MEMORY",
                "mmap_size=268435456",
            ):
                self.conn.execute("PRAGMA " + pragma)
        except sqlite3.Error as exc:
            raise ArchiveError(f"cannot open the SQLite index {path}: {self._why(exc)}") from exc

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self.conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise ArchiveError(f"index error: {self._why(exc)}") from exc

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            self.conn.executemany(sql, rows)
        except sqlite3.Error as exc:
            raise ArchiveError(f"index error: {self._why(exc)}") from exc

    def _why(self, exc: sqlite3.Error) -> str:
        """The error text, naming a full disk (SQLite reports it as "disk I/O error" when the
        WAL or shared-memory file cannot grow)."""
        text = str(exc)
        try:
            st = os.statvfs(os.path.dirname(os.path.abspath(self.location)))
        except OSError:
            return text
        if st.f_bavail * st.f_frsize < 64 * 1024 and "space" not in text:
            text += " (no space left on device)"
        return text

    def stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        try:
            cur = self.conn.execute(sql, params)
            while rows := cur.fetchmany(256):
                yield from rows
        except sqlite3.Error as exc:
            raise ArchiveError(f"index error: {self._why(exc)}") from exc

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        self.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("ROLLBACK")
            raise
        self.execute("COMMIT")

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.conn.execute("PRAGMA optimize")  # keeps the planner's statistics current
        self.conn.close()

    def wildcard(self, column: str, pattern: str) -> tuple[str, str]:
        return f"{column} GLOB ?", pattern.replace("[", "[[]")

    def contains(self, expr: str, needle: str) -> tuple[str, str]:
        return f"instr({expr}, ?) > 0", needle


class PostgresDialect(Dialect):
    """PostgreSQL through psycopg 3 (autocommit reads, explicit write transactions)."""

    kind = "postgresql"
    pk_type = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
    text_type = 'TEXT COLLATE "C"'

    def __init__(self, url: str) -> None:
        super().__init__(_redact(url))
        try:
            import psycopg
        except ImportError as exc:  # pragma: no cover - psycopg is in the postgres extra
            raise ArchiveError("a PostgreSQL index needs psycopg: pip install 'dicomkit[postgres]'") from exc
        self._psycopg = psycopg
        try:
            self.conn = psycopg.connect(url, autocommit=True)
            # The index runs short statements; JIT compilation (~5-10 ms each) is triggered by
            # cost estimates, which are inflated exactly when the statistics are stale.
            if self.conn.info.server_version >= 110000:  # (the setting exists since PostgreSQL 11)
                self.conn.execute("SET jit = off")
        except psycopg.Error as exc:
            raise ArchiveError(f"cannot connect to {self.location}: {exc}") from exc
        self._in_tx = False

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            with self.conn.cursor() as cur:
                cur.execute(self._sql(sql), params)
                return cur.fetchall() if cur.description else []
        except self._psycopg.Error as exc:
            raise ArchiveError(f"index error: {exc}") from exc

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        try:
            with self.conn.cursor() as cur:
                cur.executemany(self._sql(sql), rows)
        except self._psycopg.Error as exc:
            raise ArchiveError(f"index error: {exc}") from exc

    def stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        try:
            with self.conn.cursor() as cur:
                cur.execute(self._sql(sql), params)
                while rows := cur.fetchmany(256):
                    yield from rows
        except self._psycopg.Error as exc:
            raise ArchiveError(f"index error: {exc}") from exc

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        try:
            with self.conn.transaction():
                # one lock per archive (schema): writers of other archives in the database do not wait
                self.execute(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY}, hashtext(current_schema()))")
                yield
        except self._psycopg.Error as exc:
            raise ArchiveError(f"index error: {exc}") from exc

    def close(self) -> None:
        self.conn.close()

    def wildcard(self, column: str, pattern: str) -> tuple[str, str]:
        out = []
        for ch in pattern:
            if ch in "\\%_":
                out.append("\\" + ch)
            elif ch == "*":
                out.append("%")
            elif ch == "?":
                out.append("_")
            else:
                out.append(ch)
        return f"{column} LIKE ?", "".join(out)

    def contains(self, expr: str, needle: str) -> tuple[str, str]:
        return f"strpos({expr}, ?) > 0", needle


def connect(root: Path, database: str | None) -> Dialect:
    """The dialect for ``database`` (None: SQLite at ``<root>/index.sqlite``)."""
    if database is None:
        return SqliteDialect(root / "index.sqlite")
    if database.startswith(("postgresql://", "postgres://")):
        return PostgresDialect(database)
    if database.startswith("sqlite:///"):
        return SqliteDialect(Path(database[len("sqlite:///") :]))
    raise ArchiveError(
        f"unsupported database {database!r}: use None (SQLite in the archive), sqlite:///PATH or postgresql://…"
    )


def _redact(url: str) -> str:
    """The URL without its password (for messages and stats)."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        cred, host = rest.rsplit("@", 1)
        user = cred.split(":", 1)[0]
        return f"{scheme}://{user}@{host}"
    return url
