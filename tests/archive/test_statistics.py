"""Planner statistics of the archive index (issue 6): the ANALYZE policy, and per-batch queries
that stay index-driven when PostgreSQL's statistics are stale (autovacuum off).

The PostgreSQL tests use the server of the other archive tests (``DICOMKIT_TEST_POSTGRES``) and
skip loudly when it is not reachable.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import dicomkit.archive
from dicomkit.archive import Archive
from dicomkit.archive import index as index_module
from dicomkit.archive.dialects import Dialect, PostgresDialect, SqliteDialect
from dicomkit.archive.index import Index
from dicomkit.errors import ArchiveError
from tests.archive import data
from tests.archive.conftest import _private_schema


@pytest.fixture
def pg_index(pg_url: str) -> Iterator[Index]:
    db = PostgresDialect(pg_url)
    index = Index(db)
    index.create_schema()
    try:
        yield index
    finally:
        db.close()


def _reltuples(db: Dialect, table: str) -> float:
    return float(db.execute("SELECT reltuples FROM pg_class WHERE oid = ?::regclass", (table,))[0][0])


def _fill(db: Dialect, studies: int, series_per_study: int = 5, per_series: int = 10) -> None:
    """Index rows made by SQL, without ANALYZE: the statistics stay those of empty tables. The
    rows are about as wide as real ones (attrs: the levels' DICOM JSON), so the tables have
    realistic sizes in pages, what the planner estimates a never-analyzed table's rows from."""
    n_series = studies * series_per_study
    n_instances = n_series * per_series
    with db.write():
        db.execute(
            "INSERT INTO patient (patient_id, attrs) SELECT 'P' || g, repeat('x', 400) FROM generate_series(1, ?) g",
            (studies,),
        )
        db.execute(
            "INSERT INTO study (patient_pk, study_uid, attrs)"
            " SELECT g, '1.2.' || g, repeat('x', 600) FROM generate_series(1, ?) g",
            (studies,),
        )
        db.execute(
            "INSERT INTO series (study_pk, series_uid, modality, attrs)"
            " SELECT 1 + (g - 1) / ?, '1.3.' || g, 'CT', repeat('x', 800) FROM generate_series(1, ?) g",
            (series_per_study, n_series),
        )
        db.execute(
            "INSERT INTO instance (series_pk, sop_uid, sopclassuid, path, size, digest, attrs)"
            " SELECT 1 + (g - 1) / ?, '1.4.' || g, ?, 'f' || g, 1, 'd', repeat('x', 300)"
            " FROM generate_series(1, ?) g",
            (per_series, data.CT, n_instances),
        )


def _plan_nodes(db: Dialect, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    got = db.execute("EXPLAIN (FORMAT JSON) " + sql, params)[0][0]
    plan = got if isinstance(got, list) else json.loads(got)
    out: list[dict[str, Any]] = []

    def walk(node: dict[str, Any]) -> None:
        out.append(node)
        for child in node.get("Plans", ()):
            walk(child)

    walk(plan[0]["Plan"])
    return out


def _scans(nodes: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(node type, relation or index name) of the scan nodes."""
    return {
        (n["Node Type"], n.get("Index Name") or n["Relation Name"])
        for n in nodes
        if "Relation Name" in n or "Index Name" in n
    }


# -- the ANALYZE policy


def _fill_elsewhere(url: str, studies: int, *, analyze: bool = False) -> None:
    """Fill (then ANALYZE) through other connections, as another writer would; wait until the
    server's statistics counters have the change (a backend reports them within ~1 s)."""
    other = PostgresDialect(url)
    _fill(other, studies=studies)
    other.close()
    _wait_for_mod(url, studies * 50)
    if analyze:
        other = PostgresDialect(url)
        other.execute("ANALYZE")
        other.close()
        _wait_for_mod(url, 0)


def _wait_for_mod(url: str, want: int) -> None:
    got = None
    for _ in range(100):
        got = other_mod(url)
        if got == want:
            return
        time.sleep(0.1)
    pytest.fail(f"the server's n_mod_since_analyze stayed {got}, not {want}")


def other_mod(url: str) -> int:
    db = PostgresDialect(url)
    try:
        got = db.execute(
            "SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE relid = 'instance'::regclass"
        )
        return int(got[0][0])
    finally:
        db.close()


def test_policy_floor_then_ten_percent(pg_index: Index) -> None:
    db = pg_index.db
    assert not pg_index.after_commit(index_module.ANALYZE_MIN_ROWS - 1)  # an empty index: the floor
    assert pg_index.rows_at_analyze == 0
    assert _reltuples(db, "instance") == -1  # (PostgreSQL >= 14: "never analyzed")
    _fill(db, studies=300)  # 15,000 rows, counted here as one commit of 15,000
    assert pg_index.after_commit(15_000)
    assert pg_index.analyze_count == 1
    for table in ("patient", "study", "series", "instance"):
        assert _reltuples(db, table) > 0, table
    assert _reltuples(db, "instance") == 15_000
    assert pg_index.rows_at_analyze == 15_000
    assert pg_index.changed_since_analyze == 0
    # 10 % of 15,000 is 1,500: the floor (1,000) alone no longer triggers
    assert not pg_index.after_commit(1_000)
    assert not pg_index.after_commit(499)
    assert pg_index.after_commit(1)
    assert pg_index.analyze_count == 2


def test_policy_counts_the_rows_of_other_writers(pg_url: str, pg_index: Index) -> None:
    """A never-analyzed index filled by another writer: the first commit here analyzes."""
    _fill_elsewhere(pg_url, studies=300)  # 15,000 rows
    fresh = Index(pg_index.db)
    assert fresh.after_commit(1)
    assert fresh.analyze_count == 1
    assert _reltuples(pg_index.db, "instance") == 15_000


def test_policy_starts_from_the_servers_statistics(pg_url: str, pg_index: Index) -> None:
    """A new Index on a freshly analyzed index does not analyze again for a few rows."""
    _fill_elsewhere(pg_url, studies=600, analyze=True)  # 30,000 rows
    fresh = Index(pg_index.db)
    assert not fresh.after_commit(2_999)
    assert fresh.rows_at_analyze == 30_000
    assert fresh.after_commit(1)


def test_nothing_written_nothing_analyzed(pg_index: Index) -> None:
    assert not pg_index.after_commit(0)
    assert pg_index.rows_at_analyze is None  # not even looked up
    assert pg_index.analyze_count == 0


def test_sqlite_is_not_analyzed(tmp_path: Path) -> None:
    db = SqliteDialect(tmp_path / "index.sqlite")
    try:
        index = Index(db)
        index.create_schema()
        assert not index.after_commit(10**6)
        assert index.analyze_count == 0
        assert not db.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
    finally:
        db.close()


def test_storing_refreshes_statistics(tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the archive: committed batches count, ANALYZE runs after the commit."""
    monkeypatch.setattr(index_module, "ANALYZE_MIN_ROWS", 5)
    files = data.tree(tmp_path / "in", [[4, 4]])
    with dicomkit.archive.open(tmp_path / "arc", pg_url) as arc:
        report = arc.store_many(files[:4], workers=0, batch_size=4)
        assert report.counts["stored"] == 4
        assert arc._index.analyze_count == 0
        assert _reltuples(arc._index.db, "instance") == -1
        arc.store_many(files[4:], workers=0, batch_size=4)
        assert arc._index.analyze_count == 1
        assert _reltuples(arc._index.db, "instance") == 8
        arc.delete("series", data.uid(0, 0))  # 4 rows changed: under the floor (5)
        assert arc._index.analyze_count == 1
        arc.delete("series", data.uid(0, 1))  # 8 rows changed: >= 5 and >= 10 % of 8
        assert arc._index.analyze_count == 2
        assert _reltuples(arc._index.db, "instance") == 0


def test_a_failed_analyze_does_not_fail_the_store(pg_index: Index, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> None:
        raise ArchiveError("index error: permission denied")

    monkeypatch.setattr(pg_index, "analyze", refuse)
    with pytest.warns(UserWarning, match="could not refresh the index statistics"):
        assert not pg_index.after_commit(index_module.ANALYZE_MIN_ROWS)
    assert pg_index.changed_since_analyze == 0


# -- index-driven per-batch queries with stale statistics

#: never analyzed: 20,000 patients and studies, 40,000 series, 200,000 instances (big enough
#: that reading a batch's 256 rows of a table by an index is the right plan)
STALE_STUDIES = 20_000


@pytest.fixture(scope="module")
def stale_index() -> Iterator[Index]:
    """One never-analyzed index of STALE_STUDIES studies for the module (filled once)."""
    with _private_schema() as url:
        db = PostgresDialect(url)
        try:
            index = Index(db)
            index.create_schema()
            _fill(db, studies=STALE_STUDIES, series_per_study=2, per_series=5)
            assert _reltuples(db, "instance") == -1
            yield index
        finally:
            db.close()


@pytest.mark.parametrize("n_studies", [6, 300])
def test_recount_queries_use_the_indexes_with_stale_statistics(stale_index: Index, n_studies: int) -> None:
    db = stale_index.db
    pks = list(range(1_001, 1_001 + n_studies))
    marks = ",".join("?" * n_studies)
    # the setup reproduces the problem: the former join scans the whole instance table
    old = _plan_nodes(
        db,
        "SELECT DISTINCT se.study_pk, i.sopclassuid FROM instance i JOIN series se ON se.pk = i.series_pk"
        f" WHERE se.study_pk IN ({marks})",
        pks,
    )
    assert any(t.endswith("Seq Scan") and r == "instance" for t, r in _scans(old)), _scans(old)

    for sql in (stale_index._study_sop_classes_sql(marks), stale_index._study_modalities_sql(marks)):
        scans = _scans(_plan_nodes(db, sql, pks))
        assert not any(t.endswith("Seq Scan") and r in ("series", "instance") for t, r in scans), scans
        assert any(r == "series_study_pk" for _t, r in scans), scans
    scans = _scans(_plan_nodes(db, stale_index._study_sop_classes_sql(marks), pks))
    assert any(r == "instance_series_pk" for _t, r in scans), scans


def test_recount_queries_give_the_same_rows_as_the_plain_join(stale_index: Index) -> None:
    db = stale_index.db
    with db.write():  # a second SOP class in some series, and an empty study
        db.execute("UPDATE instance SET sopclassuid = ? WHERE mod(pk, 7) = 0 AND series_pk < 60", (data.MR,))
        db.execute("DELETE FROM series WHERE study_pk = 3")
    pks = list(range(1, 13))
    marks = ",".join("?" * len(pks))
    got = set(db.execute(stale_index._study_sop_classes_sql(marks), pks))
    want = set(
        db.execute(
            "SELECT se.study_pk, i.sopclassuid FROM instance i JOIN series se ON se.pk = i.series_pk"
            f" WHERE se.study_pk IN ({marks})",
            pks,
        )
    )
    assert got == want
    assert {(1, data.CT), (1, data.MR), (12, data.CT)} <= got
    assert not any(pk == 3 for pk, _ in got)
    got_modalities = sorted(db.execute(stale_index._study_modalities_sql(marks), pks))
    want_modalities = sorted(
        db.execute(f"SELECT study_pk, modality FROM series WHERE study_pk IN ({marks})", pks)
    )
    assert got_modalities == want_modalities
    assert len(got_modalities) == 2 * 11


@pytest.mark.parametrize("shape", ["one-instance studies", "one study"])
def test_every_statement_of_a_stored_batch_uses_the_indexes_with_stale_statistics(
    stale_index: Index, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shape: str
) -> None:
    """Store real batches of 256 (new, then the same again: duplicates) into the never-analyzed
    index, record every statement the archive runs, and EXPLAIN each: no whole-table scan."""
    db = stale_index.db
    assert isinstance(db, PostgresDialect)
    if shape == "one-instance studies":  # (CR / DX: every instance its own study and patient)
        files = [
            data.write(tmp_path / "in" / f"{k}.dcm", 90_000 + k, 0, 0, PatientID=f"CR{k}") for k in range(256)
        ]
    else:
        files = data.tree(tmp_path / "in", [[26] * 10])[:256]
    statements: list[tuple[str, list[Any]]] = []
    execute = db.execute

    def recording(sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        statements.append((sql, list(params)))
        return execute(sql, params)

    monkeypatch.setattr(db, "execute", recording)
    monkeypatch.setattr(index_module, "ANALYZE_MIN_ROWS", 10**12)  # keep the statistics stale
    (tmp_path / "arc").mkdir()
    arc = Archive(tmp_path / "arc", db)  # (on the module's stale index; not closed: the fixture's)
    for _ in range(2):  # stored, then duplicates (the lookups then find rows)
        report = arc.store_many(files, workers=0, batch_size=256)
        assert report.total == 256
    monkeypatch.setattr(db, "execute", execute)
    assert _reltuples(db, "instance") == -1  # still stale (no ANALYZE ran)
    explained = 0
    for sql, params in statements:
        if not sql.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE")) or "pg_" in sql:
            continue
        scans = _scans(_plan_nodes(db, sql, params))
        assert not any(t.endswith("Seq Scan") for t, _r in scans), (sql, scans)
        explained += 1
    assert explained >= 10


def test_jit_is_off_on_the_index_connection(pg_index: Index) -> None:
    assert pg_index.db.execute("SHOW jit")[0][0] == "off"


@pytest.fixture
def store_two_classes(make_archive: Callable[..., Archive], tmp_path: Path) -> Archive:
    arc = make_archive()
    files = data.tree(tmp_path / "in", [[2, 2], [1]])
    arc.store_many(files, workers=0, batch_size=2)
    return arc


def test_sop_classes_in_study_on_both_backends(store_two_classes: Archive) -> None:
    from dicomkit.model.query import Query

    q = Query.from_params("study", {}, return_keys=["SOPClassesInStudy", "ModalitiesInStudy"])
    got = {
        r["0020000D"]["Value"][0]: (sorted(r["00080062"]["Value"]), sorted(r["00080061"]["Value"]))
        for r in store_two_classes.find(q)
    }
    assert got == {
        data.uid(0): (sorted([data.CT, data.MR]), ["CT", "MR"]),
        data.uid(1): ([data.CT], ["CT"]),
    }
