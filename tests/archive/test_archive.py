"""dicomkit.archive: storing, duplicates and conflicts, hostile input, derived attributes, delete,
verify — each test on SQLite and PostgreSQL (see conftest.py).

Oracles: the bytes of the source files, pydicom reading the stored files, counts computed by
hand from the generated hierarchy (tests/archive/data.py), and the PS3.5 9.1 UID rules.
"""

from __future__ import annotations

import errno
import io
import os
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path

import pydicom
import pytest

import dicomkit
import dicomkit.archive
from dicomkit.archive import Archive
from dicomkit.errors import ArchiveError, NotFoundError
from dicomkit.model.query import Query
from tests.archive import data


def _study_counts(arc: Archive) -> dict[str, tuple[int, int, list[str], list[str]]]:
    """study uid → (NumberOfStudyRelatedSeries, ...Instances, ModalitiesInStudy, SOPClassesInStudy)."""
    q = Query.from_params(
        "study",
        {},
        return_keys=[
            "NumberOfStudyRelatedSeries",
            "NumberOfStudyRelatedInstances",
            "ModalitiesInStudy",
            "SOPClassesInStudy",
        ],
    )
    out = {}
    for r in arc.find(q):
        out[r["0020000D"]["Value"][0]] = (
            r["00201206"]["Value"][0],
            r["00201208"]["Value"][0],
            sorted(r["00080061"].get("Value", [])),
            sorted(r["00080062"].get("Value", [])),
        )
    return out


def _patient_counts(arc: Archive) -> dict[str, tuple[int, int, int]]:
    q = Query.from_params(
        "patient",
        {},
        root="PATIENT",
        return_keys=[
            "NumberOfPatientRelatedStudies",
            "NumberOfPatientRelatedSeries",
            "NumberOfPatientRelatedInstances",
        ],
    )
    return {
        r["00100020"]["Value"][0]: (
            r["00201200"]["Value"][0],
            r["00201202"]["Value"][0],
            r["00201204"]["Value"][0],
        )
        for r in arc.find(q)
    }


def _series_counts(arc: Archive) -> dict[str, int]:
    q = Query.from_params("series", {}, return_keys=["NumberOfSeriesRelatedInstances"])
    return {r["0020000E"]["Value"][0]: r["00201209"]["Value"][0] for r in arc.find(q)}


def _with_raw_uid(keyword: str, value: str) -> bytes:
    """A Part 10 file whose ``keyword`` (a UID attribute) holds ``value`` verbatim: dicomkit's
    writer refuses such values, so pydicom writes it (warning about the value)."""
    ds = pydicom.dcmread(io.BytesIO(data.encode(data.dataset())))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        setattr(ds, keyword, value)
        if keyword == "SOPInstanceUID":
            ds.file_meta.MediaStorageSOPInstanceUID = value
        buf = io.BytesIO()
        ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


# ----------------------------------------------------------------------------- storing


def test_store_copies_the_file_unchanged_under_uid_paths(archive: Archive, tmp_path: Path) -> None:
    src = data.write(tmp_path / "in" / "a.dcm", 3, 4, 5)
    result = archive.store(src)
    assert result.status == "stored" and result.sop_instance_uid == data.uid(3, 4, 5)
    stored = archive.path_of(data.uid(3, 4, 5))
    assert stored == archive.root / "files" / data.uid(3) / data.uid(3, 4) / (data.uid(3, 4, 5) + ".dcm")
    assert str(stored) == result.path
    assert stored.read_bytes() == src.read_bytes()
    theirs = pydicom.dcmread(stored)
    assert theirs.SOPInstanceUID == data.uid(3, 4, 5)
    assert theirs.file_meta.MediaStorageSOPInstanceUID == data.uid(3, 4, 5)
    ours = archive.get(data.uid(3, 4, 5))
    assert ours.PixelData == theirs.PixelData
    with archive.open_file(data.uid(3, 4, 5)) as fh:
        assert fh.read() == src.read_bytes()
    assert [r.sop_instance_uid for r in archive.iter_instances()] == [data.uid(3, 4, 5)]
    rec = next(archive.iter_instances())
    assert (rec.series_instance_uid, rec.study_instance_uid, rec.patient_id) == (
        data.uid(3, 4),
        data.uid(3),
        "P1",
    )
    assert rec.size == src.stat().st_size and rec.transfer_syntax_uid == "1.2.840.10008.1.2.1"


