"""The archive commands: ``import``, ``query``, ``export``, ``delete``, ``archive stats|verify``, and the demo.

Input: the demo's sample (2 patients, 3 studies, 5 series, 24 instances) written by
:func:`dicomkit.cli.demo.write_sample`. Expected answers are computed from the sample's
in-memory data sets (which study has which date, modality, patient), never from the archive;
exported files are compared byte for byte with their sources and read back with pydicom.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pydicom
import pytest

from dicomkit.cli import demo as demo_module
from dicomkit.cli.archive_cmd import archive_location
from tests.cli_runner import run


@functools.cache
def sample() -> list[demo_module.SampleFile]:
    return demo_module.sample()


def studies_where(predicate: Any) -> set[str]:
    """The Study Instance UIDs of the sample's studies that have an instance meeting ``predicate``."""
    return {f.dataset.StudyInstanceUID for f in sample() if predicate(f.dataset)}


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli-archive") / "sample"
    demo_module.write_sample(root, sample())
    return root


@pytest.fixture
def archive(tmp_path: Path, sample_dir: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A fresh archive holding the whole sample (copy mode, SQLite)."""
    target = tmp_path / "archive"
    status, _, err = run(capsys, "import", str(sample_dir), "--archive", str(target), "--workers", "2")
    assert (status, err) == (0, ""), err
    return target


def _uids(lines: str, tag: str = "0020000D") -> list[str]:
    return [json.loads(line)[tag]["Value"][0] for line in lines.splitlines()]


# ---------------------------------------------------------------------------------------
# import


def test_import_counts_and_reimport_changes_nothing(
    sample_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "archive"
    report = tmp_path / "report.jsonl"
    status, out, err = run(
        capsys, "import", str(sample_dir), "--archive", str(target), "--report", str(report)
    )
    assert (status, err) == (0, "")
    assert out.startswith("imported 25 files (")
    assert "24 stored, 0 duplicate, 0 rejected, 1 skipped (not DICOM)" in out
    lines = [json.loads(line) for line in report.read_text().splitlines()]
    by_status: dict[str, list[dict[str, Any]]] = {}
    for r in lines:
        by_status.setdefault(r["status"], []).append(r)
    assert len(by_status["stored"]) == 24 and by_status["skipped"][0]["source"].endswith("README.txt")
    for r in by_status["stored"]:  # copy mode: the stored file is the source, byte for byte
        assert Path(r["path"]).read_bytes() == Path(r["source"]).read_bytes()
        assert Path(r["path"]).resolve().is_relative_to(target.resolve())
    snapshot = {p: p.read_bytes() for p in (target / "files").rglob("*") if p.is_file()}

    status, out, err = run(capsys, "import", str(sample_dir), "--archive", str(target))
    assert (status, err) == (0, "")
    assert "0 stored, 24 duplicate, 0 rejected, 1 skipped (not DICOM)" in out
    assert {p: p.read_bytes() for p in (target / "files").rglob("*") if p.is_file()} == snapshot
    status, out, _ = run(capsys, "archive", "stats", "--json", "--archive", str(target))
    stats = json.loads(out)
    assert [stats[k] for k in ("patients", "studies", "series", "instances")] == [2, 3, 5, 24]


def test_import_reports_rejections_and_missing_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    good, bad = sample()[0], sample()[1]
    demo_module.write_sample(inbox, [good])
    # a SOP Instance UID that would climb out of the store (written by pydicom, which writes
    # what it is given): must be rejected
    demo_module.write_sample(tmp_path / "bad", [bad])
    evil = pydicom.dcmread(tmp_path / "bad" / bad.path)
    with warnings.catch_warnings():  # pydicom warns about the invalid UID it is told to write
        warnings.simplefilter("ignore")
        evil.SOPInstanceUID = evil.file_meta.MediaStorageSOPInstanceUID = "../../../etc/x"
        evil.save_as(inbox / "evil.dcm")
    capsys.readouterr()
    target = tmp_path / "archive"
    status, out, err = run(capsys, "import", str(inbox), str(tmp_path / "nope"), "--archive", str(target))
    assert status == 1
    assert err == f"dicomkit: {tmp_path / 'nope'}: no such file or directory\n"
    assert "1 stored, 0 duplicate, 1 rejected, 1 skipped (not DICOM)" in out
    reason_lines = [line for line in out.splitlines() if line.startswith("  rejected 1: ")]
    assert len(reason_lines) == 1 and str(inbox / "evil.dcm") in reason_lines[0]
    assert "SOP Instance UID" in reason_lines[0]
    assert not (tmp_path / "etc").exists()


def test_import_progress_bar_on_a_terminal(sample_dir: Path, tmp_path: Path) -> None:
    import pty

    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "dicomkit", "import", str(sample_dir), "--archive", str(tmp_path / "a")],
        stdout=subprocess.PIPE,
        stderr=secondary,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    os.close(secondary)
    out, _ = proc.communicate(timeout=120)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(primary)
    shown = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 0
    assert "files/s" in shown and "/s" in shown.replace("files/s", "") and "25/25 files" in shown
    assert "24 stored" in out and "files/s" not in out  # the bar is on the terminal, never in the output


# ---------------------------------------------------------------------------------------
# query


def test_query_json_matches_the_sample(archive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = {
        (): studies_where(lambda ds: True),
        ("PatientName=Müller*",): studies_where(lambda ds: ds.PatientName.startswith("Müller")),
        ("StudyDate=20240101-",): studies_where(lambda ds: ds.StudyDate >= "20240101"),
        ("ModalitiesInStudy=CT",): studies_where(lambda ds: ds.Modality == "CT"),
        ("StudyDate=-20240331", "ModalitiesInStudy=CT"): studies_where(
            lambda ds: ds.StudyDate <= "20240331" and ds.Modality == "CT"
        ),
        ("PatientID=DK-0002",): studies_where(lambda ds: ds.PatientID == "DK-0002"),
    }
    assert len(cases[()]) == 3 and len(cases[("ModalitiesInStudy=CT",)]) == 2
    names = {f.dataset.StudyInstanceUID: str(f.dataset.PatientName) for f in sample()}
    for params, expected in cases.items():
        status, out, err = run(capsys, "query", "--json", *params, "--archive", str(archive))
        assert (status, err) == (0, ""), params
        assert sorted(_uids(out)) == sorted(expected), params
        for line in out.splitlines():  # valid DICOM JSON for an independent reader
            ds = pydicom.Dataset.from_json(line)
            assert str(ds.PatientName) == names[ds.StudyInstanceUID]


def test_query_levels_and_return_keys(archive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    study = next(iter(studies_where(lambda ds: ds.StudyID == "1002")))
    series = {f.dataset.SeriesInstanceUID: f.dataset.SeriesDescription for f in sample()}
    in_study = {f.dataset.SeriesInstanceUID for f in sample() if f.dataset.StudyInstanceUID == study}
    assert len(in_study) == 2
    status, out, _ = run(
        capsys,
        "query",
        "--level",
        "series",
        f"StudyInstanceUID={study}",
        "-r",
        "SeriesDescription",
        "--json",
        "--archive",
        str(archive),
    )
    assert status == 0
    got = {
        json.loads(line)["0020000E"]["Value"][0]: json.loads(line)["0008103E"]["Value"][0]
        for line in out.splitlines()
    }
    assert got == {uid: d for uid, d in series.items() if uid in in_study}
    status, out, _ = run(capsys, "query", "--level", "instance", "--json", "--archive", str(archive))
    assert sorted(_uids(out, "00080018")) == sorted(f.dataset.SOPInstanceUID for f in sample())


def test_query_table(archive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(
        capsys, "query", "PatientName=Smith*", "-r", "StudyDescription", "--archive", str(archive)
    )
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert "StudyDescription" in lines[0] and "StudyInstanceUID" in lines[0]
    assert any("CT ABDOMEN" in line and "Smith^Alice" in line for line in lines)
    assert lines[-1] == "1 study"
    status, out, err = run(capsys, "query", "PatientName=NOBODY", "--archive", str(archive))
    assert (status, out, err) == (0, "0 studies\n", "")


def test_query_paging(archive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "query", "--json", "--archive", str(archive))
    everything = _uids(out)
    status, out, _ = run(
        capsys, "query", "--json", "--limit", "1", "--offset", "1", "--archive", str(archive)
    )
    assert status == 0 and len(_uids(out)) == 1 and _uids(out)[0] in everything
    status, out, _ = run(capsys, "query", "--limit", "2", "--archive", str(archive))
    assert out.splitlines()[-1] == "2 studies (of 3; from 1)"


@pytest.mark.parametrize(
    ("params", "named"),
    [
        (["PatientNmae=X"], "PatientNmae"),
        (["StudyInstanceUID=1.2*"], "StudyInstanceUID"),
        (["StudyDate=2024-01-01-"], "StudyDate"),
        (["PatientName"], "PatientName"),
    ],
)
def test_query_errors_are_one_line_exit_2(
    archive: Path, capsys: pytest.CaptureFixture[str], params: list[str], named: str
) -> None:
    status, out, err = run(capsys, "query", *params, "--archive", str(archive))
    assert (status, out) == (2, "")
    assert err.startswith("dicomkit: query: ") and len(err.splitlines()) == 1 and named in err
    assert "Traceback" not in err


def test_query_without_an_archive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "query", "--archive", str(tmp_path / "none"))
    assert (status, out) == (1, "")
    assert "no archive at" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "none").exists()


# ---------------------------------------------------------------------------------------
# export, delete, stats, verify


def test_export_copies_the_files_atomically(
    archive: Path, sample_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "out"
    status, out, err = run(
        capsys,
        "export",
        "PatientID=DK-0001",
        "ModalitiesInStudy=MR",
        "--to",
        str(out_dir),
        "--archive",
        str(archive),
    )
    assert (status, err) == (0, "")
    expected = {f.dataset.SOPInstanceUID: f for f in sample() if f.dataset.Modality == "MR"}
    size = sum((sample_dir / f.path).stat().st_size for f in expected.values())
    assert (
        out.splitlines()[-1]
        == f"exported {len(expected)} files ({size / 1e6:.1f} MB) of 1 study to {out_dir}"
    )
    written = sorted(p for p in out_dir.rglob("*") if p.is_file())
    assert len(written) == len(expected) == 10
    for path in written:
        f = expected[path.stem]
        assert path.relative_to(out_dir).parts == (
            f.dataset.StudyInstanceUID,
            f.dataset.SeriesInstanceUID,
            path.name,
        )
        assert path.read_bytes() == (sample_dir / f.path).read_bytes()
        assert pydicom.dcmread(path).SOPInstanceUID == path.stem
    assert not [p for p in out_dir.rglob(".*")]


def test_delete(archive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chest = next(f.dataset for f in sample() if f.dataset.SeriesDescription == "Chest 5mm")
    status, out, err = run(
        capsys, "delete", "--level", "series", chest.SeriesInstanceUID, "--archive", str(archive)
    )
    assert (status, err) == (0, "")
    assert out == f"deleted series {chest.SeriesInstanceUID}: 6 instances\n"
    _, out, _ = run(capsys, "archive", "stats", "--json", "--archive", str(archive))
    stats = json.loads(out)
    assert [stats[k] for k in ("patients", "studies", "series", "instances")] == [2, 3, 4, 18]
    status, out, _ = run(
        capsys,
        "query",
        "--level",
        "study",
        f"StudyInstanceUID={chest.StudyInstanceUID}",
        "-r",
        "NumberOfStudyRelatedInstances",
        "--json",
        "--archive",
        str(archive),
    )
    assert json.loads(out)["00201208"]["Value"] == [2]  # the topogram's 2 images are left
    status, out, err = run(
        capsys, "delete", "--level", "series", chest.SeriesInstanceUID, "--archive", str(archive)
    )
    assert (status, out) == (1, "")
    assert err == f"dicomkit: {chest.SeriesInstanceUID}: no such series in the archive\n"
    status, out, err = run(capsys, "delete", "--level", "patient", "DK-0002", "--archive", str(archive))
    assert (status, out) == (0, "deleted patient DK-0002: 6 instances\n")


def test_verify_and_repair(archive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "archive", "verify", "--archive", str(archive))
    assert (status, err) == (0, "")
    stored = sorted((archive / "files").rglob("*.dcm"))
    stored[0].unlink()  # an indexed file gone
    orphan = stored[1].with_name("1.2.3.4.dcm")
    orphan.write_bytes(stored[1].read_bytes())  # a file nobody indexed
    status, out, _ = run(capsys, "archive", "verify", "--json", "--archive", str(archive))
    report = json.loads(out)
    assert status == 1
    assert [Path(p) for p in report["orphans"]] == [orphan.resolve()]
    assert report["missing"] == [stored[0].stem]  # files/<study>/<series>/<SOP Instance UID>.dcm
    status, out, _ = run(capsys, "archive", "verify", "--repair", "--archive", str(archive))
    assert status == 0
    assert not orphan.exists()
    status, out, _ = run(capsys, "archive", "verify", "--json", "--archive", str(archive))
    assert status == 0 and json.loads(out)["orphans"] == [] and json.loads(out)["missing"] == []
    _, out, _ = run(capsys, "archive", "stats", "--json", "--archive", str(archive))
    assert json.loads(out)["instances"] == 23


# ---------------------------------------------------------------------------------------
# where the archive is


def test_archive_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DICOMKIT_ARCHIVE", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert archive_location(None) == tmp_path / "home" / ".local" / "share" / "dicomkit" / "archive"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")  # XDG Base Directory: only absolute paths count
    assert archive_location(None) == tmp_path / "home" / ".local" / "share" / "dicomkit" / "archive"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert archive_location(None) == tmp_path / "xdg" / "dicomkit" / "archive"
    monkeypatch.setenv("DICOMKIT_ARCHIVE", str(tmp_path / "env"))
    assert archive_location(None) == tmp_path / "env"
    assert archive_location(str(tmp_path / "opt")) == tmp_path / "opt"


def test_environment_chooses_the_archive(
    sample_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DICOMKIT_ARCHIVE", raising=False)
    monkeypatch.delenv("DICOMKIT_DATABASE", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    one = sample_dir / sample()[0].path
    assert run(capsys, "import", str(one))[0] == 0
    assert (tmp_path / "xdg" / "dicomkit" / "archive" / "index.sqlite").is_file()
    monkeypatch.setenv("DICOMKIT_ARCHIVE", str(tmp_path / "env"))
    assert run(capsys, "import", str(one))[0] == 0
    assert (tmp_path / "env" / "index.sqlite").is_file()


# ---------------------------------------------------------------------------------------
# the demo


def test_demo_imports_its_sample(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    status, out, err = run(capsys, "demo")
    assert (status, err) == (0, "")
    archive = Path(".dicomkit-sample") / "archive"
    assert f"$ dicomkit import --link --archive {archive} .dicomkit-sample" in out
    assert "24 stored, 0 duplicate, 0 rejected, 1 skipped (not DICOM)" in out
    assert "CT CHEST WITH CONTRAST" in out and "MR BRAIN" in out and "CT ABDOMEN" in out
    assert "3 studies" in out.splitlines()
    status, out, err = run(capsys, "demo")
    assert (status, err) == (0, "")
    assert "0 stored, 24 duplicate, 0 rejected" in out  # running again imports nothing new
    status, out, _ = run(capsys, "archive", "stats", "--json", "--archive", str(archive))
    assert json.loads(out)["instances"] == 24
    # link mode: the archive points at the sample's own files, it holds no copies
    assert not list((tmp_path / archive).rglob("*.dcm"))


def test_duplicate_policies(
    archive: Path, sample_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = next(f for f in sample() if f.dataset.StudyID == "2001")
    changed = tmp_path / "changed.dcm"
    # the same instance with another Series Description (a series attribute: no conflict)
    status, _, err = run(
        capsys, "modify", str(sample_dir / f.path), "-s", "SeriesDescription=RENAMED", "-o", str(changed)
    )
    assert (status, err) == (0, "")

    def description() -> str:
        _, out, _ = run(
            capsys, "query", "--level", "series", f"SeriesInstanceUID={f.dataset.SeriesInstanceUID}",
            "-r", "SeriesDescription", "--json", "--archive", str(archive),
        )  # fmt: skip
        return str(json.loads(out)["0008103E"]["Value"][0])

    status, out, _ = run(capsys, "import", str(changed), "--duplicates", "reject", "--archive", str(archive))
    assert status == 1 and "0 stored, 0 duplicate, 1 rejected" in out
    assert description() == f.dataset.SeriesDescription
    status, out, _ = run(capsys, "import", str(changed), "--archive", str(archive))  # ignore
    assert status == 0 and "0 stored, 1 duplicate, 0 rejected" in out
    assert description() == f.dataset.SeriesDescription
    status, out, _ = run(
        capsys, "import", str(changed), "--duplicates", "overwrite", "--archive", str(archive)
    )
    assert status == 0 and "0 stored, 1 replaced, 0 duplicate, 0 rejected" in out
    assert description() == "RENAMED"
    _, out, _ = run(capsys, "archive", "stats", "--json", "--archive", str(archive))
    assert json.loads(out)["instances"] == 24

    # the same SOP Instance UID in another study: a conflict, never merged, whatever the policy
    moved = tmp_path / "moved.dcm"
    run(capsys, "modify", str(sample_dir / f.path), "-s", "StudyInstanceUID=1.2.3.4", "-o", str(moved))
    status, out, _ = run(capsys, "import", str(moved), "--duplicates", "overwrite", "--archive", str(archive))
    assert status == 1 and "1 rejected" in out
    _, out, _ = run(capsys, "query", "StudyInstanceUID=1.2.3.4", "--json", "--archive", str(archive))
    assert out == ""


def test_export_levels(archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "out"
    for level, param, expected in [
        ("patient", "PatientName=smith*", {f.dataset.SOPInstanceUID for f in sample() if f.dataset.PatientID == "DK-0002"}),
        ("series", "SeriesDescription=Topogram", {f.dataset.SOPInstanceUID for f in sample() if f.dataset.SeriesNumber == 1 and f.dataset.StudyID == "1001"}),
        ("instance", "InstanceNumber=5", {f.dataset.SOPInstanceUID for f in sample() if f.dataset.InstanceNumber == 5}),
    ]:  # fmt: skip
        target = out_dir / level
        fuzzy = ["--fuzzy"] if level == "patient" else []
        status, out, err = run(
            capsys,
            "export",
            "--level",
            level,
            param,
            *fuzzy,
            "-q",
            "--to",
            str(target),
            "--archive",
            str(archive),
        )
        assert (status, err) == (0, ""), level
        assert {p.stem for p in target.rglob("*.dcm")} == expected, level
        assert len(out.splitlines()) == 1 and out.startswith(f"exported {len(expected)} files")
