"""The archive: store DICOM instances in a file store and index them; find, get, delete, verify.

:class:`Archive` ties the :mod:`~dicomkit.archive.storage` file store to the
:mod:`~dicomkit.archive.index` tables. Storing one instance, in this order:

1. read its bytes and parse them (values decode lazily; worker processes for paths and bytes
   in :meth:`Archive.store_many`), check the UIDs (PS3.5 9.1) and the File Meta Information's
   Media Storage SOP Instance UID against the data set's SOP Instance UID (PS3.10 7.1);
2. write it to a temporary file next to its final path;
3. in one write transaction per batch (group commit): decide stored / replaced / duplicate /
   rejected (duplicate policy, conflicts), make the accepted files durable, rename them into
   place, make the renames durable (see :mod:`~dicomkit.archive.storage`), upsert the patient /
   study / series / instance rows, recount the derived attributes, commit.

A file is durable before its index row commits, so every indexed instance has its complete
file; a crash can only leave files without rows (``verify`` reports them as orphans and
``verify(repair=True)`` deletes them; a re-import stores them again) and temporary files.
``delete`` removes the rows first (one transaction), then the files, for the same reason.
"""

from __future__ import annotations

import io
import os
import sys
import time
import warnings
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, cast

from dicomkit.archive import sqlquery
from dicomkit.archive.dialects import Dialect, connect
from dicomkit.archive.index import Index, LevelRow, RowCache
from dicomkit.archive.storage import FILES_DIR, TEMP_SUFFIX, FileStore, uid_problem
from dicomkit.codec.reader import read
from dicomkit.codec.writer import write
from dicomkit.dataset import Dataset
from dicomkit.errors import ArchiveError, DicomError, DicomWarning, InvalidDicomError, NotFoundError
from dicomkit.model.findings import Level

if TYPE_CHECKING:
    from dicomkit.model.query import Query

__all__ = [
    "Archive",
    "ArchiveStats",
    "ImportReport",
    "InstanceRecord",
    "StoreResult",
    "VerifyReport",
    "open_archive",
]

Status = Literal["stored", "replaced", "duplicate", "rejected", "skipped"]
Source = str | os.PathLike[str] | bytes | bytearray | memoryview | Dataset
DUPLICATE_POLICIES = ("overwrite", "ignore", "reject")


@dataclass(frozen=True, slots=True)
class StoreResult:
    """What happened to one source. ``path`` is the stored (or linked) file when indexed."""

    status: Status
    sop_instance_uid: str = ""
    path: str = ""
    reason: str = ""
    source: str = ""


@dataclass(slots=True)
class ImportReport:
    """The outcome of :meth:`Archive.store_many`.

    ``counts`` per status; ``results`` holds every result that is not "stored" (kept small for
    large imports); ``bytes`` is the size of the files stored or replaced.
    """

    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(("stored", "replaced", "duplicate", "rejected", "skipped"), 0)
    )
    results: list[StoreResult] = field(default_factory=list)
    bytes: int = 0
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True, slots=True)
class InstanceRecord:
    """One indexed instance."""

    sop_instance_uid: str
    series_instance_uid: str
    study_instance_uid: str
    patient_id: str
    sop_class_uid: str
    path: Path
    size: int
    digest: str
    transfer_syntax_uid: str


@dataclass(frozen=True, slots=True)
class ArchiveStats:
    """Counts per level, stored bytes and where the index lives."""

    patients: int
    studies: int
    series: int
    instances: int
    bytes: int
    database: str  # "sqlite" or "postgresql"
    database_location: str  # file path, or the URL without its password
    root: Path


@dataclass(slots=True)
class VerifyReport:
    """Index ↔ file store consistency (:meth:`Archive.verify`)."""

    checked: int = 0
    orphan_files: list[Path] = field(default_factory=list)  # in the store, not indexed
    temp_files: list[Path] = field(default_factory=list)  # left by an interrupted write
    missing_files: list[str] = field(default_factory=list)  # SOP Instance UIDs indexed without a file
    mismatched: list[str] = field(default_factory=list)  # size or digest differs from the index
    repaired: bool = False

    @property
    def ok(self) -> bool:
        return not (self.orphan_files or self.temp_files or self.missing_files or self.mismatched)