def test_store_accepts_bytes_and_datasets(archive: Archive) -> None:
    assert archive.store(data.encode(data.dataset(0, 0, 1))).status == "stored"
    assert archive.store(data.dataset(0, 0, 2)).status == "stored"
    assert pydicom.dcmread(archive.path_of(data.uid(0, 0, 2))).SOPInstanceUID == data.uid(0, 0, 2)
    assert archive.stats().instances == 2


def test_store_many_counts_and_reimport_changes_nothing(archive: Archive, tmp_path: Path) -> None:
    files = data.tree(tmp_path / "in", [[3, 2], [1], [2, 2, 1]])
    junk = tmp_path / "in" / "notes.txt"
    junk.write_text("not DICOM at all")
    seen: list[str] = []
    report = archive.store_many(
        [*files, junk], workers=2, batch_size=4, progress=lambda r: seen.append(r.status)
    )
    assert report.counts == {"stored": 11, "replaced": 0, "duplicate": 0, "rejected": 0, "skipped": 1}
    assert len(seen) == 12 and seen[-1] == "skipped"
    assert [r.source for r in report.results] == [str(junk)]
    assert report.bytes == sum(f.stat().st_size for f in files)
    stats = archive.stats()
    assert (stats.patients, stats.studies, stats.series, stats.instances) == (2, 3, 6, 11)
    assert stats.bytes == report.bytes
    before = {p: (p.stat().st_mtime_ns, p.stat().st_ino) for p in (archive.root / "files").rglob("*.dcm")}
    again = archive.store_many(files, workers=1)
    assert again.counts["duplicate"] == 11 and again.total == 11
    after = {p: (p.stat().st_mtime_ns, p.stat().st_ino) for p in (archive.root / "files").rglob("*.dcm")}
    assert before == after
    assert archive.stats() == stats
    assert archive.verify().ok


def test_store_many_bytes_and_paths_in_worker_processes(archive: Archive, tmp_path: Path) -> None:
    """80 sources (enough for the worker processes): Part 10 bytes and paths of one series each.
    Every stored file is its source's bytes, and each instance's own values (Instance Number,
    SOP Instance UID) are indexed although most attributes repeat (the row memo)."""
    blobs = [data.encode(data.dataset(0, 0, k)) for k in range(40)]
    paths = []
    for k in range(40):
        path = tmp_path / f"{k}.dcm"
        path.write_bytes(data.encode(data.dataset(1, 0, k, PatientID="P2")))
        paths.append(path)
    sources: list[bytes | Path] = [s for pair in zip(blobs, paths, strict=True) for s in pair]
    seen: list[str] = []
    report = archive.store_many(sources, workers=2, batch_size=16, progress=lambda r: seen.append(r.source))
    assert report.counts["stored"] == 80 and report.total == 80
    assert seen == [str(s) if isinstance(s, Path) else "<bytes>" for s in sources]
    for k in range(40):
        with archive.open_file(data.uid(0, 0, k)) as fh:
            assert fh.read() == blobs[k]
        assert archive.path_of(data.uid(1, 0, k)).read_bytes() == paths[k].read_bytes()
    q = Query.from_params("instance", {"StudyInstanceUID": data.uid(0)}, return_keys=["InstanceNumber"])
    got = {r["00080018"]["Value"][0]: r["00200013"]["Value"][0] for r in archive.find(q)}
    assert got == {data.uid(0, 0, k): k + 1 for k in range(40)}
    stats = archive.stats()
    assert (stats.patients, stats.studies, stats.series, stats.instances) == (2, 2, 2, 80)


