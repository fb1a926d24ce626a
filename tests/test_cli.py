"""The command line (``dicomkit.cli``): ``dump`` and ``demo`` (``tree``/``check``: test_cli_tree.py).

Oracles: DCMTK's ``dcmdump`` for what ``dump`` prints (the tags, VRs, values, lengths and VMs of
every element, nested ones included), and for the files ``demo`` writes (no errors or warnings);
pydicom for the values of the demo files; dicom3tools' ``dciodvfy`` for their IODs.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import io
import json
import math
import re
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import dicomkit
from dicomkit.cli import demo as demo_module
from dicomkit.cli import main
from dicomkit.dataset import Dataset
from tests.cli_runner import data_file, run

pydicom = pytest.importorskip("pydicom")


# ---------------------------------------------------------------------------------------
# parsing dump output (ours and dcmdump's have the same line shape)

_LINE = re.compile(
    r"^(?P<indent> *)\((?P<tag>[0-9a-fA-F]{4},[0-9a-fA-F]{4})\) (?P<vr>\S\S) (?P<value>.*?) +"
    r"# +(?P<length>\S+), *(?P<vm>\d+) (?P<name>.+)$"
)

Entry = tuple[str, str, str, int]  # VR, value, length, VM


def parse_dump(text: str) -> dict[tuple[Any, ...], Entry]:
    """Elements by their path (tags and item numbers) -> (VR, value, length, VM)."""
    entries: dict[tuple[Any, ...], Entry] = {}
    stack: list[Any] = []
    items: dict[tuple[Any, ...], int] = {}
    for line in text.splitlines():
        m = _LINE.match(line)
        if m is None:
            continue
        depth = len(m["indent"]) // 2
        tag = m["tag"].lower()
        if tag == "fffe,e000" and m["vr"] == "na":
            parent = tuple(stack[:depth])
            items[parent] = items.get(parent, -1) + 1
            del stack[depth:]
            stack.append(items[parent])
            continue
        if tag.startswith("fffe"):
            continue  # delimiters and pixel data fragments
        del stack[depth:]
        stack.append(tag)
        entries[tuple(stack)] = (m["vr"], m["value"], m["length"], int(m["vm"]))
    return entries


def _numbers(text: str) -> list[float]:
    return [float(x) for x in text.strip("[]").split("\\")]


def same_value(vr: str, ours: str, theirs: str) -> bool:
    if ours == theirs:
        return True
    if vr in ("FL", "FD", "OF", "OD", "DS", "IS"):
        try:
            a, b = _numbers(ours), _numbers(theirs)
        except ValueError:
            return False
        return len(a) == len(b) and all(
            math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-12) for x, y in zip(a, b, strict=True)
        )
    if ours.startswith("[") and theirs.startswith("["):
        # dcmdump keeps leading/trailing spaces of values the reader strips (PS3.5 6.2)
        return [v.strip() for v in ours[1:-1].split("\\")] == [v.strip() for v in theirs[1:-1].split("\\")]
    return ours.lower() == theirs.lower()


def dcmdump(path: str, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["dcmdump", "-Un", "+L", *options, path], capture_output=True, text=True, timeout=60, check=False
    )


def compare_with_dcmdump(
    ours_text: str, theirs_text: str, *, ignore: frozenset[str] = frozenset(), lengths: bool = True
) -> None:
    ours, theirs = parse_dump(ours_text), parse_dump(theirs_text)
    ours = {k: v for k, v in ours.items() if k[-1] not in ignore}
    theirs = {k: v for k, v in theirs.items() if k[-1] not in ignore}
    assert theirs, "dcmdump printed no elements"
    assert sorted(ours, key=str) == sorted(theirs, key=str)
    problems = []
    for key, (vr, value, length, vm) in theirs.items():
        o_vr, o_value, o_length, o_vm = ours[key]
        vr = "UN" if vr == "??" else vr
        if (o_vr, o_vm) != (vr, vm):
            problems.append(f"{key}: VR/VM {o_vr}/{o_vm} != dcmdump {vr}/{vm}")
        if not same_value(vr, o_value, value):
            problems.append(f"{key}: value {o_value[:60]!r} != dcmdump {value[:60]!r}")
        if lengths and length.isdigit() and o_length.isdigit() and length != o_length:
            problems.append(f"{key}: length {o_length} != dcmdump {length}")
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------------------
# dump


def test_dump_ct_small(capsys: pytest.CaptureFixture[str]) -> None:
    path = data_file("CT_small.dcm")
    status, out, err = run(capsys, "dump", path)
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"# File: {path}"
    assert "# Dicom-Meta-Information-Header" in lines
    assert lines.count("# Used TransferSyntax: Explicit VR Little Endian") == 2
    assert "# Dicom-Data-Set" in lines
    assert any(
        re.fullmatch(r"\(0010,0010\) PN \[CompressedSamples\^CT1\] +#  22, 1 PatientName", x) for x in lines
    )
    assert any(re.fullmatch(r"\(0028,0010\) US 128 +#   2, 1 Rows", x) for x in lines)
    assert any(
        re.fullmatch(r"\(0002,0001\) OB 00\\01 +#   2, 1 FileMetaInformationVersion", x) for x in lines
    )
    # a sequence of defined length: items indented, no delimitation lines
    seq = next(i for i, x in enumerate(lines) if x.startswith("(0010,1002) SQ"))
    assert re.fullmatch(
        r"\(0010,1002\) SQ \(Sequence with explicit length #=2\) +#  72, 1 OtherPatientIDsSequence",
        lines[seq],
    )
    assert re.fullmatch(
        r"  \(FFFE,E000\) na \(Item with explicit length #=2\) +#  28, 1 Item", lines[seq + 1]
    )
    assert re.fullmatch(r"    \(0010,0020\) LO \[ABCD1234\] +#   8, 1 PatientID", lines[seq + 2])
    assert not any("Delimitation" in x for x in lines)
    # binary values are cut at the width (80 columns for the value)
    pixel = next(x for x in lines if x.startswith("(7FE0,0010)"))
    value = _LINE.match(pixel)["value"]  # type: ignore[index]
    assert len(value) == 80 and value.endswith("...") and re.match(r"([0-9a-f]{4}\\)+", value)
    assert pixel.endswith("# 32768, 1 PixelData")


def test_dump_all_and_width(capsys: pytest.CaptureFixture[str]) -> None:
    path = data_file("CT_small.dcm")
    _, out, _ = run(capsys, "dump", "--all", path)
    pixel = _LINE.match(next(x for x in out.splitlines() if x.startswith("(7FE0,0010)")))
    assert pixel is not None
    assert len(pixel["value"]) == 16384 * 5 - 1  # every 16-bit word
    _, out, _ = run(capsys, "dump", "--width", "20", path)
    for line in out.splitlines():
        m = _LINE.match(line)
        if m and not m["value"].startswith("("):
            assert len(m["value"]) <= 20
    assert "UI [1.3.6.1.4.1.5962... " in out


def test_dump_stop_before_pixels(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "dump", "--stop-before-pixels", data_file("CT_small.dcm"))
    assert status == 0
    assert "(7FE0,0010)" not in out and "(0028,0010) US 128" in out


def test_dump_undefined_lengths_and_fragments(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "dump", data_file("JPEG2000.dcm"))
    assert status == 0
    lines = out.splitlines()
    start = next(i for i, x in enumerate(lines) if x.startswith("(7FE0,0010)"))
    assert re.fullmatch(r"\(7FE0,0010\) OB \(PixelSequence #=2\) +# u/l, 1 PixelData", lines[start])
    assert re.fullmatch(
        r"  \(FFFE,E000\) pi \(no value available\) +#   0, 1 Item", lines[start + 1]
    )  # empty BOT
    assert re.match(r"  \(FFFE,E000\) pi ff\\4f\\ff\\51", lines[start + 2])  # a JPEG 2000 codestream
    assert re.fullmatch(
        r"\(FFFE,E0DD\) na \(SequenceDelimitationItem\) +#   0, 0 SequenceDelimitationItem", lines[start + 3]
    )


def test_dump_undefined_length_items(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "dump", "--quiet", data_file("nested_priv_SQ.dcm"))
    lines = [x.rsplit(" # ", 1)[0].rstrip() for x in out.splitlines()]
    start = lines.index("(0001,0001) SQ (Sequence with undefined length #=1)")
    assert lines[start : start + 11] == [
        "(0001,0001) SQ (Sequence with undefined length #=1)",
        "  (FFFE,E000) na (Item with undefined length #=2)",
        "    (0001,0001) SQ (Sequence with undefined length #=1)",
        "      (FFFE,E000) na (Item with undefined length #=1)",
        "        (0001,0001) UN 44\\6f\\75\\62\\6c\\65\\20\\4e\\65\\73\\74\\65\\64\\20\\53\\51",
        "      (FFFE,E00D) na (ItemDelimitationItem)",
        "    (FFFE,E0DD) na (SequenceDelimitationItem)",
        "    (0001,0002) UN 4e\\65\\73\\74\\65\\64\\20\\53\\51",
        "  (FFFE,E00D) na (ItemDelimitationItem)",
        "(FFFE,E0DD) na (SequenceDelimitationItem)",
        "(7FE0,0010) OW 0000",
    ]


# files with no odd lengths or other damage dcmdump would repair before printing
ORACLE_FILES = [
    "CT_small.dcm",
    "MR_small.dcm",
    "MR_small_implicit.dcm",
    "MR_small_bigendian.dcm",
    "rtplan.dcm",
    "rtdose.dcm",
    "rtstruct.dcm",
    "JPEG2000.dcm",
    "SC_rgb_rle.dcm",
    "image_dfl.dcm",
    "emri_small.dcm",
    "ExplVR_BigEnd.dcm",
]
# the character sets dcmdump +U8 converts (this build cannot convert the Japanese ISO 2022 files)
CHARSET_FILES = [
    "chrArab.dcm",
    "chrFren.dcm",
    "chrFrenMulti.dcm",
    "chrGerm.dcm",
    "chrGreek.dcm",
    "chrHbrw.dcm",
    "chrI2.dcm",
    "chrKoreanMulti.dcm",
    "chrRuss.dcm",
    "chrX1.dcm",
    "chrX2.dcm",
]


@pytest.mark.parametrize("name", ORACLE_FILES + CHARSET_FILES)
def test_dump_agrees_with_dcmdump(
    name: str, capsys: pytest.CaptureFixture[str], dcmtk_available: bool
) -> None:
    if not dcmtk_available:
        pytest.skip("DCMTK's dcmdump is not installed")
    path = data_file(name)
    status, out, _ = run(capsys, "dump", "--all", path)
    assert status == 0
    if name in CHARSET_FILES:
        # +U8: dcmdump converts text to UTF-8 (as dicomkit decodes it) and rewrites (0008,0005)
        # (so the value lengths it prints are those of the converted text: not compared)
        theirs = dcmdump(path, "+U8")
        assert theirs.returncode == 0, theirs.stderr
        compare_with_dcmdump(out, theirs.stdout, ignore=frozenset({"0008,0005"}), lengths=False)
    else:
        theirs = dcmdump(path)
        assert theirs.returncode == 0, theirs.stderr
        compare_with_dcmdump(out, theirs.stdout)


def test_dump_json(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("dicomkit.codec.json")
    ct, mr = data_file("CT_small.dcm"), data_file("MR_small.dcm")
    status, out, err = run(capsys, "dump", "--json", ct, mr)
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert len(lines) == 2
    objs = [json.loads(line) for line in lines]
    assert all(isinstance(obj, dict) for obj in objs)
    assert objs[0]["00100010"] == {"vr": "PN", "Value": [{"Alphabetic": "CompressedSamples^CT1"}]}
    assert objs[0]["00280010"] == {"vr": "US", "Value": [128]}
    assert all(re.fullmatch(r"[0-9A-F]{8}", key) for key in objs[0])
    pixel = objs[0]["7FE00010"]
    assert pixel["vr"] == "OW" and len(base64.b64decode(pixel["InlineBinary"])) == 32768
    assert objs[1]["00080060"]["Value"] == ["MR"]
    _, out, _ = run(capsys, "dump", "--json", "--stop-before-pixels", ct)
    assert "7FE00010" not in json.loads(out)


# ---------------------------------------------------------------------------------------
# errors and warnings

_LOCATED = re.compile(r".*\((tag \([0-9A-F]{4},[0-9A-F]{4}\), )?offset \d+\)$")


@pytest.fixture
def bad_files(tmp_path: Path) -> dict[str, str]:
    data = Path(data_file("CT_small.dcm")).read_bytes()
    files = {
        "text": tmp_path / "notes.txt",
        "truncated_pixels": tmp_path / "cut_in_pixels.dcm",
        "truncated_sequence": tmp_path / "cut_in_sequence.dcm",
        "truncated_header": tmp_path / "cut_in_header.dcm",
        "missing": tmp_path / "missing.dcm",
        "folder": tmp_path / "folder",
    }
    files["text"].write_text("this is not DICOM, just a text file with some words in it\n" * 5)
    files["truncated_pixels"].write_bytes(data[:9000])
    files["truncated_sequence"].write_bytes(data[:1000])
    files["truncated_header"].write_bytes(data[:340])  # inside an element header
    files["folder"].mkdir()
    return {k: str(v) for k, v in files.items()}


def _error_lines(err: str) -> dict[str, str]:
    lines = err.splitlines()
    assert all(line.startswith("dicomkit: ") for line in lines), err
    return {line.split(": ", 2)[1]: line.split(": ", 2)[2] for line in lines}


def test_dump_errors_among_good_files(capsys: pytest.CaptureFixture[str], bad_files: dict[str, str]) -> None:
    ct, mr = data_file("CT_small.dcm"), data_file("MR_small.dcm")
    b = bad_files
    args = [ct, b["text"], b["truncated_pixels"], mr, b["missing"], b["truncated_sequence"], b["folder"]]
    status, out, err = run(capsys, "dump", *args, b["truncated_header"])
    assert status == 1
    assert len(err.splitlines()) == 6  # one line per bad file
    errors = _error_lines(err)
    assert errors[b["text"]].startswith("not a DICOM file")
    assert _LOCATED.match(errors[b["text"]])
    for key in ("truncated_pixels", "truncated_sequence", "truncated_header"):
        assert errors[b[key]].startswith("truncated or damaged: "), errors[b[key]]
        assert _LOCATED.match(errors[b[key]]), errors[b[key]]
    assert "(tag (7FE0,0010), offset " in errors[b["truncated_pixels"]]
    assert "(tag (0010,1002), offset " in errors[b["truncated_sequence"]]
    assert errors[b["missing"]] == "no such file or directory"
    assert errors[b["folder"]].startswith("is a directory")
    # the good files are dumped in full, in order
    headers = [line for line in out.splitlines() if line.startswith("# File: ")]
    assert headers[0] == f"# File: {ct}" and f"# File: {mr}" in headers
    assert out.count("PixelData\n") >= 2
    assert "CompressedSamples^MR1" in out


def test_dump_json_errors(capsys: pytest.CaptureFixture[str], bad_files: dict[str, str]) -> None:
    pytest.importorskip("dicomkit.codec.json")
    ct = data_file("CT_small.dcm")
    b = bad_files
    status, out, err = run(capsys, "dump", "--json", b["text"], ct, b["truncated_pixels"], b["missing"], ct)
    assert status == 1
    assert [type(json.loads(line)) for line in out.splitlines()] == [dict, dict]
    assert set(_error_lines(err)) == {b["text"], b["truncated_pixels"], b["missing"]}


def test_dump_warnings(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    no_preamble = tmp_path / "no_preamble.dcm"
    no_preamble.write_bytes(Path(data_file("CT_small.dcm")).read_bytes()[128:])
    status, out, err = run(capsys, "dump", str(no_preamble))
    assert status == 0 and "CompressedSamples^CT1" in out
    assert err == f"warning: {no_preamble}: no preamble before 'DICM' (offset 0)\n"
    status, out, err = run(capsys, "dump", "--quiet", str(no_preamble))
    assert (status, err) == (0, "") and "CompressedSamples^CT1" in out
    status, out, err = run(capsys, "dump", "--strict", str(no_preamble))
    assert status == 1
    assert err == f"dicomkit: {no_preamble}: no preamble before 'DICM' (offset 0)\n"


def test_dump_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    data = Path(data_file("CT_small.dcm")).read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    status, out, _ = run(capsys, "dump", "-")
    assert status == 0 and out.startswith("# File: -\n") and "CompressedSamples^CT1" in out


def test_unexpected_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug while reading one file is reported like a bad file; the others are still dumped."""
    from dicomkit.cli import dump

    real_read = dicomkit.read

    def flaky_read(source: Any, **kwargs: Any) -> Dataset:
        if str(source).endswith("MR_small.dcm"):
            raise RuntimeError("boom")
        return real_read(source, **kwargs)

    monkeypatch.setattr(dump, "read", flaky_read)
    ct, mr = data_file("CT_small.dcm"), data_file("MR_small.dcm")
    status, out, err = run(capsys, "dump", mr, ct)
    assert status == 1 and "CompressedSamples^CT1" in out
    assert (
        err == f"dicomkit: {mr}: internal error: RuntimeError: boom (please report this as a dicomkit bug)\n"
    )
    with pytest.raises(RuntimeError):
        main(["dump", "--debug", mr])


