"""``dicomkit convert`` and ``dicomkit json2dcm`` (with the ``dump --json`` round trip).

Oracles: pydicom reads every converted file with the same values, DCMTK's ``dcmdump``
reads it without errors or warnings and reports the transfer syntax asked for.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import dicomkit
from tests.cli_runner import data_file, run

pydicom = pytest.importorskip("pydicom")

SYNTAXES = {
    "implicit": "1.2.840.10008.1.2",
    "explicit": "1.2.840.10008.1.2.1",
    "big-endian": "1.2.840.10008.1.2.2",
    "deflated": "1.2.840.10008.1.2.1.99",
}


def _values(ds: object) -> dict[str, object]:
    """Every element's value as pydicom decodes it (meta excluded), sequences recursively."""
    out: dict[str, object] = {}
    for elem in ds:  # type: ignore[attr-defined]
        if elem.VR == "SQ":
            out[str(elem.tag)] = [_values(item) for item in elem.value]
        elif elem.tag == 0x7FE00010 or elem.VR in ("OW", "OB", "OD", "OF", "OL", "OV", "UN"):
            out[str(elem.tag)] = ("bytes", len(elem.value or b""))
        else:
            out[str(elem.tag)] = str(elem.value)
    return out


def _dcmdump_clean(path: Path) -> str:
    if shutil.which("dcmdump") is None:
        pytest.skip("DCMTK dcmdump is not installed")
    proc = subprocess.run(["dcmdump", "-M", str(path)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    bad = [line for line in (proc.stdout + proc.stderr).splitlines() if line.startswith(("E:", "W:"))]
    assert not bad, bad
    return proc.stdout


@pytest.mark.parametrize("name", sorted(SYNTAXES))
@pytest.mark.parametrize("source", ["CT_small.dcm", "MR_small_bigendian.dcm", "rtplan.dcm"])
def test_convert_each_syntax(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, source: str, name: str
) -> None:
    src = data_file(source)
    dest = tmp_path / "out.dcm"
    status, _, err = run(capsys, "convert", src, "-o", str(dest), "--transfer-syntax", name)
    assert (status, err) == (0, "")
    ours = pydicom.dcmread(dest)
    assert ours.file_meta.TransferSyntaxUID == SYNTAXES[name]
    original = pydicom.dcmread(src)
    assert _values(ours) == _values(original)
    dump = _dcmdump_clean(dest)
    assert SYNTAXES[name] in dump or name.replace("-", "").lower() in dump.lower().replace(" ", "")


def test_convert_accepts_a_uid(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    dest = tmp_path / "x.dcm"
    status, _, _ = run(
        capsys, "convert", data_file("CT_small.dcm"), "-o", str(dest), "-t", "1.2.840.10008.1.2"
    )
    assert status == 0
    assert dicomkit.read(dest).meta.TransferSyntaxUID == "1.2.840.10008.1.2"


def test_convert_unknown_syntax_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, err = run(capsys, "convert", data_file("CT_small.dcm"), "-o", str(tmp_path / "x"), "-t", "zip")
    assert status == 2
    assert "unknown transfer syntax 'zip'" in err
    assert not (tmp_path / "x").exists()


def test_out_dir_keeps_relative_paths_and_reports_bad_files(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    tree = tmp_path / "in"
    (tree / "a" / "b").mkdir(parents=True)
    shutil.copy(data_file("CT_small.dcm"), tree / "a" / "b" / "ct.dcm")
    shutil.copy(data_file("MR_small.dcm"), tree / "mr.dcm")
    (tree / "a" / "junk.dcm").write_bytes(b"not dicom at all")
    single = data_file("rtplan.dcm")
    out_dir = tmp_path / "out"
    status, _, err = run(capsys, "convert", str(tree), single, "--out-dir", str(out_dir), "-t", "implicit")
    assert status == 1
    lines = err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"dicomkit: {tree / 'a' / 'junk.dcm'}: not a DICOM file")
    written = sorted(p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*") if p.is_file())
    assert written == ["a/b/ct.dcm", "mr.dcm", "rtplan.dcm"]
    for path in written:
        assert dicomkit.read(out_dir / path).meta.TransferSyntaxUID == SYNTAXES["implicit"]


def test_truncated_file_reports_tag_and_offset(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = Path(data_file("CT_small.dcm")).read_bytes()
    bad = tmp_path / "cut.dcm"
    bad.write_bytes(data[:1000])
    status, _, err = run(capsys, "convert", str(bad), "--out-dir", str(tmp_path / "o"), "-t", "explicit")
    assert status == 1
    assert err.startswith(f"dicomkit: {bad}: ")
    assert "offset" in err and err.count("\n") == 1
    assert not list((tmp_path / "o").rglob("*.dcm"))


def test_encapsulated_to_uncompressed_decompresses(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    pytest.importorskip("imagecodecs")
    src = data_file("JPEG2000.dcm")
    dest = tmp_path / "x.dcm"
    status, _, err = run(capsys, "convert", src, "-o", str(dest), "-t", "explicit")
    assert (status, err) == (0, "")
    ours = pydicom.dcmread(dest)
    assert ours.file_meta.TransferSyntaxUID == SYNTAXES["explicit"]
    assert (ours.pixel_array == pydicom.dcmread(src).pixel_array).all()
    _dcmdump_clean(dest)


COMPRESSED = {
    "rle": "1.2.840.10008.1.2.5",
    "jpeg-ls": "1.2.840.10008.1.2.4.80",
    "j2k": "1.2.840.10008.1.2.4.90",
    "htj2k": "1.2.840.10008.1.2.4.201",
    "htj2k-rpcl": "1.2.840.10008.1.2.4.202",
    "jpeg-lossless": "1.2.840.10008.1.2.4.70",
}


@pytest.mark.parametrize("name", sorted(COMPRESSED))
@pytest.mark.parametrize("source", ["CT_small.dcm", "MR_small_bigendian.dcm"])
def test_convert_to_lossless_compressed_syntaxes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, source: str, name: str
) -> None:
    pytest.importorskip("imagecodecs")
    src = data_file(source)
    dest = tmp_path / "out.dcm"
    status, _, err = run(capsys, "convert", src, "-o", str(dest), "--transfer-syntax", name)
    assert (status, err) == (0, "")
    ours = pydicom.dcmread(dest)
    original = pydicom.dcmread(src)
    assert ours.file_meta.TransferSyntaxUID == COMPRESSED[name]
    assert ours.SOPInstanceUID == original.SOPInstanceUID
    assert (ours.pixel_array == original.pixel_array).all()
    values, before = _values(ours), _values(original)
    for key in ("(7FE0,0010)",):
        values.pop(key), before.pop(key)
    assert values == before
    _dcmdump_clean(dest)


def test_convert_codec_options_through_the_registered_parser(tmp_path: Path) -> None:
    # convert.register() builds the parser with the codec options (--quality, --ratio, ...)
    import argparse

    from dicomkit.cli import Output, convert

    pytest.importorskip("imagecodecs")
    parser = argparse.ArgumentParser()
    convert.register(parser.add_subparsers(), argparse.ArgumentParser(add_help=False))
    src = data_file("SC_rgb.dcm")
    dest = tmp_path / "lossy.dcm"
    args = parser.parse_args(["convert", src, "-o", str(dest), "-t", "jpeg-baseline", "--quality", "70"])
    out = Output(color="never", stdout=io.StringIO(), stderr=io.StringIO())
    assert convert.run(args, out) == 0
    ours = pydicom.dcmread(dest)
    assert ours.LossyImageCompression == "01"
    assert ours.LossyImageCompressionMethod == "ISO_10918_1"
    assert "quality 70" in ours.DerivationDescription
    assert ours.PhotometricInterpretation == "YBR_FULL_422"
    bad = parser.parse_args(["convert", src, "-o", str(tmp_path / "b.dcm"), "-t", "rle", "--quality", "70"])
    err = io.StringIO()
    assert convert.run(bad, Output(color="never", stdout=io.StringIO(), stderr=err)) == 1
    assert "does not take option(s) quality" in err.getvalue()


def test_convert_refuses_what_the_codec_cannot_hold(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    pytest.importorskip("imagecodecs")
    src = data_file("CT_small.dcm")
    dest = tmp_path / "x.dcm"
    status, _, err = run(capsys, "convert", src, "-o", str(dest), "-t", "jpeg-baseline")
    assert status == 1
    assert err.startswith(f"dicomkit: {src}: ") and "Bits Allocated 16" in err
    assert err.count("\n") == 1
    assert not dest.exists()


def test_minus_o_needs_one_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    src = data_file("CT_small.dcm")
    status, _, err = run(capsys, "convert", src, src, "-o", str(tmp_path / "x"), "-t", "explicit")
    assert status == 2
    assert "-o takes one input file" in err


# ---------------------------------------------------------------------------------------
# json2dcm


@pytest.mark.parametrize("source", ["CT_small.dcm", "rtplan.dcm", "MR_small_bigendian.dcm", "chrH31.dcm"])
def test_dump_json_json2dcm_round_trip(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, source: str
) -> None:
    if source.startswith("chr"):
        from pydicom.data import get_charset_files

        found = get_charset_files(source)
        if not found:
            pytest.skip(f"{source} is not installed")
        src = str(found[0])
    else:
        src = data_file(source)
    status, original_json, _ = run(capsys, "dump", "--json", src)
    assert status == 0
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(original_json.encode("utf-8"))))
    dest = tmp_path / "from_json.dcm"
    status, _, err = run(capsys, "json2dcm", "-", str(dest))
    assert (status, err) == (0, "")
    status, again, _ = run(capsys, "dump", "--json", str(dest))
    assert status == 0
    assert again == original_json
    _dcmdump_clean(dest)


def test_json2dcm_transfer_syntax_and_file_input(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, text, _ = run(capsys, "dump", "--json", data_file("CT_small.dcm"))
    source = tmp_path / "ct.json"
    source.write_text(text, encoding="utf-8")
    dest = tmp_path / "ct.dcm"
    status, _, err = run(capsys, "json2dcm", str(source), str(dest), "--transfer-syntax", "big-endian")
    assert (status, err) == (0, "")
    assert pydicom.dcmread(dest).file_meta.TransferSyntaxUID == SYNTAXES["big-endian"]


def test_json2dcm_bad_input(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    source = tmp_path / "bad.json"
    source.write_text('{"00100010": {"vr": "PN", "Value": [{"Alphabetic": "A^B"}]}, "oops"', encoding="utf-8")
    dest = tmp_path / "out.dcm"
    status, _, err = run(capsys, "json2dcm", str(source), str(dest))
    assert status == 1
    assert err.startswith(f"dicomkit: {source}: not JSON")
    assert not dest.exists()


def test_cli_syntax_names_match_the_pixel_layer() -> None:
    # the CLI keeps its own copy of the names (importing dicomkit.pixels at start-up needs numpy)
    from dicomkit.cli.convert import SYNTAX_NAMES

    compress = pytest.importorskip("dicomkit.pixels.compress")
    for name, uid in compress.SYNTAX_ALIASES.items():
        assert SYNTAX_NAMES[name].uid == uid