def test_mislabelled_byte_order_is_indexed_as_read(archive: Archive) -> None:
    """A little-endian data set whose File Meta Information claims Explicit VR Big Endian is read
    as found (with a warning); its values must not come from a genuine big-endian file's
    identical value bytes (Rows 1024 big endian and Rows 4 little endian are both 04 00)."""
    big = io.BytesIO()
    dicomkit.write(data.dataset(0, 0, 1, Rows=1024), big, transfer_syntax="1.2.840.10008.1.2.2")
    little = data.encode(data.dataset(0, 0, 2, Rows=4))
    mislabelled = little.replace(b"1.2.840.10008.1.2.1\x00", b"1.2.840.10008.1.2.2\x00", 1)
    assert mislabelled != little
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for blob in (big.getvalue(), mislabelled):
            assert archive.store(blob).status == "stored"
    q = Query.from_params("instance", {"StudyInstanceUID": data.uid(0)}, return_keys=["Rows"])
    got = {r["00080018"]["Value"][0]: r["00280010"]["Value"][0] for r in archive.find(q)}
    assert got == {data.uid(0, 0, 1): 1024, data.uid(0, 0, 2): 4}


def test_derived_attributes_after_insert_delete_overwrite(
    make_archive: Callable[..., Archive], tmp_path: Path
) -> None:
    arc = make_archive(duplicates="overwrite")
    files = data.tree(tmp_path / "in", [[3, 2], [1], [2, 2, 1]])
    arc.store_many(files, workers=1, batch_size=3)
    # by hand: P0 has studies 0 (series of 3 CT + 2 MR) and 2 (2 CT, 2 MR, 1 CT); P1 study 1 (1 CT)
    assert _patient_counts(arc) == {"P0": (2, 5, 10), "P1": (1, 1, 1)}
    assert _study_counts(arc) == {
        data.uid(0): (2, 5, ["CT", "MR"], [data.CT, data.MR]),
        data.uid(1): (1, 1, ["CT"], [data.CT]),
        data.uid(2): (3, 5, ["CT", "MR"], [data.CT, data.MR]),
    }
    assert _series_counts(arc)[data.uid(2, 1)] == 2
    assert arc.delete("series", data.uid(0, 1)) == 2  # the MR series of study 0
    assert _study_counts(arc)[data.uid(0)] == (1, 3, ["CT"], [data.CT])
    assert _patient_counts(arc) == {"P0": (2, 4, 8), "P1": (1, 1, 1)}
    assert data.uid(0, 1) not in _series_counts(arc)
    # overwrite one instance of study 2 with another SOP class: SOP Classes in Study follows
    arc.store(data.dataset(2, 2, 0, PatientID="P0", Modality="CT", SOPClassUID="1.2.840.10008.5.1.4.1.1.7"))
    assert _study_counts(arc)[data.uid(2)] == (
        3,
        5,
        ["CT", "MR"],
        sorted([data.CT, data.MR, "1.2.840.10008.5.1.4.1.1.7"]),
    )
    assert arc.delete("instance", data.uid(1, 0, 0)) == 1  # the last instance of patient P1
    assert _patient_counts(arc) == {"P0": (2, 4, 8)}
    assert arc.delete(dicomkit.archive.archive.Level.PATIENT, "P0") == 8
    stats = arc.stats()
    assert (stats.patients, stats.studies, stats.series, stats.instances, stats.bytes) == (0, 0, 0, 0, 0)
    assert not list((arc.root / "files").rglob("*.dcm"))


def test_delete_unknown_raises(archive: Archive) -> None:
    with pytest.raises(NotFoundError, match="no study"):
        archive.delete("study", "1.2.3")
    with pytest.raises(ArchiveError, match="unknown level"):
        archive.delete("frame", "1.2.3")
    with pytest.raises(NotFoundError):
        archive.path_of("1.2.3")
    with pytest.raises(NotFoundError):
        archive.get("1.2.3")


# ----------------------------------------------------------------------------- duplicates, conflicts