@dataclass(slots=True)
class _Prepared:
    """A parsed source, ready for the index (picklable: it crosses from worker processes)."""

    source: str
    status: str | None = None  # preset "skipped" / "rejected" / "error" (disk full: raised)
    reason: str = ""
    sop_uid: str = ""
    series_uid: str = ""
    study_uid: str = ""
    patient_id: str = ""
    transfer_syntax: str | None = None
    path: str = ""
    temp: str | None = None
    size: int = 0
    digest: str = ""
    rows: dict[Level, LevelRow] | None = None


def _crc32_function() -> Callable[..., int]:
    """ISA-L's CRC-32 when the optional ``isal`` package (the ``speedups`` extra) is installed:
    the same checksum as zlib's, ~10 times faster (12 vs 124 us for a 512 KiB file here)."""
    try:
        from isal.isal_zlib import crc32
    except ImportError:
        return zlib.crc32
    return cast(Callable[..., int], crc32)


_crc32 = _crc32_function()


def digest_of(data: bytes) -> str:
    """The content digest kept in the index: CRC-32 (zlib's polynomial) and size. A check
    against corruption and a duplicate test, not a cryptographic hash: sha1 or blake2 would
    cost 2-4 times as much CPU per imported file."""
    return f"crc32:{_crc32(data):08x}"


#: this process's memo of index rows (each import worker process has its own)
_ROWS = RowCache()


def _label(source: Source) -> str:
    if isinstance(source, str | os.PathLike):
        return os.fspath(source)
    if isinstance(source, Dataset):
        return "<dataset>"
    return "<bytes>"


def _prepare(source: Source, files: FileStore, link: bool) -> _Prepared:
    """Parse one source and (copy mode) write it durably to its temporary file."""
    label = _label(source)
    src_path: str | None = None
    try:
        if isinstance(source, Dataset):
            buf = io.BytesIO()
            write(source, buf)
            data = buf.getvalue()
        elif isinstance(source, bytes | bytearray | memoryview):
            data = bytes(source)
        else:
            src_path = os.path.abspath(os.fspath(source))
            with open(src_path, "rb") as fh:
                data = fh.read()
    except OSError as exc:
        return _Prepared(label, "rejected", f"cannot read: {exc.strerror or exc}")
    except DicomError as exc:
        return _Prepared(label, "rejected", f"cannot encode the data set: {exc}")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DicomWarning)
            # the whole data set is scanned (pixel data too, left out of the index): a file cut
            # short anywhere is "truncated"; this costs ~0.1 ms more than a header-only read
            ds = read(data)
            mark = 0  # warnings before it are not about the data set indexed
            if ds.meta is None:
                if link and src_path is not None:
                    return _Prepared(
                        label, "rejected", "no File Meta Information (link mode needs Part 10 files)"
                    )
                full = read(data)
                buf = io.BytesIO()
                write(full, buf)
                data = buf.getvalue()
                src_path = None
                mark = len(caught)
                ds = read(data)
            # (the memo only for a data set read without fix-ups: then its encoding is its
            # Transfer Syntax's)
            rows = _ROWS.rows(ds, memo=len(caught) == mark)
        lost = [w.message for w in caught if isinstance(w.message, DicomWarning) and w.message.data_loss]
        if lost:
            return _Prepared(label, "rejected", f"truncated: {lost[0]}")
    except InvalidDicomError as exc:
        return _Prepared(label, "skipped", f"not DICOM: {exc}")
    except DicomError as exc:
        return _Prepared(label, "rejected", f"malformed: {exc}")
    except (ValueError, TypeError, UnicodeError) as exc:
        return _Prepared(label, "rejected", f"malformed: {exc}")
    uids: list[str] = []
    for keyword, name in (
        ("SOPInstanceUID", "SOP Instance UID"),
        ("SeriesInstanceUID", "Series Instance UID"),
        ("StudyInstanceUID", "Study Instance UID"),
    ):
        value = ds.get(keyword)
        value = str(value) if value is not None else None
        problem = uid_problem(value, name)
        if problem:
            return _Prepared(label, "rejected", problem, sop_uid=uids[0] if uids else "")
        uids.append(str(value))
    sop_uid, series_uid, study_uid = uids
    meta = ds.meta
    media = meta.get("MediaStorageSOPInstanceUID") if meta is not None else None
    if media and str(media) != sop_uid:
        return _Prepared(
            label,
            "rejected",
            f"the File Meta Information's Media Storage SOP Instance UID {str(media)[:80]!r} differs from the"
            f" data set's SOP Instance UID {sop_uid}",
            sop_uid=sop_uid,
        )
    ts = meta.get("TransferSyntaxUID") if meta is not None else None
    prepared = _Prepared(
        label,
        sop_uid=sop_uid,
        series_uid=series_uid,
        study_uid=study_uid,
        patient_id=rows[Level.PATIENT].values["patient_id"],
        transfer_syntax=str(ts) if ts else None,
        size=len(data),
        digest=digest_of(data),
        rows=rows,
    )
    if link and src_path is not None:
        prepared.path = src_path
        return prepared
    final = files.path_for(study_uid, series_uid, sop_uid)
    prepared.path = str(final)
    if _same_file(final, data, prepared.digest):
        return prepared  # already in place (a re-import): nothing to write
    try:
        prepared.temp = str(files.write_temp(final, data, source=src_path))
    except ArchiveError as exc:
        prepared.status, prepared.reason = "error", str(exc)
    return prepared


