"""``dicomkit tree`` and ``dicomkit check`` (the command line of dicomkit.model)."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import pytest

from dicomkit.cli import demo as demo_module
from dicomkit.cli import main
from tests.cli_runner import run
from tests.model.corpus import slices, uid


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's sample, written by ``dicomkit demo`` (which runs ``tree`` on it: exit 0)."""
    root = tmp_path_factory.mktemp("demo") / ".dicomkit-sample"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["demo", "--dir", str(root), "--archive", str(root.parent / "archive")])
    assert (status, err.getvalue()) == (0, "")
    assert f"{root}: 2 patients, 3 studies, 5 series, 24 instances" in out.getvalue()
    assert "no findings" in out.getvalue()
    return root


@pytest.fixture(scope="module")
def flawed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One clean series and one with a missing slice and an Instance Number gap."""
    root = tmp_path_factory.mktemp("flawed")
    slices(root / "ok", uid(1), uid(1, 1), [0, 2, 4])
    slices(root / "gap", uid(1), uid(1, 2), [0, 2, 6], numbers=[1, 2, 4], SeriesNumber=2)
    return root


def test_tree_json_matches_the_demo(sample_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "tree", "--json", str(sample_dir))
    assert (status, err) == (0, "")
    tree = json.loads(out)
    assert tree["counts"] == {"patients": 2, "studies": 3, "series": 5, "instances": 24}
    assert tree["files"] == 25 and tree["findings"] == []
    assert tree["skipped"] == [{"path": str(sample_dir / "README.txt"), "reason": "not DICOM"}]
    expected: dict[tuple[str, str, str], int] = {}
    for f in demo_module.sample():
        ds = f.dataset
        key = (ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID)
        expected[key] = expected.get(key, 0) + 1
    found = {
        (p["PatientID"], st["StudyInstanceUID"], se["SeriesInstanceUID"]): se["NumberOfInstances"]
        for p in tree["patients"]
        for st in p["studies"]
        for se in st["series"]
    }
    assert found == expected
    first = tree["patients"][0]
    assert (first["PatientName"], first["PatientBirthDate"], first["PatientSex"]) == (
        "Müller^Jürgen",
        "19610412",
        "M",
    )
    study = first["studies"][0]
    assert (study["StudyDate"], study["StudyTime"], study["StudyDescription"], study["AccessionNumber"]) == (
        "20240311",
        "093012",
        "CT CHEST WITH CONTRAST",
        "ACC1001",
    )
    assert study["StudyID"] == "1001"
    assert [
        (s["SeriesNumber"], s["Modality"], s["BodyPartExamined"], s["NumberOfInstances"])
        for s in study["series"]
    ] == [
        (1, "CT", "CHEST", 2),
        (2, "CT", "CHEST", 6),
    ]
    chest = study["series"][1]
    assert chest["geometry"]["spacing"] == 5.0 and chest["geometry"]["extent"] == [320.0, 320.0, 30.0]
    assert "instances" not in chest


def test_tree_text(sample_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "tree", str(sample_dir))
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"{sample_dir}: 2 patients, 3 studies, 5 series, 24 instances"
    assert any(re.search(r"Patient Müller\^Jürgen  ID DK-0001  born 1961-04-12  sex M$", x) for x in lines)
    assert any(
        re.search(
            r"Study 2024-03-11 09:30:12  CT CHEST WITH CONTRAST  accession ACC1001  ID 1001  2\.25\.\d+$", x
        )
        for x in lines
    )
    assert any(re.search(r"Series 2  CT  Chest 5mm  CHEST  6 instances$", x) for x in lines)
    assert any(re.search(r"Series 1  MR  T1 SE axial  HEAD  5 instances$", x) for x in lines)
    assert not any("Instance " in x for x in lines)
    assert lines[-2:] == [
        "no findings",
        "skipped 1 file: not DICOM, unreadable or not an instance; --verbose lists it",
    ]
    status, out, err = run(capsys, "tree", "--verbose", str(sample_dir))
    assert status == 0 and err == f"skipped: {sample_dir / 'README.txt'}: not DICOM\n"


def test_tree_levels(sample_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "tree", "--instances", str(sample_dir))
    instances = [x for x in out.splitlines() if "Instance " in x]
    assert len(instances) == 24
    chest = [x for x in instances if "02_chest_5mm" in x]
    assert [re.search(r"Instance (\d+)", x)[1] for x in chest] == [
        "6",
        "5",
        "4",
        "3",
        "2",
        "1",
    ]  # foot to head
    _, out, _ = run(capsys, "tree", "--level", "study", str(sample_dir))
    assert "Study " in out and "Series " not in out
    _, out, _ = run(capsys, "tree", "--level", "patient", str(sample_dir))
    assert "Patient " in out and "Study " not in out
    _, out, _ = run(capsys, "tree", "--json", "--level", "instance", str(sample_dir))
    series = json.loads(out)["patients"][0]["studies"][0]["series"][1]
    assert [i["InstanceNumber"] for i in series["instances"]] == [6, 5, 4, 3, 2, 1]
    _, out, _ = run(capsys, "tree", "--json", "--level", "study", str(sample_dir))
    assert json.loads(out)["patients"][0]["studies"][0]["NumberOfSeries"] == 2


def test_tree_findings(flawed_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "tree", str(flawed_dir))
    assert (status, err) == (1, "")
    assert out.splitlines()[-1] == "2 findings: 1 instance-number-gap, 1 missing-slice; --findings lists them"
    status, out, _ = run(capsys, "tree", "--findings", str(flawed_dir))
    assert status == 1
    tail = out.splitlines()[-3:]
    assert tail[0] == "2 findings:"
    assert tail[1] == f"  instance-number-gap series {uid(1, 2)}: Instance Numbers missing between 1 and 4: 3"
    assert tail[2].startswith(
        f"  missing-slice series {uid(1, 2)}: 1 slice missing between positions 2 and 6"
    )
    status, out, _ = run(capsys, "tree", "--json", str(flawed_dir))
    assert status == 1 and len(json.loads(out)["findings"]) == 2


def test_check(flawed_dir: Path, sample_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "check", str(flawed_dir))
    assert (status, err) == (1, "")
    assert [x.split(":")[0] for x in out.splitlines()] == [
        f"instance-number-gap series {uid(1, 2)}",
        f"missing-slice series {uid(1, 2)}",
    ]
    status, out, _ = run(capsys, "check", "--json", str(flawed_dir))
    rows = [json.loads(x) for x in out.splitlines()]
    assert status == 1 and [r["kind"] for r in rows] == ["instance-number-gap", "missing-slice"]
    assert rows[1]["uids"] == ["P1", uid(1), uid(1, 2)] and len(rows[1]["paths"]) == 2
    assert run(capsys, "check", str(sample_dir)) == (0, "", "")


def test_tree_missing_path_and_single_file(
    sample_dir: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    one = next(sample_dir.rglob("*.dcm"))
    status, out, err = run(capsys, "tree", "--json", str(tmp_path / "nope"), str(one))
    assert status == 1
    assert err == f"dicomkit: {tmp_path / 'nope'}: no such file or directory\n"
    assert json.loads(out)["counts"] == {"patients": 1, "studies": 1, "series": 1, "instances": 1}
    status, _, err = run(capsys, "check", str(tmp_path / "nope"))
    assert status == 1 and "no such file or directory" in err


def test_tree_on_pydicom_test_files(
    pydicom_test_files: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    from pydicom.data.data_manager import DATA_ROOT

    folder = Path(DATA_ROOT) / "test_files"
    status, out, err = run(capsys, "tree", "--json", "--verbose", str(folder))
    assert status == 1  # a messy pile: findings
    assert "internal error" not in err
    tree = json.loads(out)
    assert tree["counts"]["instances"] > 50 and tree["findings"]
    placed = tree["files"] - len(tree["skipped"])
    assert placed >= tree["counts"]["instances"]  # the rest: more files holding an instance already counted
    reasons = {s["path"]: s["reason"] for s in tree["skipped"]}
    assert (
        reasons[str(folder / "dicomdirtests" / "DICOMDIR")]
        == "a DICOMDIR (a media directory, not an instance)"
    )
    assert reasons[str(folder / "dicomdirtests" / "TINY_ALPHA" / "README")] == "not DICOM"
    status, out, _ = run(capsys, "check", str(folder))
    assert status == 1 and len(out.splitlines()) == len(tree["findings"])


def test_progress_bar_on_a_terminal(flawed_dir: Path) -> None:
    from dicomkit.cli import Output
    from dicomkit.cli.tree import scan

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    err = Tty()
    h = scan([str(flawed_dir)], Output(color="never", stdout=io.StringIO(), stderr=err))
    assert h.counts.instances == 6
    assert "reading" in err.getvalue()