@pytest.mark.parametrize(
    ("policy", "status", "description"),
    [("ignore", "duplicate", "first"), ("reject", "rejected", "first"), ("overwrite", "replaced", "second")],
)
def test_duplicate_policies(
    make_archive: Callable[..., Archive], policy: str, status: str, description: str
) -> None:
    arc = make_archive(duplicates=policy)
    first = data.encode(data.dataset(StudyDescription="first"))
    second = data.encode(data.dataset(StudyDescription="second"))
    assert arc.store(first).status == "stored"
    assert arc.store(first).status == "duplicate"  # identical content: never a change
    result = arc.store(second)
    assert result.status == status
    if status != "replaced":
        assert result.reason
    stored = arc.path_of(data.uid(0, 0, 0)).read_bytes()
    assert stored == (first if description == "first" else second)
    q = Query.from_params("study", {"StudyDescription": description})
    assert len(arc.find(q)) == 1
    assert arc.stats().instances == 1
    assert arc.verify().ok


def test_conflicts_are_reported_not_merged(make_archive: Callable[..., Archive]) -> None:
    arc = make_archive(duplicates="overwrite")
    assert arc.store(data.dataset(0, 0, 0, PatientID="A")).status == "stored"
    # same SOP Instance UID, another patient
    r = arc.store(data.dataset(0, 0, 0, PatientID="B"))
    assert r.status == "rejected" and "conflict" in r.reason and "'A'" in r.reason
    # same SOP Instance UID, another series
    r = arc.store(data.dataset(0, 0, 0, PatientID="A", SeriesInstanceUID=data.uid(0, 9)))
    assert r.status == "rejected" and "conflict" in r.reason
    # a new instance of the same study under another patient
    r = arc.store(data.dataset(0, 1, 0, PatientID="B"))
    assert r.status == "rejected" and "belongs to patient 'A'" in r.reason
    # a new instance of the same series under another study
    r = arc.store(data.dataset(5, 0, 1, PatientID="A", SeriesInstanceUID=data.uid(0, 0)))
    assert r.status == "rejected" and f"belongs to study {data.uid(0)}" in r.reason
    assert (arc.stats().patients, arc.stats().instances) == (1, 1)
    assert arc.verify().ok


def test_conflicts_inside_one_batch(archive: Archive) -> None:
    report = archive.store_many(
        [data.dataset(0, 0, 0, PatientID="A"), data.dataset(0, 0, 1, PatientID="B")], workers=1
    )
    assert report.counts["stored"] == 1 and report.counts["rejected"] == 1
    assert "belongs to patient 'A'" in report.results[0].reason


# ----------------------------------------------------------------------------- hostile input


