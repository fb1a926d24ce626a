"""Reliability of the archive under a real ``dicomkit import`` (issue 6, "Reliability").

* SIGKILL: a ``dicomkit import`` of 3,000 header-only files is killed (its whole process group:
  the workers too) at random moments, several times, into one archive. After each kill every
  indexed instance has its complete file (read in full, its SOP Instance UID and bytes compared
  with the source), and ``archive verify`` reports exactly the orphan files a walk of the store
  finds; ``verify --repair`` removes them; a last import completes the set, with counts that add up.
* Two ``dicomkit import`` processes on overlapping halves of the set at once: no error, no row
  lost, the derived counts (Number of Study Related Instances, ..., Modalities in Study) right.
* Hostile input: UIDs with ``../``, absolute paths, NUL bytes, 65+ characters; a file whose file
  meta names another SOP Instance UID than its data set (written with pydicom, which writes what
  it is given) → rejected with a reason, nothing written outside the archive, the good files kept.
* Disk full: a real small tmpfs (in a private user + mount namespace, ``unshare -rm``) filled up;
  the import stops with one clean error line, the archive stays consistent and readable, and a
  later import completes it.

Ground truth comes from the generator (which instance is in which series, study, patient), never
from the archive. Every test runs on SQLite and on PostgreSQL (127.0.0.1:5432, database ``test``:
a private database per test, dropped afterwards) when that server is reachable.
"""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import dicomkit
from dicomkit.dataset import Dataset

N_FILES = 3000
N_PATIENTS, N_STUDIES, N_SERIES = 30, 60, 300  # instance i: series i % 300, study i % 60, patient i % 30
ROOT_UID = "1.2.826.0.1.3680043.10.1431"  # a private root for test UIDs
CT, MR = "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.4"
PG_URL = "postgresql://postgres@127.0.0.1:5432/"
SEED = int(os.environ.get("DICOMKIT_TEST_SEED", time.time_ns() % 1_000_000))


def sop_uid(i: int) -> str:
    return f"{ROOT_UID}.3.{i}"


def series_uid(r: int) -> str:
    return f"{ROOT_UID}.2.{r}"


def study_uid(s: int) -> str:
    return f"{ROOT_UID}.1.{s}"


def modality(series: int) -> str:
    return "CT" if series % 3 else "MR"


def instance(i: int) -> Dataset:
    r = i % N_SERIES
    s, p = r % N_STUDIES, r % N_PATIENTS
    ds = Dataset()
    ds.SOPClassUID = CT if modality(r) == "CT" else MR
    ds.SOPInstanceUID = sop_uid(i)
    ds.StudyDate = f"2024{1 + s % 12:02d}{1 + s % 28:02d}"
    ds.StudyTime = f"{8 + s % 10:02d}3000"
    ds.AccessionNumber = f"ACC{s:04d}"
    ds.Modality = modality(r)
    ds.StudyDescription = f"STUDY {s}"
    ds.PatientName = f"PATIENT^{p:02d}"
    ds.PatientID = f"PID{p:02d}"
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "FO"[p % 2]
    ds.StudyInstanceUID = study_uid(s)
    ds.SeriesInstanceUID = series_uid(r)
    ds.StudyID = str(s)
    ds.SeriesNumber = r
    ds.InstanceNumber = i
    return ds


def write_files(folder: Path, indices: range | list[int]) -> dict[str, Path]:
    """Header-only Part 10 files (no fsync: test input), SOP Instance UID → path."""
    paths = {}
    for i in indices:
        path = folder / f"{i // 500:02d}" / f"IM{i:05d}.dcm"
        path.parent.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        dicomkit.write(instance(i), buf)
        path.write_bytes(buf.getvalue())
        paths[sop_uid(i)] = path
    return paths


def expected_counts(indices: range | list[int]) -> dict[str, Any]:
    """What the archive must say about these instances, from the generator's layout alone."""
    series = Counter(i % N_SERIES for i in indices)
    studies: dict[int, set[int]] = {}
    for r in series:
        studies.setdefault(r % N_STUDIES, set()).add(r)
    return {
        "instances": len(set(indices)),
        "series": len(series),
        "studies": len(studies),
        "patients": len({s % N_PATIENTS for s in studies}),
        "series_instances": {series_uid(r): n for r, n in series.items()},
        "study_instances": {study_uid(s): sum(series[r] for r in rs) for s, rs in studies.items()},
        "study_series": {study_uid(s): len(rs) for s, rs in studies.items()},
        "study_modalities": {study_uid(s): sorted({modality(r) for r in rs}) for s, rs in studies.items()},
        "patient_instances": dict(Counter(f"PID{i % N_PATIENTS:02d}" for i in indices)),
        "patient_studies": dict(Counter(f"PID{s % N_PATIENTS:02d}" for s in studies)),
    }