def _same_file(path: Path, data: bytes, digest: str) -> bool:
    """Does ``path`` hold exactly ``data``? (size, then CRC-32, then bytes)"""
    try:
        if os.stat(path).st_size != len(data):
            return False
        with open(path, "rb") as fh:
            held = fh.read()
    except OSError:
        return False
    return digest_of(held) == digest and held == data


def _prepare_chunk(sources: list[Source], files: FileStore, link: bool) -> list[_Prepared]:
    return [_prepare(s, files, link) for s in sources]


class Archive:
    """An archive opened by :func:`dicomkit.archive.open` (a context manager)."""

    def __init__(
        self, root: Path, db: Dialect, *, duplicates: str = "ignore", link: bool = False, sync: str = "batch"
    ) -> None:
        if duplicates not in DUPLICATE_POLICIES:
            raise ArchiveError(
                f"duplicates must be one of {', '.join(DUPLICATE_POLICIES)}, not {duplicates!r}"
            )
        self.root = root
        self.duplicates = duplicates
        self.link = link
        self._db = db
        self._index = Index(db)
        self._files = FileStore(root, sync=sync)
        self._files_prefix = str(root / FILES_DIR) + os.sep

    # -- lifecycle
    def close(self) -> None:
        """Close the index connection (an Archive is for one thread at a time)."""
        self._db.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Archive {self.root} ({self._db.kind})>"

    @property
    def database(self) -> str:
        """ "sqlite" or "postgresql"."""
        return self._db.kind

    # -- storing
    def store(self, source: Source) -> StoreResult:
        """Store one file (path), Part 10 bytes or data set. Raises :class:`ArchiveError` only
        for a failure of the archive itself (disk full, database); bad input is a result."""
        prepared = _prepare(source, self._files, self.link)
        return self._commit([prepared])[0]

    def store_many(
        self,
        sources: Iterable[Source],
        *,
        workers: int | None = None,
        batch_size: int = 256,
        progress: Callable[[StoreResult], None] | None = None,
    ) -> ImportReport:
        """Store many sources: paths and bytes are parsed and written by ``workers`` processes
        (default: the number of CPUs; 0 or 1: in this process; data sets are always encoded in
        this process), the index is updated in transactions
        of ``batch_size`` instances. ``progress`` is called once per source, in order.

        A failure of the archive itself (disk full) raises :class:`ArchiveError` after the
        batches committed so far; the failing batch leaves no file and no row.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, not {batch_size}")
        started = time.perf_counter()
        report = ImportReport()
        batch: list[_Prepared] = []

        def flush() -> None:
            results = self._commit(batch)
            for p, r in zip(batch, results, strict=True):
                if r.status in ("stored", "replaced"):
                    report.bytes += p.size
            batch.clear()
            for r in results:
                report.counts[r.status] += 1
                if r.status != "stored":
                    report.results.append(r)
                if progress is not None:
                    progress(r)

        try:
            for prepared in self._prepared(sources, workers):
                batch.append(prepared)
                if len(batch) >= batch_size:
                    flush()
            if batch:
                flush()
        finally:
            for p in batch:  # an error: nothing of the failing batch stays
                if p.temp:
                    FileStore.discard(p.temp)
        report.seconds = time.perf_counter() - started
        return report

    def _prepared(self, sources: Iterable[Source], workers: int | None) -> Iterator[_Prepared]:
        """Prepared sources in input order; paths in worker processes when there are many."""
        n = (os.cpu_count() or 1) if workers is None else workers
        chunk = 32
        it = iter(sources)
        first: list[Source] = []
        for s in it:
            first.append(s)
            if len(first) >= 2 * chunk:
                break
        if n <= 1 or len(first) < 2 * chunk:
            for s in first:
                yield _prepare(s, self._files, self.link)
            for s in it:
                yield _prepare(s, self._files, self.link)
            return
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # fork: the workers only parse and write files; they never touch the inherited index
        # connection, and multiprocessing ends them with os._exit (no finalizer closes it)
        context = multiprocessing.get_context("fork" if sys.platform == "linux" else None)
        work = partial(_prepare_chunk, files=self._files, link=self.link)
        pending: deque[Future[list[_Prepared]] | list[_Prepared]] = deque()

        def chunks() -> Iterator[list[Source]]:
            items = first
            while items:
                for k in range(0, len(items), chunk):
                    yield items[k : k + chunk]
                items = []
                for s in it:
                    items.append(s)
                    if len(items) >= chunk:
                        break

        try:
            pool = ProcessPoolExecutor(max_workers=n, mp_context=context, initializer=_worker_init)
        except OSError:  # no process support here (e.g. no /dev/shm): parse in this process
            yield from (_prepare(s, self._files, self.link) for part in chunks() for s in part)
            return
        with pool:
            try:
                for part in chunks():
                    if not any(isinstance(s, Dataset) for s in part):  # paths and bytes pickle cheaply
                        pending.append(pool.submit(work, part))
                    else:
                        pending.append(_prepare_chunk(part, self._files, self.link))
                    while len(pending) > n * 4:
                        yield from _result(pending.popleft())
                while pending:
                    yield from _result(pending.popleft())
            finally:  # an error or an abandoned generator: drop what the workers wrote
                while pending:
                    for p in _result(pending.popleft(), quiet=True):
                        if p.temp:
                            FileStore.discard(p.temp)

    def _commit(self, items: list[_Prepared]) -> list[StoreResult]:
        """Decide, publish the files, index them: one write transaction."""
        results: list[StoreResult | None] = [None] * len(items)
        errors = [p for p in items if p.status == "error"]
        if errors:
            for p in items:
                FileStore.discard(p.temp)
            raise ArchiveError(errors[0].reason)
        todo: list[tuple[int, _Prepared]] = []
        for k, p in enumerate(items):
            if p.status is None:
                todo.append((k, p))
            else:
                results[k] = StoreResult(cast(Status, p.status), p.sop_uid, "", p.reason, p.source)
        if not todo:
            return [r for r in results if r is not None]
        published: list[str] = []
        obsolete: list[Path] = []
        try:
            with self._db.write():
                accepted = self._decide(todo, results, obsolete)
                self._files.sync_data([p.temp for p in accepted if p.temp])
                for p in accepted:
                    if p.temp:
                        FileStore.publish(p.temp, p.path)
                        p.temp = None
                    if not self.link:  # (a file found in place is synced too; linked files are the user's)
                        published.append(p.path)
                self._files.sync_names(published)
                self._index_rows(accepted)
        except BaseException:
            for _, p in todo:
                if p.temp:
                    FileStore.discard(p.temp)
            raise
        for path in obsolete:
            self._files.remove(path)
        self._index.after_commit(len(accepted))  # keeps PostgreSQL's planner statistics current
        return [r for r in results if r is not None]

    def _decide(
        self, todo: list[tuple[int, _Prepared]], results: list[StoreResult | None], obsolete: list[Path]
    ) -> list[_Prepared]:
        index = self._index
        existing = index.existing_instances([p.sop_uid for _, p in todo])
        study_patient = index.study_patients([p.study_uid for _, p in todo])
        series_study = index.series_studies([p.series_uid for _, p in todo])
        accepted: list[_Prepared] = []
        for k, p in todo:
            old = existing.get(p.sop_uid)
            conflict = ""
            status: Status
            reason = ""
            if old is not None and (old[0], old[1], old[2]) != (p.series_uid, p.study_uid, p.patient_id):
                conflict = (
                    f"SOP Instance UID {p.sop_uid} is stored under patient {old[2]!r}, study {old[1]},"
                    f" series {old[0]}; this one has patient {p.patient_id!r}, study {p.study_uid},"
                    f" series {p.series_uid}"
                )
            elif study_patient.get(p.study_uid, p.patient_id) != p.patient_id:
                conflict = (
                    f"study {p.study_uid} belongs to patient {study_patient[p.study_uid]!r},"
                    f" not {p.patient_id!r}"
                )
            elif series_study.get(p.series_uid, p.study_uid) != p.study_uid:
                conflict = (
                    f"series {p.series_uid} belongs to study {series_study[p.series_uid]}, not {p.study_uid}"
                )
            if conflict:
                status, reason = "rejected", "conflict: " + conflict
            elif old is None:
                status = "stored"
            elif old[5] == p.digest and str(self._abs(old[3])) == p.path:
                status, reason = "duplicate", "already stored (identical)"
            elif self.duplicates == "ignore":
                status, reason = "duplicate", "already stored (different content; kept the stored file)"
            elif self.duplicates == "reject":
                status, reason = "rejected", "already stored with different content (duplicates='reject')"
            else:
                status, reason = "replaced", "replaced the stored instance"
                if str(self._abs(old[3])) != p.path:
                    obsolete.append(self._abs(old[3]))
            if status in ("stored", "replaced"):
                accepted.append(p)
                existing[p.sop_uid] = (p.series_uid, p.study_uid, p.patient_id, p.path, p.size, p.digest)
                study_patient[p.study_uid] = p.patient_id
                series_study[p.series_uid] = p.study_uid
            elif p.temp:
                FileStore.discard(p.temp)
                p.temp = None
            indexed = status in ("stored", "replaced", "duplicate")
            results[k] = StoreResult(status, p.sop_uid, p.path if indexed else "", reason, p.source)
        return accepted

    def _index_rows(self, accepted: list[_Prepared]) -> None:
        if not accepted:
            return
        index = self._index
        last: dict[tuple[Level, str], _Prepared] = {}
        for p in accepted:
            last[Level.PATIENT, p.patient_id] = p
            last[Level.STUDY, p.study_uid] = p
            last[Level.SERIES, p.series_uid] = p
        pks: dict[tuple[Level, str], int] = {}
        for lv, parent, parent_attr in (
            (Level.PATIENT, None, ""),
            (Level.STUDY, Level.PATIENT, "patient_id"),
            (Level.SERIES, Level.STUDY, "study_uid"),
        ):
            for (level, key), p in sorted(last.items(), key=lambda kv: (kv[0][0] != lv, kv[0][1])):
                if level != lv:
                    continue
                assert p.rows is not None
                parent_pk = pks[parent, getattr(p, parent_attr)] if parent is not None else None
                pks[lv, key] = index.upsert(lv, p.rows[lv], parent_pk)
        rows = []
        for p in sorted(accepted, key=lambda p: p.sop_uid):
            assert p.rows is not None
            rows.append(
                (
                    p.rows[Level.INSTANCE],
                    pks[Level.SERIES, p.series_uid],
                    self._db_path(p.path),
                    p.size,
                    p.digest,
                    p.transfer_syntax,
                )
            )
        index.put_instances(rows)
        index.recount(
            {pks[Level.SERIES, p.series_uid] for p in accepted},
            {pks[Level.STUDY, p.study_uid] for p in accepted},
            {pks[Level.PATIENT, p.patient_id] for p in accepted},
        )

    # -- paths: files in the store are indexed relative to the root (the archive can move)
    def _db_path(self, path: str) -> str:
        prefix = self._files_prefix
        if path.startswith(prefix):
            return FILES_DIR + "/" + path[len(prefix) :].replace(os.sep, "/")
        return path

    def _abs(self, text: str) -> Path:
        return Path(text) if os.path.isabs(text) else self.root / text

    # -- reading
    def find(self, query: Query) -> list[dict[str, Any]]:
        """The matching entities' identifiers (DICOM JSON, :meth:`Query.response`), paged and ordered."""
        return [query.response(record) for record in sqlquery.run(self._index, query)]

    def find_records(self, query: Query) -> list[dict[str, Any]]:
        """The matching entities' full records (entity + parents + derived attributes, DICOM JSON)."""
        return list(sqlquery.run(self._index, query))

    def count(self, query: Query) -> int:
        """How many entities match (``limit`` and ``offset`` ignored)."""
        return sqlquery.count(self._index, query)

    def path_of(self, sop_instance_uid: str) -> Path:
        """The file of an indexed instance; :class:`NotFoundError` when it is not indexed."""
        got = self._index.instance_file(sop_instance_uid)
        if got is None:
            raise NotFoundError(f"SOP Instance UID {sop_instance_uid!r} is not in the archive")
        return self._abs(got[0])

    def open_file(self, sop_instance_uid: str) -> BinaryIO:
        """The stored Part 10 file, opened for binary reading (unchanged bytes)."""
        path = self.path_of(sop_instance_uid)
        try:
            return open(path, "rb")
        except FileNotFoundError:
            raise NotFoundError(f"the file of {sop_instance_uid} is missing: {path} (run verify)") from None

    def get(self, sop_instance_uid: str, *, stop_before_pixels: bool = False) -> Dataset:
        """The stored instance, read."""
        with self.open_file(sop_instance_uid) as fh:
            return read(fh.read(), stop_before_pixels=stop_before_pixels)

    def iter_instances(self) -> Iterator[InstanceRecord]:
        """Every indexed instance, in storage order."""
        for r in self._index.iter_instances():
            yield InstanceRecord(
                r[0], r[1], r[2], r[3], r[4] or "", self._abs(r[5]), int(r[6]), r[7], r[8] or ""
            )

    def stats(self) -> ArchiveStats:
        c = self._index.counts()
        return ArchiveStats(
            c["patient"],
            c["study"],
            c["series"],
            c["instance"],
            c["bytes"],
            self._db.kind,
            self._db.location,
            self.root,
        )

    # -- deleting and checking
    def delete(self, level: Level | str, uid: str) -> int:
        """Remove a patient (by Patient ID), study, series or instance; the number of instances
        removed (:class:`NotFoundError` when there is none). Rows first, then files."""
        lv = _level(level)
        with self._db.write():
            found = self._index.instances_under(lv, uid)
            if not found:
                raise NotFoundError(f"no {lv} {uid!r} in the archive")
            self._index.delete_instances([f[0] for f in found])
            self._index.recount({f[1] for f in found}, (), ())
        self._index.after_commit(len(found))
        for _pk, _series, _sop, path in found:
            self._files.remove(self._abs(path))
        return len(found)

    def verify(self, *, repair: bool = False, hashes: bool = True) -> VerifyReport:
        """Compare the index with the file store: orphan and temporary files, indexed instances
        whose file is missing or differs (size, and the digest when ``hashes``). ``repair``
        deletes orphan and temporary files and the rows of missing files; a mismatched file is
        re-indexed from its content when it is a valid instance with the same SOP Instance UID,
        else its row and file go."""
        report = VerifyReport()
        indexed: dict[str, tuple[str, int, str]] = {}
        for r in self._index.iter_instances():
            indexed[str(self._abs(r[5]))] = (r[0], int(r[6]), r[7])
        report.checked = len(indexed)
        files_dir = self.root / FILES_DIR
        for dirpath, _dirs, names in os.walk(files_dir):
            for name in names:
                path = os.path.join(dirpath, name)
                if name.startswith(".") and name.endswith(TEMP_SUFFIX):
                    report.temp_files.append(Path(path))
                elif path not in indexed:
                    report.orphan_files.append(Path(path))
        for path, (sop, size, digest) in indexed.items():
            try:
                st = os.stat(path)
            except FileNotFoundError:
                report.missing_files.append(sop)
                continue
            if st.st_size != size:
                report.mismatched.append(sop)
            elif hashes:
                crc = 0
                with open(path, "rb") as fh:
                    while block := fh.read(1 << 20):
                        crc = _crc32(block, crc)
                if f"crc32:{crc:08x}" != digest:
                    report.mismatched.append(sop)
        report.orphan_files.sort()
        report.temp_files.sort()
        if repair and not report.ok:
            self._repair(report)
            report.repaired = True
        return report

    def _repair(self, report: VerifyReport) -> None:
        for path in [*report.orphan_files, *report.temp_files]:
            self._files.remove(path)  # (only ever inside the store)
        gone = list(report.missing_files)
        for sop in report.mismatched:
            path = self.path_of(sop)
            prepared = _prepare(path, self._files, link=True)
            if prepared.status is None and prepared.sop_uid == sop:
                prepared.temp = None
                policy, self.duplicates = self.duplicates, "overwrite"
                try:
                    self._commit([prepared])
                finally:
                    self.duplicates = policy
            else:
                gone.append(sop)
                self._files.remove(path)
        if gone:
            with self._db.write():
                found = [f for sop in gone for f in self._index.instances_under(Level.INSTANCE, sop)]
                self._index.delete_instances([f[0] for f in found])
                self._index.recount({f[1] for f in found}, (), ())


