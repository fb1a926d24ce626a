"""``dicomkit modify``: insert, replace and delete, nested and private paths, errors.

Oracle: DCMTK's ``dcmodify`` applies the same modifications to a copy of the same file;
pydicom reads both results and their values must agree.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

import dicomkit
from tests.cli_runner import data_file, run

pydicom = pytest.importorskip("pydicom")


def _copy(name: str, tmp_path: Path, as_name: str = "f.dcm") -> Path:
    dest = tmp_path / as_name
    shutil.copy(data_file(name), dest)
    return dest


def _plain(ds: Any) -> dict[str, Any]:
    """pydicom's values, sequences recursively, binary values as bytes."""
    out: dict[str, Any] = {}
    for elem in ds:
        if elem.tag == 0xFFFCFFFC or elem.tag & 0xFFFF == 0:
            continue  # dcmodify drops trailing padding and recomputes group lengths
        if elem.VR == "SQ":
            out[str(elem.tag)] = (elem.VR, [_plain(item) for item in elem.value])
        elif isinstance(elem.value, bytes):
            out[str(elem.tag)] = (elem.VR, elem.value)
        else:
            out[str(elem.tag)] = (elem.VR, str(elem.value))
    return out


# (dicomkit arguments, dcmodify arguments) for the same modification
CASES: list[tuple[str, list[str], list[str]]] = [
    ("replace text", ["-s", "PatientName=Doe^Jane"], ["-m", "(0010,0010)=Doe^Jane"]),
    ("insert text", ["-s", "StudyDescription=head"], ["-i", "(0008,1030)=head"]),
    ("by tag", ["-s", "(0010,0020)=ID-77"], ["-m", "(0010,0020)=ID-77"]),
    ("multi-value", ["-s", "ImageType=DERIVED\\SECONDARY\\X"], ["-m", "(0008,0008)=DERIVED\\SECONDARY\\X"]),
    ("US", ["-s", "Rows=64"], ["-m", "(0028,0010)=64"]),
    ("DS multi", ["-s", "PixelSpacing=0.5\\0.25"], ["-m", "(0028,0030)=0.5\\0.25"]),
    ("IS insert", ["-s", "AcquisitionNumber=12"], ["-i", "(0020,0012)=12"]),
    ("FD insert", ["-s", "(0018,9087)=1.5"], ["-i", "(0018,9087)=1.5"]),
    ("delete", ["-d", "PatientBirthDate"], ["-e", "(0010,0030)"]),
    ("empty", ["-s", "PatientSex="], ["-m", "(0010,0040)="]),
    (
        "new sequence",
        ["-s", "ReferencedImageSequence[0].ReferencedSOPInstanceUID=1.2.3.4"],
        ["-i", "(0008,1140)[0].(0008,1155)=1.2.3.4"],
    ),
    (
        "second item",
        [
            "-s",
            "ReferencedImageSequence[0].ReferencedSOPClassUID=1.2.840.10008.5.1.4.1.1.2",
            "-s",
            "ReferencedImageSequence[1].ReferencedSOPInstanceUID=1.2.3.5",
        ],
        [
            "-i",
            "(0008,1140)[0].(0008,1150)=1.2.840.10008.5.1.4.1.1.2",
            "-i",
            "(0008,1140)[1].(0008,1155)=1.2.3.5",
        ],
    ),
    (
        "private",
        ["-s", "(0013,0010)=ACME", "-s", "(0013,1001)LO=hello\\world"],
        ["-i", "(0013,0010)=ACME", "-i", "(0013,1001)=hello\\world"],
    ),
]