# ---------------------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The 3,000 files, written once per module and worker."""
    return write_files(tmp_path_factory.mktemp("source"), range(N_FILES))


def _postgres_database() -> Iterator[str]:
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - psycopg is in the 'all' extra
        pytest.skip(f"PostgreSQL tests SKIPPED: psycopg is not installed ({exc})")
    name = f"dk_reliability_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(PG_URL + "test", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL tests SKIPPED: no server at 127.0.0.1:5432 ({exc})".replace("\n", " "))
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield PG_URL + name
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None (SQLite inside the archive) or the URL of a private PostgreSQL database."""
    if request.param == "sqlite":
        yield None
    else:
        yield from _postgres_database()


def dicomkit_cmd(*args: str, archive: Path, database: str | None) -> list[str]:
    cmd = [sys.executable, "-m", "dicomkit", *args, "--archive", str(archive)]
    return cmd + (["--database", database] if database else [])


def run_cli(
    *args: str, archive: Path, database: str | None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        dicomkit_cmd(*args, archive=archive, database=database),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=_env(),
    )


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("DICOMKIT_ARCHIVE", None)
    env.pop("DICOMKIT_DATABASE", None)
    return env


def report_counts(report: Path) -> Counter[str]:
    return Counter(json.loads(line)["status"] for line in report.read_text().splitlines())


def store_files(archive: Path) -> set[Path]:
    """Every file under the archive's file store (temporary files included), from a plain walk."""
    files = archive / "files"
    return {Path(d) / f for d, _, names in os.walk(files) for f in names} if files.exists() else set()


def indexed(archive: Path, database: str | None) -> dict[str, Path]:
    """SOP Instance UID → stored path of every instance the index holds."""
    import dicomkit.archive

    with dicomkit.archive.open(archive, database) as a:
        return {rec.sop_instance_uid: Path(a.path_of(rec.sop_instance_uid)) for rec in a.iter_instances()}


def assert_every_indexed_file_complete(found: dict[str, Path], source: dict[str, Path]) -> None:
    for uid, path in found.items():
        data = path.read_bytes()
        assert data == source[uid].read_bytes(), f"{uid}: stored file differs from its source"
        assert dicomkit.read(data, strict=True).SOPInstanceUID == uid


# ---------------------------------------------------------------------------------------
# SIGKILL during import


def _kill_when(proc: subprocess.Popen[bytes], archive: Path, files_at_least: int, deadline: float) -> bool:
    """SIGKILL the import's process group once the store holds ``files_at_least`` files
    (or at once when the import is about to finish); False when it ended by itself first."""
    while proc.poll() is None:
        if len(store_files(archive)) >= files_at_least or time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            return True
        time.sleep(0.05)
    return False


def test_sigkill_during_import(source: dict[str, Path], tmp_path: Path, database: str | None) -> None:
    rnd = random.Random(SEED)
    print(f"seed {SEED} (set DICOMKIT_TEST_SEED to replay)")
    archive = tmp_path / "archive"
    src = str(next(iter(source.values())).parents[1])
    # kill points: once right after start (before or while the index is created), then at
    # random amounts of stored files; each import resumes where the last one was killed
    targets = [0, *sorted(rnd.sample(range(50, N_FILES - 300), 2))]
    killed = 0
    for target in targets:
        proc = subprocess.Popen(
            dicomkit_cmd("import", "-q", src, archive=archive, database=database),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: the kill reaches the workers too
            env=_env(),
        )
        if target == 0:
            time.sleep(rnd.uniform(0.05, 0.6))
        killed += _kill_when(proc, archive, target, time.monotonic() + 60)
        found = indexed(archive, database)
        assert_every_indexed_file_complete(found, source)
        orphans = {p.resolve() for p in store_files(archive) - set(found.values())}
        verify = run_cli("archive", "verify", "--json", archive=archive, database=database)
        assert "Traceback" not in verify.stderr, verify.stderr
        reported = json.loads(verify.stdout)
        assert {Path(p) for p in reported["orphans"] + reported["temporary"]} == orphans
        assert reported["missing"] == reported["mismatched"] == []
        assert verify.returncode == (1 if orphans else 0), verify.stdout
    assert killed >= 2, "the imports ended before they could be killed"

    repair = run_cli("archive", "verify", "--repair", "--json", archive=archive, database=database)
    assert repair.returncode == 0, repair.stdout + repair.stderr
    before = indexed(archive, database)
    assert store_files(archive) == set(before.values())  # orphans and temporary files gone
    again = run_cli("archive", "verify", "--json", archive=archive, database=database)
    assert again.returncode == 0 and json.loads(again.stdout)["ok"] is True

    report = tmp_path / "report.jsonl"
    final = run_cli("import", src, "--report", str(report), archive=archive, database=database)
    assert final.returncode == 0, final.stdout + final.stderr
    counts = report_counts(report)
    assert counts == Counter({"stored": N_FILES - len(before), "duplicate": len(before)}), counts
    found = indexed(archive, database)
    assert set(found) == set(source)
    assert_every_indexed_file_complete(found, source)
    _assert_stats(archive, database, expected_counts(range(N_FILES)))