def _worker_init() -> None:
    """Ctrl-C is the importing process's to handle (it stops, discards what the workers wrote
    and reports); workers ignore SIGINT instead of dying with a traceback each."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _result(entry: Future[list[_Prepared]] | list[_Prepared], *, quiet: bool = False) -> list[_Prepared]:
    from concurrent.futures.process import BrokenProcessPool

    if isinstance(entry, list):
        return entry
    try:
        return entry.result()
    except BrokenProcessPool as exc:
        if quiet:
            return []
        raise ArchiveError(f"an import worker process died: {exc}") from exc
    except BaseException:
        if quiet:
            return []
        raise


def _level(level: Level | str) -> Level:
    try:
        return Level(str(level).lower())
    except ValueError:
        raise ArchiveError(f"unknown level {level!r}: use patient, study, series or instance") from None


def open_archive(
    root: str | os.PathLike[str],
    database: str | None = None,
    *,
    duplicates: str = "ignore",
    link: bool = False,
    create: bool = True,
    sync: str = "batch",
) -> Archive:
    """Open the archive at ``root`` (created when missing, unless ``create=False``).

    ``database``: None for SQLite at ``<root>/index.sqlite``, ``"sqlite:///PATH"`` for
    another SQLite file, or a ``postgresql://`` URL (psycopg 3). ``duplicates``: what
    storing a SOP Instance UID that is already indexed with different content does —
    "ignore" (keep the stored one), "overwrite" (replace it) or "reject". ``link``: index
    files in place instead of copying them into the store. ``sync``: how stored files are made
    durable before their index rows commit — "batch" (one ``syncfs(2)`` per committed batch on
    Linux; elsewhere as "each") or "each" (an fsync per file and per touched directory).
    """
    path = Path(os.path.abspath(os.path.expanduser(root)))
    if not path.is_dir():
        if not create:
            raise NotFoundError(f"no archive at {path}")
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ArchiveError(f"cannot create the archive folder {path}: {exc.strerror or exc}") from exc
    if database is None and not create and not (path / "index.sqlite").exists():
        raise NotFoundError(f"no archive index at {path / 'index.sqlite'}")
    db = connect(path, database)
    try:
        index = Index(db)
        if index.schema_version() is None:
            if not create:
                raise NotFoundError(f"no archive index in {db.location}")
            index.create_schema()
        return Archive(path, db, duplicates=duplicates, link=link, sync=sync)
    except BaseException:
        db.close()
        raise