@pytest.mark.parametrize(("label", "ours", "theirs"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("source", ["CT_small.dcm", "MR_small_bigendian.dcm"])
def test_same_result_as_dcmodify(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    source: str,
    label: str,
    ours: list[str],
    theirs: list[str],
) -> None:
    if shutil.which("dcmodify") is None:
        pytest.skip("DCMTK dcmodify is not installed")
    mine = _copy(source, tmp_path, "ours.dcm")
    dcmtk = _copy(source, tmp_path, "dcmtk.dcm")
    status, _, err = run(capsys, "modify", str(mine), *ours)
    assert (status, err) == (0, "")
    if label == "private":
        # dcmodify takes a new private element's VR from its private dictionary: UN unless known
        theirs = ["-i", "(0013,0010)=ACME"]
    proc = subprocess.run(
        ["dcmodify", "-nb", *theirs, str(dcmtk)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    a, b = pydicom.dcmread(mine), pydicom.dcmread(dcmtk)
    pa, pb = _plain(a), _plain(b)
    if label == "private":
        assert pa.pop("(0013,1001)") == ("LO", "['hello', 'world']")
    assert pa == pb
    assert a.file_meta.TransferSyntaxUID == b.file_meta.TransferSyntaxUID


def test_untouched_elements_keep_their_bytes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = _copy("CT_small.dcm", tmp_path)
    before = path.read_bytes()
    status, _, _ = run(capsys, "modify", str(path), "-s", "PatientName=Doe^Jane")
    assert status == 0
    # changing the name back restores the original file exactly
    status, _, _ = run(capsys, "modify", str(path), "-s", "PatientName=CompressedSamples^CT1")
    assert status == 0
    after = path.read_bytes()
    # the data set is byte-identical; the File Meta Information now names dicomkit as the writer
    assert after[_data_set_start(after) :] == before[_data_set_start(before) :]


def _data_set_start(data: bytes) -> int:
    assert data[128:132] == b"DICM" and data[132:136] == b"\x02\x00\x00\x00"
    return 144 + int.from_bytes(data[140:144], "little")


def test_output_elsewhere(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = _copy("CT_small.dcm", tmp_path)
    before = path.read_bytes()
    dest = tmp_path / "new.dcm"
    status, _, err = run(capsys, "modify", str(path), "-s", "PatientID=42", "-o", str(dest))
    assert (status, err) == (0, "")
    assert path.read_bytes() == before
    assert dicomkit.read(dest).PatientID == "42"


def test_nested_existing_and_delete_item(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = _copy("rtplan.dcm", tmp_path)
    n = len(pydicom.dcmread(path).BeamSequence[0].ControlPointSequence)
    status, _, err = run(
        capsys,
        "modify",
        str(path),
        "-s",
        "BeamSequence[0].BeamName=First",
        "-s",
        "BeamSequence[0].ControlPointSequence[0].GantryAngle=90",
        "-d",
        f"BeamSequence[0].ControlPointSequence[{n - 1}]",
    )
    assert (status, err) == (0, "")
    ds = pydicom.dcmread(path)
    assert ds.BeamSequence[0].BeamName == "First"
    assert float(ds.BeamSequence[0].ControlPointSequence[0].GantryAngle) == 90.0
    assert len(ds.BeamSequence[0].ControlPointSequence) == n - 1


def test_replace_existing_private_without_vr(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = _copy("CT_small.dcm", tmp_path)
    status, _, _ = run(capsys, "modify", str(path), "-s", "(0013,0010)=ACME", "-s", "(0013,1001)LO=a")
    assert status == 0
    status, _, err = run(capsys, "modify", str(path), "-s", "(0013,1001)=b\\c")
    assert (status, err) == (0, "")
    ds = dicomkit.read(path)
    assert ds.private_block(0x0013, "ACME")[0x01].value == ("b", "c")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-s", "PatientNme=x"], "'PatientNme' is not a DICOM keyword"),
        (["-s", "Rows=abc"], "(0028,0010) US: 'abc' is not a valid value"),
        (["-s", "Rows=70000"], "(0028,0010)"),
        (["-s", "PatientName=" + "a" * 70], "(0010,0010) PN"),
        (["-s", "StudyDate=yesterday"], "(0008,0020) DA"),
        (["-s", "(0015,1001)LO=x"], "no Private Creator (0015,0010)"),
        (["-s", "(0013,0010)=ACME", "-s", "(0013,1001)=x"], "give its VR"),
        (["-s", "OtherPatientIDsSequence.PatientID=x"], "give the item"),
        (["-s", "OtherPatientIDsSequence[3].PatientID=x"], "no item [3]"),
        (["-d", "ReasonForTheRequestedProcedure"], "ReasonForTheRequestedProcedure is not in the data set"),
        (["-s", "PatientName"], "expected PATH=VALUE"),
        (["-s", "(0002,0010)=1.2"], "File Meta Information"),
        (["-s", "PatientName.PatientID[0]=x"], "is followed by another step"),
    ],
)
def test_errors_leave_the_file_untouched(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], message: str
) -> None:
    path = _copy("CT_small.dcm", tmp_path)
    before = path.read_bytes()
    status, out, err = run(capsys, "modify", str(path), "-s", "PatientID=changed", *args)
    assert status == 1
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("dicomkit: ")
    assert message in err
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.dcm"]  # no temp file left behind


def test_bad_file_among_good_ones(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    good = _copy("CT_small.dcm", tmp_path)
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(b"junk")
    status, _, err = run(capsys, "modify", str(bad), str(good), "-s", "PatientID=9")
    assert status == 1
    assert err.startswith(f"dicomkit: {bad}: not a DICOM file")
    assert dicomkit.read(good).PatientID == "9"


@pytest.mark.parametrize("source", ["CT_small.dcm", "MR_small_bigendian.dcm"])
def test_binary_values_follow_the_file_byte_order(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, source: str
) -> None:
    path = _copy(source, tmp_path)
    status, _, err = run(
        capsys,
        "modify",
        str(path),
        "-s",
        "(0013,0010)=ACME",
        "-s",
        "(0013,1002)OW=0102\\0304",
        "-s",
        "(0013,1003)OB=ff\\00",
    )
    assert (status, err) == (0, "")
    ds = pydicom.dcmread(path)
    big = ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.2"
    assert ds[0x00131002].value == (b"\x01\x02\x03\x04" if big else b"\x02\x01\x04\x03")
    assert ds[0x00131003].value == b"\xff\x00"