def _assert_stats(archive: Path, database: str | None, expected: dict[str, Any]) -> None:
    stats = run_cli("archive", "stats", "--json", archive=archive, database=database)
    assert stats.returncode == 0, stats.stderr
    got = json.loads(stats.stdout)
    for level in ("patients", "studies", "series", "instances"):
        assert got[level] == expected[level], (level, got)


# ---------------------------------------------------------------------------------------
# two importers at once


def _query_json(archive: Path, database: str | None, level: str, *returns: str) -> list[dict[str, Any]]:
    args = ["query", "--level", level, "--json"]
    for key in returns:
        args += ["-r", key]
    proc = run_cli(*args, archive=archive, database=database)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def _value(record: dict[str, Any], tag: str) -> Any:
    values = record.get(tag, {}).get("Value", [])
    return values[0] if len(values) == 1 else values


def test_two_concurrent_imports(source: dict[str, Path], tmp_path: Path, database: str | None) -> None:
    archive = tmp_path / "archive"
    # A: instances 0..1599, B: 1000..2599 (600 in both, B in the opposite order)
    chosen_range = range(2600)
    uids = [sop_uid(i) for i in chosen_range]
    lists = {"a": uids[:1600], "b": uids[1000:][::-1]}
    procs = {}
    for name, chosen in lists.items():
        folder = tmp_path / name
        folder.mkdir()
        for uid in chosen:  # hard links: the same files, one folder per importer
            os.link(source[uid], folder / source[uid].name)
        procs[name] = subprocess.Popen(
            dicomkit_cmd(
                "import",
                str(folder),
                "--report",
                str(tmp_path / f"{name}.jsonl"),
                archive=archive,
                database=database,
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
        )
    totals: Counter[str] = Counter()
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0 and "Traceback" not in err, f"{name}: {out}{err}"
        totals += report_counts(tmp_path / f"{name}.jsonl")
    assert totals == Counter({"stored": len(uids), "duplicate": 600}), totals
    assert set(indexed(archive, database)) == set(uids)

    expected = expected_counts(chosen_range)
    _assert_stats(archive, database, expected)
    studies = _query_json(
        archive,
        database,
        "study",
        "NumberOfStudyRelatedInstances",
        "NumberOfStudyRelatedSeries",
        "ModalitiesInStudy",
    )
    assert len(studies) == expected["studies"]
    for st in studies:
        uid = _value(st, "0020000D")
        assert int(_value(st, "00201208")) == expected["study_instances"][uid], uid
        assert int(_value(st, "00201206")) == expected["study_series"][uid], uid
        modalities = _value(st, "00080061")
        assert (
            sorted([modalities] if isinstance(modalities, str) else modalities)
            == (expected["study_modalities"][uid])
        )
    series = _query_json(archive, database, "series", "NumberOfSeriesRelatedInstances")
    assert {_value(se, "0020000E"): int(_value(se, "00201209")) for se in series} == expected[
        "series_instances"
    ]
    patients = _query_json(
        archive, database, "patient", "NumberOfPatientRelatedInstances", "NumberOfPatientRelatedStudies"
    )
    assert {_value(p, "00100020"): int(_value(p, "00201204")) for p in patients} == expected[
        "patient_instances"
    ]
    assert {_value(p, "00100020"): int(_value(p, "00201200")) for p in patients} == expected[
        "patient_studies"
    ]
    assert len(patients) == expected["patients"]


# ---------------------------------------------------------------------------------------
# hostile input


def _pydicom_file(path: Path, sop: str, study: str, series: str, meta_sop: str | None = None) -> None:
    """A file written by pydicom exactly as given (no UID validation, the file meta's Media
    Storage SOP Instance UID = ``meta_sop`` when given), DCMTK-clean otherwise."""
    from pydicom.dataset import Dataset as PdDataset
    from pydicom.dataset import FileMetaDataset
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_dataset, write_file_meta_info
    from pydicom.uid import ExplicitVRLittleEndian

    with warnings.catch_warnings():  # pydicom warns about the invalid UIDs it is told to write
        warnings.simplefilter("ignore")
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CT
        meta.MediaStorageSOPInstanceUID = meta_sop if meta_sop is not None else sop
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = PdDataset()
        ds.SOPClassUID = CT
        ds.SOPInstanceUID = sop
        ds.StudyInstanceUID = study
        ds.SeriesInstanceUID = series
        ds.PatientID = "HOSTILE"
        ds.PatientName = "HOSTILE^INPUT"
        ds.Modality = "CT"
        buf = DicomBytesIO()
        buf.write(b"\0" * 128 + b"DICM")
        write_file_meta_info(buf, meta, enforce_standard=True)  # group length and version added
        buf.is_little_endian, buf.is_implicit_VR = True, False
        write_dataset(buf, ds)
    path.write_bytes(buf.getvalue())


HOSTILE = {
    # name: (SOP Instance UID, Study Instance UID, Series Instance UID, meta's SOP Instance UID)
    "dotdot_study": (f"{ROOT_UID}.9.1", "../../../../escaped", f"{ROOT_UID}.9.2", None),
    "dotdot_sop": (f"../../../{ROOT_UID}.9.3", f"{ROOT_UID}.9.4", f"{ROOT_UID}.9.5", None),
    "absolute_series": (f"{ROOT_UID}.9.6", f"{ROOT_UID}.9.7", "/tmp/dicomkit-escaped", None),
    "absolute_sop": ("/etc/passwd", f"{ROOT_UID}.9.8", f"{ROOT_UID}.9.9", None),
    "nul_sop": (f"{ROOT_UID}.9.10\x00../../x", f"{ROOT_UID}.9.11", f"{ROOT_UID}.9.12", None),
    "nul_study": (f"{ROOT_UID}.9.13", f"{ROOT_UID}\x00.9.14", f"{ROOT_UID}.9.15", None),
    "long_sop": ("1." + "2" * 64, f"{ROOT_UID}.9.16", f"{ROOT_UID}.9.17", None),
    "long_series": (f"{ROOT_UID}.9.18", f"{ROOT_UID}.9.19", "1.2" + ".3" * 40, None),
    "meta_lies": (f"{ROOT_UID}.9.20", f"{ROOT_UID}.9.21", f"{ROOT_UID}.9.22", f"{ROOT_UID}.9.23"),
}


def test_hostile_input_is_rejected(source: dict[str, Path], tmp_path: Path, database: str | None) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name, (sop, study, series, meta_sop) in HOSTILE.items():
        _pydicom_file(inbox / f"{name}.dcm", sop, study, series, meta_sop)
    good = list(source)[:5]
    for uid in good:
        shutil.copy(source[uid], inbox / source[uid].name)
    (inbox / "notes.txt").write_text("not DICOM")
    archive = tmp_path / "nest" / "deeper" / "archive"
    report = tmp_path / "report.jsonl"
    proc = run_cli("import", str(inbox), "--report", str(report), archive=archive, database=database)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # something was rejected
    assert "Traceback" not in proc.stderr
    outcome = {Path(r["source"]).stem: r for r in map(json.loads, report.read_text().splitlines())}
    for name in HOSTILE:
        assert outcome[name]["status"] == "rejected", outcome[name]
        assert "UID" in outcome[name]["reason"], outcome[name]  # rejected for its UID, nothing else
    assert f"{len(good)} stored" in proc.stdout and f"{len(HOSTILE)} rejected" in proc.stdout
    assert "1 skipped" in proc.stdout
    # nothing escaped: the only new things anywhere near are the archive's own
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inbox", "nest", "report.jsonl"]
    assert sorted(p.name for p in (tmp_path / "nest" / "deeper").iterdir()) == ["archive"]
    assert not Path("/tmp/dicomkit-escaped").exists() and not Path("/tmp/dicomkit-escaped.dcm").exists()
    found = indexed(archive, database)
    assert set(found) == set(good)
    assert store_files(archive) == set(found.values())
    for path in found.values():
        assert path.resolve().is_relative_to(archive.resolve() / "files")


# ---------------------------------------------------------------------------------------
# disk full: a real, small tmpfs in a private mount namespace

_DISK_FULL = r"""
import json, os, subprocess, sys
mnt, first, second, database = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] or None
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mnt], check=True)
archive = os.path.join(mnt, "archive")
def cli(*args):
    cmd = [sys.executable, "-m", "dicomkit", *args, "--archive", archive]
    cmd += ["--database", database] if database else []
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    return {"rc": p.returncode, "out": p.stdout, "err": p.stderr}
result = {"first": cli("import", "-q", first)}
filler = os.path.join(mnt, "filler")
with open(filler, "wb", buffering=0) as fh:   # take every free block
    try:
        while True:
            fh.write(b"\0" * 4096)
            fh.flush()
    except OSError:
        pass
result["full"] = cli("import", "-q", second)
os.unlink(filler)
result["verify"] = cli("archive", "verify", "--json")
import dicomkit, dicomkit.archive
with dicomkit.archive.open(archive, database) as a:
    result["indexed"] = {}
    for rec in a.iter_instances():
        data = open(a.path_of(rec.sop_instance_uid), "rb").read()
        result["indexed"][rec.sop_instance_uid] = dicomkit.read(data, strict=True).SOPInstanceUID
result["again"] = cli("import", "-q", second)
with dicomkit.archive.open(archive, database) as a:
    result["final"] = sorted(rec.sop_instance_uid for rec in a.iter_instances())
print(json.dumps(result))
"""


def test_disk_full_is_a_clean_error(tmp_path: Path, database: str | None) -> None:
    if shutil.which("unshare") is None:
        pytest.skip("disk-full test SKIPPED: util-linux 'unshare' is not installed")
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"disk-full test SKIPPED: cannot make a user+mount namespace: {probe.stderr.strip()}")
    first, second = (
        write_files(tmp_path / "first", range(40)),
        write_files(tmp_path / "second", range(40, 240)),
    )
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    proc = subprocess.run(
        [
            "unshare",
            "-rm",
            sys.executable,
            "-c",
            _DISK_FULL,
            str(mnt),
            str(tmp_path / "first"),
            str(tmp_path / "second"),
            database or "",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        env=_env(),
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["first"]["rc"] == 0, result["first"]
    full = result["full"]
    assert full["rc"] == 1, full
    # one clean line naming the cause (SQLite may meet the full disk first, opening its index)
    assert "Traceback" not in full["err"] and len(full["err"].strip().splitlines()) == 1, full["err"]
    assert full["err"].startswith("dicomkit: ") and "no space left on device" in full["err"], full["err"]
    assert result["verify"]["rc"] == 0, result["verify"]  # consistent without any repair
    assert set(first) <= set(result["indexed"])
    assert all(uid == read for uid, read in result["indexed"].items())
    assert result["again"]["rc"] == 0, result["again"]
    assert result["final"] == sorted({*first, *second})


# ---------------------------------------------------------------------------------------
# Ctrl-C


def test_interrupt_reports_what_was_stored(source: dict[str, Path], tmp_path: Path) -> None:
    """SIGINT to the whole import (as a terminal's Ctrl-C): exit status 130, the summary says
    how many were stored, and that is what the index holds, each with its complete file."""
    archive = tmp_path / "archive"
    src = str(next(iter(source.values())).parents[1])
    proc = subprocess.Popen(
        dicomkit_cmd("import", src, archive=archive, database=None),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env=_env(),
        # a background job may inherit SIGINT ignored: give the import the terminal's default
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 60
    # files are renamed into place just before their batch's index commit: 300 of them means
    # the first batch is committed and the next one is on its way
    while proc.poll() is None and time.monotonic() < deadline:
        if len([p for p in store_files(archive) if not p.name.startswith(".")]) >= 300:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    if proc.returncode == 0:
        pytest.fail(f"the import finished before the interrupt: {out}")
    assert (proc.returncode, err) == (130, "dicomkit: interrupted\n"), err
    found = indexed(archive, database=None)
    assert f"{len(found)} stored, 0 duplicate, 0 rejected, 0 skipped (not DICOM)" in out, out
    assert 0 < len(found) < N_FILES
    assert_every_indexed_file_complete(found, source)