def test_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--version")[:2] == (0, f"dicomkit {dicomkit.__version__}\n")
    assert run(capsys, "dump", "--help")[0] == 0
    status, _, err = run(capsys)
    assert status == 2 and "required" in err
    assert run(capsys, "dump")[0] == 2
    assert run(capsys, "dump", "--width", "3", "x")[0] == 2
    assert run(capsys, "frobnicate")[0] == 2


def test_entry_points(tmp_path: Path) -> None:
    ct = data_file("CT_small.dcm")
    proc = subprocess.run(
        [sys.executable, "-m", "dicomkit", "dump", "--stop-before-pixels", ct, str(tmp_path / "missing.dcm")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1
    assert "CompressedSamples^CT1" in proc.stdout
    assert proc.stderr == f"dicomkit: {tmp_path / 'missing.dcm'}: no such file or directory\n"
    script = Path(sys.executable).parent / "dicomkit"
    if script.exists():
        proc = subprocess.run(
            [str(script), "--version"], capture_output=True, text=True, timeout=120, check=False
        )
        assert proc.returncode == 0 and proc.stdout.startswith("dicomkit ")


def test_output_to_a_closed_pipe() -> None:
    """`dicomkit dump … | head -1`: no traceback when the reader goes away."""
    ct = data_file("CT_small.dcm")
    code = "import sys; from dicomkit.cli import main; sys.exit(main(['dump', '--all'] + sys.argv[1:]))"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, ct, ct, ct], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read()
    proc.wait(timeout=60)
    proc.stderr.close()
    assert b"Traceback" not in err


# ---------------------------------------------------------------------------------------
# demo and tree


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The demo's sample, written once per module (and worker), with the demo's output."""
    root = tmp_path_factory.mktemp("demo") / ".dicomkit-sample"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["demo", "--dir", str(root), "--archive", str(root.parent / "archive")])
    assert status == 0, err.getvalue()
    assert err.getvalue() == ""
    return root, out.getvalue()


@functools.cache
def sample_files() -> list[demo_module.SampleFile]:
    """The demo's files as generated in memory (the same every call; read-only here)."""
    return demo_module.sample()


def _dicom_paths(root: Path) -> list[Path]:
    return sorted(root.rglob("*.dcm"))


def _expected_counts() -> dict[str, int]:
    files = sample_files()
    return {
        "patients": len({f.dataset.PatientID for f in files}),
        "studies": len({f.dataset.StudyInstanceUID for f in files}),
        "series": len({f.dataset.SeriesInstanceUID for f in files}),
        "instances": len({f.dataset.SOPInstanceUID for f in files}),
    }


def test_demo_output(sample_dir: tuple[Path, str]) -> None:
    root, out = sample_dir
    assert _expected_counts() == {"patients": 2, "studies": 3, "series": 5, "instances": 24}
    assert f"wrote 24 DICOM files and README.txt to {root}/" in out
    assert "$ dicomkit dump " in out and f"$ dicomkit tree {root}" in out
    assert "# Dicom-Data-Set" in out and "PN [Müller^Jürgen]" in out
    assert f"{root}: 2 patients, 3 studies, 5 series, 24 instances" in out
    assert len(_dicom_paths(root)) == 24
    syntaxes = {f.transfer_syntax for f in sample_files()}
    assert syntaxes == {demo_module.IMPLICIT_LE, demo_module.EXPLICIT_LE, demo_module.EXPLICIT_BE}


def test_demo_sample_contents() -> None:
    files = sample_files()
    by_ts: dict[str, int] = {}
    for f in files:
        by_ts[f.transfer_syntax] = by_ts.get(f.transfer_syntax, 0) + 1
    assert by_ts[demo_module.IMPLICIT_LE] == 1 and by_ts[demo_module.EXPLICIT_BE] == 1
    assert {f.dataset.Modality for f in files} == {"CT", "MR"}
    for f in files:
        ds = f.dataset
        assert (ds.Rows, ds.Columns, ds.BitsAllocated) == (64, 64, 16)
        assert len(ds.PixelData) == 64 * 64 * 2
        assert ds[0x00090010].value == demo_module.PRIVATE_CREATOR
        item = ds.RequestAttributesSequence[0]
        assert item.ScheduledProtocolCodeSequence[0].CodingSchemeDesignator == "99DICOMKIT"
    names = {f.dataset.PatientName: f.dataset.get("SpecificCharacterSet") for f in files}
    assert names == {"Müller^Jürgen": "ISO_IR 192", "Smith^Alice": None}


def test_demo_files_are_clean_for_dcmdump(sample_dir: tuple[Path, str], dcmtk_available: bool) -> None:
    if not dcmtk_available:
        pytest.skip("DCMTK's dcmdump is not installed")
    root, _ = sample_dir
    for path in _dicom_paths(root):
        proc = subprocess.run(
            ["dcmdump", "-dc", str(path)], capture_output=True, text=True, timeout=60, check=False
        )
        assert proc.returncode == 0 and proc.stderr == "", f"{path}: {proc.stderr}"
        assert "# Used TransferSyntax: " in proc.stdout
    special = {f.transfer_syntax: root / f.path for f in sample_files()}
    assert "Little Endian Implicit" in dcmdump(str(special[demo_module.IMPLICIT_LE])).stdout
    assert "Big Endian Explicit" in dcmdump(str(special[demo_module.EXPLICIT_BE])).stdout


def test_dump_of_demo_files_agrees_with_dcmdump(
    sample_dir: tuple[Path, str], capsys: pytest.CaptureFixture[str], dcmtk_available: bool
) -> None:
    if not dcmtk_available:
        pytest.skip("DCMTK's dcmdump is not installed")
    root, _ = sample_dir
    files = sample_files()
    chosen = [files[0], files[2]] + [f for f in files if f.transfer_syntax != demo_module.EXPLICIT_LE]
    for f in chosen:
        path = str(root / f.path)
        status, out, err = run(capsys, "dump", "--all", path)
        assert (status, err) == (0, "")
        compare_with_dcmdump(out, dcmdump(path).stdout)


def test_demo_files_are_valid_iods(sample_dir: tuple[Path, str], dciodvfy_available: bool) -> None:
    if not dciodvfy_available:
        pytest.skip("dicom3tools' dciodvfy is not installed")
    root, _ = sample_dir
    files = sample_files()
    chosen = [files[0], files[2], files[-1]] + [
        f for f in files if f.transfer_syntax != demo_module.EXPLICIT_LE
    ]
    for f in chosen:
        proc = subprocess.run(
            ["dciodvfy", str(root / f.path)], capture_output=True, text=True, timeout=60, check=False
        )
        errors = [line for line in (proc.stdout + proc.stderr).splitlines() if line.startswith("Error")]
        assert not errors, f"{f.path}: {errors}"


def _normalize(value: Any) -> Any:
    """pydicom and in-memory values to comparable plain Python values."""
    if value is None or value == "" or value == b"":
        return None
    if isinstance(value, bytes):
        return value
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        values = tuple(_normalize(v) for v in value)
        return values if values else None
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


def _expected(vr: str, value: Any) -> Any:
    if vr == "DS":
        if isinstance(value, tuple):
            return tuple(float(v) for v in value)
        return float(value) if value != "" else None
    return _normalize(value)


def _compare_with_pydicom(ours: Dataset, theirs: Any, big_endian: bool, where: str) -> None:
    assert sorted(int(e.tag) for e in ours) == sorted(int(e.tag) for e in theirs), where
    for elem in ours:
        pd_elem = theirs[int(elem.tag)]
        here = f"{where} {elem.tag}"
        vr = str(elem.VR)
        if vr == "SQ":
            assert pd_elem.VR == "SQ" and len(pd_elem.value) == len(elem.value), here
            for i, (a, b) in enumerate(zip(elem.value, pd_elem.value, strict=True)):
                _compare_with_pydicom(a, b, big_endian, f"{here}[{i}]")
            continue
        if pd_elem.VR == "UN":  # a private element in Implicit VR: pydicom keeps the bytes
            encoded = dicomkit.write_dataset(Dataset([elem]), "1.2.840.10008.1.2")[8:]  # Implicit VR LE
            assert pd_elem.value == encoded, here
            continue
        assert vr == pd_elem.VR, here
        if vr == "OW":
            expected = elem.value
            if big_endian:
                expected = b"".join(expected[i : i + 2][::-1] for i in range(0, len(expected), 2))
            assert pd_elem.value == expected, here
            continue
        assert _normalize(pd_elem.value) == _expected(vr, elem.value), here


def test_demo_values_read_back_with_pydicom(sample_dir: tuple[Path, str]) -> None:
    root, _ = sample_dir
    for f in sample_files():
        theirs = pydicom.dcmread(root / f.path)
        assert theirs.preamble == b"\x00" * 128
        meta = theirs.file_meta
        assert meta.TransferSyntaxUID == f.transfer_syntax
        assert meta.MediaStorageSOPInstanceUID == f.dataset.SOPInstanceUID
        assert meta.MediaStorageSOPClassUID == f.dataset.SOPClassUID
        big_endian = f.transfer_syntax == demo_module.EXPLICIT_BE
        _compare_with_pydicom(f.dataset, theirs, big_endian, f.path)
        try:
            import numpy  # noqa: F401
        except ImportError:
            continue
        pixels = struct.unpack("<4096H", f.dataset.PixelData)
        assert theirs.pixel_array.flatten().tolist() == list(pixels), f.path


def test_demo_files_read_strictly_by_dicomkit(sample_dir: tuple[Path, str]) -> None:
    root, _ = sample_dir
    for f in sample_files():
        ds = dicomkit.read(root / f.path, strict=True)  # no fix-up needed: group length, padding, order
        assert ds.meta is not None and ds.meta.TransferSyntaxUID == f.transfer_syntax
        assert ds.PatientName == f.dataset.PatientName
        assert ds.SOPInstanceUID == f.dataset.SOPInstanceUID
        assert ds.RequestAttributesSequence[0].ScheduledProtocolCodeSequence[0].CodeValue == (
            f.dataset.RequestAttributesSequence[0].ScheduledProtocolCodeSequence[0].CodeValue
        )
        assert len(ds.PixelData) == 8192


def test_demo_is_idempotent_and_atomic(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    status, _, err = run(capsys, "demo")
    assert (status, err) == (0, "")
    root = tmp_path / ".dicomkit-sample"

    def snapshot() -> dict[Path, bytes]:  # the sample, not the archive the demo indexes it in
        return {
            p.relative_to(root): p.read_bytes()
            for p in root.rglob("*")
            if p.is_file() and p.relative_to(root).parts[0] != "archive"
        }

    first = snapshot()
    assert len(first) == 25  # 24 images and the README
    (root / "mine.txt").write_text("a file of the user's")
    damaged = root / sample_files()[0].path
    damaged.write_bytes(b"garbage")
    status, _, err = run(capsys, "demo")
    assert (status, err) == (0, "")
    second = snapshot()
    assert second.pop(Path("mine.txt")) == b"a file of the user's"
    assert second == first  # byte for byte: the same UIDs, dates and pixels
    assert not [p for p in root.rglob("*") if p.name.endswith(".tmp")]


def test_demo_dir_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    status, out, err = run(capsys, "demo", "--dir", str(target))
    assert status == 1 and out == ""
    assert err.startswith(f"dicomkit: {target}: cannot write the sample") and len(err.splitlines()) == 1


# tree and check: tests/test_cli_tree.py


def test_rich_is_imported_only_to_print_trees_or_colours() -> None:
    code = "import sys, dicomkit.cli, dicomkit.cli.dump; print('rich' in sys.modules)"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.stdout.strip() == "False", proc.stderr