@pytest.mark.parametrize(
    ("keyword", "value", "why"),
    [
        ("SOPInstanceUID", "../../../../tmp/evil", "not a valid UID"),
        ("StudyInstanceUID", "../..", "not a valid UID"),
        ("SeriesInstanceUID", "/etc/passwd", "not a valid UID"),
        ("SOPInstanceUID", "1.2.3\x00.4", "NUL"),
        ("SOPInstanceUID", "1." + "2" * 63, "65 characters"),
        ("StudyInstanceUID", "1..2", "not a valid UID"),
        ("SeriesInstanceUID", "1.2.", "not a valid UID"),
    ],
)
def test_hostile_uids_are_rejected(
    archive: Archive, tmp_path: Path, keyword: str, value: str, why: str
) -> None:
    blob = _with_raw_uid(keyword, value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = pydicom.dcmread(io.BytesIO(blob))
        assert str(getattr(theirs, keyword)) == value  # the file really says so
    result = archive.store(blob)
    assert result.status == "rejected" and why in result.reason
    assert archive.stats().instances == 0
    assert not [
        p
        for p in archive.root.rglob("*")
        if p.is_file() and p.name != "index.sqlite" and "index.sqlite" not in p.name
    ]
    assert not (tmp_path / "tmp").exists() and not Path("/tmp/evil.dcm").exists()


def test_meta_and_data_set_sop_instance_uid_must_agree(archive: Archive) -> None:
    blob = data.encode(data.dataset(0, 0, 7))
    real = data.uid(0, 0, 7).encode()
    liar = data.uid(0, 0, 8).encode()
    first = blob.index(real)
    blob = blob[:first] + liar + blob[first + len(real) :]  # only the File Meta Information lies
    theirs = pydicom.dcmread(io.BytesIO(blob))
    assert theirs.file_meta.MediaStorageSOPInstanceUID != theirs.SOPInstanceUID
    result = archive.store(blob)
    assert result.status == "rejected" and "Media Storage SOP Instance UID" in result.reason
    assert archive.stats().instances == 0


def test_non_dicom_is_skipped_and_malformed_rejected(archive: Archive, tmp_path: Path) -> None:
    text = tmp_path / "readme.txt"
    text.write_text("hello " * 100)
    good = data.encode(data.dataset(PatientName="X" * 40))
    truncated = tmp_path / "cut.dcm"
    truncated.write_bytes(good[: good.index(b"X" * 40) + 10])  # the header ends inside a value
    no_uid = data.encode(data.dataset(StudyInstanceUID=None))
    cut_pixels = tmp_path / "cut_pixels.dcm"
    cut_pixels.write_bytes(data.encode(data.dataset(0, 0, 5, PixelData=bytes(2000)))[:-100])
    report = archive.store_many([text, truncated, no_uid, tmp_path / "missing.dcm", cut_pixels], workers=1)
    status = {r.source: (r.status, r.reason) for r in report.results}
    assert status[str(text)][0] == "skipped"
    assert status[str(truncated)][0] == "rejected" and "truncated" in status[str(truncated)][1]
    assert status["<bytes>"] == ("rejected", "Study Instance UID is missing")
    assert status[str(tmp_path / "missing.dcm")][0] == "rejected"
    assert status[str(cut_pixels)][0] == "rejected" and "(7FE0,0010)" in status[str(cut_pixels)][1]
    assert archive.stats().instances == 0


def test_disk_full_is_a_clean_error(
    archive: Archive, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    archive.store(data.dataset(0, 0, 0))
    before = archive.stats()
    real_write = os.write

    def full(fd: int, buf: bytes | memoryview) -> int:
        real_write(fd, bytes(buf)[: len(buf) // 2])  # a partial write, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")

    def full_copy(src: int, dst: int, count: int) -> int:
        real_write(dst, b"\0" * (count // 2))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("dicomkit.archive.storage.os.write", full)
    monkeypatch.setattr("dicomkit.archive.storage.os.copy_file_range", full_copy)
    with pytest.raises(ArchiveError, match="no space left on device"):
        archive.store(data.dataset(0, 0, 1))
    files = data.tree(tmp_path / "in", [[4]])
    with pytest.raises(ArchiveError, match="no space left on device"):
        archive.store_many(files, workers=1)
    monkeypatch.undo()
    assert archive.stats() == before
    assert [p.name for p in (archive.root / "files").rglob("*") if p.is_file()] == [
        data.uid(0, 0, 0) + ".dcm"
    ]
    assert archive.verify().ok


# ----------------------------------------------------------------------------- link mode, verify


def test_link_mode_indexes_in_place(make_archive: Callable[..., Archive], tmp_path: Path) -> None:
    arc = make_archive(link=True)
    files = data.tree(tmp_path / "in", [[2]])
    report = arc.store_many(files, workers=1)
    assert report.counts["stored"] == 2
    assert arc.path_of(data.uid(0, 0, 1)) == files[1].absolute()
    assert not (arc.root / "files").exists() or not list((arc.root / "files").rglob("*.dcm"))
    assert arc.delete("series", data.uid(0, 0)) == 2
    assert all(f.exists() for f in files)  # the user's files are never deleted


def test_verify_reports_and_repairs(archive: Archive, tmp_path: Path) -> None:
    files = data.tree(tmp_path / "in", [[4]])
    archive.store_many(files, workers=1)
    assert archive.verify().ok
    folder = archive.root / "files" / data.uid(0) / data.uid(0, 0)
    orphan = data.write(folder / (data.uid(0, 0, 9) + ".dcm"), 0, 0, 9)  # a file never indexed
    temp = folder / ".interrupted.1234.tmp"
    temp.write_bytes(b"half")
    archive.path_of(data.uid(0, 0, 1)).unlink()  # an indexed file gone
    changed = archive.path_of(data.uid(0, 0, 2))
    changed.write_bytes(changed.read_bytes() + b"\0\0")  # size differs from the index
    report = archive.verify()
    assert report.orphan_files == [orphan]
    assert report.temp_files == [temp]
    assert report.missing_files == [data.uid(0, 0, 1)]
    assert report.mismatched == [data.uid(0, 0, 2)]
    assert not report.ok and report.checked == 4
    fixed = archive.verify(repair=True)
    assert fixed.repaired
    after = archive.verify()
    assert after.ok, after
    assert not orphan.exists() and not temp.exists()
    assert archive.stats().instances == 3
    assert _series_counts(archive) == {data.uid(0, 0): 3}
    # a re-import completes the set again
    assert archive.store_many(files, workers=1).counts["stored"] == 1
    assert archive.stats().instances == 4 and archive.verify().ok


def test_open_errors(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        dicomkit.archive.open(tmp_path / "nothing", create=False)
    with pytest.raises(ArchiveError, match="duplicates"):
        dicomkit.archive.open(tmp_path / "a", duplicates="merge")
    with pytest.raises(ArchiveError, match="unsupported database"):
        dicomkit.archive.open(tmp_path / "b", "mysql://x")
    with dicomkit.archive.open(tmp_path / "c") as arc:
        assert arc.stats().database == "sqlite"
    with dicomkit.archive.open(tmp_path / "c", create=False) as arc:
        assert arc.stats().instances == 0


def test_reopen_keeps_everything(make_archive: Callable[..., Archive], tmp_path: Path) -> None:
    arc = make_archive()
    arc.store_many(data.tree(tmp_path / "in", [[2, 1]]), workers=1)
    arc.close()
    again = make_archive(create=False)
    assert again.stats().instances == 3
    shutil.rmtree(tmp_path / "in")
    assert again.get(data.uid(0, 1, 0)).SOPInstanceUID == data.uid(0, 1, 0)


def _import_into(root: str, database: str | None, files: list[str]) -> dict[str, int]:
    with dicomkit.archive.open(root, database) as arc:
        return arc.store_many(files, workers=1, batch_size=5).counts


def test_two_writers_at_once(tmp_path: Path, database: str | None) -> None:
    import multiprocessing

    files = [str(p) for p in data.tree(tmp_path / "in", [[6, 6], [6], [6, 6]])]
    with dicomkit.archive.open(tmp_path / "archive", database):
        pass  # the schema exists before the race
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(2) as pool:
        # overlapping halves, in opposite orders: every instance is offered twice
        a = pool.apply_async(_import_into, (str(tmp_path / "archive"), database, files[:20] + files[20:]))
        b = pool.apply_async(_import_into, (str(tmp_path / "archive"), database, files[::-1]))
        counts = [a.get(timeout=120), b.get(timeout=120)]
    assert sum(c["stored"] for c in counts) == 30
    assert sum(c["duplicate"] for c in counts) == 30
    with dicomkit.archive.open(tmp_path / "archive", database) as arc:
        stats = arc.stats()
        assert (stats.patients, stats.studies, stats.series, stats.instances) == (2, 3, 5, 30)
        assert _patient_counts(arc) == {"P0": (2, 4, 24), "P1": (1, 1, 6)}
        assert _series_counts(arc) == {data.uid(s, k): 6 for s, k in [(0, 0), (0, 1), (1, 0), (2, 0), (2, 1)]}
        assert arc.verify().ok


def test_the_archive_folder_can_move(tmp_path: Path, database: str | None) -> None:
    files = data.tree(tmp_path / "in", [[3]])
    with dicomkit.archive.open(tmp_path / "archive", database) as arc:
        arc.store_many(files, workers=1)
    (tmp_path / "archive").rename(tmp_path / "moved")
    with dicomkit.archive.open(tmp_path / "moved", database, create=False) as arc:
        assert arc.path_of(data.uid(0, 0, 2)) == tmp_path / "moved" / "files" / data.uid(0) / data.uid(
            0, 0
        ) / (data.uid(0, 0, 2) + ".dcm")
        assert arc.get(data.uid(0, 0, 2)).SOPInstanceUID == data.uid(0, 0, 2)
        assert arc.verify().ok
